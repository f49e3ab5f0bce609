/**
 * Benchmark child process: the floor a forwarding node could reach. Reads the request body,
 * forwards it over a pooled keep-alive mutual-TLS 1.3 connection and returns the reply: no
 * signing, no parsing, no logging. Two of them in a row mirror IS → client node → provider node.
 * argv: <edge|inner> <listenPort> <targetUrl> <key> <cert> <ca>
 *   edge:  listens on plain HTTP (what an IS calls)
 *   inner: listens on HTTPS with mutual TLS 1.3 (what the edge calls)
 * Both call `targetUrl` (https) with mutual TLS 1.3 through one keep-alive undici Pool, reading the
 * reply as the nodes do (runtime/undici-pool.ts `collect`).
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { collect, Pool } from '../../runtime/undici-pool.js';

const [mode, listenPort, targetUrl, keyPath, certPath, caPath] = process.argv.slice(2) as [string, string, string, string, string, string];
const key = readFileSync(keyPath);
const cert = readFileSync(certPath);
const ca = readFileSync(caPath);
const target = new URL(targetUrl);
const pool = new Pool(target.origin, {
  connections: 32, keepAliveTimeout: 60_000,
  connect: { key, cert, ca, minVersion: 'TLSv1.3', rejectUnauthorized: true, servername: 'localhost' },
});

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    collect(pool, { path: target.pathname, method: 'POST', body, headers: { 'content-type': req.headers['content-type'] ?? 'text/xml', 'content-length': String(body.length) } })
      .then((r) => {
        res.writeHead(r.status, { 'content-type': r.contentType ?? 'text/xml', 'content-length': r.body.length });
        res.end(r.body);
      })
      .catch(() => {
        res.writeHead(502, { 'content-length': 0 });
        res.end();
      });
  });
}

const server = mode === 'inner'
  ? createHttpsServer({ key, cert, ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, handle)
  : createServer(handle);
server.keepAliveTimeout = 60_000;
process.on('SIGTERM', () => {
  server.close();
  void pool.close();
  process.exit(0);
});
server.listen(Number(listenPort), '127.0.0.1', () => process.stdout.write('ready\n'));
