/**
 * PostgreSQL connections for the node's own databases (node/store/engine.ts). `pg` costs ~15 MB of
 * memory once loaded, so it is loaded only when a PostgreSQL database is configured. BIGINT
 * columns (sequence numbers, expiry times) come back as JS numbers: every value the node stores
 * there stays below 2^53.
 */
import { createRequire } from 'node:module';
import type PgModule from 'pg';
import { MiisError } from '../core/errors.js';

export type PgPool = PgModule.Pool;
export type PgClient = PgModule.PoolClient;

const INT8 = 20;

export const loadPg = (): typeof PgModule => createRequire(import.meta.url)('pg') as typeof PgModule;

/** A connection string without its password, for messages and logs. */
export function redactPgUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(URL no válida)';
  }
}

/** `schema`: the connections' search_path (set at connection start-up). */
export function openPgPool(connectionString: string, opts: { max?: number; password?: string | undefined; schema?: string } = {}): PgPool {
  const pg = loadPg();
  const parse = ((oid: number, format?: string) => (oid === INT8 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser;
  const pool = new pg.Pool({
    connectionString, max: opts.max ?? 8, connectionTimeoutMillis: 10_000, types: { getTypeParser: parse },
    ...(opts.password === undefined ? {} : { password: opts.password }),
    ...(opts.schema === undefined ? {} : { options: `-c search_path=${opts.schema}` }),
  });
  // an idle connection that drops (server restart) must not crash the node: the next query reconnects
  pool.on('error', () => undefined);
  return pool;
}

/** Run `fn` in one transaction on one connection of the pool. */
export async function inPgTransaction<T>(pool: PgPool, fn: (c: PgClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}

/** A failed connection, in Spanish, naming the server without the password. */
export function pgConnectError(url: string, err: unknown): MiisError {
  return new MiisError('Config.NotInitialized', `no se puede conectar a PostgreSQL ${redactPgUrl(url)}: ${err instanceof Error ? err.message : String(err)}`);
}
