/**
 * The node's two listeners: the IS-facing SOAP endpoint (plain HTTP on a local port) and the
 * node-to-node endpoint (HTTPS, mutual TLS 1.3). Both turn every failure into an X-Road style
 * SOAP fault whose faultDetail UUID is recorded in the node's fault log.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { findWsdlFile } from './store/paths.js';
import { MiisError, toMiisError } from '../core/errors.js';
import { formatClientId, formatServiceId } from '../core/identifiers.js';
import { faultFromError, readSoapMessage } from '../core/soap.js';
import { processClientRequest } from './pipeline/client-proxy.js';
import type { ExchangeFacts, NodeContext } from './pipeline/context.js';
import { certDerSha256 } from './outbound/http-pools.js';
import { readBody, sendJson, sendXml } from '../runtime/http-reply.js';
import { decodeProviderMessage, processProviderRequest, verifyPeerIsNode } from './pipeline/server-proxy.js';
import { answerListClientsHttp } from './pipeline/metaservices.js';
import { handleRestIs, handleRestPeer } from './pipeline/rest-http.js';
import { REST_PEER_PATH } from './pipeline/rest-client.js';
import { BATCH_PATH, processBatchMessage } from './pipeline/batch-provider.js';
import type { BatchRunner } from './pipeline/batch-consumer.js';
import type { BatchStore } from './store/batch-store.js';
import type { BatchManifest } from './pipeline/batch-format.js';
import { serveBatchApi } from './pipeline/batch-api.js';

const WSDL_FILE = /^[A-Za-z0-9._-]{1,100}\.(wsdl|xsd)$/;
export const WSDL_PLACEHOLDER = 'http://localhost:8080/';

interface FaultContext {
  readonly messageId?: string;
  readonly client?: string;
  readonly service?: string;
}

/**
 * Best effort, on the fault path only, for messages the pipeline could not read itself (it fills
 * ExchangeFacts once it has read one): which message a fault was about, so the fault log can be
 * searched by message id, client and service. A message that cannot be read yields nothing.
 */
function describeMessage(raw: Buffer | undefined, contentType: string | undefined, maxBytes: number): FaultContext {
  if (raw === undefined) return {};
  try {
    // a multipart with an oversized signature part is not parsed, not even to describe it
    const message = contentType?.startsWith('multipart/') === true ? decodeProviderMessage(raw, contentType).message : raw;
    const header = readSoapMessage(message, 'request', { maxBytes, maxDepth: 32, maxElements: 50_000 }).header;
    if (header === undefined) return {};
    return { messageId: header.id, client: formatClientId(header.client), service: formatServiceId(header.service) };
  } catch {
    return {};
  }
}

/**
 * Who caused a fault as the network sees it, for the fault budget: the IS's address, or the
 * peer's TLS certificate. Never a value from the message (an IS could claim any client id).
 */
function sourceOf(req: IncomingMessage): string {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerX509Certificate === 'function') {
    const sha = peerSha(socket);
    return sha === undefined ? 'tls:sin-certificado' : `tls:${sha.slice(0, 16)}`;
  }
  return `ip:${req.socket.remoteAddress ?? 'desconocida'}`;
}

function reportFault(ctx: NodeContext, side: 'client' | 'server', err: unknown, fallback: 'Server.ClientProxy.InternalError' | 'Server.ServerProxy.InternalError', about: FaultContext, source: string): MiisError {
  const e = toMiisError(err, fallback);
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  try {
    const recorded = ctx.log.recordFault({ faultId: e.faultId, code: e.code, side, at: ctx.now(), ...about, detail: `${e.message}${cause}`.slice(0, 2000) }, source);
    if (recorded !== undefined) recorded.catch((err: unknown) => ctx.info(`registro de fallas: ${err instanceof Error ? err.message : String(err)}`));
  } catch {
    // the fault still reaches the caller even if the log is unavailable
  }
  ctx.metrics?.fault(side, e.code);
  if (e.code.endsWith('InternalError')) {
    if (ctx.logger === undefined) ctx.info(`error interno ${e.faultId}${cause}`);
    else ctx.logger.error({ faultId: e.faultId, code: e.code, side, ...about, cause: cause.slice(2, 500) }, 'error interno');
  }
  return e;
}

/**
 * Slow clients (Slowloris) on both listeners: headers and the whole request must arrive within
 * the limits, checked every `connectionsCheckingIntervalMs`; settings in NodeLimits.
 */
function slowClientOptions(ctx: NodeContext): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  const l = ctx.limits;
  return { headersTimeout: Math.min(l.headersTimeoutMs, l.requestTimeoutMs), requestTimeout: l.requestTimeoutMs, connectionsCheckingInterval: l.connectionsCheckingIntervalMs };
}

