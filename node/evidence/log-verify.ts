/**
 * Verification of the evidence, for the node operator and for anyone holding an archive: the hash
 * chain, every record's digests, every signature (and its certificate against the trusted CAs at
 * the record's time) and every time-stamp (hash-tree root over the batch, RFC 3161 token). Every
 * problem is reported with the record (seq) it concerns and why, in Spanish; nothing stops at the
 * first one. Works on the live log (`verifyLiveLog`) or an archive file (`verifyArchive`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { sha256 } from '../../core/digest.js';
import { hashTreeRoot } from '../../core/hash-tree.js';
import { verifyChain } from '../../core/pki.js';
import { verifyDetached } from '../../core/signature.js';
import { verifyTimeStampToken } from '../../core/tsp.js';
import { ARCHIVE_FORMAT, archiveAad, type ArchiveManifest, type ArchiveRecordLine, type ArchiveTimestampLine } from './archiver.js';
import type { LogCipher } from './log-crypto.js';
import { hashRecordDigests, sha256Hex, type LogReader, type MessageLog, type RawRecord, type RecordMeta } from './message-log.js';
import type { InstanceReader } from './pg-message-log.js';

export interface Problem {
  /** Record seq, or undefined for file-level problems. */
  readonly seq?: number | undefined;
  readonly reason: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly records: number;
  readonly signatures: number;
  readonly timestamps: number;
  /** Records no time-stamp covers yet (not an error in the live log: the next batch will). */
  readonly unstamped: number;
  readonly problems: readonly Problem[];
}

export interface EvidenceItem extends Omit<RawRecord, 'keyId' | 'message' | 'signature' | 'sigCert'> {
  /** The body, or why it cannot be read. */
  readonly body: { message: Buffer; signature: string } | { error: string };
}

export interface EvidenceStamp {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly root: string;
  readonly token: Buffer;
}

/** Digests, signature and signing certificate of one kept body (the part verification spends its time on). */
export function checkBody(r: Pick<EvidenceItem, 'seq' | 'messageSha256' | 'signatureSha256' | 'meta'>, body: { message: Buffer; signature: string }, trustedCas: readonly string[]): { problems: Problem[]; signatureOk: boolean } {
  const problems: Problem[] = [];
  const { message, signature } = body;
  const messageDigest = sha256(message);
  if (messageDigest.toString('hex') !== r.messageSha256) problems.push({ seq: r.seq, reason: 'el mensaje guardado no corresponde a su resumen encadenado (mensaje modificado)' });
  if (sha256Hex(signature) !== r.signatureSha256) problems.push({ seq: r.seq, reason: 'la firma guardada no corresponde a su resumen encadenado (firma modificada)' });
  const v = verifyDetached(message, signature, undefined, messageDigest);
  if (!v.ok) {
    problems.push({ seq: r.seq, reason: `la firma no es válida: ${v.reason}` });
    return { problems, signatureOk: false };
  }
  if (v.certSha256 !== r.meta.signerCertSha256) problems.push({ seq: r.seq, reason: 'el certificado de la firma no es el registrado para el registro' });
  const chain = verifyChain(v.certPem, trustedCas, r.meta.at);
  if (!chain.ok) problems.push({ seq: r.seq, reason: `certificado de firma: ${chain.reason} (a la fecha del registro)` });
  return { problems, signatureOk: true };
}

