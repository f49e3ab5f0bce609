/**
 * undici's Pool without the rest of undici: `import { Pool } from 'undici'` also loads fetch,
 * WebSocket, the cache and more (~8 MB of a node's idle memory) that the node never uses. This
 * loads the Pool class and the request API, and attaches the API to Dispatcher.prototype exactly
 * as undici's index.js does (idempotent when the full package is loaded too). Checked by
 * test/runtime/undici-pool.test.ts against the undici version in package.json.
 *
 * undici parses HTTP/1.1 with llhttp compiled to WebAssembly. V8 compiles it first with its
 * baseline compiler (Liftoff) and, once hot, again with TurboFan on a background thread: that
 * second compilation holds ~25-30 MB for a second or two, which was the peak RSS of every node
 * process under load. `--liftoff-only` (set here, before the first Pool compiles llhttp; Node
 * passes V8 flags only on its command line otherwise) keeps the baseline code: measured with
 * 20,000 keep-alive requests of 1.5 KB, CPU per request was not higher (89-97 µs against 103-107
 * µs, TurboFan's own compile time included) and the process peak 74 MB against 98 MB
 * (docs/performance-log.md, «Memory»). llhttp is the only WebAssembly a node runs.
 */
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import type { Dispatcher as UndiciDispatcher, Pool as UndiciPool } from 'undici';

setFlagsFromString('--liftoff-only');

const require = createRequire(import.meta.url);
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: Record<string, unknown> };
const api = require('undici/lib/api/index.js') as Record<string, unknown>;
if (Dispatcher.prototype.request === undefined) Object.assign(Dispatcher.prototype, api);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;

/** A response read whole: status, Content-Type (the first when repeated) and body. */
export interface CollectedReply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/**
 * One request through `pool` with the response body collected whole, through undici's dispatch
 * handler instead of `request()`: no Readable stream and no body promise per exchange (1.6 KB
 * exchanges at 32 in flight: ~5 µs less CPU and ~8 % less wall time per request than
 * `request()` + `arrayBuffer()`, docs/performance-log.md «Stop 20»). Connection errors, the headers and
 * body timeouts and the pool's maxResponseSize reject it with undici's own errors, as `request()` does.
 */
export function collect(pool: Pool, opts: UndiciDispatcher.DispatchOptions): Promise<CollectedReply> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let contentType: string | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    pool.dispatch(opts, {
      onRequestStart() {}, // its presence selects undici's controller handler API (onResponse*)
      onResponseStart(_controller, statusCode, headers) {
        status = statusCode;
        const ct = headers['content-type'];
        contentType = Array.isArray(ct) ? ct[0] : ct;
      },
      onResponseData(_controller, chunk) {
        chunks.push(chunk);
        size += chunk.length;
      },
      onResponseEnd() {
        resolve({ status, contentType, body: Buffer.concat(chunks, size) });
      },
      onResponseError(_controller, err) {
        reject(err);
      },
    });
  });
}