export interface IsServerOptions {
  /** The configured public IS address (node settings), written into served WSDL as soap:address. */
  readonly publicUrl: string;
  readonly wsdlDir: string;
  /** Folders searched in order (the node's wsdl/ first); default [wsdlDir]. */
  readonly wsdlDirs?: readonly string[];
  readonly health: () => unknown;
  /** Batch exchanges (lotes) on the IS port: POST /lotes, GET /lotes[/<id>[/resultado|/rechazados]], POST /lotes/<id>/reanudar. */
  readonly batches?: { readonly runner: BatchRunner; readonly uploadDir: string } | undefined;
}

export function createIsServer(ctx: NodeContext, opts: IsServerOptions): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://node');
    // X-Road message protocol for REST (node/pipeline/rest-http.ts, docs/rest.md)
    if (url.pathname.startsWith('/r1/')) return handleRestIs(ctx, req, res, (err, about) => reportFault(ctx, 'client', err, 'Server.ClientProxy.InternalError', about, sourceOf(req)));
    if (req.method === 'GET' && url.pathname === '/health') {
      const h = opts.health() as { disponible?: boolean };
      return sendJson(res, h.disponible === false ? 503 : 200, h); // 503: the node cannot serve (node/ops/monitor.ts)
    }
    if (req.method === 'GET' && url.pathname === '/listClients') return serveListClients(ctx, res, url, req.headers.accept);
    if (req.method === 'GET' && url.pathname.startsWith('/wsdl/')) return serveWsdl(res, opts, url.pathname.slice(6));
    if (url.pathname === '/lotes' || url.pathname.startsWith('/lotes/')) {
      try {
        return await serveBatchApi(req, res, url, opts.batches);
      } catch (err) {
        const e = reportFault(ctx, 'client', err, 'Server.ClientProxy.InternalError', {}, sourceOf(req));
        if (!res.headersSent) sendJson(res, e.httpStatus === 500 ? 500 : e.httpStatus, { codigo: e.code, error: e.message, faultDetail: e.faultId });
        return undefined;
      }
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'Use POST con un mensaje SOAP (o GET /wsdl/<archivo>, GET /health)' });
    let raw: Buffer | undefined;
    const startedAt = performance.now();
    const facts: ExchangeFacts = {};
    try {
      const ct = req.headers['content-type'] ?? '';
      if (!/^text\/xml\b/i.test(ct)) {
        req.resume();
        throw new MiisError('Client.InvalidContentType', `«${ct.slice(0, 60)}»`);
      }
      raw = await readBody(req, ctx.limits.maxMessageBytes, 'Client.MessageTooLarge');
      const result = await processClientRequest(ctx, raw, facts);
      const h = result.request.header;
      ctx.metrics?.exchange({ side: 'client', startedAt, result: result.fault ? 'fault' : 'ok', ...(h === undefined ? {} : { service: formatServiceId(h.service), client: formatClientId(h.client) }) });
      sendXml(res, result.fault ? 500 : 200, result.response);
    } catch (err) {
      const about = facts.messageId !== undefined ? facts : describeMessage(raw, 'text/xml', ctx.limits.maxMessageBytes);
      const e = reportFault(ctx, 'client', err, 'Server.ClientProxy.InternalError', about, sourceOf(req));
      ctx.metrics?.exchange({ side: 'client', startedAt, result: 'error', service: about.service, client: about.client });
      sendXml(res, e.httpStatus, faultFromError(e), e.code === 'Client.MessageTooLarge');
    }
  };
  const server = createServer({ maxHeaderSize: 16 * 1024, ...slowClientOptions(ctx) }, (req, res) => void (ctx.metrics === undefined ? handle(req, res) : ctx.metrics.track(() => handle(req, res))));
  server.keepAliveTimeout = ctx.limits.keepAliveTimeoutMs;
  return server;
}

/** X-Road listClients over HTTP GET: members and subsystems from the global configuration (node/pipeline/metaservices.ts). */
function serveListClients(ctx: NodeContext, res: ServerResponse, url: URL, accept: string | undefined): void {
  const view = ctx.conf.latest();
  if (view === undefined) return sendJson(res, 503, { error: 'El nodo no tiene configuración global' });
  const out = answerListClientsHttp(view, url, accept);
  res.writeHead(200, { 'content-type': out.contentType, 'content-length': out.body.length });
  res.end(out.body);
}

async function serveWsdl(res: ServerResponse, opts: IsServerOptions, file: string): Promise<void> {
  if (!WSDL_FILE.test(file)) return sendJson(res, 404, { error: `No existe el archivo «${file.slice(0, 100)}»` });
  let text: string;
  try {
    const path = findWsdlFile(opts.wsdlDirs ?? [opts.wsdlDir], file);
    if (path === undefined) throw new Error('not found');
    text = await readFile(path, 'utf8');
  } catch {
    return sendJson(res, 404, { error: 'No existe el archivo' });
  }
  // never from the Host header: a served document reflects no request input
  const body = Buffer.from(text.split(WSDL_PLACEHOLDER).join(opts.publicUrl), 'utf8');
  res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8', 'content-length': body.length });
  res.end(body);
}

