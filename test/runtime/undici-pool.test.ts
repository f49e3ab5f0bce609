import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from '../../runtime/undici-pool.js';

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
