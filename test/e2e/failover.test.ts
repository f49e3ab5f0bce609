/**
 * Consumer failover (high availability): RENIEC serves RUPN from two nodes, reniec-a and reniec-b,
 * each with its own TLS and signing certificates and its own backend. Juntos's node fails over when
 * a node is down (nothing was sent), uses the node again once it is back, and never sends a request
 * to the second node after the first may have executed it (a node that hangs after receiving it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { faultCodeOf, personaRequest, postSoap } from './fixture.js';
import { startHaInstance, type HaInstance } from './ha-fixture.js';

const PEER_TIMEOUT_MS = 1500;

describe('consumer failover between two nodes of the provider member', () => {
  let ha: HaInstance;
  let hang: TlsServer | undefined;

  before(async () => {
    ha = await startHaInstance({
      // a short wait for the provider (the hang case) and a long back-off, so the order is known
      nodeOptions: { juntos: { limits: { peerTimeoutMs: PEER_TIMEOUT_MS, failoverPenaltyMs: 10 * 60_000 } } },
    });
  });
  after(async () => {
    hang?.close();
    await ha?.close();
  });

  const exchange = async (): Promise<{ status: number; text: string }> => postSoap(ha.node('juntos').isUrl, personaRequest(ha.dni));
  const served = () => ({ 'reniec-a': ha.backendA.requests, 'reniec-b': ha.backendB.requests });
  const rupnNodes = () => ha.node('juntos').ctx.conf.current().nodesBySubsystem.get('PE/GOB/20295613620/RUPN') ?? [];
  /** The consumer's current order of the provider's nodes (the first is the one it tries first). */
  const order = () => ha.node('juntos').ctx.providerScores?.order(rupnNodes(), Date.now()).map((n) => n.name as 'reniec-a' | 'reniec-b') ?? [];
  // the node the consumer prefers after the first exchanges, and the other one
  let first: 'reniec-a' | 'reniec-b';
  let second: 'reniec-a' | 'reniec-b';

  it('the global configuration lists both nodes for the subsystem; the consumer uses them', async () => {
    assert.deepEqual(rupnNodes().map((n) => n.name), ['reniec-a', 'reniec-b']);
    for (let i = 0; i < 4; i += 1) {
      const r = await exchange();
      assert.equal(r.status, 200, r.text);
    }
    const s = served();
    assert.equal(s['reniec-a'] + s['reniec-b'], 4);
    // each node was measured once at least (a node never measured is tried first)
    assert.ok(s['reniec-a'] >= 1 && s['reniec-b'] >= 1, JSON.stringify(s));
    [first, second] = order() as ['reniec-a', 'reniec-b'];
  });

  it('the preferred node stopped: every exchange succeeds through the other one', async () => {
    await ha.stop(first);
    const before = served();
    for (let i = 0; i < 5; i += 1) {
      const r = await exchange();
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /consultarPersonaResponse/);
    }
    const now = served();
    assert.equal(now[first], before[first], `${first} is down: its backend saw nothing`);
    assert.equal(now[second], before[second] + 5);
    const score = ha.node('juntos').ctx.providerScores?.scores().find((x) => x.name === first);
    assert.equal(score?.failures, 1, 'the stopped node was tried once (refused), then kept at the back');
    assert.deepEqual(order(), [second, first]);
  });

  it('the node back: traffic returns to it (the other one stopped, no restart of the consumer)', async () => {
    await ha.start(first);
    await ha.stop(second);
    const before = served();
    for (let i = 0; i < 3; i += 1) {
      const r = await exchange();
      assert.equal(r.status, 200, r.text);
    }
    assert.equal(served()[first], before[first] + 3);
    await ha.start(second);
    // the other node was refused a moment ago: it stays behind for the back-off time
    assert.deepEqual(order(), [first, second]);
  });

  it('the preferred node hangs after receiving the request: a timeout fault naming it, and the other node receives nothing', async () => {
    // it "hangs": its port is taken by a listener with the node's own TLS identity that reads the
    // request and never answers (the consumer cannot tell it from a stuck node)
    await ha.stop(first);
    const dir = nodeDir(ha.plan, first);
    let received = 0;
    hang = createTlsServer({
      key: readFileSync(join(dir, 'keys', 'auth-key.pem')), cert: readFileSync(join(dir, 'auth.pem')), minVersion: 'TLSv1.3',
    }, (socket) => socket.on('data', (d: Buffer) => { received += d.length; }));
    await new Promise<void>((r) => hang?.listen(ha.proxyPorts[first], '127.0.0.1', () => r()));
    const before = served();
    const r = await exchange();
    assert.equal(r.status, 500);
    assert.equal(faultCodeOf(r.text), 'Server.ClientProxy.Timeout', r.text);
    assert.match(r.text, new RegExp(`nodo ${first}`));
    assert.match(r.text, /pudo haberse ejecutado/);
    assert.ok(received > 0, 'the request reached the hanging node');
    const now = served();
    assert.equal(now[second], before[second], 'the request was not sent to the other node after it may have run on the first');
    assert.equal(now[first], before[first]);
  });
});
