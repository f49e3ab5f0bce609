/**
 * Issue 9, item 10: the provider's backend timeout is always shorter than the client node's wait,
 * so a silent backend is blamed on the provider's backend (Server.ServerProxy.ServiceTimeout), not
 * on the network; `service add --timeout` refuses longer values, the running node clamps them,
 * and a provider that gives up logs the fault it answered as the response record.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runNodeCli } from '../../node/cli/index.js';
import { openLocalStore } from '../../node/store/local-store.js';
import { nodePaths } from '../../node/store/paths.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { CONSULTAR_PERSONA, faultCodeOf, personaRequest, postSoap, runCli, startInstance, type Instance } from '../e2e/fixture.js';
import { expectGood, newId, UUID } from './hardening-helpers.js';
import { sqliteLog } from '../helpers/node-log.js';

describe('hardening: timeouts blame the right party', () => {
  let inst: Instance;
  let hanging: Server;
  let hangingUrl: string;
  let hits = 0;
  const sockets = new Set<Socket>();
  let dir: string;

  before(async () => {
    inst = await startInstance();
    dir = nodeDir(inst.plan, 'reniec');
    hanging = createServer(() => { hits += 1; });
    hanging.on('connection', (s) => sockets.add(s));
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/`;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => hanging.close(r));
    await inst.close();
  });

  const serviceTimeout = (): number => {
    const store = openLocalStore(nodePaths(dir).db);
    try {
      return store.services().find((s) => s.serviceKey === 'PE/GOB/20295613620/RUPN/consultarPersona')?.timeoutMs ?? -1;
    } finally {
      store.close();
    }
  };

  it('service add --timeout at or above the peer timeout minus the margin is refused in Spanish', async () => {
    const before = serviceTimeout();
    for (const t of ['25000', '30000', '60000']) {
      const r = await runCli(runNodeCli, ['service', 'add', CONSULTAR_PERSONA, '--backend', inst.backend.url, '--timeout', t, '--wsdl', 'reniec.wsdl', '--dir', dir]);
      assert.notEqual(r.code, 0, `--timeout ${t} accepted`);
      assert.match(r.stderr, /debe ser menor que la espera de los nodos clientes \(30000 ms\) menos un margen de 5000 ms: use como mucho 24999 ms/);
    }
    assert.equal(serviceTimeout(), before, 'nothing stored');
    const ok = await runCli(runNodeCli, ['service', 'add', CONSULTAR_PERSONA, '--backend', inst.backend.url, '--timeout', '24999', '--wsdl', 'reniec.wsdl', '--dir', dir]);
    assert.equal(ok.code, 0, ok.stderr);
    await expectGood(inst);
  });

  it('a hanging backend with a stored timeout above the limit: clamped, the IS gets ServiceTimeout, RENIEC logs request and fault response', async () => {
    // as a database edited by hand (or written by an older version) would hold it
    const store = openLocalStore(nodePaths(dir).db);
    store.upsertService({ serviceKey: 'PE/GOB/20295613620/RUPN/consultarPersona', backendUrl: hangingUrl, timeoutMs: 600_000, wsdl: 'reniec.wsdl' });
    store.close();
    // RENIEC assumes clients wait 6 s: its backend gets at most 1 s; Juntos waits its default 30 s
    await inst.restartNode('reniec', { limits: { peerTimeoutMs: 6_000 } });
    const id = newId('hang');
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
    assert.equal(faultCodeOf(res.text), 'Server.ServerProxy.ServiceTimeout', res.text);
    assert.match(res.text, /\(999 ms\)/);
    const faultId = UUID.exec(res.text)?.[0];
    assert.ok(hits >= 1, 'the backend was called');
    const records = sqliteLog(inst.reniec).list({ messageId: id });
    assert.deepEqual(records.map((r) => `${r.direction}${r.fault === undefined ? '' : `:${r.fault}`}`), ['request', 'response:Server.ServerProxy.ServiceTimeout']);
    assert.ok(records[1]?.message.toString('utf8').includes(faultId ?? '-'), 'the logged response is the fault that was sent');
    assert.ok(sqliteLog(inst.reniec).faults(100).some((f) => f.faultId === faultId));

    const restore = await runCli(runNodeCli, ['service', 'add', CONSULTAR_PERSONA, '--backend', inst.backend.url, '--timeout', '10000', '--wsdl', 'reniec.wsdl', '--dir', dir]);
    assert.equal(restore.code, 0, restore.stderr);
    await inst.restartNode('reniec');
    await expectGood(inst);
  });
});
