/**
 * Benchmark child process: RENIEC's synthetic backend twice — plain HTTP (what the provider node
 * calls) and HTTPS with mutual TLS (the "direct" baseline an IS would call without MIIS).
 * argv: <httpPort> <httpsPort> <serverKey> <serverCert> <caCert>
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { startReniecBackend, createReniecService } from '../sandbox/backends.js';
import { generateSandboxData } from '../sandbox/data.js';

const [httpPort, httpsPort, keyPath, certPath, caPath] = process.argv.slice(2) as [string, string, string, string, string];
const data = generateSandboxData();
const service = createReniecService(data);
await startReniecBackend({ data, port: Number(httpPort) });
const server = createServer({ key: readFileSync(keyPath), cert: readFileSync(certPath), ca: readFileSync(caPath), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const reply = service(Buffer.concat(chunks));
    res.writeHead(reply.status, { 'content-type': 'text/xml; charset=utf-8', 'content-length': reply.body.length });
    res.end(reply.body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(httpsPort), '127.0.0.1', () => process.stdout.write('ready\n'));
