/**
 * The node's message log: every request and response the node sends or receives, with the exact
 * bytes and the detached signature, in an append-only SQLite table with a hash chain. Writes are
 * batched: `append` resolves when the record's batch has committed (group commit), so a pipeline
 * step that awaits it knows the evidence is on disk before it goes on.
 *
 * At rest (when opened with a cipher) bodies and signatures are AES-256-GCM sealed under the
 * node's log key; the SHA-256 of each plaintext is kept in clear next to the metadata, and the
 * hash chain covers those digests, so the chain (and time-stamps over it) can be verified by a
 * third party without the key. Services flagged sensitive keep metadata and digests only.
 * Purging archived records keeps a chain anchor (the last purged hash) in `log_meta`.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { applyMigrations } from '../../runtime/sqlite-migrations.js';
import { MESSAGE_LOG_MIGRATIONS } from './log-migrations.js';
import type { LogCipher } from './log-crypto.js';

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
  /** SHA-256 (hex) of the message and signature plaintext: what the chain covers. */
  readonly messageSha256: string;
  readonly signatureSha256: string;
  /** False when only metadata was kept (sensitive service); message and signature are then empty. */
  readonly bodyKept: boolean;
  /** Key the body was sealed with; undefined when stored in clear. */
  readonly keyId?: string | undefined;
}

/** A time-stamp over the hash tree of records firstSeq..lastSeq (their record hashes are the leaves). */
export interface TimestampRecord {
  readonly id: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly root: string;
  /** DER TimeStampToken (CMS ContentInfo). */
  readonly token: Buffer;
  readonly genTime: Date;
}

/** A record as stored, without opening its body (for verifiers and archivers). */
export interface RawRecord {
  readonly seq: number;
  readonly meta: RecordMeta;
  readonly messageSha256: string;
  readonly signatureSha256: string;
  readonly prevHash: string;
  readonly hash: string;
  readonly bodyKept: boolean;
  readonly keyId: string | null;
  readonly message: Buffer;
  readonly signature: string;
}

export type RecordMeta = Omit<LogRecord, 'message' | 'signature'>;

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

export const sha256Hex = (data: Uint8Array | string): string => createHash('sha256').update(data).digest('hex');

/**
 * The exact text whose SHA-256 is a record's hash (format v1; field order is part of it). Only
 * the digests of message and signature enter it, so it can be checked without the bodies.
 */
export function recordPreimage(prevHash: string, r: RecordMeta, messageSha256: string, signatureSha256: string): string {
  return `miis-log/1\n${prevHash}\n${r.side}\n${r.direction}\n${r.messageId}\n${r.client}\n${r.service}\n`
    + `${r.userId ?? ''}\n${r.convenio ?? ''}\n${r.finalidad ?? ''}\n${r.at.toISOString()}\n${r.fault ?? ''}\n${r.signerCertSha256}\n`
    + `${messageSha256}\n${signatureSha256}`;
}

export function hashRecordDigests(prevHash: string, r: RecordMeta, messageSha256: string, signatureSha256: string): string {
  return sha256Hex(recordPreimage(prevHash, r, messageSha256, signatureSha256));
}

/** Hash of one record, chained to the previous one. Field order is part of the format (v1). */
export function hashRecord(prevHash: string, r: LogRecord): string {
  return hashRecordDigests(prevHash, r, sha256Hex(r.message), sha256Hex(r.signature));
}

/** Fault rows kept per source (IS address, peer certificate) and minute; the rest are counted. */
export const DEFAULT_FAULTS_PER_MINUTE = 300;

export interface FaultBudgetRow {
  readonly source: string;
  readonly minute: string;
  readonly stored: number;
  readonly suppressed: number;
}

