/**
 * The `rest` adapter: a REST service (X-Road message protocol for REST, docs/rest.md). The
 * service's backend URL is a base URL; the request's path and query are appended as the IS sent
 * them (already checked: RFC 3986 characters, no dot segments), with its method, Content-Type,
 * Accept (default application/json) and body. Redirects are never followed (passed back as
 * they are); any status the backend answers is passed back signed. Distinct faults:
 * unreachable → ServiceFailed, silent → ServiceTimeout, too large → ServiceFailed.
 */
import { MiisError } from '../../core/errors.js';
import type { RestSettings } from './settings.js';
import type { LocalService } from '../store/local-store.js';
import { createBackendPool, requestBackend } from '../outbound/http-pools.js';
import { readBackendCa } from './proxy.js';

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

/** The backend URL of one request: base URL (its path without a trailing '/') + path + query. */
export function restBackendPath(baseUrl: string, path: string, query: string): { origin: string; path: string } {
  const u = new URL(baseUrl);
  return { origin: u.origin, path: joinBackendPath(basePathOf(u), path, query) };
}

function basePathOf(u: URL): string {
  return u.pathname.replace(/\/+$/, '');
}

function joinBackendPath(base: string, path: string, query: string): string {
  const full = `${base}${path}` === '' ? '/' : `${base}${path}`;
  return query === '' ? full : `${full}?${query}`;
}

/** Methods whose empty body is not announced (no Content-Length). */
const NO_BODY_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS']);

export function createRestAdapter(service: LocalService, settings: RestSettings, deps: { maxMessageBytes: number }): RestAdapter {
  const caPem = readBackendCa(service, settings.caFile);
  let baseUrl: URL;
  try {
    baseUrl = new URL(service.backendUrl);
  } catch (err) {
    throw new MiisError('Config.InvalidAdapter', `servicio ${service.serviceKey}: URL base no válida`, { cause: err });
  }
  // parsed once here, not on every call
  const origin = baseUrl.origin;
  const basePath = basePathOf(baseUrl);
  const maxBytes = Math.min(settings.maxResponseBytes ?? deps.maxMessageBytes, deps.maxMessageBytes);
  const backend = createBackendPool(origin, { caPem, maxResponseBytes: maxBytes });
  return {
    openapi: settings.openapi,
    async call(r, timeoutMs) {
      const headers: Record<string, string> = { accept: r.accept ?? 'application/json' };
      if (r.contentType !== undefined) headers['content-type'] = r.contentType;
      const hasBody = r.body.length > 0 || !NO_BODY_METHODS.has(r.method);
      if (hasBody) headers['content-length'] = String(r.body.length);
      return requestBackend(backend, { path: joinBackendPath(basePath, r.path, r.query), method: r.method, headers, ...(hasBody ? { body: r.body } : {}) }, timeoutMs);
    },
    close: () => backend.pool.close(),
  };
}
