/**
 * The message log on PostgreSQL (schema `miis_log`), for nodes whose node.json selects it and for
 * several instances of one node sharing a database. The record format, hash and storage of bodies
 * are those of node/evidence/message-log.ts (the same helpers); what differs:
 *
 * - Each instance keeps its own hash chain: records carry `instance_id` and their sequence number
 *   counts per instance; the chain anchor after a purge is `chain_start:<instance>` in log_meta;
 *   time-stamp batches cover one instance's records. Only one process may write an instance's
 *   chain: the writer holds a session advisory lock on it for as long as the log is open.
 * - Group commit: `append` queues; one flush at a time writes a batch with one multi-row INSERT on
 *   the writer's connection and resolves its appends after the commit.
 * - Counter IVs (log-crypto.ts) are reserved with an atomic UPDATE … RETURNING on the shared
 *   log_meta row of the key, a block ahead of use, so instances sharing a log key never reuse one.
 * - Faults and the fault budget are shared by every instance.
 */
import { MiisError } from '../../core/errors.js';
import { applyPgMigrations } from '../../runtime/pg-migrations.js';
import type { PgClient, PgPool } from '../../runtime/pg.js';
import { PG_LOG_SCHEMA, type ResolvedDatabase } from '../store/database.js';
import { openPgSchemaPool } from '../store/pg-local-store.js';
import type { LogKeyFile } from './log-crypto.js';
import { MESSAGE_LOG_MIGRATIONS } from './log-migrations.js';
import {
  checkChainLink, createBodyOpener, openMessageLog, DEFAULT_FAULTS_PER_MINUTE, GENESIS, hashRecordDigests, rowToRaw, sha256Hex, storedBody,
  type FaultBudgetRow, type FaultEvent, type LogRecord, type MessageLog, type MessageLogOptions, type RawRecord, type StoredRecord, type TimestampRecord,
} from './message-log.js';

export type ChainVerdict = { instanceId: string } & ({ ok: true; count: number } | { ok: false; seq: number; reason: string });

/**
 * What the message log offers on both engines (asynchronous). SQLite: `asSharedMessageLog` over
 * the synchronous log (one instance, id ''); PostgreSQL: `openPgMessageLog`.
 */
export interface SharedMessageLog {
  readonly engine: 'sqlite' | 'postgresql';
  /** This instance's chain ('' on SQLite). */
  readonly instanceId: string;
  append(record: LogRecord): Promise<void>;
  recordFault(event: FaultEvent, source?: string): Promise<void>;
  faults(limit?: number): Promise<FaultEvent[]>;
  faultBudget(source?: string): Promise<FaultBudgetRow[]>;
  /** Newest first (or one message id's records, every instance, in order); bodies opened. */
  list(opts?: { messageId?: string; limit?: number }): Promise<StoredRecord[]>;
  /** This instance's records as stored, seq ascending. */
  rawRecords(fromSeq: number, limit: number): Promise<RawRecord[]>;
  /** Every instance's chain in the database. */
  verifyChains(): Promise<ChainVerdict[]>;
  unstamped(limit: number): Promise<{ seq: number; hash: string; at: Date }[]>;
  addTimestamp(t: Omit<TimestampRecord, 'id'>): Promise<void>;
  timestamps(fromSeq?: number): Promise<TimestampRecord[]>;
  chainStart(): Promise<{ seq: number; prevHash: string }>;
  lastSeq(): Promise<number>;
  queueDepth(): number;
  /** The instances with a chain in the database (['']: SQLite). */
  instances(): Promise<string[]>;
  /** One instance's chain, read only (for verification). */
  reader(instanceId: string): InstanceReader;
  close(): Promise<void>;
}

export interface InstanceReader {
  chainStart(): Promise<{ seq: number; prevHash: string }>;
  timestamps(fromSeq?: number): Promise<TimestampRecord[]>;
  /** Records as stored, seq ascending; their bodies can be opened with openBody. */
  rawRecords(fromSeq: number, limit: number): Promise<RawRecord[]>;
  openBody(r: RawRecord): { message: Buffer; signature: string };
}

