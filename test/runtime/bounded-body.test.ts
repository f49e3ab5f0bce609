import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readBoundedBody, type BoundedBody } from '../../runtime/bounded-body.js';

describe('readBoundedBody', () => {
  let server: Server;
  let url: string;
  let last: BoundedBody | undefined;
  before(async () => {
    server = createServer((req, res) => {
      void readBoundedBody(req, 1000).then((r) => {
        last = r;
        res.end(r.ok ? `ok ${r.body.length}` : `too-large ${r.declared}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const post = (body: Buffer, chunked: boolean): Promise<string> => new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.length } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    if (chunked) for (let i = 0; i < body.length; i += 100) req.write(body.subarray(i, i + 100));
    else req.write(body);
    req.end();
  });

  it('returns a body within the limit, whole', async () => {
    assert.equal(await post(Buffer.alloc(1000, 1), false), 'ok 1000');
    assert.equal(await post(Buffer.alloc(999, 1), true), 'ok 999');
  });

  it('refuses a declared content-length over the limit without reading it', async () => {
    assert.equal(await post(Buffer.alloc(1001, 1), false), 'too-large true');
    assert.deepEqual(last, { ok: false, reason: 'too-large', size: 1001, declared: true });
  });

  it('stops at the limit when the body streams without a length', async () => {
    assert.equal(await post(Buffer.alloc(5000, 1), true), 'too-large false');
    assert.ok(last !== undefined && !last.ok && last.size > 1000 && last.size <= 1100);
  });
});