/** The core check over records in seq order and the time-stamps that cover them. */
export function verifyEvidence(items: readonly EvidenceItem[], stamps: readonly EvidenceStamp[], opts: { startPrevHash: string; trustedCas: readonly string[]; requireStamps?: boolean }): VerifyReport {
  const problems: Problem[] = [];
  let prev = opts.startPrevHash;
  let signatures = 0;
  const bySeq = new Map<number, EvidenceItem>();
  let lastSeq: number | undefined;
  for (const r of items) {
    if (lastSeq !== undefined && r.seq !== lastSeq + 1) problems.push({ seq: r.seq, reason: `falta el registro ${lastSeq + 1} (la secuencia salta a ${r.seq})` });
    lastSeq = r.seq;
    bySeq.set(r.seq, r);
    if (r.prevHash !== prev) problems.push({ seq: r.seq, reason: 'el enlace con el registro anterior no coincide (registro eliminado, insertado o reordenado)' });
    if (hashRecordDigests(r.prevHash, r.meta, r.messageSha256, r.signatureSha256) !== r.hash) problems.push({ seq: r.seq, reason: 'los metadatos o resúmenes del registro fueron modificados (el hash no coincide)' });
    prev = r.hash;
    if (!r.bodyKept) continue;
    if ('error' in r.body) {
      problems.push({ seq: r.seq, reason: `no se puede leer el contenido: ${r.body.error}` });
      continue;
    }
    const checked = checkBody(r, r.body, opts.trustedCas);
    problems.push(...checked.problems);
    if (checked.signatureOk) signatures += 1;
  }
  const covered = new Set<number>();
  let timestamps = 0;
  for (const t of stamps) {
    const leaves: string[] = [];
    for (let s = t.firstSeq; s <= t.lastSeq; s++) {
      const r = bySeq.get(s);
      if (r === undefined) break;
      leaves.push(r.hash);
    }
    if (leaves.length !== t.lastSeq - t.firstSeq + 1) {
      problems.push({ seq: t.firstSeq, reason: `sello de los registros ${t.firstSeq}–${t.lastSeq}: faltan registros del lote` });
      continue;
    }
    const root = hashTreeRoot(leaves);
    if (root !== t.root) problems.push({ seq: t.firstSeq, reason: `sello de los registros ${t.firstSeq}–${t.lastSeq}: la raíz del árbol no coincide (algún registro del lote cambió)` });
    const v = verifyTimeStampToken(t.token, Buffer.from(root, 'hex'), opts.trustedCas);
    if (!v.ok) problems.push({ seq: t.firstSeq, reason: `sello de los registros ${t.firstSeq}–${t.lastSeq}: ${v.reason}` });
    else timestamps += 1;
    for (let s = t.firstSeq; s <= t.lastSeq; s++) covered.add(s);
  }
  const unstamped = items.filter((r) => !covered.has(r.seq)).length;
  if (opts.requireStamps === true && unstamped > 0) {
    const first = items.find((r) => !covered.has(r.seq))!;
    problems.push({ seq: first.seq, reason: `${unstamped} registros del archivo no están cubiertos por ningún sello de tiempo` });
  }
  return { ok: problems.length === 0, records: items.length, signatures, timestamps, unstamped, problems };
}

/**
 * Chain, sequence and time-stamp checks over records streamed in seq order, in constant memory
 * (only the leaves of the time-stamp batch being read are kept). Same findings as verifyEvidence.
 */
export class ChainWalker {
  readonly problems: Problem[] = [];
  /** Time-stamp findings: reported after the record findings, as verifyEvidence does. */
  readonly stampProblems: Problem[] = [];
  records = 0;
  timestamps = 0;
  unstamped = 0;
  private prev: string;
  private lastSeq: number | undefined;
  private next = 0;
  private readonly open: { stamp: EvidenceStamp; leaves: string[]; broken: boolean }[] = [];

  constructor(startPrevHash: string, private readonly stamps: readonly EvidenceStamp[], private readonly trustedCas: readonly string[]) {
    this.prev = startPrevHash;
  }

  add(r: Omit<EvidenceItem, 'body'>): void {
    this.link(r);
    const bad = hashProblem(r);
    if (bad !== undefined) this.problems.push(bad);
  }

  /** Sequence, link and time-stamp leaves of a record whose own hash is checked elsewhere (a worker). */
  link(r: { readonly seq: number; readonly prevHash: string; readonly hash: string }): void {
    if (this.lastSeq !== undefined && r.seq !== this.lastSeq + 1) this.problems.push({ seq: r.seq, reason: `falta el registro ${this.lastSeq + 1} (la secuencia salta a ${r.seq})` });
    this.lastSeq = r.seq;
    this.records += 1;
    if (r.prevHash !== this.prev) this.problems.push({ seq: r.seq, reason: 'el enlace con el registro anterior no coincide (registro eliminado, insertado o reordenado)' });
    this.prev = r.hash;
    while (this.next < this.stamps.length && this.stamps[this.next]!.firstSeq <= r.seq) {
      const stamp = this.stamps[this.next++]!;
      // a batch whose first record is not here is missing records
      this.open.push({ stamp, leaves: [], broken: stamp.firstSeq !== r.seq });
    }
    let covered = false;
    for (const o of this.open) {
      if (r.seq < o.stamp.firstSeq || r.seq > o.stamp.lastSeq) continue;
      covered = true;
      if (!o.broken && o.stamp.firstSeq + o.leaves.length === r.seq) o.leaves.push(r.hash);
      else o.broken = true;
    }
    if (!covered) this.unstamped += 1;
    for (let i = this.open.length - 1; i >= 0; i -= 1) {
      if (this.open[i]!.stamp.lastSeq <= r.seq) this.close(this.open.splice(i, 1)[0]!);
    }
  }

