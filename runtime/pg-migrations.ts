/**
 * The PostgreSQL side of runtime/sqlite-migrations.ts: the same ordered lists, each version's
 * `pg` text applied in its own transaction and recorded in `schema_version`. Several instances may
 * open one database at the same moment: a transaction-level advisory lock per list lets one of
 * them migrate while the others wait, then find nothing left to do.
 */
import { MiisError } from '../core/errors.js';
import { pendingMigrations, schemaVersionOf, type Migration } from './sqlite-migrations.js';
import type { PgPool } from './pg.js';

/** Apply the missing versions of `migrations` (`name` keys the lock and the error messages). */
export async function applyPgMigrations(pool: PgPool, migrations: readonly Migration[], name: string, what: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`miis-migrations:${name}`]);
      await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const current = Number((await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v ?? 0);
      for (const migration of pendingMigrations(current, migrations, what)) {
        if (migration.pg === undefined) throw new MiisError('Config.InvalidInput', `${what}: la versión ${migration.version} del esquema no tiene texto para PostgreSQL`);
        if (migration.pg.trim() !== '') await client.query(migration.pg);
        await client.query('INSERT INTO schema_version (version) VALUES ($1)', [migration.version]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
  return schemaVersionOf(migrations);
}
