/**
 * Pooled keep-alive HTTP(S) clients: one undici Pool per peer node (mutual TLS 1.3, the peer's
 * certificate pinned to the one registered in the global configuration) and one per backend.
 */
import type { X509Certificate } from 'node:crypto';
import { sha256Hex } from '../../core/digest.js';
import { subscribe } from 'node:diagnostics_channel';
import type { PeerCertificate } from 'node:tls';
import { collect, Pool, type CollectedReply } from '../../runtime/undici-pool.js';
import { MiisError } from '../../core/errors.js';

export type HttpReply = CollectedReply;

export const PEER_PIN_ERROR = 'MIIS_PEER_CERT_MISMATCH';

export interface PeerTls {
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPems: readonly string[];
}

export interface PeerClient {
  /** POST a signed message to a peer node. `expectedSha256` pins the peer's TLS certificate (any of a list, during a renewal overlap). */
  send(address: string, expectedSha256: string | readonly string[], tls: PeerTls, body: Buffer, contentType: string, timeoutMs: number, path?: string): Promise<HttpReply>;
  close(): Promise<void>;
}

export function certDerSha256(cert: PeerCertificate | X509Certificate): string {
  return sha256Hex(cert.raw);
}

/**
 * What a pooled connection was built with: the peer's pinned certificate, our own TLS certificate
 * and the trusted CAs. A pool is replaced when any of them changes (a rotated certificate, a CA
 * added to the global configuration). Digests are remembered per PEM so the hot path hashes nothing.
 */
const pemDigests = new WeakMap<readonly string[], string>();
function caDigest(caPems: readonly string[]): string {
  let d = pemDigests.get(caPems);
  if (d === undefined) {
    d = sha256Hex(caPems.join('\n'));
    pemDigests.set(caPems, d);
  }
  return d;
}
const certDigests = new Map<string, string>();
function certDigest(pem: string): string {
  let d = certDigests.get(pem);
  if (d === undefined) {
    if (certDigests.size > 64) certDigests.clear();
    d = sha256Hex(pem);
    certDigests.set(pem, d);
  }
  return d;
}

function poolKey(address: string, sha: string, tls: PeerTls): string {
  return `${address}|${sha}|${certDigest(tls.certPem)}|${caDigest(tls.caPems)}`;
}

/**
 * Errors undici met while opening a connection (TCP connect, TLS handshake, pin check, connect
 * timeout), i.e. before any byte of a request was written. undici rejects the requests waiting for
 * that connection with the same error object, so a rejection found here was never sent: the
 * consumer may try another node of the provider (node/outbound/provider-failover.ts). Any other
 * failure (a reset or timeout once a connection carried the request) may follow an executed request.
 */
const connectErrors = new WeakSet<object>();
subscribe('undici:client:connectError', (message) => {
  const error = (message as { error?: unknown }).error;
  if (typeof error === 'object' && error !== null) connectErrors.add(error);
});

/** Failures that can only happen before a connection exists, whatever the channel saw. */
const CONNECT_ONLY = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', PEER_PIN_ERROR]);

/** True when `err` (a MiisError from send, or its cause chain) proves the request never left this node. */
export function requestNotSent(err: unknown): boolean {
  return errorChain(err).some((e) => connectErrors.has(e) || (e.code !== undefined && CONNECT_ONLY.has(e.code)));
}

export function createPeerClient(opts: { maxResponseBytes: number; connections?: number; connectTimeoutMs?: number }): PeerClient {
  const pools = new Map<string, { key: string; pool: Pool }>();

  const poolFor = (address: string, pins: string | readonly string[], tls: PeerTls): Pool => {
    const accepted: readonly string[] = typeof pins === 'string' ? [pins] : pins;
    const key = poolKey(address, accepted.join(','), tls);
    const existing = pools.get(address);
    if (existing !== undefined && existing.key === key) return existing.pool;
    if (existing !== undefined) void existing.pool.close();
    const pool = new Pool(address, {
      connections: opts.connections ?? 32,
      keepAliveTimeout: 60_000,
      maxResponseSize: opts.maxResponseBytes,
      connect: {
        timeout: opts.connectTimeoutMs ?? 10_000,
        key: tls.keyPem,
        cert: tls.certPem,
        ca: [...tls.caPems],
        minVersion: 'TLSv1.3',
        rejectUnauthorized: true,
        checkServerIdentity: (_host: string, cert: PeerCertificate) => {
          if (accepted.includes(certDerSha256(cert))) return undefined;
          const err = new Error('peer certificate does not match the global configuration') as Error & { code: string };
          err.code = PEER_PIN_ERROR;
          return err;
        },
      },
    });
    pools.set(address, { key, pool });
    return pool;
  };

  return {
    async send(address, expectedSha256, tls, body, contentType, timeoutMs, path = '/miis/v1/message') {
      const pool = poolFor(address, expectedSha256, tls);
      try {
        return await collect(pool, {
          path, method: 'POST', body,
          headers: { 'content-type': contentType, 'content-length': String(body.length) },
          headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
        });
      } catch (err) {
        throw mapPeerError(err, address, timeoutMs);
      }
    },
    async close() {
      await Promise.all([...pools.values()].map((p) => p.pool.close()));
      pools.clear();
    },
  };
}

