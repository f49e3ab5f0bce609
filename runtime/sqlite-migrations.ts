/**
 * One ordered migration list per database. Each database records the versions it has applied in
 * `schema_version`; opening it applies the missing ones in order, each in its own transaction. A
 * database newer than the program is refused. Migrations are append only: never edit one that has
 * shipped; add the next version instead.
 *
 * The same list serves both engines: `up` is the SQLite step (applied here, synchronously, by
 * better-sqlite3) and `pg` the PostgreSQL text of the same version where the dialects differ
 * (applied by runtime/pg-migrations.ts); the engine-neutral part is `pendingMigrations`.
 */
import type Database from 'better-sqlite3';
import { MiisError } from '../core/errors.js';

export interface Migration {
  readonly version: number;
  /** What the step adds, for the developer reading the list. */
  readonly note: string;
  /** SQL, or a step that needs to look at the database first (e.g. add a column if missing). */
  readonly up: string | ((db: Database.Database) => void);
  /** The same step on PostgreSQL (databases that may be PostgreSQL give every version one; '' = nothing to do there). */
  readonly pg?: string | undefined;
}

/** The highest version of a list (lists are ordered and start at 1). */
export function schemaVersionOf(migrations: readonly Migration[]): number {
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
}

/** The version a database is at (0 for a database that has never been migrated). */
export function currentSchemaVersion(db: Database.Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/** The migrations a database at `current` still needs; refuses a database newer than the list. */
export function pendingMigrations(current: number, migrations: readonly Migration[], what: string): Migration[] {
  const latest = schemaVersionOf(migrations);
  if (current > latest) {
    throw new MiisError('Config.NotInitialized', `${what} tiene el esquema ${current}, más nuevo que el que conoce este programa (${latest}): use la versión de MIIS que la creó o una posterior`);
  }
  return migrations.filter((m) => m.version > current);
}

/** Apply every migration above the database's version; `what` names the database in errors. */
export function applyMigrations(db: Database.Database, migrations: readonly Migration[], what: string): number {
  const latest = schemaVersionOf(migrations);
  for (const migration of pendingMigrations(currentSchemaVersion(db), migrations, what)) {
    db.transaction(() => {
      if (typeof migration.up === 'string') db.exec(migration.up);
      else migration.up(db);
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(migration.version);
    })();
  }
  return latest;
}

/** Add a column when an older database lacks it (SQLite has no ADD COLUMN IF NOT EXISTS). */
export function addColumnIfMissing(db: Database.Database, table: string, column: string, type: string): void {
  const columns = new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  if (!columns.has(column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}
