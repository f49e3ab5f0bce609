/**
 * Issue 12, item 2: two instances of the Juntos node on one PostgreSQL database serve the same
 * member. Exchanges go through both; a message id used on one instance is refused on the other
 * (shared replay memory); each instance keeps its own hash chain, and `miis-node log verify`
 * checks both chains in the shared database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runNodeCli } from '../../node/cli/index.js';
import { startNode, type RunningNode } from '../../node/main.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { needTool } from '../helpers/tools.js';
import { faultCodeOf, personaRequest, postSoap, runCli, startInstance, type Instance } from './fixture.js';
import { nodeOnPg } from './pg-fixture.js';

describe('two node instances sharing one PostgreSQL database', { skip: needTool('postgresql') }, () => {
  let inst: Instance;
  let server: PgServer;
  let base: string;
  const dirs: Record<'a' | 'b', string> = { a: '', b: '' };
  const nodes: Partial<Record<'a' | 'b', RunningNode>> = {};

  before(async () => {
    inst = await startInstance();
    server = await startPgServer();
    await server.createDatabase('juntos');
    base = mkdtempSync(join(tmpdir(), 'miis-shared-'));
    const source = nodeDir(inst.plan, 'juntos');
    // the operator's move: the same node folder (keys, certificates, anchor) on two hosts, one
    // database; the node's settings, clients, services and access rights copied into it once
    for (const id of ['a', 'b'] as const) {
      dirs[id] = join(base, id);
      await nodeOnPg(source, dirs[id], server.url('juntos'), `juntos-${id}`, id === 'a');
    }
    await inst.juntos.close(); // the SQLite Juntos node steps aside
    for (const id of ['a', 'b'] as const) nodes[id] = await startNode({ dir: dirs[id], info: () => undefined });
  });
  after(async () => {
    for (const n of Object.values(nodes)) await n?.close();
    await inst?.close().catch(() => undefined);
    server?.stop();
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  it('exchanges through both instances, a reused id refused by the other one, both chains verified', async () => {
    let n = 0;
    for (const id of ['a', 'b', 'a', 'b', 'b'] as const) {
      const res = await postSoap(nodes[id]!.isUrl, personaRequest(inst.dni, { id: `shared-${(n += 1)}` }));
      assert.equal(res.status, 200, res.text);
    }
    // the same xrd:id on the other instance: the shared replay memory refuses it
    const dup = await postSoap(nodes.b!.isUrl, personaRequest(inst.dni, { id: 'shared-1' }));
    assert.equal(faultCodeOf(dup.text), 'Server.ClientProxy.DuplicateMessage', dup.text);
    for (const id of ['a', 'b'] as const) {
      await nodes[id]!.close();
      delete nodes[id];
    }
    const cli = await runCli(runNodeCli, ['log', 'verify', '--dir', dirs.a, '--json']);
    assert.equal(cli.code, 0, cli.stdout + cli.stderr);
    const reports = JSON.parse(cli.stdout) as { instancia: string; informe: { ok: boolean; registros: number; firmas: number } }[];
    assert.deepEqual(reports.map((r) => [r.instancia, r.informe.ok, r.informe.registros, r.informe.firmas]), [['juntos-a', true, 4, 4], ['juntos-b', true, 6, 6]]);
    const list = await runCli(runNodeCli, ['log', 'list', '--dir', dirs.b, '--id', 'shared-3', '--json']);
    assert.deepEqual((JSON.parse(list.stdout) as { direccion: string }[]).map((r) => r.direccion), ['request', 'response']);
  });
});
