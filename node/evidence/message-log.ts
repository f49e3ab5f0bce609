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
 * Purging archived records keeps a chain anchor (the last purged hash) in `log_meta` and drops
 * their rows of the data-subject index (subject-index.ts), which is written with each record.
 *
 * Storage: the certificate embedded in a signature (<ds:X509Certificate>) is the same for
 * thousands of records, so it is kept once in `certs` (clear: certificates are public) and the
 * record stores the signature with that element emptied plus the certificate's key (sig_cert).
 * Opening a body puts the exact text back, so digests, exports and archives see the original
 * bytes. What is left of a signature (about 700 bytes, most of it fixed algorithm URIs) has
 * those fixed phrases replaced by one-byte tokens (SIGNATURE_PHRASES_V1, part of the storage
 * format; marker byte 0x01) before sealing (message bodies are stored exactly as received).
 * New records seal message and signature together in one AES-GCM value (SEALED_TOGETHER, format
 * 2: one IV and one cipher object per record); older records sealed them apart (the sealed
 * signature a BLOB, or base64 text in the oldest rows) and stay readable, as do clear ones. New logs use 16 KB pages so
 * records of ~2.5 KB pack without waste. New counter IVs for sealing are reserved in `log_meta`
 * (log-crypto.ts, withIvCounter).
 *
 * Replay memory: on a SQLite node the request records are the memory of message ids already seen
 * (`append(record, { replayWindowMs })`, DuplicateRecord): the look-up runs in the transaction that
 * inserts the record, so the id costs no write of its own (node.db is not touched per exchange).
 */
import Database from 'better-sqlite3';
import { sha256Hex } from '../../core/digest.js';
import { applyMigrations } from '../../runtime/sqlite-migrations.js';
import { MESSAGE_LOG_MIGRATIONS } from './log-migrations.js';
import type { LogCipher } from './log-crypto.js';
import { subjectMac } from './subject-index.js';

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
  /**
   * Canonical DNIs of the persons the message concerns (provider requests): indexed as HMACs in
   * subject_index in the same transaction (subject-index.ts), never stored; not part of the hash.
   */
  readonly subjects?: readonly string[] | undefined;
}

