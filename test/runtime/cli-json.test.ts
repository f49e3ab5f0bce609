/**
 * The --json convention of both command lines (docs/operator-guide.md, «Salida JSON»): every command
 * that changes something or lists something has --json; listings print only keys of the documented
 * Spanish vocabulary (runtime/cli-json.ts) with instants in ISO 8601 UTC; changes print
 * {"ok":true,…}; errors with --json are {"ok":false,"codigo","mensaje"} on stderr with exit ≠ 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildCentralProgram, runCentralCli } from '../../central/cli/index.js';
import { buildNodeProgram, runNodeCli } from '../../node/cli/index.js';
import { JSON_KEYS, JSON_VOCABULARY, spanishJson } from '../../runtime/cli-json.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { CONSULTAR_PERSONA, CONVENIO, JUNTOS, JUNTOS_CLIENT, personaRequest, postSoap, runCli, startInstance } from '../e2e/fixture.js';

/** Commands whose output is not a record: the servers, the systemd unit and the anchor PEM. */
const NO_JSON = new Set(['serve', 'service-unit', 'conf anchor']);

function leaves(cmd: Command, path: readonly string[] = []): { path: string; cmd: Command }[] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return path.length === 0 ? [] : [{ path: path.join(' '), cmd }];
  return subs.flatMap((c) => leaves(c, [...path, c.name()]));
}

test('every command of miis-central and miis-node that changes or lists something has --json', () => {
  for (const [name, program] of [['miis-central', buildCentralProgram()], ['miis-node', buildNodeProgram()]] as const) {
    const all = leaves(program);
    assert.ok(all.length > 30, `${name}: ${all.length} comandos`);
    const missing = all.filter((l) => !NO_JSON.has(l.path) && !l.cmd.options.some((o) => o.long === '--json')).map((l) => l.path);
    assert.deepEqual(missing, [], `${name}: comandos sin --json`);
  }
});

/** The backticked words of the «Salida JSON» section of the operator guide. */
function documentedKeys(): Set<string> {
  const guide = readFileSync(join(new URL('.', import.meta.url).pathname, '..', '..', '..', 'docs', 'operator-guide.md'), 'utf8');
  const start = guide.indexOf('## Salida JSON');
  assert.ok(start >= 0, 'docs/operator-guide.md: falta la sección «Salida JSON»');
  const next = guide.indexOf('\n## ', start + 5);
  const section = guide.slice(start, next < 0 ? undefined : next);
  return new Set([...section.matchAll(/`([a-zA-Z0-9]+)`/g)].map((m) => m[1] as string));
}

test('the operator guide documents every key of the vocabulary', () => {
  const documented = documentedKeys();
  assert.deepEqual([...JSON_VOCABULARY].filter((k) => !documented.has(k)).sort(), []);
});

test('spanishJson renames fields recursively, writes Dates in UTC and leaves opaque documents alone', () => {
  const at = new Date('2026-05-04T15:00:00.000Z');
  assert.deepEqual(spanishJson([{ name: 'RENIEC', createdAt: at, entity: { ruc: '20295613620', acronym: 'RENIEC' }, adapter: { database: 'x' }, skip: undefined }]),
    [{ nombre: 'RENIEC', creado: '2026-05-04T15:00:00.000Z', entidad: { ruc: '20295613620', sigla: 'RENIEC' }, adaptador: { database: 'x' } }]);
  // no two English fields share a Spanish key within one kind of record shown so far
  assert.equal(JSON_KEYS.name, 'nombre');
  assert.equal(JSON_KEYS.createdAt, 'creado');
});

const ENGLISH_KEYS = new Set(['name', 'createdAt', 'status', 'state', 'role', 'title', 'address', 'notAfter', 'serviceKey', 'client', 'message']);
/** Values kept in their own format (an adapter's configuration file, audited snapshots). */
const OPAQUE = new Set(['adaptador', 'antes', 'despues', 'validaciones']);

function problemsIn(where: string, value: unknown, out: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((v) => problemsIn(where, v, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!JSON_VOCABULARY.has(k)) out.push(`${where}: clave «${k}» fuera del vocabulario${ENGLISH_KEYS.has(k) ? ' (inglés)' : ''}`);
      if (!OPAQUE.has(k)) problemsIn(where, v, out);
    }
  } else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(value)) {
    out.push(`${where}: instante «${value}» no está en ISO 8601 UTC`);
  }
}

