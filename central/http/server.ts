/**
 * Central's HTTP server (node:http). Its own routes answer GET and HEAD only (405 otherwise):
 * /globalconf (the signed global configuration; ETag = serial, 304 on If-None-Match), /ca.pem and
 * /health; their request bodies are limited (maxRequestBytes, default 4 KiB) and discarded.
 * Other modules add routes by exact path through `extraRoutes`, each with its own methods and body
 * limit, and get the body: central/main.ts plugs in governance-routes.ts (GET /portal,
 * /portal.json; POST /solicitudes-acceso) and evidence-routes.ts (POST /tsa, POST /ocsp;
 * GET /tsa.pem). A body over its limit gets 413; errors are JSON {error, mensaje} in Spanish.
 * A timer keeps the configuration fresh; a request finding it expired regenerates it at once.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MiisError } from '../../core/errors.js';
import type { GlobalConfPublisher } from '../conf/publisher.js';
import { readBoundedBody } from '../../runtime/bounded-body.js';
import { reply, sendJson as sendJsonReply } from '../../runtime/http-reply.js';

export const DEFAULT_REFRESH_INTERVAL_MS = 30_000;
export const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024;

export interface CentralServerOptions {
  readonly host: string;
  readonly port: number;
  readonly instance: string;
  readonly publisher: GlobalConfPublisher;
  readonly caCertPem: string;
  readonly clock: () => Date;
  readonly refreshIntervalMs?: number;
  readonly maxRequestBytes?: number;
  /** Where background errors go (default: stderr). */
  readonly logError?: (message: string) => void;
  /** More routes by exact path (governance: /portal, /portal.json, /solicitudes-acceso); they read their own body. */
  readonly extraRoutes?: Readonly<Record<string, ExtraRoute>>;
}

/** A route added by another module; `handle` gets the whole request body (up to maxBodyBytes). */
export interface ExtraRoute {
  readonly methods: readonly string[];
  readonly maxBodyBytes?: number;
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void | Promise<void>;
}

export interface CentralServer {
  readonly url: string;
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse) => void;

const NO_STORE = { 'cache-control': 'no-store' } as const;

const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => sendJsonReply(res, status, body, { ...NO_STORE, ...headers });

const sendBytes = (res: ServerResponse, contentType: string, bytes: Buffer, headers: Record<string, string> = {}): void => reply(res, 200, contentType, bytes, headers);

function sendError(res: ServerResponse, status: number, error: string, mensaje: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error, mensaje }, headers);
}

/** Read the body within the limit; over it, answer 413 (and close) and call nothing. */
function withBody(req: IncomingMessage, res: ServerResponse, maxBytes: number, then: (body: Buffer) => void): void {
  readBoundedBody(req, maxBytes).then((r) => {
    if (r.ok) return then(r.body);
    res.setHeader('connection', 'close');
    res.once('finish', () => req.destroy());
    sendError(res, 413, 'demasiado_grande', `La solicitud supera el tamaño máximo permitido (${maxBytes} bytes)`);
  }, () => req.destroy());
}

export async function startCentralServer(opts: CentralServerOptions): Promise<CentralServer> {
  const { publisher, clock } = opts;
  const maxRequestBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const logError = opts.logError ?? ((m: string) => process.stderr.write(`${m}\n`));
  const caBytes = Buffer.from(opts.caCertPem, 'utf8');

  publisher.refresh(); // fail at start-up, not on the first request

  const routes: Record<string, Route> = {
    '/globalconf': (req, res) => {
      const version = publisher.current();
      const etag = `"${version.serial}"`;
      const headers = { etag, 'cache-control': 'no-cache', 'x-miis-conf-serial': String(version.serial), 'x-miis-conf-expires': version.expiresAt };
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      sendBytes(res, 'application/json', version.envelope, headers);
    },
    '/ca.pem': (_req, res) => sendBytes(res, 'application/x-pem-file', caBytes),
    '/health': (_req, res) => {
      const now = clock();
      const version = publisher.current();
      const fresh = now.getTime() < Date.parse(version.expiresAt);
      sendJson(res, fresh ? 200 : 503, {
        status: fresh ? 'ok' : 'expired',
        instance: opts.instance,
        serial: version.serial,
        generatedAt: version.generatedAt,
        expiresAt: version.expiresAt,
        now: now.toISOString(),
      });
    },
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const extra = opts.extraRoutes !== undefined && Object.prototype.hasOwnProperty.call(opts.extraRoutes, path) ? opts.extraRoutes[path] : undefined;
    if (extra !== undefined) return handleExtra(extra, path, req, res);
    const route = Object.prototype.hasOwnProperty.call(routes, path) ? routes[path] : undefined;
    withBody(req, res, maxRequestBytes, () => {
      if (route === undefined) return sendError(res, 404, 'no_encontrado', `No existe el recurso ${path.slice(0, 200)}`);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return sendError(res, 405, 'metodo_no_permitido', `El método ${String(req.method).slice(0, 20)} no está permitido en ${path}; use GET`, { allow: 'GET, HEAD' });
      }
      try {
        route(req, res);
      } catch (err) {
        const id = err instanceof MiisError ? err.faultId : 'sin-referencia';
        logError(`miis-central: error al atender ${path} (${id}): ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) sendError(res, 503, 'no_disponible', `La configuración global no está disponible en este momento (referencia ${id})`);
      }
    });
  };

  const handleExtra = (route: ExtraRoute, path: string, req: IncomingMessage, res: ServerResponse): void => {
    const max = route.maxBodyBytes ?? maxRequestBytes;
    withBody(req, res, max, (body) => {
      if (!route.methods.includes(req.method ?? '')) {
        return sendError(res, 405, 'metodo_no_permitido', `El método ${String(req.method).slice(0, 20)} no está permitido en ${path}; use ${route.methods.join(' o ')}`, { allow: route.methods.join(', ') });
      }
      Promise.resolve()
        .then(() => route.handle(req, res, body))
        .catch((err: unknown) => {
          const id = err instanceof MiisError ? err.faultId : 'sin-referencia';
          logError(`miis-central: error al atender ${path} (${id}): ${err instanceof Error ? err.message : String(err)}`);
          if (!res.headersSent) sendError(res, 500, 'error_interno', `No se pudo atender la solicitud (referencia ${id})`);
        });
    });
  };

  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 15_000, headersTimeout: 10_000 }, handle);
  server.keepAliveTimeout = 5_000;

  const timer = setInterval(() => {
    try {
      publisher.refresh();
    } catch (err) {
      logError(`miis-central: no se pudo regenerar la configuración global: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, opts.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS);

  try {
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(opts.port, opts.host, () => {
        server.off('error', rejectListen);
        resolveListen();
      });
    });
  } catch (err) {
    clearInterval(timer);
    throw new MiisError('Config.InvalidInput', `no se pudo escuchar en ${opts.host}:${opts.port}: ${(err as Error).message}`, { cause: err });
  }

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolveClose) => {
        clearInterval(timer);
        server.close(() => resolveClose());
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}
