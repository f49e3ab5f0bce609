/**
 * The shared backend client (node/outbound/http-pools.ts, createBackendClient) against real
 * loopback servers: a normal answer, and each fault with the detail an operator acts on; the
 * same requestBackend serves the proxy adapter's own clients (a backend's CA) and the rest adapter.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MiisError } from '../../../core/errors.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackendClient, createBackendPool, requestBackend, type BackendClient } from '../../../node/outbound/http-pools.js';
import { freePort } from '../../helpers/net.js';

const listen = (s: Server): Promise<string> => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(s.address() as AddressInfo).port}`)));
const close = (s: Server): Promise<void> => new Promise((resolve) => {
  s.closeAllConnections();
  s.close(() => resolve());
});
const fault = (code: string, detail: RegExp) => (err: unknown): boolean => err instanceof MiisError && err.code === code && detail.test(err.message);

describe('backend client', () => {
  const servers: Server[] = [];
  let client: BackendClient;
  let plain: string;
  let silent: string;
  let tls: string;
  let selfSigned: string;
  before(async () => {
    const ok = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const big = req.url === '/big';
        res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' });
        res.end(big ? 'x'.repeat(5000) : `<eco>${Buffer.concat(chunks).toString()}</eco>`);
      });
    });
    const quiet = createHttpServer(() => undefined); // never answers
    // a self-signed server certificate for 127.0.0.1 (openssl), trusted by nobody unless given as CA
    const dir = mkdtempSync(join(tmpdir(), 'miis-backend-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'pipe' });
    selfSigned = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const untrusted = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: selfSigned }, (_req, res) => res.end('<no/>'));
    rmSync(dir, { recursive: true, force: true });
    servers.push(ok, quiet, untrusted);
    [plain, silent, tls] = await Promise.all([listen(ok), listen(quiet), listen(untrusted)]);
    client = createBackendClient({ maxResponseBytes: 1000 });
  });
  after(async () => {
    await client.close();
    await Promise.all(servers.map(close));
  });

  it('posts the body and returns status, content type and body', async () => {
    const r = await client.post(`http://${plain}/`, Buffer.from('<a/>'), { 'content-type': 'text/xml' }, 5000);
    assert.equal(r.status, 200);
    assert.equal(r.contentType, 'text/xml; charset=utf-8');
    assert.equal(r.body.toString(), '<eco><a/></eco>');
  });

  it('a backend whose TLS certificate is not trusted: ServiceFailed naming the certificate, not «no se pudo conectar»', async () => {
    await assert.rejects(client.post(`https://${tls}/`, Buffer.from('<a/>'), {}, 5000),
      fault('Server.ServerProxy.ServiceFailed', new RegExp(`el certificado TLS de https://${tls.replaceAll('.', '\\.')} no es de confianza \\(DEPTH_ZERO_SELF_SIGNED_CERT\\)`)));
  });

  it('TLS spoken to a plain HTTP port: ServiceFailed «no se pudo establecer TLS», not a certificate problem', async () => {
    await assert.rejects(client.post(`https://${plain}/`, Buffer.from('<a/>'), {}, 5000),
      fault('Server.ServerProxy.ServiceFailed', new RegExp(`no se pudo establecer TLS con https://${plain.replaceAll('.', '\\.')} \\(ERR_SSL_`)));
  });

  it('the same backend with its CA given (the proxy adapter\'s own client): answered', async () => {
    const own = createBackendClient({ maxResponseBytes: 1000, caPem: selfSigned, connections: 16 });
    try {
      const r = await own.post(`https://${tls}/`, Buffer.from('<a/>'), {}, 5000);
      assert.equal(r.body.toString(), '<no/>');
    } finally {
      await own.close();
    }
  });

  it('a GET through requestBackend (the rest adapter\'s way): answered; a fault names the pool\'s origin and limit', async () => {
    const backend = createBackendPool(`http://${plain}`, { maxResponseBytes: 1000 });
    try {
      const r = await requestBackend(backend, { path: '/', method: 'GET', headers: {} }, 5000);
      assert.equal(r.status, 200);
      await assert.rejects(requestBackend(backend, { path: '/big', method: 'GET', headers: {} }, 5000), fault('Server.ServerProxy.ServiceFailed', /la respuesta supera 1000 bytes/));
    } finally {
      await backend.pool.close();
    }
  });

  it('nothing listening: ServiceFailed «no se pudo conectar con …»', async () => {
    const port = await freePort();
    await assert.rejects(client.post(`http://127.0.0.1:${port}/`, Buffer.from('<a/>'), {}, 5000),
      fault('Server.ServerProxy.ServiceFailed', new RegExp(`no se pudo conectar con http://127\\.0\\.0\\.1:${port}`)));
  });

  it('a backend that does not answer: ServiceTimeout with the time waited', async () => {
    await assert.rejects(client.post(`http://${silent}/`, Buffer.from('<a/>'), {}, 150), fault('Server.ServerProxy.ServiceTimeout', /150 ms/));
  });

  it('an answer over the size limit: ServiceFailed naming the limit', async () => {
    await assert.rejects(client.post(`http://${plain}/big`, Buffer.from('<a/>'), {}, 5000), fault('Server.ServerProxy.ServiceFailed', /la respuesta supera 1000 bytes/));
  });
});
