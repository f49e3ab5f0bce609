/**
 * Issue 12: the message-log operations of `miis-node` on a node whose log is in PostgreSQL, shared
 * by two instances (juntos-a, juntos-b): `log export` (any instance's exchange, checked by the
 * bundle's verify.sh), `log archive` (refused, explained in Spanish), `backup` / `restore` (the
 * folder, with the pg_dump / pg_restore note) and `log rotate-key` (the key file must be the same
 * on every instance: one rotated separately is refused at start).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeArchive } from '../../runtime/backup.js';
import { runNodeCli } from '../../node/cli/index.js';
import type { NodeEvidence } from '../../node/evidence/index.js';
import { evidencePaths } from '../../node/evidence/settings.js';
import { startNode, type RunningNode } from '../../node/main.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { hasTool, needTool } from '../helpers/tools.js';
import { nodeOnPg } from './pg-fixture.js';
import { personaRequest, postSoap, runCli, startInstance, type Instance } from './fixture.js';

describe('message-log operations on PostgreSQL (two instances of the Juntos node)', { skip: needTool('postgresql') }, () => {
  let inst: Instance;
  let server: PgServer;
  let base: string;
  const dirs = { a: '', b: '' };
  const nodes: Partial<Record<'a' | 'b', RunningNode>> = {};

  before(async () => {
    inst = await startInstance();
    server = await startPgServer();
    await server.createDatabase('juntos');
    base = mkdtempSync(join(tmpdir(), 'miis-pgops-'));
    const source = nodeDir(inst.plan, 'juntos');
    for (const id of ['a', 'b'] as const) {
      dirs[id] = join(base, id);
      await nodeOnPg(source, dirs[id], server.url('juntos'), `juntos-${id}`, id === 'a');
    }
    await inst.juntos.close();
    for (const id of ['a', 'b'] as const) nodes[id] = await startNode({ dir: dirs[id], info: () => undefined });
    for (const [n, id] of [[1, 'a'], [2, 'b']] as const) {
      const res = await postSoap(nodes[id]!.isUrl, personaRequest(inst.dni, { id: `ops-${n}` }));
      assert.equal(res.status, 200, res.text);
      await (nodes[id]!.ctx.evidence as unknown as NodeEvidence).timestamper!.tick();
    }
    for (const id of ['a', 'b'] as const) {
      await nodes[id]!.close();
      delete nodes[id];
    }
  });
  after(async () => {
    for (const n of Object.values(nodes)) await n?.close().catch(() => undefined);
    await inst?.close().catch(() => undefined);
    server?.stop();
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  it('log export: an exchange of the other instance, from the shared database; verify.sh accepts it', async () => {
    const out = join(base, 'bundle');
    const exp = await runCli(runNodeCli, ['log', 'export', 'ops-2', '--out', out, '--dir', dirs.a]);
    assert.equal(exp.code, 0, exp.stderr + exp.stdout);
    assert.match(exp.stdout, /Intercambio ops-2 exportado .*request, response/);
    for (const f of ['request.xml', 'response.tsr', 'request.proof.txt', 'SHA256SUMS']) assert.ok(existsSync(join(out, f)), f);
    const missing = await runCli(runNodeCli, ['log', 'export', 'no-existe', '--out', join(base, 'none'), '--dir', dirs.a]);
    assert.notEqual(missing.code, 0);
    if (!hasTool('xmlsec1') || !hasTool('openssl')) return;
    const ok = await new Promise<{ status: number; stdout: string }>((resolve) => {
      execFile('sh', [join(out, 'verify.sh')], { encoding: 'utf8' }, (err, stdout) => resolve({ status: err === null ? 0 : 1, stdout }));
    });
    assert.equal(ok.status, 0, ok.stdout);
    assert.match(ok.stdout, /VERIFICACIÓN COMPLETA: OK/);
  });

  it('log archive: refused on PostgreSQL, saying why and what to use instead', async () => {
    const r = await runCli(runNodeCli, ['log', 'archive', '--dir', dirs.a]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /con el registro en PostgreSQL .*«log archive» no está disponible.*pg_dump/);
    assert.equal(existsSync(join(dirs.a, 'messagelog.db')), false, 'no SQLite log created on the side');
  });

  it('backup: the folder (keys, log keys, node.json) and the pg_dump note; restore: the pg_restore note', async () => {
    const file = join(base, 'a.miisbak');
    const r = await runCli(runNodeCli, ['backup', '--dir', dirs.a, '--out', file]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /0 bases de datos/);
    assert.match(r.stdout, /NO la base de datos .*pg_dump --format=custom --schema=miis_node --schema=miis_log/s);
    const paths = decodeArchive(readFileSync(file)).entries.map((e) => e.path);
    assert.ok(paths.includes('keys/log-keys.json') && paths.includes('node.json'), paths.join(', '));
    assert.equal(paths.some((p) => p.endsWith('.db')), false);
    const restored = join(base, 'restored');
    const rr = await runCli(runNodeCli, ['restore', '--from', file, '--dir', restored]);
    assert.equal(rr.code, 0, rr.stderr + rr.stdout);
    assert.match(rr.stdout, /usa PostgreSQL .*no contiene la base.*pg_restore/s);
  });

  it('log rotate-key: copy the key file to every instance; an instance rotated on its own is refused', async () => {
    const r = await runCli(runNodeCli, ['log', 'rotate-key', '--dir', dirs.a]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /Clave del registro k2 activa/);
    assert.match(r.stdout, /copie este archivo de claves, tal cual, a la carpeta de CADA instancia/);
    nodes.a = await startNode({ dir: dirs.a, info: () => undefined }); // its k2 is now the node's k2
    const res = await postSoap(nodes.a.isUrl, personaRequest(inst.dni, { id: 'ops-3' }));
    assert.equal(res.status, 200, res.text);
    // the mistake: rotating on the other instance too makes another k2
    assert.equal((await runCli(runNodeCli, ['log', 'rotate-key', '--dir', dirs.b])).code, 0);
    await assert.rejects(startNode({ dir: dirs.b, info: () => undefined }), /la clave del registro k2 de esta instancia .*no es la que usan las demás instancias/);
    // the fix: the same file on both
    copyFileSync(evidencePaths(dirs.a).logKeys, evidencePaths(dirs.b).logKeys);
    nodes.b = await startNode({ dir: dirs.b, info: () => undefined });
    const resB = await postSoap(nodes.b.isUrl, personaRequest(inst.dni, { id: 'ops-4' }));
    assert.equal(resB.status, 200, resB.text);
    for (const id of ['a', 'b'] as const) {
      await nodes[id]!.close();
      delete nodes[id];
    }
    const v = await runCli(runNodeCli, ['log', 'verify', '--dir', dirs.b, '--json']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.deepEqual((JSON.parse(v.stdout) as { instancia: string; informe: { ok: boolean; registros: number } }[]).map((x) => [x.instancia, x.informe.ok, x.informe.registros]),
      [['juntos-a', true, 4], ['juntos-b', true, 4]]);
  });
});