export interface MessageLog {
  append(record: LogRecord): Promise<void>;
  /**
   * Record a fault. `source` is who caused it as the network sees it (never a value the message
   * claims): beyond `faultsPerMinute` rows per source and minute, faults are only counted, in one
   * aggregate row ("N más suprimidas") and in `faultBudget()`.
   */
  recordFault(event: FaultEvent, source?: string): void;
  /** Delete fault rows (and budget counters) older than `before`; returns how many fault rows. */
  purgeFaultsBefore(before: Date): number;
  faultBudget(source?: string): FaultBudgetRow[];
  /** Newest first (or one message id's records in order); bodies opened with the node key. */
  list(opts?: { messageId?: string; limit?: number }): StoredRecord[];
  faults(limit?: number): FaultEvent[];
  verifyChain(): { ok: true; count: number } | { ok: false; seq: number; reason: string };
  close(): Promise<void>;
  // --- evidence (time-stamps, archives, verification) -------------------------------------
  /** Records as stored, seq ascending, from `fromSeq` (inclusive), at most `limit`. */
  rawRecords(fromSeq: number, limit: number): RawRecord[];
  /** Open a stored body (decrypting when sealed). Throws MiisError naming the problem. */
  openBody(r: RawRecord): { message: Buffer; signature: string };
  /** Records not yet covered by a time-stamp, oldest first. */
  unstamped(limit: number): { seq: number; hash: string; at: Date }[];
  addTimestamp(t: Omit<TimestampRecord, 'id'>): void;
  timestamps(fromSeq?: number): TimestampRecord[];
  /** The chain value before the first stored record (genesis unless records were purged). */
  chainStart(): { seq: number; prevHash: string };
  /** Delete records up to `seq` (the caller has archived them); keeps the chain anchor. */
  purgeThrough(seq: number): number;
  lastSeq(): number;
  /** The underlying database, for the archiver's own table. */
  readonly db: Database.Database;
}

export interface MessageLogOptions {
  readonly maxBatch?: number;
  /** The node's log key ring: opens sealed records and, unless sealNew is false, seals new ones. */
  readonly cipher?: LogCipher | undefined;
  readonly sealNew?: boolean | undefined;
  /** Services (full id) whose bodies are not kept: metadata and digests only. */
  readonly metadataOnly?: ((service: string) => boolean) | undefined;
  /** Fault rows kept per source and minute (default DEFAULT_FAULTS_PER_MINUTE). */
  readonly faultsPerMinute?: number | undefined;
}