  private close(o: { stamp: EvidenceStamp; leaves: string[]; broken: boolean }): void {
    const t = o.stamp;
    if (o.broken || o.leaves.length !== t.lastSeq - t.firstSeq + 1) {
      this.stampProblems.push({ seq: t.firstSeq, reason: `sello de los registros ${t.firstSeq}–${t.lastSeq}: faltan registros del lote` });
      return;
    }
    const root = hashTreeRoot(o.leaves);
    if (root !== t.root) this.stampProblems.push({ seq: t.firstSeq, reason: `sello de los registros ${t.firstSeq}–${t.lastSeq}: la raíz del árbol no coincide (algún registro del lote cambió)` });
    const v = verifyTimeStampToken(t.token, Buffer.from(root, 'hex'), this.trustedCas);
    if (!v.ok) this.stampProblems.push({ seq: t.firstSeq, reason: `sello de los registros ${t.firstSeq}–${t.lastSeq}: ${v.reason}` });
    else this.timestamps += 1;
  }

  /** Batches not (fully) read: their records are missing. */
  finish(): void {
    for (const o of this.open.splice(0)) this.close({ ...o, broken: true });
    for (; this.next < this.stamps.length; this.next += 1) {
      const t = this.stamps[this.next]!;
      this.stampProblems.push({ seq: t.firstSeq, reason: `sello de los registros ${t.firstSeq}–${t.lastSeq}: faltan registros del lote` });
    }
  }
}

/** The record's hash against its metadata and digests. */
function hashProblem(r: Pick<EvidenceItem, 'seq' | 'prevHash' | 'meta' | 'messageSha256' | 'signatureSha256' | 'hash'>): Problem | undefined {
  if (hashRecordDigests(r.prevHash, r.meta, r.messageSha256, r.signatureSha256) === r.hash) return undefined;
  return { seq: r.seq, reason: 'los metadatos o resúmenes del registro fueron modificados (el hash no coincide)' };
}

const PAGE = 500;

/** Records of the live log, a page at a time (keyset pagination: constant memory), bodies opened. */
function* livePages(log: MessageLog): Generator<{ item: Omit<EvidenceItem, 'body'>; body: EvidenceItem['body'] | undefined }[]> {
  for (let from = 0; ;) {
    const page = log.rawRecords(from, PAGE);
    yield page.map((r) => {
      let body: EvidenceItem['body'] | undefined;
      if (r.bodyKept) {
        try {
          body = log.openBody(r);
        } catch (err) {
          body = { error: err instanceof Error ? err.message : String(err) };
        }
      }
      return { item: { seq: r.seq, meta: r.meta, messageSha256: r.messageSha256, signatureSha256: r.signatureSha256, prevHash: r.prevHash, hash: r.hash, bodyKept: r.bodyKept }, body };
    });
    if (page.length < PAGE) break;
    from = page[page.length - 1]!.seq + 1;
  }
}

function liveReport(log: MessageLog, walker: ChainWalker, bodyProblems: Problem[], signatures: number, firstSeq: number | undefined): VerifyReport {
  walker.finish();
  const start = log.chainStart();
  // problems in record order, as verifyEvidence reports them (chain, then body, per record)
  const problems = [...[...walker.problems, ...bodyProblems].map((p, i) => ({ p, i })).sort((a, b) => (a.p.seq ?? 0) - (b.p.seq ?? 0) || a.i - b.i).map((x) => x.p), ...walker.stampProblems];
  const report = { ok: problems.length === 0, records: walker.records, signatures, timestamps: walker.timestamps, unstamped: walker.unstamped, problems };
  if (firstSeq !== undefined && firstSeq !== start.seq) {
    return { ...report, ok: false, problems: [{ seq: firstSeq, reason: `el registro comienza en ${firstSeq}, se esperaba ${start.seq} (registros eliminados)` }] };
  }
  return report;
}

