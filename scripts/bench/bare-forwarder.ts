/**
 * Benchmark child process: the floor a forwarding node could reach. Reads the request body,
 * forwards it over a pooled keep-alive mutual-TLS 1.3 connection and returns the reply: no
 * signing, no parsing, no logging. Two of them in a row mirror IS → client node → provider node.
 * argv: <edge|inner> <listenPort> <targetUrl> <key> <cert> <ca>
 *   edge:  listens on plain HTTP (what an IS calls)
 *   inner: listens on HTTPS with mutual TLS 1.3 (what the edge calls)
 * Both call `targetUrl` (https) with mutual TLS 1.3 through one keep-alive undici Pool, reading the
 * reply as the nodes do (runtime/undici-pool.ts `collect`).
 * With `--signed <logDir> <peerCertPath>` (the signed floor): what a node must do to every exchange
 * besides reading it, and nothing else. The edge signs the request bytes (ECDSA, its TLS key), logs
 * it with the replay check, verifies the reply's signature with the peer's certificate and logs
 * the reply; the inner verifies and logs the request, calls the backend, signs and logs the reply.
 * The log is the node's own (node/evidence/message-log.ts: hash chain, AES-GCM sealing, group
 * commit, WAL checkpoints in a worker thread). The request's signature travels in an `x-firma`
 * header, the reply's as a first line before the reply's bytes (the inner's answer to the edge
 * only). No XML is read or written, no access rule or agreement is looked at.
 */
import { createPrivateKey, sign, verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import type { LogRecord, MessageLog } from '../../node/evidence/message-log.js';
import { collect, Pool } from '../../runtime/undici-pool.js';

const [mode, listenPort, targetUrl, keyPath, certPath, caPath, signedFlag, logDir, peerCertPath] = process.argv.slice(2) as [string, string, string, string, string, string, string?, string?, string?];
const key = readFileSync(keyPath);
const cert = readFileSync(certPath);
const ca = readFileSync(caPath);
const target = new URL(targetUrl);
const pool = new Pool(target.origin, {
  connections: 32, keepAliveTimeout: 60_000,
  connect: { key, cert, ca, minVersion: 'TLSv1.3', rejectUnauthorized: true, servername: 'localhost' },
});

/** The signed floor's per-process state: signing key, the peer's public key, the message log. */
interface Signed {
  readonly log: MessageLog;
  sign(bytes: Buffer): string;
  verify(bytes: Buffer, signatureB64: string): boolean;
  record(direction: 'request' | 'response', id: string, message: Buffer, signature: string): LogRecord;
}

/** Loaded only with --signed: the plain floor's memory stays that of Node, node:https and undici's Pool. */
async function openSigned(dir: string, peerCert: string): Promise<Signed> {
  const { startLogCheckpointer } = await import('../../node/evidence/checkpointer.js');
  const { createLogCipher, ensureLogKeyFile } = await import('../../node/evidence/log-crypto.js');
  const { openMessageLog } = await import('../../node/evidence/message-log.js');
  const { certDerSha256 } = await import('../../node/outbound/http-pools.js');
  const signingKey = createPrivateKey(key);
  const peer = new X509Certificate(readFileSync(peerCert));
  const peerKey = peer.publicKey;
  const ownSha = certDerSha256(new X509Certificate(cert));
  const peerSha = certDerSha256(peer);
  const log = openMessageLog(join(dir, 'messagelog.db'), { cipher: createLogCipher(ensureLogKeyFile(join(dir, 'log-keys.json'), new Date())) });
  startLogCheckpointer({ log, path: join(dir, 'messagelog.db'), info: () => undefined });
  const side = mode === 'edge' ? 'client' : 'server';
  return {
    log,
    sign: (bytes) => sign('sha256', bytes, { key: signingKey, dsaEncoding: 'ieee-p1363' }).toString('base64'),
    verify: (bytes, b64) => verify('sha256', bytes, { key: peerKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(b64, 'base64')),
    record: (direction, id, message, signature) => ({
      side, direction, messageId: id, client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1',
      at: new Date(), message, signature,
      // who signed it: the edge signs requests and the inner responses
      signerCertSha256: (direction === 'request') === (mode === 'edge') ? ownSha : peerSha,
    }),
  };
}

const signed = signedFlag === '--signed' && logDir !== undefined && peerCertPath !== undefined ? await openSigned(logDir, peerCertPath) : undefined;
let sent = 0;

/** The signed floor's exchange: sign/verify and log on both sides of the forwarding, as described above. */
async function forwardSigned(s: Signed, req: IncomingMessage, body: Buffer): Promise<{ status: number; contentType: string | undefined; body: Buffer }> {
  const contentType = req.headers['content-type'] ?? 'text/xml';
  if (mode === 'edge') {
    const id = `floor-${process.pid}-${(sent += 1)}`;
    const signature = s.sign(body);
    await s.log.append(s.record('request', id, body, signature), { replayWindowMs: 600_000 });
    const r = await collect(pool, { path: target.pathname, method: 'POST', body, headers: { 'content-type': contentType, 'content-length': String(body.length), 'x-firma': signature, 'x-id': id } });
    const nl = r.body.indexOf(0x0a);
    const replySig = r.body.toString('latin1', 0, Math.max(nl, 0));
    const reply = r.body.subarray(nl + 1);
    if (nl < 0 || !s.verify(reply, replySig)) throw new Error('firma de la respuesta no válida');
    await s.log.append(s.record('response', id, reply, replySig));
    return { status: r.status, contentType: r.contentType, body: reply };
  }
  const id = String(req.headers['x-id'] ?? '');
  const requestSig = req.headers['x-firma'];
  if (typeof requestSig !== 'string' || !s.verify(body, requestSig)) throw new Error('firma de la solicitud no válida');
  await s.log.append(s.record('request', id, body, requestSig), { replayWindowMs: 600_000 });
  const r = await collect(pool, { path: target.pathname, method: 'POST', body, headers: { 'content-type': contentType, 'content-length': String(body.length) } });
  const signature = s.sign(r.body);
  await s.log.append(s.record('response', id, r.body, signature));
  return { status: r.status, contentType: r.contentType, body: Buffer.concat([Buffer.from(`${signature}\n`, 'latin1'), r.body]) };
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const reply = signed !== undefined
      ? forwardSigned(signed, req, body)
      : collect(pool, { path: target.pathname, method: 'POST', body, headers: { 'content-type': req.headers['content-type'] ?? 'text/xml', 'content-length': String(body.length) } });
    reply
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
