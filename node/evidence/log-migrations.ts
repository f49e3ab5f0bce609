/**
 * The schema of messagelog.db (message log, fault log, time-stamp batches, log metadata and the
 * archiver's index), in one ordered list: the only place tables of this database are created.
 * Append only. Version 1 is the schema logs had before versions were recorded (IF NOT EXISTS,
 * so such a log is adopted as it is); version 2 adds the columns of the encrypted log where
 * missing; version 3 adopts the archives table the archiver used to create on first use;
 * version 4 stores each signing certificate once (certs) and lets records refer to it (sig_cert);
 * version 5 the fault budget; version 6 lets several instances of a node share one (PostgreSQL)
 * database, each with its own hash chain (`instance_id`; nothing to do on SQLite, where the file
 * belongs to one instance). `pg` is each version on PostgreSQL (node/evidence/pg-message-log.ts).
 * Version 7 adds the index of data subjects (subject-index.ts).
 */
import { addColumnIfMissing, type Migration } from '../../runtime/sqlite-migrations.js';

/** Migration 5 (fault budget): the same on both engines but for SQLite's WITHOUT ROWID. */
const FAULT_BUDGET_SQL = `
      CREATE TABLE IF NOT EXISTS fault_budget (
        source TEXT NOT NULL, minute TEXT NOT NULL, stored INTEGER NOT NULL, suppressed INTEGER NOT NULL,
        aggregate_id TEXT, PRIMARY KEY (source, minute)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS faults_at ON faults (at);
    `;

export const MESSAGE_LOG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    note: 'messages (hash chain), faults, time-stamp batches, log metadata',
    up: `
      CREATE TABLE IF NOT EXISTS messages (
        seq INTEGER PRIMARY KEY,
        side TEXT NOT NULL, direction TEXT NOT NULL, message_id TEXT NOT NULL,
        client TEXT NOT NULL, service TEXT NOT NULL, user_id TEXT, convenio TEXT, finalidad TEXT,
        at TEXT NOT NULL, fault TEXT, signer_cert_sha256 TEXT NOT NULL,
        message BLOB NOT NULL, signature TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS messages_message_id ON messages(message_id);
      CREATE TABLE IF NOT EXISTS faults (
        fault_id TEXT PRIMARY KEY, code TEXT NOT NULL, side TEXT NOT NULL, at TEXT NOT NULL,
        message_id TEXT, client TEXT, service TEXT, detail TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS timestamps (
        id INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, root TEXT NOT NULL,
        token BLOB NOT NULL, gen_time TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
    pg: `
      CREATE TABLE IF NOT EXISTS messages (
        seq BIGINT PRIMARY KEY,
        side TEXT NOT NULL, direction TEXT NOT NULL, message_id TEXT NOT NULL,
        client TEXT NOT NULL, service TEXT NOT NULL, user_id TEXT, convenio TEXT, finalidad TEXT,
        at TEXT NOT NULL, fault TEXT, signer_cert_sha256 TEXT NOT NULL,
        message BYTEA NOT NULL, signature BYTEA NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS messages_message_id ON messages(message_id);
      CREATE TABLE IF NOT EXISTS faults (
        fault_id TEXT PRIMARY KEY, code TEXT NOT NULL, side TEXT NOT NULL, at TEXT NOT NULL,
        message_id TEXT, client TEXT, service TEXT, detail TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS timestamps (
        id BIGSERIAL PRIMARY KEY, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, root TEXT NOT NULL,
        token BYTEA NOT NULL, gen_time TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS log_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    note: 'encrypted log: body digests, key id, metadata-only records',
    up: (db) => {
      addColumnIfMissing(db, 'messages', 'message_sha256', 'TEXT');
      addColumnIfMissing(db, 'messages', 'signature_sha256', 'TEXT');
      addColumnIfMissing(db, 'messages', 'key_id', 'TEXT');
      addColumnIfMissing(db, 'messages', 'body_kept', 'INTEGER NOT NULL DEFAULT 1');
    },
    pg: `
      ALTER TABLE messages ADD COLUMN IF NOT EXISTS message_sha256 TEXT;
      ALTER TABLE messages ADD COLUMN IF NOT EXISTS signature_sha256 TEXT;
      ALTER TABLE messages ADD COLUMN IF NOT EXISTS key_id TEXT;
      ALTER TABLE messages ADD COLUMN IF NOT EXISTS body_kept SMALLINT NOT NULL DEFAULT 1;
    `,
  },
  {
    version: 3,
    note: 'archives index (archiver.ts)',
    up: `CREATE TABLE IF NOT EXISTS archives (idx INTEGER PRIMARY KEY, manifest TEXT NOT NULL, manifest_sha256 TEXT NOT NULL,
      file TEXT NOT NULL, file_sha256 TEXT NOT NULL, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, created_at TEXT NOT NULL)`,
    pg: `CREATE TABLE IF NOT EXISTS archives (idx INTEGER PRIMARY KEY, manifest TEXT NOT NULL, manifest_sha256 TEXT NOT NULL,
      file TEXT NOT NULL, file_sha256 TEXT NOT NULL, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, created_at TEXT NOT NULL)`,
  },
  {
    version: 4,
    note: 'signing certificates stored once: certs (SHA-256 of the base64 text → text), messages.sig_cert',
    up: (db) => {
      db.exec('CREATE TABLE IF NOT EXISTS certs (sha256 TEXT PRIMARY KEY, b64 TEXT NOT NULL)');
      addColumnIfMissing(db, 'messages', 'sig_cert', 'TEXT');
    },
    pg: `
      CREATE TABLE IF NOT EXISTS certs (sha256 TEXT PRIMARY KEY, b64 TEXT NOT NULL);
      ALTER TABLE messages ADD COLUMN IF NOT EXISTS sig_cert TEXT;
    `,
  },
  {
    version: 5,
    note: 'fault budget: faults per source and minute, stored and suppressed (message-log.ts recordFault)',
    up: FAULT_BUDGET_SQL,
    pg: FAULT_BUDGET_SQL.replace(' WITHOUT ROWID', ''),
  },
  {
    version: 6,
    note: 'several instances in one database: messages, time-stamps and archives per instance_id (PostgreSQL; a SQLite file has one instance)',
    up: '',
    pg: `
      ALTER TABLE messages ADD COLUMN IF NOT EXISTS instance_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_pkey;
      ALTER TABLE messages ADD PRIMARY KEY (instance_id, seq);
      ALTER TABLE timestamps ADD COLUMN IF NOT EXISTS instance_id TEXT NOT NULL DEFAULT '';
      CREATE INDEX IF NOT EXISTS timestamps_instance ON timestamps (instance_id, last_seq);
      ALTER TABLE archives ADD COLUMN IF NOT EXISTS instance_id TEXT NOT NULL DEFAULT '';
      ALTER TABLE archives DROP CONSTRAINT IF EXISTS archives_pkey;
      ALTER TABLE archives ADD PRIMARY KEY (instance_id, idx);
    `,
  },
  {
    version: 7,
    note: 'index of data subjects: HMAC of each DNI a logged request concerned → record seq (subject-index.ts)',
    up: 'CREATE TABLE IF NOT EXISTS subject_index (mac BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (mac, seq)) WITHOUT ROWID',
    pg: "CREATE TABLE IF NOT EXISTS subject_index (mac BYTEA NOT NULL, instance_id TEXT NOT NULL DEFAULT '', seq BIGINT NOT NULL, PRIMARY KEY (mac, instance_id, seq))",
  },
];
