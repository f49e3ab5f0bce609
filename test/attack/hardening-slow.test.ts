/**
 * Issue 9, item 11: slow clients (Slowloris) are shed on both listeners while normal requests
 * keep being served. The timeouts are node settings (NodeLimits); the test sets them short.
 * Bounds are generous: only "closed by the server before N s" is asserted.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startInstance, type Instance } from '../e2e/fixture.js';
import { expectGood } from './hardening-helpers.js';

const SLOW = 300;
const SHORT = { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 1_000, connectionsCheckingIntervalMs: 250, handshakeTimeoutMs: 1_000 };

interface Slow {
  readonly sockets: Socket[];
  closed(): number;
  stop(): void;
}

/** Open `n` connections that send a partial request (or nothing, for TLS) and trickle a byte now and then. */
async function openSlow(url: string, n: number, partial: string): Promise<Slow> {
  const u = new URL(url);
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < n; i += 1) {
    const s = connect(Number(u.port), '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', () => { closed += 1; });
    s.on('data', () => undefined);
    sockets.push(s);
    await new Promise<void>((r) => s.once('connect', () => r()));
    if (partial !== '') s.write(partial);
  }
  const trickle = setInterval(() => {
    for (const s of sockets) if (!s.destroyed && partial !== '') s.write('X-Slow: 1\r\n');
  }, 300);
  return { sockets, closed: () => closed, stop: () => { clearInterval(trickle); for (const s of sockets) s.destroy(); } };
}

describe('hardening: slow clients are shed', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance({ nodeOptions: { limits: SHORT } });
  });
  after(async () => {
    await inst.close();
  });

  it(`${SLOW} slowloris connections on the IS port and ${SLOW} silent ones on the node-to-node port are closed; normal requests still served`, async () => {
    const is = await openSlow(inst.juntos.isUrl, SLOW, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n');
    const proxy = await openSlow(inst.reniec.proxyUrl.replace('https', 'http'), SLOW, '');
    try {
      // served meanwhile
      for (let i = 0; i < 3; i += 1) await expectGood(inst);
      const end = Date.now() + 15_000;
      while ((is.closed() < SLOW || proxy.closed() < SLOW) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(is.closed(), SLOW, 'every slow IS connection was closed by the node within 15 s');
      assert.equal(proxy.closed(), SLOW, 'every silent TLS connection was closed by the node within 15 s');
      await expectGood(inst);
    } finally {
      is.stop();
      proxy.stop();
    }
  });
});
