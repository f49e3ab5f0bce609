/**
 * The schema of node.db (settings, local clients, services, access rights), in one ordered list.
 * Append only. Version 1 is the schema nodes created before versions were recorded (IF NOT
 * EXISTS, so such a database is adopted as it is); version 2 adds the per-service adapter
 * settings where they are missing; version 3 the replay memory (node/store/local-store.ts);
 * version 4 the change counter other connections poll (PostgreSQL only: SQLite has
 * PRAGMA data_version); version 5 the batch exchanges (node/store/batch-store.ts). `pg` is each version on PostgreSQL (node/store/pg-local-store.ts).
 */
import { addColumnIfMissing, type Migration } from '../../runtime/sqlite-migrations.js';

/** Migration 5 (batches): the same on both engines but for the chunk result's type (BLOB on SQLite, BYTEA on PostgreSQL). */
const BATCHES_SQL = `
      CREATE TABLE IF NOT EXISTS batches (
        id TEXT PRIMARY KEY, file_sha256 TEXT NOT NULL, client TEXT NOT NULL, service TEXT NOT NULL, convenio TEXT NOT NULL,
        finalidad TEXT NOT NULL, status TEXT NOT NULL, chunks_done INTEGER NOT NULL, state_json TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS batches_file ON batches (file_sha256);
      CREATE TABLE IF NOT EXISTS batches_received (
        batch_id TEXT NOT NULL, client TEXT NOT NULL, manifest_json TEXT NOT NULL, received_at TEXT NOT NULL,
        PRIMARY KEY (batch_id, client));
      CREATE TABLE IF NOT EXISTS batch_chunks_done (
        batch_id TEXT NOT NULL, client TEXT NOT NULL, chunk INTEGER NOT NULL, request_sha256 TEXT NOT NULL, result BLOB, done_at TEXT NOT NULL,
        PRIMARY KEY (batch_id, client, chunk));
    `;

export const NODE_DB_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    note: 'settings, local clients, services, access rights',
    up: `
      CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS clients (id TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS services (service_key TEXT PRIMARY KEY, backend_url TEXT NOT NULL, timeout_ms INTEGER NOT NULL, wsdl TEXT);
      CREATE TABLE IF NOT EXISTS acl (service_key TEXT NOT NULL, client TEXT NOT NULL, granted_at TEXT NOT NULL, PRIMARY KEY (service_key, client));
    `,
    pg: `
      CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS clients (id TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS services (service_key TEXT PRIMARY KEY, backend_url TEXT NOT NULL, timeout_ms INTEGER NOT NULL, wsdl TEXT);
      CREATE TABLE IF NOT EXISTS acl (service_key TEXT NOT NULL, client TEXT NOT NULL, granted_at TEXT NOT NULL, PRIMARY KEY (service_key, client));
    `,
  },
  {
    version: 2,
    note: 'per-service adapter settings (proxy, sql)',
    up: (db) => addColumnIfMissing(db, 'services', 'adapter_json', 'TEXT'),
    pg: 'ALTER TABLE services ADD COLUMN IF NOT EXISTS adapter_json TEXT',
  },
  {
    version: 3,
    note: 'replay memory: (scope, client, message id) seen, until when (survives restarts)',
    up: `
      CREATE TABLE IF NOT EXISTS seen_messages (
        scope TEXT NOT NULL, client TEXT NOT NULL, message_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
        PRIMARY KEY (scope, client, message_id)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS seen_messages_expiry ON seen_messages (expires_at);
    `,
    pg: `
      CREATE TABLE IF NOT EXISTS seen_messages (
        scope TEXT NOT NULL, client TEXT NOT NULL, message_id TEXT NOT NULL, expires_at BIGINT NOT NULL,
        PRIMARY KEY (scope, client, message_id)
      );
      CREATE INDEX IF NOT EXISTS seen_messages_expiry ON seen_messages (expires_at);
    `,
  },
  {
    version: 4,
    note: 'change counter bumped by every write to settings, clients, services, acl (PostgreSQL; SQLite has PRAGMA data_version)',
    up: '',
    pg: `
      CREATE TABLE IF NOT EXISTS data_version (id INTEGER PRIMARY KEY CHECK (id = 1), v BIGINT NOT NULL);
      INSERT INTO data_version (id, v) VALUES (1, 1) ON CONFLICT (id) DO NOTHING;
      CREATE OR REPLACE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE data_version SET v = v + 1 WHERE id = 1; RETURN NULL; END $$;
      CREATE OR REPLACE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
      CREATE OR REPLACE TRIGGER clients_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON clients FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
      CREATE OR REPLACE TRIGGER services_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON services FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
      CREATE OR REPLACE TRIGGER acl_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON acl FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();
    `,
  },
  {
    version: 5,
    note: 'batch exchanges (lotes): consumer batch state, provider manifests and chunks done (node/store/batch-store.ts)',
    up: BATCHES_SQL,
    pg: BATCHES_SQL.replace('BLOB', 'BYTEA'),
  },
  {
    version: 6,
    note: 'instances sharing one PostgreSQL database agree on the global configuration in force: the newest verified envelope any instance downloaded (node/conf/global-conf-client.ts `shared`); a single SQLite node needs no table',
    up: '',
    pg: `
      CREATE TABLE IF NOT EXISTS shared_conf (
        id INTEGER PRIMARY KEY CHECK (id = 1), serial BIGINT NOT NULL, envelope BYTEA NOT NULL, stored_at TEXT NOT NULL);
    `,
  },
];