test('listings print only Spanish keys of the vocabulary; changes print {"ok":true}; errors {"ok":false} on stderr', async () => {
  const inst = await startInstance();
  try {
    const centralDir = join(inst.dir, 'central');
    const central = (...argv: string[]) => runCli(runCentralCli, [...argv, '--dir', centralDir]);
    const node = (name: 'reniec' | 'juntos', ...argv: string[]) => runCli(runNodeCli, [...argv, '--dir', nodeDir(inst.plan, name)]);
    assert.equal((await postSoap(inst.juntos.isUrl, personaRequest(inst.dni))).status, 200);

    // a few changes, so that the listings have rows of every kind
    const changes = [
      await central('holiday', 'add', '2026-12-24', '--json'),
      await central('unit', 'request', '--entity', '20295613620', '--date', '2026-03-02', '--json'),
      await central('meeting', 'add', '--entity', '20511268401', '--date', '2026-03-10', '--participant', 'MIDIS|Ana Pérez|Directora', '--participant', 'ENTIDAD|Luis Rojas|Jefe de la UTI', '--agenda', 'Plan de trabajo', '--json'),
      await central('access', 'request', '--client', JUNTOS_CLIENT, '--component', 'RUPN', '--purpose', 'FOCALIZACION', '--legal-basis', 'Ley 29792', '--json'),
      await central('sanction', 'add', '--entity', '20511268401', '--infraction', 'Uso fuera de la finalidad', '--resolution', 'R.D. Nº 001-2026', '--date', '2026-04-01', '--json'),
      await node('reniec', 'acl', 'grant', CONSULTAR_PERSONA, JUNTOS, '--json'),
      await node('reniec', 'acl', 'revoke', CONSULTAR_PERSONA, JUNTOS, '--json'),
    ];
    for (const r of changes) {
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(j.ok, true, r.stdout);
    }
    const problems: string[] = [];
    const listings: [string, Promise<{ code: number; stdout: string; stderr: string }>][] = [];
    for (const argv of [['member', 'list'], ['subsystem', 'list'], ['node', 'list'], ['cert', 'list'], ['cert', 'revocations'], ['service', 'list'], ['agreement', 'list'], ['agreement', 'show', CONVENIO],
      ['entity', 'list'], ['unit', 'list'], ['catalogue', 'requests'], ['component', 'list'], ['component', 'show', 'RUPN'], ['access', 'list'], ['meeting', 'list'], ['plan', 'list'], ['acta', 'list'],
      ['plazos'], ['holiday', 'list'], ['compliance', 'list'], ['sanction', 'list'], ['programa', 'list'], ['ca', 'list']]) {
      listings.push([`miis-central ${argv.join(' ')}`, central(...argv, '--json')]);
    }
    for (const name of ['reniec', 'juntos'] as const) {
      for (const argv of [['cert', 'status'], ['config', 'get'], ['client', 'list'], ['service', 'list'], ['acl', 'list'], ['log', 'list'], ['log', 'faults'], ['log', 'titular', '--dni', inst.dni], ['member', 'list']]) {
        listings.push([`miis-node (${name}) ${argv.join(' ')}`, node(name, ...argv, '--json')]);
      }
    }
    let rows = 0;
    for (const [what, p] of listings) {
      const r = await p;
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      const value = JSON.parse(r.stdout) as unknown;
      if (Array.isArray(value)) rows += value.length;
      problemsIn(what, value, problems);
    }
    assert.ok(rows > 20, `filas listadas: ${rows}`);
    assert.deepEqual(problems, []);

    // an error with --json: one object on stderr, nothing on stdout, exit code ≠ 0
    for (const r of [await central('member', 'remove', 'PE/GOB/20100000000', '--json'), await node('reniec', 'acl', 'revoke', CONSULTAR_PERSONA, JUNTOS, '--json'), await central('holiday', 'add', '--json', '--opcion-inexistente')]) {
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      const e = JSON.parse(r.stderr) as Record<string, unknown>;
      assert.equal(e.ok, false, r.stderr);
      assert.equal(typeof e.codigo, 'string', r.stderr);
      assert.equal(typeof e.mensaje, 'string', r.stderr);
    }
  } finally {
    await inst.close();
  }
});
