/**
 * Idle keep-alive connections: the node-to-node port keeps an authenticated peer's connection for
 * `peerKeepAliveTimeoutMs` (a new one costs a mutual TLS handshake), the IS port closes an idle one
 * after `keepAliveTimeoutMs`. The test sets both short and measures when the node closes each.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { startInstance, type Instance } from './fixture.js';

// Node closes an idle connection up to ~1 s after keepAliveTimeout (seen: 1.4 s for 400 ms)
const LIMITS = { keepAliveTimeoutMs: 300, peerKeepAliveTimeoutMs: 4_000, connectionsCheckingIntervalMs: 100 };

/** Send one request on `socket`, wait for its whole response head, then resolve with the ms until the node closes the socket. */
function idleCloseAfterResponse(socket: Socket, request: string): Promise<{ head: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    let text = '';
    let answeredAt = 0;
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (answeredAt === 0 && text.includes('\r\n\r\n')) answeredAt = performance.now();
    });
    socket.on('error', reject);
    socket.on('close', () => {
      if (answeredAt === 0) reject(new Error(`closed before answering: ${text.slice(0, 200)}`));
      else resolve({ head: text.slice(0, text.indexOf('\r\n')), closedAfterMs: performance.now() - answeredAt });
    });
    socket.write(request);
  });
}

describe('idle keep-alive connections', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance({ nodeOptions: { limits: LIMITS } });
  });
  after(async () => {
    await inst.close();
  });

  it('the node-to-node port keeps an authenticated peer connection idle for peerKeepAliveTimeoutMs, longer than the IS port', async () => {
    const dir = nodeDir(inst.plan, 'juntos');
    const u = new URL(inst.reniec.proxyUrl);
    const tls = connectTls({
      host: '127.0.0.1', port: Number(u.port), servername: 'localhost', minVersion: 'TLSv1.3', rejectUnauthorized: false,
      key: readFileSync(join(dir, 'keys', 'auth-key.pem')), cert: readFileSync(join(dir, 'auth.pem')),
    });
    await new Promise<void>((r, j) => { tls.once('secureConnect', () => r()); tls.once('error', j); });
    // a request the peer check admits and the pipeline refuses: answered on a connection kept open
    const body = 'no es un mensaje';
    const peer = await idleCloseAfterResponse(tls, `POST /miis/v1/message HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    assert.match(peer.head, /^HTTP\/1\.1 [45]\d\d /, peer.head);
    assert.ok(peer.closedAfterMs > 3_500, `peer connection closed after ${Math.round(peer.closedAfterMs)} ms (expected 4,000-5,000)`);
    assert.ok(peer.closedAfterMs < 8_000, `peer connection closed after ${Math.round(peer.closedAfterMs)} ms (expected 4,000-5,000)`);

    const isUrl = new URL(inst.juntos.isUrl);
    const tcp = connectTcp(Number(isUrl.port), '127.0.0.1');
    await new Promise<void>((r, j) => { tcp.once('connect', () => r()); tcp.once('error', j); });
    const is = await idleCloseAfterResponse(tcp, 'GET /nada HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.match(is.head, /^HTTP\/1\.1 \d\d\d /, is.head);
    assert.ok(is.closedAfterMs < 2_500, `IS connection closed after ${Math.round(is.closedAfterMs)} ms (expected 300-1,300)`);
  });
});
