import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { MiisError } from '../../../core/errors.js';
import type { GlobalConfNode } from '../../../core/global-conf-model.js';
import { createPeerClient, requestNotSent } from '../../../node/outbound/http-pools.js';
import { createScoreboard, sendWithFailover } from '../../../node/outbound/provider-failover.js';
import { freePort } from '../../helpers/net.js';

const node = (name: string): GlobalConfNode => ({ name, owner: 'PE/GOB/20295613620', address: `https://127.0.0.1/${name}`, authCertSha256: 'a'.repeat(64), clients: [] });
const A = node('reniec-a');
const B = node('reniec-b');
const C = node('reniec-c');
const names = (nodes: readonly GlobalConfNode[]) => nodes.map((n) => n.name);

/** A connect-phase failure as http-pools reports it. */
const refused = () => new MiisError('Server.ClientProxy.NetworkError', 'x (ECONNREFUSED)', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
const notSent = (err: unknown) => err instanceof MiisError && (err.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED';

describe('provider scoreboard', () => {
  it('keeps the configuration order until it knows better, then prefers the faster node', () => {
    const board = createScoreboard();
    assert.deepEqual(names(board.order([A, B, C], 0)), ['reniec-a', 'reniec-b', 'reniec-c']);
    board.success('reniec-a', 40);
    board.success('reniec-b', 10);
    // C was never measured: it counts as fastest, so it gets tried once
    assert.deepEqual(names(board.order([A, B, C], 0)), ['reniec-c', 'reniec-b', 'reniec-a']);
    board.success('reniec-c', 25);
    assert.deepEqual(names(board.order([A, B, C], 0)), ['reniec-b', 'reniec-c', 'reniec-a']);
  });

  it('moves a failed node to the back for the penalty time, then lets it return', () => {
    const board = createScoreboard({ penaltyMs: 10_000 });
    board.success('reniec-a', 5);
    board.success('reniec-b', 50);
    board.failure('reniec-a', 1_000);
    assert.deepEqual(names(board.order([A, B], 1_000)), ['reniec-b', 'reniec-a']);
    assert.deepEqual(names(board.order([A, B], 10_999)), ['reniec-b', 'reniec-a']);
    assert.deepEqual(names(board.order([A, B], 11_000)), ['reniec-a', 'reniec-b']);
    // two backed-off nodes: the one that comes back sooner first
    board.failure('reniec-b', 2_000);
    board.failure('reniec-a', 3_000);
    assert.deepEqual(names(board.order([A, B], 3_000)), ['reniec-b', 'reniec-a']);
  });

  it('averages latency (EWMA) instead of trusting the last sample', () => {
    const board = createScoreboard({ alpha: 0.5 });
    board.success('reniec-a', 100);
    board.success('reniec-a', 0);
    assert.equal(board.scores().find((s) => s.name === 'reniec-a')?.latencyMs, 50);
  });
});

describe('sendWithFailover', () => {
  it('tries the next node only after a failure before sending, and backs the failed node off', async () => {
    const board = createScoreboard();
    const tried: string[] = [];
    const { reply, node: answered } = await sendWithFailover([A, B], {
      scoreboard: board, nowMs: () => 0, notSent,
      attempt: async (n) => {
        tried.push(n.name);
        if (n === A) throw refused();
        return 'respuesta';
      },
    });
    assert.equal(reply, 'respuesta');
    assert.equal(answered.name, 'reniec-b');
    assert.deepEqual(tried, ['reniec-a', 'reniec-b']);
    assert.deepEqual(names(board.order([A, B], 0)), ['reniec-b', 'reniec-a']);
  });

  it('never sends to a second node after a timeout; the fault names the node and says it may have run', async () => {
    const tried: string[] = [];
    await assert.rejects(sendWithFailover([A, B], {
      scoreboard: createScoreboard(), nowMs: () => 0, notSent,
      attempt: async (n) => {
        tried.push(n.name);
        throw new MiisError('Server.ClientProxy.Timeout', '1500 ms');
      },
    }), (err: unknown) => {
      assert.ok(err instanceof MiisError);
      assert.equal(err.code, 'Server.ClientProxy.Timeout');
      assert.match(err.message, /reniec-a/);
      assert.match(err.message, /pudo haberse ejecutado/);
      return true;
    });
    assert.deepEqual(tried, ['reniec-a']);
  });

  it('a cut connection after sending is not retried either', async () => {
    const tried: string[] = [];
    await assert.rejects(sendWithFailover([A, B], {
      scoreboard: createScoreboard(), nowMs: () => 0, notSent,
      attempt: async (n) => {
        tried.push(n.name);
        throw new MiisError('Server.ClientProxy.NetworkError', `${n.address} (UND_ERR_SOCKET)`);
      },
    }), /reniec-a.*después de enviar/);
    assert.deepEqual(tried, ['reniec-a']);
  });

  it('when every node refuses, the fault lists them and says nothing was sent', async () => {
    await assert.rejects(sendWithFailover([A, B], {
      scoreboard: createScoreboard(), nowMs: () => 0, notSent, attempt: async () => { throw refused(); },
    }), (err: unknown) => {
      assert.ok(err instanceof MiisError);
      assert.equal(err.code, 'Server.ClientProxy.NetworkError');
      assert.match(err.message, /reniec-a.*ECONNREFUSED.*reniec-b.*ECONNREFUSED.*no se envió/);
      return true;
    });
  });
});

describe('requestNotSent (undici connect errors)', () => {
  const tls = { keyPem: '', certPem: '', caPems: [] as string[] };

  it('a refused connection was never sent', async () => {
    const port = await freePort();
    const peers = createPeerClient({ maxResponseBytes: 1024 });
    try {
      const err = await peers.send(`https://127.0.0.1:${port}`, 'a'.repeat(64), tls, Buffer.from('x'), 'text/plain', 2000).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof MiisError);
      assert.equal(requestNotSent(err), true);
    } finally {
      await peers.close();
    }
  });

  it('a reset during the TLS handshake was never sent; a timeout after the request was accepted was', async () => {
    // a listener that resets every connection at once: the failure is in the handshake
    const reset: Server = createServer((socket) => socket.resetAndDestroy());
    // a plain TCP listener that swallows bytes: the handshake never ends (connect timeout)
    const received: Buffer[] = [];
    const silent: Server = createServer((socket) => socket.on('data', (d: Buffer) => received.push(d)));
    await Promise.all([reset, silent].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))));
    const peers = createPeerClient({ maxResponseBytes: 1024, connectTimeoutMs: 300 });
    try {
      const resetErr = await peers.send(`https://127.0.0.1:${(reset.address() as AddressInfo).port}`, 'a'.repeat(64), tls, Buffer.from('x'), 'text/plain', 2000).then(() => undefined, (e: unknown) => e);
      assert.ok(resetErr instanceof MiisError, String(resetErr));
      assert.equal((resetErr.cause as { code?: string }).code, 'ECONNRESET', 'the handshake met a reset (known only through the connect channel)');
      assert.equal(requestNotSent(resetErr), true);
      const silentErr = await peers.send(`https://127.0.0.1:${(silent.address() as AddressInfo).port}`, 'a'.repeat(64), tls, Buffer.from('x'), 'text/plain', 2000).then(() => undefined, (e: unknown) => e);
      assert.ok(silentErr instanceof MiisError);
      assert.equal(requestNotSent(silentErr), true, 'a handshake that never ends is a connect timeout');
      assert.ok(received.length > 0, 'the silent listener saw the TLS ClientHello');
      // a timeout on its own (no connect error behind it) may follow an executed request
      assert.equal(requestNotSent(new MiisError('Server.ClientProxy.Timeout', '1 ms', { cause: Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) })), false);
      assert.equal(requestNotSent(new MiisError('Server.ClientProxy.NetworkError', 'x', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) })), false);
    } finally {
      await peers.close();
      for (const s of [reset, silent]) s.close();
    }
  });
});
