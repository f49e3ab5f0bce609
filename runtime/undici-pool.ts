/**
 * undici's Pool without the rest of undici: `import { Pool } from 'undici'` also loads fetch,
 * WebSocket, the cache and more (~8 MB of a node's idle memory) that the node never uses. This
 * loads the Pool class and the request API, and attaches the API to Dispatcher.prototype exactly
 * as undici's index.js does (idempotent when the full package is loaded too). Checked by
 * test/runtime/undici-pool.test.ts against the undici version in package.json.
 */
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);
const Dispatcher = require('undici/lib/dispatcher/dispatcher.js') as { prototype: Record<string, unknown> };
const api = require('undici/lib/api/index.js') as Record<string, unknown>;
if (Dispatcher.prototype.request === undefined) Object.assign(Dispatcher.prototype, api);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