export interface ProxyServerOptions {
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPems: readonly string[];
  /** Provider side of batch exchanges (POST /miis/v1/lote); absent = refused. */
  readonly batchStore?: BatchStore | undefined;
  /** Called when a received batch's last chunk is done (report to central). */
  readonly batchDelivered?: ((manifest: BatchManifest, receivedAt: string) => void) | undefined;
}

/** TLS 1.3 cipher suites of the node-to-node port (OpenSSL names, order of preference). */
export const PROXY_CIPHER_SUITES = 'TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

/**
 * The one definition of the node-to-node port's TLS settings: used for the first secure context
 * and for every reload when the global configuration (trusted CAs) changes, so a reload can never
 * widen what the port accepts (TLS 1.3 only, same cipher suites).
 */
export function proxyTlsOptions(opts: ProxyServerOptions): { key: string; cert: string; ca: string[]; minVersion: 'TLSv1.3'; maxVersion: 'TLSv1.3'; ciphersuites: string } {
  return { key: opts.keyPem, cert: opts.certPem, ca: [...opts.caPems], minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphersuites: PROXY_CIPHER_SUITES };
}

const peerShaBySocket = new WeakMap<TLSSocket, string>();

function peerSha(socket: TLSSocket): string | undefined {
  let sha = peerShaBySocket.get(socket);
  if (sha === undefined) {
    const cert = socket.getPeerX509Certificate();
    if (cert === undefined) return undefined;
    sha = certDerSha256(cert);
    peerShaBySocket.set(socket, sha);
  }
  return sha;
}

export function createProxyServer(ctx: NodeContext, opts: ProxyServerOptions): HttpsServer {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method === 'POST' && req.url === REST_PEER_PATH) {
      const sha = peerSha(req.socket as TLSSocket);
      return handleRestPeer(ctx, req, res, sha, () => verifyPeerIsNode(ctx.conf.current('Server.ServerProxy.OutdatedGlobalConf'), sha),
        (err, about) => reportFault(ctx, 'server', err, 'Server.ServerProxy.InternalError', about, sourceOf(req)));
    }
    if (req.method !== 'POST' || (req.url !== '/miis/v1/message' && req.url !== BATCH_PATH)) return sendJson(res, 404, { error: 'Use POST /miis/v1/message' });
    const batch = req.url === BATCH_PATH;
    let body: Buffer | undefined;
    const startedAt = performance.now();
    const facts: ExchangeFacts = {};
    let peerChecked = false;
    try {
      // who is calling is known from the TLS handshake: an unknown peer is refused before its body is read
      const sha = peerSha(req.socket as TLSSocket);
      verifyPeerIsNode(ctx.conf.current('Server.ServerProxy.OutdatedGlobalConf'), sha);
      peerChecked = true;
      body = await readBody(req, ctx.limits.maxMessageBytes + 256 * 1024, 'Client.MessageTooLarge');
      const out = batch ? await processBatchMessage(ctx, opts.batchStore, body, req.headers['content-type'], sha, opts.batchDelivered)
        : await processProviderRequest(ctx, body, req.headers['content-type'], sha, facts);
      ctx.metrics?.exchange({ side: 'server', startedAt, result: 'ok' }); // service and client: from the adapter call (node/ops/metrics.ts)
      res.writeHead(200, { 'content-type': out.contentType, 'content-length': out.body.length });
      res.end(out.body);
    } catch (err) {
      const about = facts.messageId !== undefined || batch ? facts : describeMessage(body, req.headers['content-type'], ctx.limits.maxMessageBytes);
      const e = reportFault(ctx, 'server', err, 'Server.ServerProxy.InternalError', about, sourceOf(req));
      ctx.metrics?.exchange({ side: 'server', startedAt, result: 'error', service: about.service, client: about.client });
      // an unread body (unknown peer, too large) is not drained: the connection is closed instead
      sendXml(res, e.httpStatus, faultFromError(e), !peerChecked || e.code === 'Client.MessageTooLarge');
    }
  };
  const server = createHttpsServer({
    ...proxyTlsOptions(opts), requestCert: true, rejectUnauthorized: true, maxHeaderSize: 16 * 1024,
    ...slowClientOptions(ctx), handshakeTimeout: ctx.limits.handshakeTimeoutMs,
  }, (req, res) => void (ctx.metrics === undefined ? handle(req, res) : ctx.metrics.track(() => handle(req, res))));
  server.keepAliveTimeout = ctx.limits.peerKeepAliveTimeoutMs;
  return server;
}

/** Reload the node-to-node port's trusted CAs (global configuration change) with the same TLS settings. */
export function reloadProxyTls(server: HttpsServer, opts: ProxyServerOptions): void {
  server.setSecureContext(proxyTlsOptions(opts));
}
