import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { smallRequest } from '../../runtime/small-http.js';

describe('runtime/small-http', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/eco') {
          res.writeHead(201, { 'content-type': 'text/plain', 'x-len': String(req.headers['content-length']) });
          res.end(`${req.method} ${req.headers['content-type'] ?? '-'} ${body.toString()}`);
        } else if (req.url === '/grande-declarado') {
          res.writeHead(200, { 'content-length': '100000' });
          res.end(Buffer.alloc(100000));
        } else if (req.url === '/grande-sin-longitud') {
          res.writeHead(200); // chunked: no content-length
          for (let i = 0; i < 10; i += 1) res.write(Buffer.alloc(1000));
          res.end();
        } else if (req.url === '/mudo') {
          // never answers: the client's timeout ends it
        } else {
          res.writeHead(404);
          res.end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('GET and POST with a body: status, headers and the whole body', async () => {
    const get = await smallRequest(`${base}/eco`, { timeoutMs: 5000, maxBytes: 1000 });
    assert.deepEqual([get.status, get.body.toString()], [201, 'GET - ']);
    const post = await smallRequest(new URL('/eco', base), { method: 'POST', body: Buffer.from('hola'), headers: { 'content-type': 'application/x' }, timeoutMs: 5000, maxBytes: 1000 });
    assert.deepEqual([post.status, post.headers['x-len'], post.body.toString()], [201, '4', 'POST application/x hola']);
    const missing = await smallRequest(`${base}/nada`, { timeoutMs: 5000, maxBytes: 1000 });
    assert.equal(missing.status, 404);
  });

  it('refuses answers over the limit, declared or streamed', async () => {
    await assert.rejects(smallRequest(`${base}/grande-declarado`, { timeoutMs: 5000, maxBytes: 5000 }), /^Error: respuesta demasiado grande \(100000 bytes\)$/);
    await assert.rejects(smallRequest(`${base}/grande-sin-longitud`, { timeoutMs: 5000, maxBytes: 5000, tooLarge: (d) => `excede (${String(d)})` }), /^Error: excede \(undefined\)$/);
    const ok = await smallRequest(`${base}/grande-sin-longitud`, { timeoutMs: 5000, maxBytes: 10000 });
    assert.equal(ok.body.length, 10000);
  });

  it('gives up after the timeout, and on refused connections and other protocols', async () => {
    await assert.rejects(smallRequest(`${base}/mudo`, { timeoutMs: 50, maxBytes: 1000 }), /sin respuesta en 50 ms/);
    await assert.rejects(smallRequest('ftp://127.0.0.1/x', { timeoutMs: 50, maxBytes: 1000 }), /protocolo no admitido: ftp:/);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(smallRequest(`http://127.0.0.1:${port}/`, { timeoutMs: 5000, maxBytes: 1000 }), /ECONNREFUSED/);
  });
});
