/**
 * Issue 12: PostgreSQL restarts (pg_ctl restart) under a running node whose store and message log
 * live there (the Juntos node). The exchange after the restart succeeds with both records; while
 * the database is down an exchange fails with Server.ClientProxy.MessageLogUnavailable (never
 * answered without its records) and the first one after it comes back succeeds; the chain verifies.
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
import { nodeOnPg } from './pg-fixture.js';
import { faultCodeOf, personaRequest, postSoap, runCli, startInstance, type Instance } from './fixture.js';

describe('PostgreSQL restarted under a running node', { skip: needTool('postgresql') }, () => {
  let inst: Instance;
  let server: PgServer;
  let base: string;
  let dir: string;
  let node: RunningNode | undefined;

  before(async () => {
    inst = await startInstance();
    server = await startPgServer();
    await server.createDatabase('juntos');
    base = mkdtempSync(join(tmpdir(), 'miis-pgrestart-'));
    dir = join(base, 'juntos');
    await nodeOnPg(nodeDir(inst.plan, 'juntos'), dir, server.url('juntos'), 'juntos-1');
    await inst.juntos.close();
    node = await startNode({ dir, info: () => undefined });
  });
  after(async () => {
    await node?.close().catch(() => undefined);
    await inst?.close().catch(() => undefined);
    server?.stop();
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  const exchange = (id: string) => postSoap(node!.isUrl, personaRequest(inst.dni, { id }));

  it('restart between two exchanges: both answered and logged; down: a clear fault; back: answered again', async () => {
    const first = await exchange('pgr-1');
    assert.equal(first.status, 200, first.text);
    await server.restart();
    const second = await exchange('pgr-2');
    assert.equal(second.status, 200, second.text);
    assert.match(second.text, /consultarPersonaResponse/);

    await server.halt();
    const down = await exchange('pgr-3');
    assert.equal(faultCodeOf(down.text), 'Server.ClientProxy.MessageLogUnavailable', down.text);
    assert.match(down.text, /no pudo guardar el intercambio en su registro de mensajes/);
    await server.resume();
    const back = await exchange('pgr-4');
    assert.equal(back.status, 200, back.text);

    await node!.close();
    node = undefined;
    for (const [id, want] of [['pgr-1', 2], ['pgr-2', 2], ['pgr-3', 0], ['pgr-4', 2]] as const) {
      const list = await runCli(runNodeCli, ['log', 'list', '--dir', dir, '--id', id, '--json']);
      assert.equal(list.code, 0, list.stderr);
      assert.equal((JSON.parse(list.stdout) as unknown[]).length, want, `${id}: ${list.stdout}`);
    }
    const verify = await runCli(runNodeCli, ['log', 'verify', '--dir', dir, '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.deepEqual((JSON.parse(verify.stdout) as { instancia: string; informe: { ok: boolean; registros: number } }[]).map((r) => [r.instancia, r.informe.ok, r.informe.registros]), [['juntos-1', true, 6]]);
  });
});