/** The SQLite log behind the shared interface (its synchronous calls, run at once). */
export function asSharedMessageLog(log: MessageLog): SharedMessageLog {
  return {
    engine: 'sqlite', instanceId: '',
    append: (r) => log.append(r),
    recordFault: async (e, source) => log.recordFault(e, source),
    faults: async (limit) => log.faults(limit),
    faultBudget: async (source) => log.faultBudget(source),
    list: async (opts) => log.list(opts),
    rawRecords: async (from, limit) => log.rawRecords(from, limit),
    verifyChains: async () => [{ instanceId: '', ...log.verifyChain() }],
    unstamped: async (limit) => log.unstamped(limit),
    addTimestamp: async (t) => log.addTimestamp(t),
    timestamps: async (from) => log.timestamps(from),
    chainStart: async () => log.chainStart(),
    lastSeq: async () => log.lastSeq(),
    queueDepth: () => log.queueDepth(),
    instances: async () => [''],
    reader: () => ({
      chainStart: async () => log.chainStart(),
      timestamps: async (from) => log.timestamps(from),
      rawRecords: async (from, limit) => log.rawRecords(from, limit),
      openBody: (r) => log.openBody(r),
    }),
    close: () => log.close(),
  };
}

interface Pending {
  readonly record: LogRecord;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const COLUMNS = ['instance_id', 'seq', 'side', 'direction', 'message_id', 'client', 'service', 'user_id', 'convenio', 'finalidad', 'at', 'fault',
  'signer_cert_sha256', 'message', 'signature', 'prev_hash', 'hash', 'message_sha256', 'signature_sha256', 'key_id', 'body_kept', 'sig_cert'] as const;
const IV_BLOCK = 4096;

const chainStartKey = (instanceId: string): string => `chain_start:${instanceId}`;

export interface PgMessageLogOptions extends MessageLogOptions {
  readonly database: Extract<ResolvedDatabase, { engine: 'postgresql' }>;
  /** False: read and verify only (no lock on the instance's chain, no appends). Default true. */
  readonly writer?: boolean | undefined;
  /** A batch could not be written (its appends fail with MessageLogUnavailable); for the node's log. */
  readonly onWriteError?: ((err: unknown) => void) | undefined;
}

/** The fault an exchange gets when its record could not be written: it is never answered without it. */
function logUnavailable(side: LogRecord['side'], err: unknown): MiisError {
  return new MiisError(side === 'server' ? 'Server.ServerProxy.MessageLogUnavailable' : 'Server.ClientProxy.MessageLogUnavailable', '', { cause: err });
}

/**
 * Every instance sharing the database must hold the same log keys (keys/log-keys.json): a key id
 * means one key. Each key's check value (a hash prefix, log-crypto.ts; not the key) is recorded in
 * log_meta by the first instance that uses it; an instance whose key of that id differs is refused
 * before it writes a record no other instance could read.
 */
async function checkSharedLogKeys(pool: PgPool, ring: LogKeyFile, record: boolean, display: string): Promise<void> {
  if (record) {
    await pool.query('INSERT INTO log_meta (key, value) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (key) DO NOTHING',
      [ring.keys.map((k) => `key_check:${k.id}`), ring.keys.map((k) => k.check)]);
  }
  const stored = new Map((await pool.query<{ key: string; value: string }>("SELECT key, value FROM log_meta WHERE key LIKE 'key_check:%'")).rows
    .map((r) => [r.key.slice('key_check:'.length), r.value] as const));
  const differs = ring.keys.filter((k) => stored.has(k.id) && stored.get(k.id) !== k.check).map((k) => k.id);
  if (differs.length > 0) {
    throw new MiisError('Config.InvalidInput', `la clave del registro ${differs.join(', ')} de esta instancia (keys/log-keys.json) no es la que usan las demás instancias del nodo en ${display}: copie el mismo keys/log-keys.json en todas las instancias (tras «log rotate-key», también)`);
  }
}

export async function openPgMessageLog(opts: PgMessageLogOptions): Promise<SharedMessageLog> {
  const { database, cipher, metadataOnly } = opts;
  const instanceId = database.instanceId;
  const writer = opts.writer !== false;
  const pool = await openPgSchemaPool(database, PG_LOG_SCHEMA);
  const lockName = `miis-log-instance:${instanceId}`;
  /**
   * The writer's own connection, holding the advisory lock on this instance's chain. A connection
   * that drops (PostgreSQL restarted) reports an error here instead of crashing the process; any
   * failed batch discards the connection, and the next batch takes a new one, the lock again and
   * the chain's tip as the database has it.
   */
  let connDropped = false;
  const takeWriterConn = async (): Promise<PgClient> => {
    const c = await pool.connect();
    c.on('error', () => {
      if (conn === c) connDropped = true; // replaced before the next batch, which then does not fail
    });
    try {
      const got = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lockName])).rows[0]?.ok === true;
      if (!got) {
        throw new MiisError('Config.Duplicate', `otra instancia del nodo con el identificador «${instanceId}» escribe ya en el registro de mensajes (${database.display}); dé a cada instancia su propio database.instanceId en node.json`);
      }
    } catch (err) {
      c.release(true);
      throw err;
    }
    return c;
  };
  let conn: PgClient | undefined;
  try {
    await applyPgMigrations(pool, MESSAGE_LOG_MIGRATIONS, 'log', `el registro de mensajes (${database.display})`);
    if (cipher !== undefined) await checkSharedLogKeys(pool, cipher.keyRing, writer, database.display);
    if (writer) conn = await takeWriterConn();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  const faultsPerMinute = opts.faultsPerMinute ?? DEFAULT_FAULTS_PER_MINUTE;
  const maxBatch = Math.min(opts.maxBatch ?? 512, 2000); // 22 parameters per row, at most 65535 per statement

  // signing certificates, once each (message-log.ts); certificates met in a batch are written before its records
  const certTexts = new Map<string, string>();
  const knownCerts = new Set<string>();
  const certText = (id: string): string => {
    const b64 = certTexts.get(id);
    if (b64 === undefined) throw new Error(`falta el certificado ${id.slice(0, 16)}… de la firma en la tabla certs`);
    return b64;
  };
  const loadCerts = async (rows: readonly Record<string, unknown>[]): Promise<void> => {
    const missing = [...new Set(rows.map((r) => r.sig_cert as string | null).filter((c): c is string => c !== null && !certTexts.has(c)))];
    if (missing.length === 0) return;
    for (const r of (await pool.query<{ sha256: string; b64: string }>('SELECT sha256, b64 FROM certs WHERE sha256 = ANY($1)', [missing])).rows) {
      if (certTexts.size >= 256) certTexts.clear();
      certTexts.set(r.sha256, r.b64);
    }
  };
  const openBody = createBodyOpener(cipher, certText);

  // counter IVs: blocks reserved atomically in the shared log_meta row, before a batch needs them
  let inHand: { keyId: string; start: bigint; count: number } | undefined;
  const reserveBlock = async (keyId: string, count: number): Promise<void> => {
    const r = await pool.query<{ value: string }>(`INSERT INTO log_meta (key, value) VALUES ($1, $2) ON CONFLICT (key)
      DO UPDATE SET value = ((log_meta.value)::numeric + ($2)::numeric)::text RETURNING value`, [`iv_next:${keyId}`, String(count)]);
    inHand = { keyId, start: BigInt(r.rows[0]!.value) - BigInt(count), count };
  };
  const sealer = !writer || opts.sealNew === false || cipher === undefined ? undefined : cipher.withIvCounter((keyId, count) => {
    if (inHand === undefined || inHand.keyId !== keyId || inHand.count < count) throw new Error('bloque de IV no reservado');
    const start = inHand.start;
    inHand = undefined;
    return start;
  });

  const chainStartOf = async (id: string): Promise<{ seq: number; prevHash: string }> => {
    const v = (await pool.query<{ value: string }>('SELECT value FROM log_meta WHERE key = $1', [chainStartKey(id)])).rows[0];
    return v === undefined ? { seq: 1, prevHash: GENESIS } : JSON.parse(v.value) as { seq: number; prevHash: string };
  };
  const lastOf = async (): Promise<{ seq: number; hash: string }> => {
    const row = (await pool.query<{ seq: number; hash: string }>('SELECT seq, hash FROM messages WHERE instance_id = $1 ORDER BY seq DESC LIMIT 1', [instanceId])).rows[0];
    if (row !== undefined) return row;
    const start = await chainStartOf(instanceId);
    return { seq: start.seq - 1, hash: start.prevHash };
  };
  let tip = writer ? await lastOf() : { seq: 0, hash: GENESIS };

  let queue: Pending[] = [];
  let flushing: Promise<void> | undefined;
  let closed = false;

  const dropConn = (): void => {
    conn?.release(true);
    conn = undefined;
  };
  /** The writer's connection, a new one (and the chain's tip as stored) after one dropped. */
  const writerConn = async (): Promise<PgClient> => {
    if (conn !== undefined && connDropped) dropConn();
    if (conn === undefined) {
      conn = await takeWriterConn();
      connDropped = false;
      tip = await lastOf();
    }
    return conn;
  };
  const writeBatch = async (batch: readonly Pending[]): Promise<{ seq: number; hash: string }> => {
    const c = await writerConn();
    if (sealer !== undefined) {
      const need = batch.length; // one seal per record (storedBody)
      if (inHand === undefined || inHand.keyId !== sealer.activeKeyId) await reserveBlock(sealer.activeKeyId, Math.max(IV_BLOCK, maxBatch));
      sealer.ensureIvs(need);
    }
    const newCerts = new Map<string, string>();
    const certIdOf = (b64: string): string => {
      const id = sha256Hex(b64);
      if (!knownCerts.has(id)) newCerts.set(id, b64);
      return id;
    };
    const values: unknown[] = [];
    let { seq, hash: prev } = tip;
    for (const { record: r } of batch) {
      const mSha = sha256Hex(r.message);
      const sSha = sha256Hex(r.signature);
      const hash = hashRecordDigests(prev, r, mSha, sSha);
      const kept = metadataOnly?.(r.service) !== true;
      const body = storedBody(r, hash, kept, sealer, certIdOf);
      seq += 1;
      values.push(instanceId, seq, r.side, r.direction, r.messageId, r.client, r.service, r.userId ?? null, r.convenio ?? null, r.finalidad ?? null,
        r.at.toISOString(), r.fault ?? null, r.signerCertSha256, body.message,
        typeof body.signature === 'string' ? Buffer.from(body.signature, 'utf8') : body.signature, prev, hash, mSha, sSha,
        kept && sealer !== undefined ? sealer.activeKeyId : null, kept ? 1 : 0, body.sigCert);
      prev = hash;
    }
    if (newCerts.size > 0) {
      await c.query('INSERT INTO certs (sha256, b64) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING', [[...newCerts.keys()], [...newCerts.values()]]);
      for (const id of newCerts.keys()) knownCerts.add(id);
    }
    const rows = batch.map((_, i) => `(${COLUMNS.map((__, j) => `$${i * COLUMNS.length + j + 1}`).join(',')})`).join(',');
    await c.query(`INSERT INTO messages (${COLUMNS.join(',')}) VALUES ${rows}`, values);
    return { seq, hash: prev };
  };

  /**
   * Write a batch; when that fails (typically: the connection was cut by a database restart before
   * this process noticed), look on a new connection at what the database holds. Only this writer
   * appends to the instance's chain (advisory lock), so the tip tells: unchanged, the batch was not
   * written and is written once more; advanced by the batch, its commit went through and only the
   * answer was lost. Anything else (database down, other errors) fails the batch.
   */
  const writeOrRecover = async (batch: readonly Pending[]): Promise<void> => {
    const from = tip;
    try {
      tip = await writeBatch(batch);
      return;
    } catch (err) {
      dropConn();
      try {
        await writerConn();
      } catch {
        throw err;
      }
      if (tip.seq === from.seq + batch.length) return; // written; the commit's answer was lost
      if (tip.seq !== from.seq || tip.hash !== from.hash) throw err;
      tip = await writeBatch(batch);
    }
  };
  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
      if (batch === queue) queue = [];
      try {
        await writeOrRecover(batch);
        for (const p of batch) p.resolve();
      } catch (err) {
        dropConn();
        opts.onWriteError?.(err);
        for (const p of batch) p.reject(logUnavailable(p.record.side, err));
      }
    }
  };
  const schedule = (): void => {
    if (flushing !== undefined) return;
    flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(flush).finally(() => {
      flushing = undefined;
      if (queue.length > 0) schedule();
    });
  };

  const rowToRecord = (row: Record<string, unknown>): StoredRecord => {
    const raw = rowToRaw(row);
    const body = openBody(raw);
    return {
      seq: raw.seq, ...raw.meta, ...body, prevHash: raw.prevHash, hash: raw.hash, messageSha256: raw.messageSha256,
      signatureSha256: raw.signatureSha256, bodyKept: raw.bodyKept, keyId: raw.keyId ?? undefined, instanceId: row.instance_id as string,
    };
  };
  const rowToTimestamp = (r: Record<string, unknown>): TimestampRecord => ({
    id: r.id as number, firstSeq: r.first_seq as number, lastSeq: r.last_seq as number, root: r.root as string,
    token: r.token as Buffer, genTime: new Date(r.gen_time as string),
  });
  const insertFault = (c: Pick<PgPool, 'query'>, e: FaultEvent, detail: string, full: boolean) => c.query(
    'INSERT INTO faults (fault_id, code, side, at, message_id, client, service, detail) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING',
    [e.faultId, e.code, e.side, e.at.toISOString(), full ? e.messageId ?? null : null, full ? e.client ?? null : null, full ? e.service ?? null : null, detail],
  );

  const rawRecordsOf = async (id: string, fromSeq: number, limit: number): Promise<RawRecord[]> => {
    const rows = (await pool.query('SELECT * FROM messages WHERE instance_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3', [id, fromSeq, limit])).rows as Record<string, unknown>[];
    await loadCerts(rows);
    return rows.map(rowToRaw);
  };
  const timestampsOf = async (id: string, fromSeq = 0): Promise<TimestampRecord[]> =>
    ((await pool.query('SELECT * FROM timestamps WHERE instance_id = $1 AND last_seq >= $2 ORDER BY first_seq', [id, fromSeq])).rows as Record<string, unknown>[]).map(rowToTimestamp);
  const instances = async (): Promise<string[]> => (await pool.query<{ id: string }>(`SELECT DISTINCT instance_id AS id FROM messages
    UNION SELECT substr(key, ${chainStartKey('').length + 1}) FROM log_meta WHERE key LIKE 'chain_start:%' ORDER BY 1`)).rows.map((r) => r.id);

  const verifyChain = async (id: string): Promise<ChainVerdict> => {
    let prev = (await chainStartOf(id)).prevHash;
    let count = 0;
    let from = 0;
    for (;;) {
      const rows = (await pool.query('SELECT * FROM messages WHERE instance_id = $1 AND seq > $2 ORDER BY seq LIMIT 1000', [id, from])).rows as Record<string, unknown>[];
      if (rows.length === 0) return { instanceId: id, ok: true, count };
      await loadCerts(rows);
      for (const row of rows) {
        const r = rowToRaw(row);
        const bad = checkChainLink(prev, r, cipher !== undefined, openBody);
        if (bad !== undefined) return { instanceId: id, ...bad };
        prev = r.hash;
        count += 1;
        from = r.seq;
      }
    }
  };

  return {
    engine: 'postgresql', instanceId,
    append(record) {
      if (closed) return Promise.reject(new Error('message log closed'));
      if (!writer) return Promise.reject(new Error('registro de mensajes abierto solo para lectura'));
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, resolve, reject });
        schedule();
      });
    },
    async recordFault(e, source) {
      const full = `${e.detail}`;
      if (source === undefined) {
        await insertFault(pool, e, full, true);
        return;
      }
      const minute = e.at.toISOString().slice(0, 16);
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        try {
          await c.query('INSERT INTO fault_budget (source, minute, stored, suppressed) VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING', [source, minute]);
          const row = (await c.query<{ stored: number; suppressed: number; aggregate_id: string | null }>(
            'SELECT stored, suppressed, aggregate_id FROM fault_budget WHERE source = $1 AND minute = $2 FOR UPDATE', [source, minute])).rows[0]!;
          if (row.stored < faultsPerMinute) {
            await insertFault(c, e, full, true);
            await c.query('UPDATE fault_budget SET stored = stored + 1 WHERE source = $1 AND minute = $2', [source, minute]);
          } else {
            const detail = `${row.suppressed + 1} más suprimidas (fuente ${source}, minuto ${minute}); última: ${e.code}`;
            if (row.aggregate_id === null) {
              await insertFault(c, e, detail, false);
              await c.query('UPDATE fault_budget SET suppressed = suppressed + 1, aggregate_id = $1 WHERE source = $2 AND minute = $3', [e.faultId, source, minute]);
            } else {
              await c.query('UPDATE fault_budget SET suppressed = suppressed + 1 WHERE source = $1 AND minute = $2', [source, minute]);
              await c.query('UPDATE faults SET detail = $1, at = $2 WHERE fault_id = $3', [detail, e.at.toISOString(), row.aggregate_id]);
            }
          }
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      } finally {
        c.release();
      }
    },
    async faults(limit = 100) {
      const rows = (await pool.query('SELECT * FROM faults ORDER BY at DESC LIMIT $1', [limit])).rows as Record<string, unknown>[];
      return rows.map((r) => ({
        faultId: r.fault_id as string, code: r.code as string, side: r.side as 'client' | 'server', at: new Date(r.at as string),
        messageId: (r.message_id as string | null) ?? undefined, client: (r.client as string | null) ?? undefined,
        service: (r.service as string | null) ?? undefined, detail: r.detail as string,
      }));
    },
    async faultBudget(source) {
      const rows = (source === undefined
        ? await pool.query('SELECT * FROM fault_budget ORDER BY minute, source')
        : await pool.query('SELECT * FROM fault_budget WHERE source = $1 ORDER BY minute', [source])).rows as { source: string; minute: string; stored: number; suppressed: number }[];
      return rows.map((r) => ({ source: r.source, minute: r.minute, stored: r.stored, suppressed: r.suppressed }));
    },
    async list({ messageId, limit = 100 } = {}) {
      const rows = (messageId === undefined
        ? await pool.query('SELECT * FROM messages ORDER BY at DESC, instance_id, seq DESC LIMIT $1', [limit])
        : await pool.query('SELECT * FROM messages WHERE message_id = $1 ORDER BY at, instance_id, seq', [messageId])).rows as Record<string, unknown>[];
      await loadCerts(rows);
      return rows.map(rowToRecord);
    },
    rawRecords: (fromSeq, limit) => rawRecordsOf(instanceId, fromSeq, limit),
    async verifyChains() {
      const out: ChainVerdict[] = [];
      for (const id of await instances()) out.push(await verifyChain(id));
      return out;
    },
    instances,
    reader: (id) => ({
      chainStart: () => chainStartOf(id),
      timestamps: (fromSeq) => timestampsOf(id, fromSeq),
      rawRecords: (fromSeq, limit) => rawRecordsOf(id, fromSeq, limit),
      openBody,
    }),
    async unstamped(limit) {
      const last = Number((await pool.query<{ s: number | null }>('SELECT MAX(last_seq) AS s FROM timestamps WHERE instance_id = $1', [instanceId])).rows[0]?.s ?? 0);
      return (await pool.query<{ seq: number; hash: string; at: string }>('SELECT seq, hash, at FROM messages WHERE instance_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [instanceId, last, limit])).rows
        .map((r) => ({ seq: r.seq, hash: r.hash, at: new Date(r.at) }));
    },
    async addTimestamp(t) {
      await pool.query('INSERT INTO timestamps (instance_id, first_seq, last_seq, root, token, gen_time) VALUES ($1,$2,$3,$4,$5,$6)',
        [instanceId, t.firstSeq, t.lastSeq, t.root, t.token, t.genTime.toISOString()]);
    },
    timestamps: (fromSeq) => timestampsOf(instanceId, fromSeq),
    chainStart: () => chainStartOf(instanceId),
    async lastSeq() {
      return Number((await pool.query<{ s: number | null }>('SELECT MAX(seq) AS s FROM messages WHERE instance_id = $1', [instanceId])).rows[0]?.s ?? 0);
    },
    queueDepth: () => queue.length,
    async close() {
      closed = true;
      while (flushing !== undefined) await flushing;
      if (conn !== undefined) {
        const ok = await conn.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName]).then(() => true, () => false);
        conn.release(!ok);
      }
      await pool.end();
    },
  };
}

/** The message log of a node folder on the configured engine (SQLite: messagelog.db). */
export async function openSharedMessageLog(path: string, database: ResolvedDatabase, opts: MessageLogOptions & { writer?: boolean } = {}): Promise<SharedMessageLog> {
  if (database.engine === 'postgresql') return openPgMessageLog({ ...opts, database });
  return asSharedMessageLog(openMessageLog(path, opts));
}
