/**
 * One small HTTP(S) request over node:http / node:https, bounded in size and time: what a node's
 * background clients need (global configuration download, OCSP, time-stamping), without `fetch`.
 * Node's `fetch` loads its own bundled copy of undici and compiles another llhttp WebAssembly
 * module: ~14 MB more resident memory per process for a download every 30 s, and a transient
 * ~25 MB while V8 optimises that WebAssembly (docs/performance-log.md, «Memory»).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface SmallResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface SmallRequest {
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** The whole exchange, connection included. */
  readonly timeoutMs: number;
  /** Larger answers (declared or received) fail with tooLarge(declared length or undefined). */
  readonly maxBytes: number;
  readonly tooLarge?: (declared: number | undefined) => string;
}

export function smallRequest(url: string | URL, opts: SmallRequest): Promise<SmallResponse> {
  const u = typeof url === 'string' ? new URL(url) : url;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.reject(new Error(`protocolo no admitido: ${u.protocol}`));
  const tooLarge = opts.tooLarge ?? ((declared) => `respuesta demasiado grande (${declared === undefined ? `más de ${opts.maxBytes}` : declared} bytes)`);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(opts.body.length);
    const req = send(u, { method: opts.method ?? 'GET', headers }, (res) => {
      const declared = Number(res.headers['content-length'] ?? '0');
      if (declared > opts.maxBytes) {
        res.resume();
        fail(new Error(tooLarge(declared)));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBytes) fail(new Error(tooLarge(undefined)));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('close', () => fail(new Error('la conexión se cerró antes del final de la respuesta')));
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) });
      });
    });
    const timer = setTimeout(() => fail(new Error(`sin respuesta en ${opts.timeoutMs} ms`)), opts.timeoutMs);
    req.on('error', fail);
    req.end(opts.body === undefined ? undefined : Buffer.from(opts.body.buffer, opts.body.byteOffset, opts.body.length));
  });
}