/** One logged request that concerned a data subject, with its outcome (the response record's fault, if any). */
export interface SubjectHit {
  readonly seq: number;
  readonly at: Date;
  readonly side: 'client' | 'server';
  readonly messageId: string;
  readonly client: string;
  readonly service: string;
  readonly userId?: string | undefined;
  readonly convenio?: string | undefined;
  readonly finalidad?: string | undefined;
  /** Whether a response was logged, and its fault code when it was a fault. */
  readonly answered: boolean;
  readonly responseFault?: string | undefined;
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
  /** PostgreSQL: the instance whose chain holds the record (seq counts per instance). */
  readonly instanceId?: string | undefined;
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
  /** As stored: sealed bytes (BLOB, or base64 text in older rows) or clear text; see openBody. */
  readonly signature: string | Buffer;
  /** Key of the signing certificate taken out of the signature (certs table), or null. */
  readonly sigCert: string | null;
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

export const GENESIS = '0'.repeat(64);

export { sha256Hex };

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

/**
 * A request record refused by the replay check of `append(record, { replayWindowMs })`: an earlier
 * request with the same side, client and message id is in the log (or queued) within the window.
 * Nothing was stored for it.
 */
export class DuplicateRecord extends Error {
  constructor(readonly messageId: string) {
    super(`mensaje repetido: ${messageId}`);
    this.name = 'DuplicateRecord';
  }
}

export interface AppendOptions {
  /**
   * Request records only: the log is the replay memory. Refuse (reject with DuplicateRecord, store
   * nothing) when a request with the same side, client and message id whose `at` is later than
   * this record's `at` minus the window is stored or queued; checked in the transaction that inserts it.
   */
  readonly replayWindowMs?: number | undefined;
}

export interface MessageLog {
  /** Resolves once the record's batch has committed (group commit). */
  append(record: LogRecord, opts?: AppendOptions): Promise<void>;
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
  /**
   * Requests indexed under this subject key (subjectMac), oldest first, optionally within [from, to)
   * (ISO instants). Reads clear metadata columns only: no body is opened.
   */
  subjectRecords(mac: Buffer, range?: { from?: string; to?: string }): SubjectHit[];
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
  /** Records accepted by append() and not yet written (the group-commit queue). */
  queueDepth(): number;
  /**
   * Appends queue without committing until releaseWrites() (the checkpointer resets the WAL
   * meanwhile, checkpointer.ts); the event loop is not blocked, the exchanges wait for their commit.
   */
  holdWrites(): void;
  releaseWrites(): void;
  /** The underlying database, for the archiver's own table. */
  readonly db: Database.Database;
  /** The key ring's cipher the log was opened with (log verify hands its keys to worker threads). */
  readonly cipher: LogCipher | undefined;
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
  /** Key of the data-subject index (subject-index.ts); without it records' subjects are not indexed. */
  readonly subjectKey?: Buffer | undefined;
}

interface Pending {
  readonly record: LogRecord;
  /** With a replay check: the key in `inFlight` and the window. */
  readonly replay?: { readonly key: string; readonly windowMs: number } | undefined;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** AAD of a sealed body part: message ('m') and signature ('s') sealed apart, or both in one value ('b', SEALED_TOGETHER). */
export const bodyAad = (hash: string, part: 'm' | 's' | 'b'): string => `${hash}|${part}`;

/**
 * Stored body format 2 (new records): message and packed signature sealed in ONE AES-GCM value
 * (one IV, one tag) in the `message` column, plaintext = u32be(message length) || message ||
 * packSignature(signature without certificate); the `signature` column holds only this marker
 * byte. Format 1 (older records) sealed each apart: `message` and `signature` columns each hold a
 * sealed value (≥ 28 bytes, so never this one byte). The AAD names the format too ('b' vs 'm'/'s'),
 * so a value cannot be opened as the other format.
 */
const SEALED_TOGETHER = 0x02;
/** The `signature` column of a format-2 record; one shared buffer, never modified. */
const SEALED_TOGETHER_COLUMN = Buffer.from([SEALED_TOGETHER]);
const isSealedTogether = (stored: string | Buffer): boolean => typeof stored !== 'string' && stored.length === 1 && stored[0] === SEALED_TOGETHER;

const CERT_OPEN = '<ds:X509Certificate>';
const CERT_CLOSE = '</ds:X509Certificate>';
const CERT_B64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The signature with its only <ds:X509Certificate> emptied, and that certificate's text; undefined when not exactly one. */
export function splitSignatureCert(signature: string): { compact: string; certB64: string } | undefined {
  const i = signature.indexOf(CERT_OPEN);
  if (i < 0 || signature.indexOf(CERT_OPEN, i + 1) >= 0) return undefined;
  const start = i + CERT_OPEN.length;
  const j = signature.indexOf(CERT_CLOSE, start);
  if (j < 0) return undefined;
  const certB64 = signature.slice(start, j);
  if (!CERT_B64.test(certB64)) return undefined;
  return { compact: signature.slice(0, start) + signature.slice(j), certB64 };
}

/**
 * Phrases of stored signatures, format 1 (never change or reorder: add a format). Each becomes one
 * C0 control character (0x10 + index), which XML 1.0 text can never contain, so decoding is
 * unambiguous. Plain string replacement: a few microseconds, unlike deflate.
 */
const SIGNATURE_PHRASES_V1: readonly string[] = [
  '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">',
  '<ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">',
  '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>',
  '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"></ds:SignatureMethod>',
  '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod>',
  '<ds:Reference URI="message.xml"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod><ds:DigestValue>',
  '</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>',
  '</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>',
  '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>',
];
const PHRASED_V1 = 0x01;
const CONTROL = /[\u0000-\u001f]/;
const TOKEN = /[\u0010-\u0018]/g;

/**
 * Stored form of a (compact) signature: 0x01 || text with known phrases as one control character
 * each. One forward scan: each phrase is looked for once, after the previous one found (the order
 * our signatures have them in); any phrase left in the text is simply kept, as decoding only maps
 * tokens back, so the result always unpacks to the exact text.
 */
export function packSignature(text: string): Buffer {
  if (CONTROL.test(text)) return Buffer.from(text, 'utf8'); // not XML text: kept as it is
  let packed = '\u0001';
  let pos = 0;
  for (let i = 0; i < SIGNATURE_PHRASES_V1.length; i += 1) {
    const phrase = SIGNATURE_PHRASES_V1[i]!;
    const at = text.indexOf(phrase, pos);
    if (at < 0) continue;
    packed += text.slice(pos, at) + String.fromCharCode(0x10 + i);
    pos = at + phrase.length;
  }
  return Buffer.from(packed + text.slice(pos), 'utf8');
}

/** Inverse of packSignature; stored values without the marker are the text itself (UTF-8). */
export function unpackSignature(stored: Buffer): string {
  if (stored[0] !== PHRASED_V1) return stored.toString('utf8');
  return stored.toString('utf8', 1).replace(TOKEN, (c) => SIGNATURE_PHRASES_V1[c.charCodeAt(0) - 0x10]!);
}

/** Inverse of splitSignatureCert. */
export function joinSignatureCert(compact: string, certB64: string): string {
  const i = compact.indexOf(CERT_OPEN + CERT_CLOSE);
  if (i < 0) throw new Error('firma almacenada sin el lugar del certificado');
  const start = i + CERT_OPEN.length;
  return compact.slice(0, start) + certB64 + compact.slice(start);
}

/** A stored row (either engine) as a RawRecord. */
export const rowToRaw = (row: Record<string, unknown>): RawRecord => {
  const message = row.message as Buffer;
  const signature = row.signature as string | Buffer;
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
    sigCert: (row.sig_cert as string | null | undefined) ?? null,
  };
};

/** Opens stored bodies (either engine): decrypts sealed ones and puts the signing certificate back. */
export function createBodyOpener(cipher: LogCipher | undefined, certText: (id: string) => string): (r: RawRecord) => { message: Buffer; signature: string } {
  return (r) => {
    if (!r.bodyKept) return { message: Buffer.alloc(0), signature: '' };
    const withCert = (s: string): string => (r.sigCert === null ? s : joinSignatureCert(s, certText(r.sigCert)));
    if (r.keyId === null) return { message: r.message, signature: withCert(typeof r.signature === 'string' ? r.signature : r.signature.toString('utf8')) };
    if (cipher === undefined) throw new Error(`el registro ${r.seq} está cifrado y no se indicó la clave del registro`);
    if (isSealedTogether(r.signature)) {
      const plain = cipher.open(r.keyId, r.message, bodyAad(r.hash, 'b'));
      const length = plain.length >= 4 ? plain.readUInt32BE(0) : -1;
      if (length < 0 || length > plain.length - 4) throw new Error(`el cuerpo descifrado del registro ${r.seq} no tiene el formato esperado`);
      return { message: plain.subarray(4, 4 + length), signature: withCert(unpackSignature(plain.subarray(4 + length))) };
    }
    const sealedSig = typeof r.signature === 'string' ? Buffer.from(r.signature, 'base64') : r.signature;
    return {
      message: cipher.open(r.keyId, r.message, bodyAad(r.hash, 'm')),
      signature: withCert(unpackSignature(cipher.open(r.keyId, sealedSig, bodyAad(r.hash, 's')))),
    };
  };
}

/** The hash chain check of one record after `prev` (either engine); undefined when it holds. */
export function checkChainLink(prev: string, r: RawRecord, haveKey: boolean, openBody: (r: RawRecord) => { message: Buffer; signature: string }): { ok: false; seq: number; reason: string } | undefined {
  if (r.prevHash !== prev) return { ok: false, seq: r.seq, reason: 'el enlace con el registro anterior no coincide (registro eliminado o reordenado)' };
  const modified = { ok: false as const, seq: r.seq, reason: 'el contenido del registro fue modificado' };
  if (hashRecordDigests(prev, r.meta, r.messageSha256, r.signatureSha256) !== r.hash) return modified;
  if (r.bodyKept && (r.keyId === null || haveKey)) {
    let body: { message: Buffer; signature: string };
    try {
      body = openBody(r);
    } catch {
      return modified;
    }
    if (sha256Hex(body.message) !== r.messageSha256 || sha256Hex(body.signature) !== r.signatureSha256) return modified;
  }
  return undefined;
}

/** What a record stores of its body (either engine): nothing (metadata only), or the signature without its certificate, sealed when a sealer is given. */
export function storedBody(r: LogRecord, hash: string, kept: boolean, sealer: LogCipher | undefined, certIdOf: (b64: string) => string): { message: Buffer; signature: string | Buffer; sigCert: string | null } {
  if (!kept) return { message: Buffer.alloc(0), signature: '', sigCert: null };
  let signature: string | Buffer = r.signature;
  let sigCert: string | null = null;
  const split = splitSignatureCert(r.signature);
  if (split !== undefined) {
    sigCert = certIdOf(split.certB64);
    signature = split.compact;
  }
  if (sealer === undefined) return { message: r.message, signature, sigCert };
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(r.message.length, 0);
  return { message: sealer.seal([length, r.message, packSignature(signature)], bodyAad(hash, 'b')), signature: SEALED_TOGETHER_COLUMN, sigCert };
}

/** Certificates of the certs table by id, from a small cache. */
function certReader(db: Database.Database): (id: string) => string {
  const getCert = db.prepare('SELECT b64 FROM certs WHERE sha256 = ?').pluck();
  const certTexts = new Map<string, string>();
  return (id) => {
    let b64 = certTexts.get(id);
    if (b64 === undefined) {
      b64 = getCert.get(id) as string | undefined;
      if (b64 === undefined) throw new Error(`falta el certificado ${id.slice(0, 16)}… de la firma en la tabla certs`);
      if (certTexts.size >= 256) certTexts.clear();
      certTexts.set(id, b64);
    }
    return b64;
  };
}

/** Read-only access to a log's records over a connection of its own (worker threads of log verify). */
export interface LogReader {
  /** Records with seq in [fromSeq, toSeq), ascending, read 100 rows at a time (each is garbage once used). */
  range(fromSeq: number, toSeq: number): Generator<RawRecord>;
  openBody(r: RawRecord): { message: Buffer; signature: string };
  close(): void;
}

export function openLogReader(path: string, cipher: LogCipher | undefined): LogReader {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const select = db.prepare('SELECT * FROM messages WHERE seq >= ? AND seq < ? ORDER BY seq LIMIT 100');
  const openBody = createBodyOpener(cipher, certReader(db));
  return {
    *range(fromSeq, toSeq) {
      // .all() on small pages: cheaper per row than .iterate(), still little held at a time
      for (let from = fromSeq; from < toSeq;) {
        const rows = select.all(from, toSeq) as Record<string, unknown>[];
        for (const row of rows) yield rowToRaw(row);
        if (rows.length < 100) break;
        from = (rows[rows.length - 1]!.seq as number) + 1;
      }
    },
    openBody,
    close: () => db.close(),
  };
}

export function openMessageLog(path: string, opts: MessageLogOptions = {}): MessageLog {
  const db = new Database(path);
  // a new (empty) log: 16 KB pages, set before WAL mode fixes the page size
  if ((db.prepare("SELECT COUNT(*) AS n FROM sqlite_master").get() as { n: number }).n === 0) db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // 2 MB of page cache instead of better-sqlite3's 16 MB: appends touch the last pages only, and
  // the full cache stayed resident under load (docs/performance-log.md, «Memory»)
  db.pragma('cache_size = -2000');
  applyMigrations(db, MESSAGE_LOG_MIGRATIONS, 'el registro de mensajes');
  /**
   * Every write transaction of the node's connection takes the write lock first (BEGIN IMMEDIATE):
   * they read before they write (replay look-up, fault budget, chain tip), and a deferred read
   * that must become a write fails at once (SQLITE_BUSY, no busy handler) while another connection
   * holds the lock (the checkpointer's RESTART, a CLI command); IMMEDIATE waits on the busy timeout.
   */
  const writeTransaction = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) => {
    const tx = db.transaction(fn);
    return (...args: A): R => tx.immediate(...args);
  };
  const insert = db.prepare(`INSERT INTO messages (seq, side, direction, message_id, client, service, user_id, convenio, finalidad, at, fault,
    signer_cert_sha256, message, signature, prev_hash, hash, message_sha256, signature_sha256, key_id, body_kept, sig_cert)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`);
  const { cipher, metadataOnly, subjectKey } = opts;
  const insertSubject = db.prepare('INSERT OR IGNORE INTO subject_index (mac, seq) VALUES (?, ?)');
  const getMetaValue = db.prepare('SELECT value FROM log_meta WHERE key = ?').pluck();
  const putMetaValue = db.prepare('INSERT OR REPLACE INTO log_meta (key, value) VALUES (?, ?)');
  /** The chain value before the first stored record: genesis, or the anchor kept when records were purged. */
  const chainStart = (): { seq: number; prevHash: string } => {
    const v = getMetaValue.get('chain_start') as string | undefined;
    return v === undefined ? { seq: 1, prevHash: GENESIS } : JSON.parse(v) as { seq: number; prevHash: string };
  };
  // counter IVs: each block is committed before any IV in it is used (log-crypto.ts)
  const reserveIvs = writeTransaction((keyId: string, count: number): bigint => {
    const key = `iv_next:${keyId}`;
    const start = BigInt((getMetaValue.get(key) as string | undefined) ?? '0');
    putMetaValue.run(key, (start + BigInt(count)).toString());
    return start;
  });
  const sealer = opts.sealNew === false || cipher === undefined ? undefined : cipher.withIvCounter((keyId, count) => reserveIvs(keyId, count));
  // signing certificates, once each (see the file comment)
  const insertCert = db.prepare('INSERT OR IGNORE INTO certs (sha256, b64) VALUES (?, ?)');
  const certIds = new Map<string, string>();
  const certIdOf = (b64: string): string => {
    let id = certIds.get(b64);
    if (id === undefined) {
      id = sha256Hex(b64);
      insertCert.run(id, b64);
      if (certIds.size >= 256) certIds.clear();
      certIds.set(b64, id);
    }
    return id;
  };
  const certText = certReader(db);
  const insertFault = db.prepare(`INSERT OR IGNORE INTO faults (fault_id, code, side, at, message_id, client, service, detail) VALUES (?,?,?,?,?,?,?,?)`);
  const faultsPerMinute = opts.faultsPerMinute ?? DEFAULT_FAULTS_PER_MINUTE;
  const budgetGet = db.prepare('SELECT stored, suppressed, aggregate_id FROM fault_budget WHERE source = ? AND minute = ?');
  const budgetStored = db.prepare(`INSERT INTO fault_budget (source, minute, stored, suppressed) VALUES (?, ?, 1, 0)
    ON CONFLICT (source, minute) DO UPDATE SET stored = stored + 1`);
  const budgetSuppressed = db.prepare('UPDATE fault_budget SET suppressed = suppressed + 1, aggregate_id = ? WHERE source = ? AND minute = ?');
  const updateAggregate = db.prepare('UPDATE faults SET detail = ?, at = ? WHERE fault_id = ?');
  const last = db.prepare('SELECT hash FROM messages ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined;
  // every record purged (archived): the chain goes on from the anchor, as verifyChain expects
  let lastHash = last?.hash ?? chainStart().prevHash;
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
  // replay check (AppendOptions): an earlier request of the same side, client and id, later than the window's start
  const findRequest = db.prepare(`SELECT 1 FROM messages WHERE message_id = ? AND client = ? AND side = ? AND direction = 'request' AND at > ? LIMIT 1`).pluck();
  // checked requests queued and not yet committed: side NUL client NUL id → at (ms)
  const inFlight = new Map<string, number>();
  /** The batch's duplicates (refused, not inserted) and the new chain tip. */
  const writeBatch = writeTransaction((batch: Pending[]): { tip: string; duplicates: Set<Pending> | undefined } => {
    let prev = lastHash;
    let duplicates: Set<Pending> | undefined;
    for (const p of batch) {
      const r = p.record;
      if (p.replay !== undefined && findRequest.get(r.messageId, r.client, r.side, new Date(r.at.getTime() - p.replay.windowMs).toISOString()) !== undefined) {
        (duplicates ??= new Set()).add(p);
        continue; // not inserted: the chain goes on from the previous record
      }
      const mSha = sha256Hex(r.message);
      const sSha = sha256Hex(r.signature);
      const hash = hashRecordDigests(prev, r, mSha, sSha);
      const kept = metadataOnly?.(r.service) !== true;
      const { message, signature, sigCert } = storedBody(r, hash, kept, sealer, certIdOf);
      const seq = nextSeq();
      insert.run(seq, r.side, r.direction, r.messageId, r.client, r.service, r.userId ?? null, r.convenio ?? null, r.finalidad ?? null,
        r.at.toISOString(), r.fault ?? null, r.signerCertSha256, message, signature, prev, hash, mSha, sSha,
        kept && sealer !== undefined ? sealer.activeKeyId : null, kept ? 1 : 0, sigCert);
      if (subjectKey !== undefined && r.subjects !== undefined) for (const dni of r.subjects) insertSubject.run(subjectMac(subjectKey, dni), seq);
      prev = hash;
    }
    return { tip: prev, duplicates };
  });

  /** The batch's checked requests are committed (or failed): the log answers for them now. */
  const settle = (batch: Pending[]): void => {
    if (inFlight.size === 0) return;
    for (const p of batch) {
      if (p.replay !== undefined && inFlight.get(p.replay.key) === p.record.at.getTime()) inFlight.delete(p.replay.key);
    }
  };

  let held = false;
  const flush = (): void => {
    scheduled = false;
    if (held) return; // releaseWrites() flushes
    while (queue.length > 0) {
      const batch = queue.length > maxBatch ? queue.splice(0, maxBatch) : queue;
      if (batch === queue) queue = [];
      try {
        sealer?.ensureIvs(batch.length); // one seal per record
        const { tip, duplicates } = writeBatch(batch);
        lastHash = tip;
        settle(batch);
        for (const p of batch) {
          if (duplicates?.has(p) === true) p.reject(new DuplicateRecord(p.record.messageId));
          else p.resolve();
        }
      } catch (err) {
        seqCursor = undefined; // the transaction rolled back
        certIds.clear(); // with any certificate row the batch inserted
        settle(batch);
        for (const p of batch) p.reject(err);
      }
    }
  };

  const openBody = createBodyOpener(cipher, certText);

  const rowToRecord = (row: Record<string, unknown>): StoredRecord => {
    const raw = rowToRaw(row);
    const body = openBody(raw);
    return {
      seq: raw.seq, ...raw.meta, ...body, prevHash: raw.prevHash, hash: raw.hash, messageSha256: raw.messageSha256,
      signatureSha256: raw.signatureSha256, bodyKept: raw.bodyKept, keyId: raw.keyId ?? undefined,
    };
  };

  const rowToTimestamp = (r: Record<string, unknown>): TimestampRecord => ({
    id: r.id as number, firstSeq: r.first_seq as number, lastSeq: r.last_seq as number, root: r.root as string,
    token: r.token as Buffer, genTime: new Date(r.gen_time as string),
  });

  return {
    append(record, appendOpts) {
      if (closed) return Promise.reject(new Error('message log closed'));
      let replay: Pending['replay'];
      const windowMs = appendOpts?.replayWindowMs;
      if (windowMs !== undefined && record.direction === 'request') {
        const key = `${record.side}\u0000${record.client}\u0000${record.messageId}`;
        const queued = inFlight.get(key);
        const atMs = record.at.getTime();
        // the same id queued (two requests at once): the second is refused before any write
        if (queued !== undefined && queued > atMs - windowMs) return Promise.reject(new DuplicateRecord(record.messageId));
        inFlight.set(key, atMs);
        replay = { key, windowMs };
      }
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, replay, resolve, reject });
        if (!scheduled && !held) {
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
      writeTransaction(() => {
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
      return writeTransaction(() => {
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
    subjectRecords(mac, range = {}) {
      const rows = db.prepare(`SELECT m.seq, m.at, m.side, m.message_id, m.client, m.service, m.user_id, m.convenio, m.finalidad,
          r.seq AS r_seq, r.fault AS r_fault
        FROM subject_index s JOIN messages m ON m.seq = s.seq
        LEFT JOIN messages r ON r.message_id = m.message_id AND r.client = m.client AND r.side = m.side AND r.direction = 'response' AND r.seq > m.seq
        WHERE s.mac = ? AND m.at >= ? AND m.at < ? ORDER BY m.seq, r.seq`).all(mac, range.from ?? '', range.to ?? '\uffff') as Record<string, unknown>[];
      const seen = new Set<number>();
      const out: SubjectHit[] = [];
      for (const r of rows) {
        const seq = r.seq as number;
        if (seen.has(seq)) continue; // one response per request (the first)
        seen.add(seq);
        out.push({
          seq, at: new Date(r.at as string), side: r.side as 'client' | 'server', messageId: r.message_id as string,
          client: r.client as string, service: r.service as string, userId: (r.user_id as string | null) ?? undefined,
          convenio: (r.convenio as string | null) ?? undefined, finalidad: (r.finalidad as string | null) ?? undefined,
          answered: r.r_seq !== null, responseFault: (r.r_fault as string | null) ?? undefined,
        });
      }
      return out;
    },
    verifyChain() {
      let prev = chainStart().prevHash;
      let count = 0;
      for (const row of db.prepare('SELECT * FROM messages ORDER BY seq').iterate() as Iterable<Record<string, unknown>>) {
        const r = rowToRaw(row);
        const bad = checkChainLink(prev, r, cipher !== undefined, openBody);
        if (bad !== undefined) return bad;
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
      return writeTransaction(() => {
        const last = db.prepare('SELECT seq, hash FROM messages WHERE seq <= ? ORDER BY seq DESC LIMIT 1').get(seq) as { seq: number; hash: string } | undefined;
        if (last === undefined) return 0;
        const n = db.prepare('DELETE FROM messages WHERE seq <= ?').run(last.seq).changes;
        db.prepare('DELETE FROM subject_index WHERE seq <= ?').run(last.seq);
        db.prepare('DELETE FROM timestamps WHERE last_seq <= ?').run(last.seq);
        db.prepare('INSERT OR REPLACE INTO log_meta (key, value) VALUES (?, ?)').run('chain_start', JSON.stringify({ seq: last.seq + 1, prevHash: last.hash }));
        return n;
      })();
    },
    lastSeq() {
      return (db.prepare('SELECT MAX(seq) AS s FROM messages').get() as { s: number | null }).s ?? 0;
    },
    queueDepth() {
      return queue.length;
    },
    holdWrites() {
      held = true;
    },
    releaseWrites() {
      held = false;
      if (queue.length > 0 && !scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    db,
    cipher,
    async close() {
      held = false;
      flush();
      closed = true;
      db.close();
    },
  };
}