interface Pending {
  readonly record: LogRecord;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const bodyAad = (hash: string, part: 'm' | 's'): string => `${hash}|${part}`;

export function openMessageLog(path: string, opts: MessageLogOptions = {}): MessageLog {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  applyMigrations(db, MESSAGE_LOG_MIGRATIONS, 'el registro de mensajes');
  const insert = db.prepare(`INSERT INTO messages (seq, side, direction, message_id, client, service, user_id, convenio, finalidad, at, fault,
    signer_cert_sha256, message, signature, prev_hash, hash, message_sha256, signature_sha256, key_id, body_kept)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const { cipher, metadataOnly } = opts;
  const sealer = opts.sealNew === false ? undefined : cipher;
  const insertFault = db.prepare(`INSERT OR IGNORE INTO faults (fault_id, code, side, at, message_id, client, service, detail) VALUES (?,?,?,?,?,?,?,?)`);
  const faultsPerMinute = opts.faultsPerMinute ?? DEFAULT_FAULTS_PER_MINUTE;
  const budgetGet = db.prepare('SELECT stored, suppressed, aggregate_id FROM fault_budget WHERE source = ? AND minute = ?');
  const budgetStored = db.prepare(`INSERT INTO fault_budget (source, minute, stored, suppressed) VALUES (?, ?, 1, 0)
    ON CONFLICT (source, minute) DO UPDATE SET stored = stored + 1`);
  const budgetSuppressed = db.prepare('UPDATE fault_budget SET suppressed = suppressed + 1, aggregate_id = ? WHERE source = ? AND minute = ?');
  const updateAggregate = db.prepare('UPDATE faults SET detail = ?, at = ? WHERE fault_id = ?');
  const last = db.prepare('SELECT hash FROM messages ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined;
  let lastHash = last?.hash ?? GENESIS;
  const maxBatch = opts.maxBatch ?? 512;
  let queue: Pending[] = [];
  let scheduled = false;
  let closed = false;

  // explicit seq: after a purge empties the table SQLite would restart rowids at 1
  let seqCursor: number | undefined;
  const nextSeq = (): number => {
    seqCursor ??= (db.prepare('SELECT MAX(seq) AS s FROM messages').get() as { s: number | null }).s ?? chainStart().seq - 1;
    seqCursor += 1;
    return seqCursor;
  };
  const writeBatch = db.transaction((batch: Pending[]) => {
    let prev = lastHash;
    for (const { record: r } of batch) {
      const mSha = sha256Hex(r.message);
      const sSha = sha256Hex(r.signature);
      const hash = hashRecordDigests(prev, r, mSha, sSha);
      const kept = metadataOnly?.(r.service) !== true;
      let message: Buffer = r.message;
      let signature: string = r.signature;
      if (!kept) {
        message = Buffer.alloc(0);
        signature = '';
      } else if (sealer !== undefined) {
        message = sealer.seal(r.message, bodyAad(hash, 'm'));
        signature = sealer.seal(Buffer.from(r.signature, 'utf8'), bodyAad(hash, 's')).toString('base64');
      }
      insert.run(nextSeq(), r.side, r.direction, r.messageId, r.client, r.service, r.userId ?? null, r.convenio ?? null, r.finalidad ?? null,
        r.at.toISOString(), r.fault ?? null, r.signerCertSha256, message, signature, prev, hash, mSha, sSha,
        kept && sealer !== undefined ? sealer.activeKeyId : null, kept ? 1 : 0);
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
        seqCursor = undefined; // the transaction rolled back
        for (const p of batch) p.reject(err);
      }
    }
  };

  const rowToRaw = (row: Record<string, unknown>): RawRecord => {
    const message = row.message as Buffer;
    const signature = row.signature as string;
    return {
      seq: row.seq as number,
      meta: {
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
      },
      // rows written before digests were stored: the body is in clear
      messageSha256: (row.message_sha256 as string | null) ?? sha256Hex(message),
      signatureSha256: (row.signature_sha256 as string | null) ?? sha256Hex(signature),
      prevHash: row.prev_hash as string,
      hash: row.hash as string,
      bodyKept: row.body_kept !== 0,
      keyId: (row.key_id as string | null) ?? null,
      message,
      signature,
    };
  };

  const openBody = (r: RawRecord): { message: Buffer; signature: string } => {
    if (!r.bodyKept) return { message: Buffer.alloc(0), signature: '' };
    if (r.keyId === null) return { message: r.message, signature: r.signature };
    if (cipher === undefined) throw new Error(`el registro ${r.seq} está cifrado y no se indicó la clave del registro`);
    return {
      message: cipher.open(r.keyId, r.message, bodyAad(r.hash, 'm')),
      signature: cipher.open(r.keyId, Buffer.from(r.signature, 'base64'), bodyAad(r.hash, 's')).toString('utf8'),
    };
  };

  const rowToRecord = (row: Record<string, unknown>): StoredRecord => {
    const raw = rowToRaw(row);
    const body = openBody(raw);
    return {
      seq: raw.seq, ...raw.meta, ...body, prevHash: raw.prevHash, hash: raw.hash, messageSha256: raw.messageSha256,
      signatureSha256: raw.signatureSha256, bodyKept: raw.bodyKept, keyId: raw.keyId ?? undefined,
    };
  };

  const getMeta = db.prepare('SELECT value FROM log_meta WHERE key = ?');
  const chainStart = (): { seq: number; prevHash: string } => {
    const v = getMeta.get('chain_start') as { value: string } | undefined;
    return v === undefined ? { seq: 1, prevHash: GENESIS } : JSON.parse(v.value) as { seq: number; prevHash: string };
  };
  const rowToTimestamp = (r: Record<string, unknown>): TimestampRecord => ({
    id: r.id as number, firstSeq: r.first_seq as number, lastSeq: r.last_seq as number, root: r.root as string,
    token: r.token as Buffer, genTime: new Date(r.gen_time as string),
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
    recordFault(e, source) {
      const put = (): void => {
        insertFault.run(e.faultId, e.code, e.side, e.at.toISOString(), e.messageId ?? null, e.client ?? null, e.service ?? null, e.detail);
      };
      if (source === undefined) return put();
      const minute = e.at.toISOString().slice(0, 16);
      db.transaction(() => {
        const row = budgetGet.get(source, minute) as { stored: number; suppressed: number; aggregate_id: string | null } | undefined;
        if (row === undefined || row.stored < faultsPerMinute) {
          put();
          budgetStored.run(source, minute);
          return;
        }
        const suppressed = row.suppressed + 1;
        const detail = `${suppressed} más suprimidas (fuente ${source}, minuto ${minute}); última: ${e.code}`;
        if (row.aggregate_id === null) {
          insertFault.run(e.faultId, e.code, e.side, e.at.toISOString(), null, null, null, detail);
          budgetSuppressed.run(e.faultId, source, minute);
        } else {
          budgetSuppressed.run(row.aggregate_id, source, minute);
          updateAggregate.run(detail, e.at.toISOString(), row.aggregate_id);
        }
      })();
    },
    purgeFaultsBefore(before) {
      const iso = before.toISOString();
      return db.transaction(() => {
        db.prepare('DELETE FROM fault_budget WHERE minute < ?').run(iso.slice(0, 16));
        return db.prepare('DELETE FROM faults WHERE at < ?').run(iso).changes;
      })();
    },
    faultBudget(source) {
      const rows = (source === undefined
        ? db.prepare('SELECT * FROM fault_budget ORDER BY minute, source').all()
        : db.prepare('SELECT * FROM fault_budget WHERE source = ? ORDER BY minute').all(source)) as { source: string; minute: string; stored: number; suppressed: number }[];
      return rows.map((r) => ({ source: r.source, minute: r.minute, stored: r.stored, suppressed: r.suppressed }));
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
      let prev = chainStart().prevHash;
      let count = 0;
      for (const row of db.prepare('SELECT * FROM messages ORDER BY seq').iterate() as Iterable<Record<string, unknown>>) {
        const r = rowToRaw(row);
        if (r.prevHash !== prev) return { ok: false, seq: r.seq, reason: 'el enlace con el registro anterior no coincide (registro eliminado o reordenado)' };
        const modified = { ok: false as const, seq: r.seq, reason: 'el contenido del registro fue modificado' };
        if (hashRecordDigests(prev, r.meta, r.messageSha256, r.signatureSha256) !== r.hash) return modified;
        if (r.bodyKept && (r.keyId === null || cipher !== undefined)) {
          let body: { message: Buffer; signature: string };
          try {
            body = openBody(r);
          } catch {
            return modified;
          }
          if (sha256Hex(body.message) !== r.messageSha256 || sha256Hex(body.signature) !== r.signatureSha256) return modified;
        }
        prev = r.hash;
        count += 1;
      }
      return { ok: true, count };
    },
    rawRecords(fromSeq, limit) {
      return (db.prepare('SELECT * FROM messages WHERE seq >= ? ORDER BY seq LIMIT ?').all(fromSeq, limit) as Record<string, unknown>[]).map(rowToRaw);
    },
    openBody,
    unstamped(limit) {
      const last = (db.prepare('SELECT MAX(last_seq) AS s FROM timestamps').get() as { s: number | null }).s ?? 0;
      return (db.prepare('SELECT seq, hash, at FROM messages WHERE seq > ? ORDER BY seq LIMIT ?').all(last, limit) as { seq: number; hash: string; at: string }[])
        .map((r) => ({ seq: r.seq, hash: r.hash, at: new Date(r.at) }));
    },
    addTimestamp(t) {
      db.prepare('INSERT INTO timestamps (first_seq, last_seq, root, token, gen_time) VALUES (?,?,?,?,?)').run(t.firstSeq, t.lastSeq, t.root, t.token, t.genTime.toISOString());
    },
    timestamps(fromSeq = 0) {
      return (db.prepare('SELECT * FROM timestamps WHERE last_seq >= ? ORDER BY first_seq').all(fromSeq) as Record<string, unknown>[]).map(rowToTimestamp);
    },
    chainStart,
    purgeThrough(seq) {
      return db.transaction(() => {
        const last = db.prepare('SELECT seq, hash FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT 1').get(seq) as { seq: number; hash: string } | undefined;
        if (last === undefined) return 0;
        const n = db.prepare('DELETE FROM messages WHERE seq <= ?').run(last.seq).changes;
        db.prepare('DELETE FROM timestamps WHERE last_seq <= ?').run(last.seq);
        db.prepare('INSERT OR REPLACE INTO log_meta (key, value) VALUES (?, ?)').run('chain_start', JSON.stringify({ seq: last.seq + 1, prevHash: last.hash }));
        return n;
      })();
    },
    lastSeq() {
      return (db.prepare('SELECT MAX(seq) AS s FROM messages').get() as { s: number | null }).s ?? 0;
    },
    db,
    async close() {
      flush();
      closed = true;
      db.close();
    },
  };
}