/** Verify the live log in this thread, streaming (constant memory). */
export function verifyLiveLog(log: MessageLog, trustedCas: readonly string[]): VerifyReport {
  const walker = new ChainWalker(log.chainStart().prevHash, log.timestamps(), trustedCas);
  const bodyProblems: Problem[] = [];
  let signatures = 0;
  let firstSeq: number | undefined;
  for (const page of livePages(log)) {
    for (const { item, body } of page) {
      firstSeq ??= item.seq;
      walker.add(item);
      if (body === undefined) continue;
      if ('error' in body) {
        bodyProblems.push({ seq: item.seq, reason: `no se puede leer el contenido: ${body.error}` });
        continue;
      }
      const checked = checkBody(item, body, trustedCas);
      bodyProblems.push(...checked.problems);
      if (checked.signatureOk) signatures += 1;
    }
  }
  return liveReport(log, walker, bodyProblems, signatures, firstSeq);
}

/** Records per range a worker reads and checks in one message. */
const RANGE = 1000;

/**
 * The same verification spread over worker threads (node/evidence/verify-worker.ts), at most
 * os.availableParallelism(). Each worker opens the log read-only and takes ranges of RANGE seqs:
 * it reads the rows, checks each record's hash, decrypts the bodies, checks digests, signatures
 * and certificates, and answers with its findings and the (seq, prevHash, hash) of the rows it
 * read. The main thread only hands out ranges and walks the links and time-stamp batches in seq
 * order. Memory stays bounded: at most two ranges per worker are in flight (answers that arrive
 * out of order wait among them).
 */
export async function verifyLiveLogParallel(log: MessageLog, trustedCas: readonly string[], opts: { workers?: number } = {}): Promise<VerifyReport> {
  const bounds = log.db.prepare('SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM messages').get() as { lo: number | null; hi: number | null };
  const walker = new ChainWalker(log.chainStart().prevHash, log.timestamps(), trustedCas);
  const bodyProblems: Problem[] = [];
  let signatures = 0;
  let firstSeq: number | undefined;
  if (bounds.lo === null || bounds.hi === null) return liveReport(log, walker, bodyProblems, signatures, firstSeq);
  const lo = bounds.lo;
  const ranges = Math.floor((bounds.hi - lo) / RANGE) + 1;
  const { createVerifyPool } = await import('./verify-pool.js');
  const pool = createVerifyPool<RangeJob, RangeResult>(Math.min(opts.workers ?? availableParallelism(), availableParallelism(), ranges), {
    dbPath: log.db.name, keyRing: log.cipher?.keyRing, trustedCas: [...trustedCas],
  });
  try {
    const done = new Map<number, RangeResult>();
    let next = 0; // next range to hand out
    let walked = 0; // next range to walk
    const inFlight = new Set<Promise<void>>();
    const walk = (): void => {
      for (let r = done.get(walked); r !== undefined; r = done.get(walked)) {
        done.delete(walked);
        walked += 1;
        for (let i = 0; i < r.seqs.length; i += 1) {
          firstSeq ??= r.seqs[i]!;
          walker.link({ seq: r.seqs[i]!, prevHash: r.prevHashes[i]!, hash: r.hashes[i]! });
        }
        bodyProblems.push(...r.problems);
        signatures += r.signatures;
      }
    };
    while (next < ranges) {
      const index = next++;
      const from = lo + index * RANGE;
      const p: Promise<void> = pool.run({ from, to: from + RANGE }).then((r) => {
        done.set(index, r);
        walk();
      }).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= pool.size * 2) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return liveReport(log, walker, bodyProblems, signatures, firstSeq);
  } finally {
    await pool.close();
  }
}

/** A range of seqs [from, to) for a worker. */
export interface RangeJob {
  readonly from: number;
  readonly to: number;
}

/** What a worker found in a range: the rows' links (for the chain walk) and its findings in seq order. */
export interface RangeResult {
  readonly seqs: number[];
  readonly prevHashes: string[];
  readonly hashes: string[];
  readonly problems: Problem[];
  readonly signatures: number;
}

