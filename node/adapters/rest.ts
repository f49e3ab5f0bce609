/**
 * The `rest` adapter: a REST service (X-Road message protocol for REST, docs/rest.md). The
 * service's backend URL is a base URL; the request's path and query are appended as the IS sent
 * them (already checked: RFC 3986 characters, no dot segments), with its method, Content-Type,
 * Accept (default application/json) and body. Redirects are never followed (passed back as
 * they are); any status the backend answers is passed back signed. Distinct faults:
 * unreachable → ServiceFailed, silent → ServiceTimeout, too large → ServiceFailed.
 */
import { readFileSync } from 'node:fs';
import { Pool } from '../../runtime/undici-pool.js';
import { MiisError } from '../../core/errors.js';
import type { RestSettings } from './settings.js';
import type { LocalService } from '../store/local-store.js';

export interface RestBackendRequest {
  readonly method: string;
  /** '' or starting with '/', percent-encoded as sent. */
  readonly path: string;
  readonly query: string;
  readonly contentType?: string | undefined;
  readonly accept?: string | undefined;
  readonly body: Buffer;
}

export interface RestBackendReply {
  readonly status: number;
  readonly contentType?: string | undefined;
  readonly body: Buffer;
}

export interface RestAdapter {
  call(request: RestBackendRequest, timeoutMs: number): Promise<RestBackendReply>;
  /** The OpenAPI description file (absolute path), when configured. */
  readonly openapi?: string | undefined;
  close(): Promise<void>;
}

function errorCodes(err: unknown): string[] {
  const out: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 5 && e !== undefined && e !== null; i += 1) {
    out.push(String((e as { code?: unknown }).code ?? ''));
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/** The backend URL of one request: base URL (its path without a trailing '/') + path + query. */
export function restBackendPath(baseUrl: string, path: string, query: string): { origin: string; path: string } {
  const u = new URL(baseUrl);
  const base = u.pathname.replace(/\/+$/, '');
  const full = `${base}${path}` === '' ? '/' : `${base}${path}`;
  return { origin: u.origin, path: query === '' ? full : `${full}?${query}` };
}

export function createRestAdapter(service: LocalService, settings: RestSettings, deps: { maxMessageBytes: number }): RestAdapter {
  let caPem: string | undefined;
  if (settings.caFile !== undefined) {
    try {
      caPem = readFileSync(settings.caFile, 'utf8');
    } catch (err) {
      throw new MiisError('Config.InvalidAdapter', `servicio ${service.serviceKey}: no se puede leer el certificado de CA ${settings.caFile}`, { cause: err });
    }
  }
  let origin: string;
  try {
    origin = new URL(service.backendUrl).origin;
  } catch (err) {
    throw new MiisError('Config.InvalidAdapter', `servicio ${service.serviceKey}: URL base no válida`, { cause: err });
  }
  const maxBytes = Math.min(settings.maxResponseBytes ?? deps.maxMessageBytes, deps.maxMessageBytes);
  const pool = new Pool(origin, { connections: 16, keepAliveTimeout: 60_000, maxResponseSize: maxBytes, ...(caPem === undefined ? {} : { connect: { ca: [caPem], rejectUnauthorized: true } }) });
  return {
    openapi: settings.openapi,
    async call(r, timeoutMs) {
      const target = restBackendPath(service.backendUrl, r.path, r.query);
      const headers: Record<string, string> = { accept: r.accept ?? 'application/json' };
      if (r.contentType !== undefined) headers['content-type'] = r.contentType;
      const hasBody = r.body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(r.method);
      if (hasBody) headers['content-length'] = String(r.body.length);
      try {
        const res = await pool.request({
          path: target.path, method: r.method as 'GET', headers, ...(hasBody ? { body: r.body } : {}),
          headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
        });
        const body = Buffer.from(await res.body.arrayBuffer());
        const ct = res.headers['content-type'];
        return { status: res.statusCode, contentType: Array.isArray(ct) ? ct[0] : ct, body };
      } catch (err) {
        const codes = errorCodes(err);
        if (codes.includes('UND_ERR_HEADERS_TIMEOUT') || codes.includes('UND_ERR_BODY_TIMEOUT')) throw new MiisError('Server.ServerProxy.ServiceTimeout', `${timeoutMs} ms`, { cause: err });
        if (codes.includes('UND_ERR_RES_EXCEEDED_MAX_SIZE')) throw new MiisError('Server.ServerProxy.ServiceFailed', `la respuesta supera ${maxBytes} bytes`, { cause: err });
        if (codes.some((c) => /CERT|TLS|SSL/.test(c))) throw new MiisError('Server.ServerProxy.ServiceFailed', `el certificado TLS de ${origin} no es de confianza`, { cause: err });
        throw new MiisError('Server.ServerProxy.ServiceFailed', `no se pudo conectar con ${origin}`, { cause: err });
      }
    },
    close: () => pool.close(),
  };
}