function errorChain(err: unknown): { code?: string; name?: string; message?: string }[] {
  const out: { code?: string; name?: string; message?: string }[] = [];
  let e: unknown = err;
  for (let i = 0; i < 6 && typeof e === 'object' && e !== null; i += 1) {
    out.push(e as { code?: string; name?: string; message?: string });
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

function mapPeerError(err: unknown, address: string, timeoutMs: number): MiisError {
  const chain = errorChain(err);
  if (chain.some((e) => e.code === PEER_PIN_ERROR || /ERR_TLS_CERT|CERT_|certificate/i.test(`${e.code ?? ''} ${e.message ?? ''}`))) {
    return new MiisError('Server.ClientProxy.SslAuthenticationFailed', '', { cause: err });
  }
  if (chain.some((e) => e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT')) {
    return new MiisError('Server.ClientProxy.Timeout', `${timeoutMs} ms`, { cause: err });
  }
  if (chain.some((e) => e.code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE')) {
    return new MiisError('Server.ClientProxy.InvalidResponse', 'respuesta demasiado grande', { cause: err });
  }
  const first = chain[0];
  return new MiisError('Server.ClientProxy.NetworkError', `${address} (${first?.code ?? first?.message ?? 'error'})`, { cause: err });
}

export interface BackendClient {
  post(url: string, body: Buffer, headers: Record<string, string>, timeoutMs: number): Promise<HttpReply>;
  close(): Promise<void>;
}

/** A keep-alive pool to one backend origin, with what its requests report faults with. */
export interface BackendPool {
  readonly pool: Pool;
  readonly origin: string;
  readonly maxResponseBytes: number;
}

/** A pool to one backend origin: its own TLS trust (CA) if given, and a response-size limit. */
export function createBackendPool(origin: string, opts: { maxResponseBytes: number; caPem?: string | undefined; connections?: number }): BackendPool {
  const pool = new Pool(origin, {
    connections: opts.connections ?? 16, keepAliveTimeout: 60_000, maxResponseSize: opts.maxResponseBytes,
    ...(opts.caPem === undefined ? {} : { connect: { ca: [opts.caPem], rejectUnauthorized: true } }),
  });
  return { pool, origin, maxResponseBytes: opts.maxResponseBytes };
}

/**
 * OpenSSL's certificate verification results as Node reports them in `err.code`
 * (DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, INVALID_PURPOSE, …)
 * and Node's host-name check (ERR_TLS_CERT_ALTNAME_INVALID).
 */
const CERT_VERIFY_ERROR = /CERT|CRL|UNABLE_TO_|INVALID_PURPOSE|INVALID_CA|PATH_LENGTH_EXCEEDED|HOSTNAME_MISMATCH/;

/**
 * One request to a backend (every backend call goes through here: the backend clients below and
 * the rest adapter), both timeouts `timeoutMs`; any status is returned. Faults: silent →
 * ServiceTimeout; too large, untrusted TLS certificate (with OpenSSL's reason), another TLS
 * failure, unreachable → ServiceFailed, each with its own detail.
 */
export async function requestBackend(
  backend: BackendPool,
  request: { path: string; method: string; headers: Record<string, string>; body?: Buffer },
  timeoutMs: number,
): Promise<HttpReply> {
  try {
    return await collect(backend.pool, { ...request, method: request.method as 'GET', headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  } catch (err) {
    const codes = errorChain(err).map((e) => e.code ?? '');
    if (codes.includes('UND_ERR_HEADERS_TIMEOUT') || codes.includes('UND_ERR_BODY_TIMEOUT')) throw new MiisError('Server.ServerProxy.ServiceTimeout', `${timeoutMs} ms`, { cause: err });
    if (codes.includes('UND_ERR_RES_EXCEEDED_MAX_SIZE')) throw new MiisError('Server.ServerProxy.ServiceFailed', `la respuesta supera ${backend.maxResponseBytes} bytes`, { cause: err });
    const rejected = codes.find((c) => CERT_VERIFY_ERROR.test(c));
    if (rejected !== undefined) throw new MiisError('Server.ServerProxy.ServiceFailed', `el certificado TLS de ${backend.origin} no es de confianza (${rejected})`, { cause: err });
    const tls = codes.find((c) => /^ERR_(?:SSL|TLS)_/.test(c));
    if (tls !== undefined) throw new MiisError('Server.ServerProxy.ServiceFailed', `no se pudo establecer TLS con ${backend.origin} (${tls})`, { cause: err });
    throw new MiisError('Server.ServerProxy.ServiceFailed', `no se pudo conectar con ${backend.origin}`, { cause: err });
  }
}

/**
 * SOAP backends, one pool per origin: the node's shared client (no CA of its own, the node's size
 * limit), and the proxy adapter's own client for a backend with its CA or a lower limit.
 */
export function createBackendClient(opts: { maxResponseBytes: number; caPem?: string | undefined; connections?: number }): BackendClient {
  const pools = new Map<string, BackendPool>();
  return {
    async post(url, body, headers, timeoutMs) {
      const u = new URL(url);
      let backend = pools.get(u.origin);
      if (backend === undefined) {
        backend = createBackendPool(u.origin, { maxResponseBytes: opts.maxResponseBytes, caPem: opts.caPem, connections: opts.connections ?? 32 });
        pools.set(u.origin, backend);
      }
      return requestBackend(backend, { path: `${u.pathname}${u.search}`, method: 'POST', body, headers: { ...headers, 'content-length': String(body.length) } }, timeoutMs);
    },
    async close() {
      await Promise.all([...pools.values()].map((b) => b.pool.close()));
      pools.clear();
    },
  };
}
