/**
 * Verification of the evidence, for the node operator and for anyone holding an archive: the hash
 * chain, every record's digests, every signature (and its certificate against the trusted CAs at
 * the record's time) and every time-stamp (hash-tree root over the batch, RFC 3161 token). Every
 * problem is reported with the record (seq) it concerns and why, in Spanish; nothing stops at the
 * first one. Works on the live log (`verifyLiveLog`) or an archive file (`verifyArchive`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hashTreeRoot } from '../../core/hash-tree.js';
import { verifyChain } from '../../core/pki.js';
import { verifyDetached } from '../../core/signature.js';
import { verifyTimeStampToken } from '../../core/tsp.js';
import { ARCHIVE_FORMAT, archiveAad, type ArchiveManifest, type ArchiveRecordLine, type ArchiveTimestampLine } from './archiver.js';
import type { LogCipher } from './log-crypto.js';
import { hashRecordDigests, sha256Hex, type MessageLog, type RawRecord, type RecordMeta } from './message-log.js';

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
    const { message, signature } = r.body;
    if (sha256Hex(message) !== r.messageSha256) problems.push({ seq: r.seq, reason: 'el mensaje guardado no corresponde a su resumen encadenado (mensaje modificado)' });
    if (sha256Hex(signature) !== r.signatureSha256) problems.push({ seq: r.seq, reason: 'la firma guardada no corresponde a su resumen encadenado (firma modificada)' });
    const v = verifyDetached(message, signature);
    if (!v.ok) {
      problems.push({ seq: r.seq, reason: `la firma no es válida: ${v.reason}` });
      continue;
    }
    if (v.certSha256 !== r.meta.signerCertSha256) problems.push({ seq: r.seq, reason: 'el certificado de la firma no es el registrado para el registro' });
    const chain = verifyChain(v.certPem, opts.trustedCas, r.meta.at);
    if (!chain.ok) problems.push({ seq: r.seq, reason: `certificado de firma: ${chain.reason} (a la fecha del registro)` });
    signatures += 1;
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

export function verifyLiveLog(log: MessageLog, trustedCas: readonly string[]): VerifyReport {
  const items: EvidenceItem[] = [];
  const start = log.chainStart();
  for (let from = 0; ;) {
    const page = log.rawRecords(from, 5000);
    for (const r of page) {
      let body: EvidenceItem['body'];
      try {
        body = log.openBody(r);
      } catch (err) {
        body = { error: err instanceof Error ? err.message : String(err) };
      }
      items.push({ seq: r.seq, meta: r.meta, messageSha256: r.messageSha256, signatureSha256: r.signatureSha256, prevHash: r.prevHash, hash: r.hash, bodyKept: r.bodyKept, body });
    }
    if (page.length < 5000) break;
    from = page[page.length - 1]!.seq + 1;
  }
  if (items.length > 0 && items[0]!.seq !== start.seq) {
    return { ...verifyEvidence(items, log.timestamps(), { startPrevHash: start.prevHash, trustedCas }), ok: false, problems: [{ seq: items[0]!.seq, reason: `el registro comienza en ${items[0]!.seq}, se esperaba ${start.seq} (registros eliminados)` }] };
  }
  return verifyEvidence(items, log.timestamps(), { startPrevHash: start.prevHash, trustedCas });
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
  if (createHash('sha256').update(bytes).digest('hex') !== manifest.fileSha256) problems.push({ reason: `el archivo ${manifest.file} no corresponde al SHA-256 de su manifiesto (archivo modificado)` });
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
      if (createHash('sha256').update(prevText).digest('hex') !== manifest.previousManifestSha256) problems.push({ reason: `el manifiesto anterior ${manifest.previousManifest} no es el que este archivo enlaza (modificado o reemplazado)` });
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
