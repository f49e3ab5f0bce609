import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collect, Pool } from '../../runtime/undici-pool.js';

describe('runtime/undici-pool', () => {
  it('the Pool loaded without the rest of undici makes keep-alive requests', async () => {
    const server = createServer((req, res) => res.end(`eco ${req.method} ${req.url}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 1 });
    try {
      for (const path of ['/a', '/b']) {
        const res = await pool.request({ path, method: 'POST', body: 'x' });
        assert.equal(res.statusCode, 200);
        assert.equal(await res.body.text(), `eco POST ${path}`);
      }
    } finally {
      await pool.close();
      server.close();
    }
  });
});

describe('runtime/undici-pool collect', () => {
  const withServer = async (handler: Parameters<typeof createServer>[1], fn: (origin: string) => Promise<void>): Promise<void> => {
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  };

  it('returns status, the Content-Type and the whole body sent in several pieces', async () => {
    await withServer((req, res) => {
      const got: Buffer[] = [];
      req.on('data', (d: Buffer) => got.push(d));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'text/xml; charset=utf-8' });
        res.write(Buffer.concat(got));
        setTimeout(() => res.end('|fin'), 20);
      });
    }, async (origin) => {
      const pool = new Pool(origin, { connections: 1 });
      try {
        const body = Buffer.from('x'.repeat(100_000));
        const r = await collect(pool, { path: '/', method: 'POST', body, headers: { 'content-length': String(body.length) } });
        assert.equal(r.status, 201);
        assert.equal(r.contentType, 'text/xml; charset=utf-8');
        assert.equal(r.body.toString(), `${'x'.repeat(100_000)}|fin`);
      } finally {
        await pool.close();
      }
    });
  });

  it('rejects with undici’s errors: response over maxResponseSize, headers timeout, refused connection', async () => {
    await withServer((req, res) => {
      if (req.url === '/silent') return; // never answers
      res.end('y'.repeat(5000));
    }, async (origin) => {
      const pool = new Pool(origin, { connections: 2, maxResponseSize: 1000 });
      try {
        await assert.rejects(collect(pool, { path: '/big', method: 'GET' }), { code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' });
        await assert.rejects(collect(pool, { path: '/silent', method: 'GET', headersTimeout: 200 }), { code: 'UND_ERR_HEADERS_TIMEOUT' });
      } finally {
        await pool.close();
      }
    });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const pool = new Pool(`http://127.0.0.1:${port}`);
    try {
      await assert.rejects(collect(pool, { path: '/', method: 'GET' }), { code: 'ECONNREFUSED' });
    } finally {
      await pool.close();
    }
  });
});
