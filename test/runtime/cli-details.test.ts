/**
 * CLI details (issue 14 item 11): init checks every option before writing (no partial folder), a
 * member name longer than a certificate admits is refused at member add/set, mutating commands'
 * --json is {"ok":true,…}, listings show times in Lima (UTC−5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCentralCli } from '../../central/cli/index.js';
import { runNodeCli } from '../../node/cli/index.js';
import type { CliIo } from '../../runtime/cli-kit.js';
import { limaDateTime } from '../../runtime/cli-kit.js';

const RENIEC = '20295613620';
const LONG = 'Registro Nacional de Identificación y Estado Civil del Perú - Sede'; // 66 characters

async function run(cli: (argv: string[], io: CliIo) => Promise<number>, argv: string[], now = () => new Date('2026-05-04T15:00:00Z')): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await cli(argv, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, now });
  return { code, out, err };
}

function temp(): string {
  return mkdtempSync(join(tmpdir(), 'miis-cli-details-'));
}

test('miis-node init checks every option before writing: a bad one leaves no folder', async () => {
  const root = temp();
  try {
    const base = ['init', '--instance', 'PE', '--class', 'GOB', '--code', RENIEC, '--name', 'RENIEC', '--node-name', 'reniec'];
    const cases: [string[], RegExp][] = [
      [['--is-port', '99999'], /puerto no válido: «99999»/],
      [['--proxy-port', 'x'], /puerto no válido: «x»/],
      [['--is-host', 'no es un host'], /--is-host no válido: «no es un host»/],
      [['--key-algorithm', 'dsa'], /algoritmo de clave no válido/],
      [['--name', LONG], /nombre de la entidad \(--name\) no válido: .* tiene 66 caracteres; los certificados admiten de 1 a 64/],
      [['--node-name', 'n'.repeat(65)], /de 1 a 64 caracteres/],
      [['--is-public-url', 'ftp://x'], /no es una URL http\(s\) válida/],
    ];
    for (const [extra, message] of cases) {
      const dir = join(root, `nodo-${extra[0]!.slice(2)}`);
      const r = await run(runNodeCli, [...base, ...extra, '--dir', dir]);
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
      assert.equal(existsSync(dir), false, `${extra.join(' ')} left ${dir}`);
    }
    const good = join(root, 'bueno');
    assert.equal((await run(runNodeCli, [...base, '--dir', good])).code, 0);
    assert.ok(existsSync(join(good, 'keys')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('miis-central init checks every option before writing: a bad one leaves no folder', async () => {
  const root = temp();
  try {
    for (const extra of [['--instance', 'P E'], ['--instance', 'PE', '--key-algorithm', 'dsa'], ['--instance', 'PE', '--name', LONG]]) {
      const dir = join(root, 'central');
      const r = await run(runCentralCli, ['init', ...extra, '--dir', dir]);
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.err}`);
      assert.equal(existsSync(dir), false, extra.join(' '));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a member name longer than 64 characters is refused at member add, member set and entity set, in Spanish', async () => {
  const root = temp();
  try {
    const dir = join(root, 'central');
    const c = (...argv: string[]) => run(runCentralCli, [...argv, '--dir', dir]);
    assert.equal((await c('init', '--instance', 'PE')).code, 0);
    const add = await c('member', 'add', '--class', 'GOB', '--code', RENIEC, '--name', LONG, '--role', 'RENIEC');
    assert.equal(add.code, 2);
    assert.match(add.err, /el nombre del miembro «.*» tiene 66 caracteres y los certificados admiten hasta 64 \(campos O y CN\): use un nombre más corto con --name/);
    assert.equal((await c('member', 'add', '--class', 'GOB', '--code', RENIEC, '--name', 'RENIEC', '--role', 'RENIEC')).code, 0);
    const set = await c('member', 'set', `PE/GOB/${RENIEC}`, '--name', LONG);
    assert.equal(set.code, 2);
    assert.match(set.err, /tiene 66 caracteres/);
    assert.equal((await c('entity', 'set', RENIEC, '--name', LONG)).code, 2, 'the entity of a member carries its name');
    // an entity that is not a member may keep a long catalogue name
    assert.equal((await c('entity', 'set', '20545565359', '--name', `${LONG} (MIDIS)`)).code, 0);
    const exactly = 'x'.repeat(64);
    assert.equal((await c('member', 'set', `PE/GOB/${RENIEC}`, '--name', exactly)).code, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('limaDateTime shows an instant in Lima (UTC−5)', () => {
  assert.equal(limaDateTime('2026-05-04T03:30:00.000Z'), '2026-05-03 22:30:00');
  assert.equal(limaDateTime(new Date('2026-12-31T23:59:59Z')), '2026-12-31 18:59:59');
  assert.equal(limaDateTime('no es fecha'), 'no es fecha');
});