/** What a worker does with a range: each record's hash, body, digests, signature and certificate. */
export function checkRange(reader: LogReader, job: RangeJob, trustedCas: readonly string[]): RangeResult {
  const seqs: number[] = [];
  const prevHashes: string[] = [];
  const hashes: string[] = [];
  const problems: Problem[] = [];
  let signatures = 0;
  for (const r of reader.range(job.from, job.to)) {
    seqs.push(r.seq);
    prevHashes.push(r.prevHash);
    hashes.push(r.hash);
    const bad = hashProblem(r);
    if (bad !== undefined) problems.push(bad);
    if (!r.bodyKept) continue;
    let body: { message: Buffer; signature: string };
    try {
      body = reader.openBody(r);
    } catch (err) {
      problems.push({ seq: r.seq, reason: `no se puede leer el contenido: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    const checked = checkBody(r, body, trustedCas);
    problems.push(...checked.problems);
    if (checked.signatureOk) signatures += 1;
  }
  return { seqs, prevHashes, hashes, problems, signatures };
}

/** Items and stamps of an archive's JSON lines. */
export function parseArchiveLines(text: string): { items: EvidenceItem[]; stamps: EvidenceStamp[]; problems: Problem[] } {
  const items: EvidenceItem[] = [];
  const stamps: EvidenceStamp[] = [];
  const problems: Problem[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    let o: ArchiveRecordLine | ArchiveTimestampLine;
    try {
      o = JSON.parse(line) as ArchiveRecordLine | ArchiveTimestampLine;
    } catch {
      problems.push({ reason: `línea ${i + 1} del archivo no es JSON válido` });
      return;
    }
    if (o.type === 'timestamp') {
      stamps.push({ firstSeq: o.firstSeq, lastSeq: o.lastSeq, root: o.root, token: Buffer.from(o.token, 'base64') });
      return;
    }
    const meta: RecordMeta = {
      side: o.side as RecordMeta['side'], direction: o.direction as RecordMeta['direction'], messageId: o.messageId, client: o.client, service: o.service,
      userId: o.userId ?? undefined, convenio: o.convenio ?? undefined, finalidad: o.finalidad ?? undefined, at: new Date(o.at), fault: o.fault ?? undefined,
      signerCertSha256: o.signerCertSha256,
    };
    items.push({
      seq: o.seq, meta, messageSha256: o.messageSha256, signatureSha256: o.signatureSha256, prevHash: o.prevHash, hash: o.hash, bodyKept: o.bodyKept,
      body: { message: Buffer.from(o.message, 'base64'), signature: o.signature },
    });
  });
  return { items, stamps, problems };
}

/**
 * Verify an archive given its manifest (or its data file, whose manifest sits next to it):
 * file digest, decryption (when sealed, needs the node's key), records, signatures, time-stamps,
 * and the link to the previous archive when that manifest is in the same folder.
 */
export function verifyArchive(path: string, trustedCas: readonly string[], cipher?: LogCipher): VerifyReport & { manifest?: ArchiveManifest } {
  const fail = (reason: string): VerifyReport => ({ ok: false, records: 0, signatures: 0, timestamps: 0, unstamped: 0, problems: [{ reason }] });
  const manifestPath = path.endsWith('.manifest.json') ? path : path.replace(/\.jsonl(\.enc)?$/, '.manifest.json');
  if (!existsSync(manifestPath)) return fail(`no se encuentra el manifiesto ${manifestPath}`);
  let manifest: ArchiveManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ArchiveManifest;
  } catch {
    return fail(`el manifiesto ${manifestPath} no es JSON válido`);
  }
  if (manifest.format !== ARCHIVE_FORMAT) return fail(`formato de archivo desconocido: ${String(manifest.format)}`);
  const dataPath = join(dirname(manifestPath), manifest.file);
  if (!existsSync(dataPath)) return fail(`falta el archivo de datos ${manifest.file}`);
  const bytes = readFileSync(dataPath);
  const problems: Problem[] = [];
  if (sha256Hex(bytes) !== manifest.fileSha256) problems.push({ reason: `el archivo ${manifest.file} no corresponde al SHA-256 de su manifiesto (archivo modificado)` });
  let text: string;
  if (manifest.encrypted) {
    if (cipher === undefined || manifest.keyId === null) return { ...fail(`el archivo ${manifest.file} está cifrado: se necesita la clave del registro del nodo (${manifest.keyId ?? '?'})`), manifest };
    try {
      text = cipher.open(manifest.keyId, bytes, archiveAad(manifest.file)).toString('utf8');
    } catch (err) {
      return { ...fail(`no se puede descifrar ${manifest.file}: ${err instanceof Error ? err.message : String(err)}`), manifest };
    }
  } else {
    text = bytes.toString('utf8');
  }
  const parsed = parseArchiveLines(text);
  problems.push(...parsed.problems);
  if (parsed.items.length !== manifest.records) problems.push({ reason: `el manifiesto declara ${manifest.records} registros y el archivo tiene ${parsed.items.length}` });
  if (parsed.items[0]?.seq !== manifest.firstSeq || parsed.items[parsed.items.length - 1]?.seq !== manifest.lastSeq) problems.push({ reason: 'el rango de registros no coincide con el manifiesto' });
  if (parsed.items[parsed.items.length - 1]?.hash !== manifest.lastHash) problems.push({ reason: 'el último hash no coincide con el manifiesto' });
  if (manifest.previousManifest !== null) {
    const prevPath = join(dirname(manifestPath), manifest.previousManifest);
    if (existsSync(prevPath)) {
      const prevText = readFileSync(prevPath);
      const prev = JSON.parse(prevText.toString('utf8')) as ArchiveManifest;
      if (sha256Hex(prevText) !== manifest.previousManifestSha256) problems.push({ reason: `el manifiesto anterior ${manifest.previousManifest} no es el que este archivo enlaza (modificado o reemplazado)` });
      else if (prev.lastHash !== manifest.firstPrevHash) problems.push({ reason: `el archivo no continúa la cadena de ${manifest.previousManifest} (archivos reordenados)` });
    }
  }
  const report = verifyEvidence(parsed.items, parsed.stamps, { startPrevHash: manifest.firstPrevHash, trustedCas, requireStamps: true });
  const all = [...problems, ...report.problems];
  return { ...report, ok: all.length === 0, problems: all, manifest };
}

/** Spanish text of a report, one line per problem. */
export function formatReport(what: string, r: VerifyReport): string {
  const detail = r.records === 0 ? '' : `, ${r.signatures} firmas válidas, ${r.timestamps} sellos de tiempo válidos${r.unstamped > 0 ? `, ${r.unstamped} registros aún sin sello` : ''}`;
  const head = r.ok ? `${what === '' ? '' : `${what}: `}Cadena íntegra: ${r.records} registros${detail}` : `${what === '' ? 'Registro de mensajes' : what}: ${r.problems.length} problema(s) en ${r.records} registros`;
  return [head, ...r.problems.map((p) => `  ${p.seq === undefined ? 'archivo' : `registro ${p.seq}`}: ${p.reason}`)].join('\n');
}

/**
 * The verification of verifyLiveLog (chain, bodies, signatures, time-stamps) for one chain read
 * asynchronously: each instance's chain in a shared PostgreSQL log (node/evidence/pg-message-log.ts).
 */
export async function verifyInstanceChain(reader: InstanceReader, trustedCas: readonly string[]): Promise<VerifyReport> {
  const start = await reader.chainStart();
  const walker = new ChainWalker(start.prevHash, await reader.timestamps(), trustedCas);
  const bodyProblems: Problem[] = [];
  let signatures = 0;
  let firstSeq: number | undefined;
  for (let from = 0; ;) {
    const page = await reader.rawRecords(from, PAGE);
    for (const r of page) {
      firstSeq ??= r.seq;
      const item = { seq: r.seq, meta: r.meta, messageSha256: r.messageSha256, signatureSha256: r.signatureSha256, prevHash: r.prevHash, hash: r.hash, bodyKept: r.bodyKept };
      walker.add(item);
      if (!r.bodyKept) continue;
      let body: { message: Buffer; signature: string };
      try {
        body = reader.openBody(r);
      } catch (err) {
        bodyProblems.push({ seq: r.seq, reason: `no se puede leer el contenido: ${err instanceof Error ? err.message : String(err)}` });
        continue;
      }
      const checked = checkBody(item, body, trustedCas);
      bodyProblems.push(...checked.problems);
      if (checked.signatureOk) signatures += 1;
    }
    if (page.length < PAGE) break;
    from = page[page.length - 1]!.seq + 1;
  }
  walker.finish();
  const problems = [...[...walker.problems, ...bodyProblems].map((p, i) => ({ p, i })).sort((a, b) => (a.p.seq ?? 0) - (b.p.seq ?? 0) || a.i - b.i).map((x) => x.p), ...walker.stampProblems];
  const report = { ok: problems.length === 0, records: walker.records, signatures, timestamps: walker.timestamps, unstamped: walker.unstamped, problems };
  if (firstSeq !== undefined && firstSeq !== start.seq) {
    return { ...report, ok: false, problems: [{ seq: firstSeq, reason: `el registro comienza en ${firstSeq}, se esperaba ${start.seq} (registros eliminados)` }] };
  }
  return report;
}
