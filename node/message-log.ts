/**
 * The node's message log: every request and response the node sends or receives, with the exact
 * bytes and the detached signature, in an append-only SQLite table with a hash chain. Writes are
 * batched: `append` resolves when the record's batch has committed (group commit), so a pipeline
 * step that awaits it knows the evidence is on disk before it goes on.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

export interface LogRecord {
  readonly side: 'client' | 'server';
  readonly direction: 'request' | 'response';
  readonly messageId: string;
  readonly client: string;
  readonly service: string;
  readonly userId?: string | undefined;
  readonly convenio?: string | undefined;
  readonly finalidad?: string | undefined;
  readonly at: Date;
  readonly message: Buffer;
  readonly signature: string;
  readonly signerCertSha256: string;
  readonly fault?: string | undefined;
}

export interface StoredRecord extends LogRecord {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export interface FaultEvent {
  readonly faultId: string;
  readonly code: string;
  readonly side: 'client' | 'server';
  readonly at: Date;
  readonly messageId?: string | undefined;
  readonly client?: string | undefined;
  readonly service?: string | undefined;
  readonly detail: string;
}

const GENESIS = '0'.repeat(64);

/** Hash of one record, chained to the previous one. Field order is part of the format (v1). */
export function hashRecord(prevHash: string, r: LogRecord): string {
  const h = createHash('sha256');
  h.update(`miis-log/1\n${prevHash}\n${r.side}\n${r.direction}\n${r.messageId}\n${r.client}\n${r.service}\n`);
  h.update(`${r.userId ?? ''}\n${r.convenio ?? ''}\n${r.finalidad ?? ''}\n${r.at.toISOString()}\n${r.fault ?? ''}\n${r.signerCertSha256}\n`);
  h.update(createHash('sha256').update(r.message).digest('hex'));
  h.update('\n');
  h.update(createHash('sha256').update(r.signature).digest('hex'));
  return h.digest('hex');
}

export interface MessageLog {
  append(record: LogRecord): Promise<void>;
  recordFault(event: FaultEvent): void;
  list(opts?: { messageId?: string; limit?: number }): StoredRecord[];
  faults(limit?: number): FaultEvent[];
  verifyChain(): { ok: true; count: number } | { ok: false; seq: number; reason: string };
  close(): Promise<void>;
}

interface Pending {
  readonly record: LogRecord;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export function openMessageLog(path: string, opts: { maxBatch?: number } = {}): MessageLog {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`
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
  `);
  const insert = db.prepare(`INSERT INTO messages (side, direction, message_id, client, service, user_id, convenio, finalidad, at, fault,
    signer_cert_sha256, message, signature, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const insertFault = db.prepare(`INSERT OR IGNORE INTO faults (fault_id, code, side, at, message_id, client, service, detail) VALUES (?,?,?,?,?,?,?,?)`);
  const last = db.prepare('SELECT hash FROM messages ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined;
  let lastHash = last?.hash ?? GENESIS;
  const maxBatch = opts.maxBatch ?? 512;
  let queue: Pending[] = [];
  let scheduled = false;
  let closed = false;

  const writeBatch = db.transaction((batch: Pending[]) => {
    let prev = lastHash;
    for (const { record: r } of batch) {
      const hash = hashRecord(prev, r);
      insert.run(r.side, r.direction, r.messageId, r.client, r.service, r.userId ?? null, r.convenio ?? null, r.finalidad ?? null,
        r.at.toISOString(), r.fault ?? null, r.signerCertSha256, r.message, r.signature, prev, hash);
      prev = hash;
    }
    return prev;
  });

  const flush = (): void => {
    scheduled = false;
    while (queue.length > 0) {
      const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
      if (batch === queue) queue = [];
      try {
        lastHash = writeBatch(batch);
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  };

  const rowToRecord = (row: Record<string, unknown>): StoredRecord => ({
    seq: row.seq as number,
    side: row.side as 'client' | 'server',
    direction: row.direction as 'request' | 'response',
    messageId: row.message_id as string,
    client: row.client as string,
    service: row.service as string,
    userId: (row.user_id as string | null) ?? undefined,
    convenio: (row.convenio as string | null) ?? undefined,
    finalidad: (row.finalidad as string | null) ?? undefined,
    at: new Date(row.at as string),
    fault: (row.fault as string | null) ?? undefined,
    signerCertSha256: row.signer_cert_sha256 as string,
    message: row.message as Buffer,
    signature: row.signature as string,
    prevHash: row.prev_hash as string,
    hash: row.hash as string,
  });

  return {
    append(record) {
      if (closed) return Promise.reject(new Error('message log closed'));
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    recordFault(e) {
      insertFault.run(e.faultId, e.code, e.side, e.at.toISOString(), e.messageId ?? null, e.client ?? null, e.service ?? null, e.detail);
    },
    list({ messageId, limit = 100 } = {}) {
      const rows = messageId === undefined
        ? db.prepare('SELECT * FROM messages ORDER BY seq DESC LIMIT ?').all(limit)
        : db.prepare('SELECT * FROM messages WHERE message_id = ? ORDER BY seq').all(messageId);
      return (rows as Record<string, unknown>[]).map(rowToRecord);
    },
    faults(limit = 100) {
      const rows = db.prepare('SELECT * FROM faults ORDER BY at DESC LIMIT ?').all(limit) as Record<string, unknown>[];
      return rows.map((r) => ({
        faultId: r.fault_id as string, code: r.code as string, side: r.side as 'client' | 'server', at: new Date(r.at as string),
        messageId: (r.message_id as string | null) ?? undefined, client: (r.client as string | null) ?? undefined,
        service: (r.service as string | null) ?? undefined, detail: r.detail as string,
      }));
    },
    verifyChain() {
      let prev = GENESIS;
      let count = 0;
      for (const row of db.prepare('SELECT * FROM messages ORDER BY seq').iterate() as Iterable<Record<string, unknown>>) {
        const r = rowToRecord(row);
        if (r.prevHash !== prev) return { ok: false, seq: r.seq, reason: 'el enlace con el registro anterior no coincide (registro eliminado o reordenado)' };
        if (hashRecord(prev, r) !== r.hash) return { ok: false, seq: r.seq, reason: 'el contenido del registro fue modificado' };
        prev = r.hash;
        count += 1;
      }
      return { ok: true, count };
    },
    async close() {
      flush();
      closed = true;
      db.close();
    },
  };
}
