/**
 * Archives of the message log. Each run writes the records that are time-stamped (or all, when
 * time-stamping is off) and not yet archived into one JSON-lines file plus a manifest:
 *
 *   archives/miis-log-000007.jsonl[.enc]      one line per record and per time-stamp
 *   archives/miis-log-000007.manifest.json    sha256 of the file, seq range, first prevHash,
 *                                             last hash, and the previous manifest's sha256
 *
 * Records carry their plaintext bodies and signatures (optionally the whole file is sealed with
 * the node's log key), their digests and chain hashes; time-stamp lines carry the token. Then
 * records older than the retention period are purged, but only through the last archived seq,
 * and only after the archive file on disk is re-read and matches its manifest.
 */
import { sha256Hex } from '../../core/digest.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { MiisError } from '../../core/errors.js';
import type { LogCipher } from './log-crypto.js';
import type { MessageLog, RawRecord, TimestampRecord } from './message-log.js';

export const ARCHIVE_FORMAT = 'miis-archive/1' as const;

export interface ArchiveManifest {
  readonly format: typeof ARCHIVE_FORMAT;
  readonly index: number;
  readonly file: string;
  readonly fileSha256: string;
  readonly encrypted: boolean;
  readonly keyId: string | null;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly records: number;
  readonly timestamps: number;
  readonly firstPrevHash: string;
  readonly lastHash: string;
  /** sha256 of the previous archive's manifest file, or null for the first archive. */
  readonly previousManifestSha256: string | null;
  readonly previousManifest: string | null;
  readonly createdAt: string;
}

export interface ArchiveRecordLine {
  readonly type: 'record';
  readonly seq: number;
  readonly side: string; readonly direction: string; readonly messageId: string; readonly client: string; readonly service: string;
  readonly userId: string | null; readonly convenio: string | null; readonly finalidad: string | null; readonly at: string;
  readonly fault: string | null; readonly signerCertSha256: string;
  readonly messageSha256: string; readonly signatureSha256: string; readonly prevHash: string; readonly hash: string;
  readonly bodyKept: boolean;
  /** base64 of the message bytes ('' when not kept). */
  readonly message: string;
  readonly signature: string;
}

export interface ArchiveTimestampLine {
  readonly type: 'timestamp';
  readonly firstSeq: number; readonly lastSeq: number; readonly root: string; readonly genTime: string;
  /** base64 DER token. */
  readonly token: string;
}

export interface Archiver {
  /** Archive what is ready, then purge per retention. Returns the new manifest, if any. */
  run(): ArchiveManifest | undefined;
  status(): { ultimo: string | null; hastaSeq: number; purgadosHastaSeq: number };
}

const sha256 = sha256Hex;

export function recordLine(r: RawRecord, body: { message: Buffer; signature: string }): ArchiveRecordLine {
  const m = r.meta;
  return {
    type: 'record', seq: r.seq, side: m.side, direction: m.direction, messageId: m.messageId, client: m.client, service: m.service,
    userId: m.userId ?? null, convenio: m.convenio ?? null, finalidad: m.finalidad ?? null, at: m.at.toISOString(), fault: m.fault ?? null,
    signerCertSha256: m.signerCertSha256, messageSha256: r.messageSha256, signatureSha256: r.signatureSha256, prevHash: r.prevHash, hash: r.hash,
    bodyKept: r.bodyKept, message: body.message.toString('base64'), signature: body.signature,
  };
}

export function timestampLine(t: TimestampRecord): ArchiveTimestampLine {
  return { type: 'timestamp', firstSeq: t.firstSeq, lastSeq: t.lastSeq, root: t.root, genTime: t.genTime.toISOString(), token: t.token.toString('base64') };
}

export const archiveAad = (file: string): string => `archive|${file}`;

export function createArchiver(opts: {
  log: MessageLog;
  dir: string;
  cipher: LogCipher | undefined;
  settings: { retentionDays: number; encrypt: boolean };
  now: () => Date;
  info?: (line: string) => void;
  maxRecords?: number;
}): Archiver {
  const { log } = opts;
  const last = (): { idx: number; manifest: string; manifest_sha256: string; file: string; file_sha256: string; last_seq: number } | undefined =>
    log.db.prepare('SELECT * FROM archives ORDER BY idx DESC LIMIT 1').get() as never;

  const archiveOnce = (): ArchiveManifest | undefined => {
    const prev = last();
    const from = Math.max((prev?.last_seq ?? 0) + 1, log.chainStart().seq);
    const stamps = log.timestamps(from).filter((t) => t.firstSeq >= from);
    const stampedThrough = stamps.length === 0 ? from - 1 : stamps[stamps.length - 1]!.lastSeq;
    const records = log.rawRecords(from, opts.maxRecords ?? 100_000).filter((r) => r.seq <= stampedThrough);
    if (records.length === 0) return undefined;
    const through = records[records.length - 1]!.seq;
    const lines: string[] = records.map((r) => JSON.stringify(recordLine(r, log.openBody(r))));
    for (const t of stamps) if (t.lastSeq <= through) lines.push(JSON.stringify(timestampLine(t)));
    const index = (prev?.idx ?? 0) + 1;
    const name = `miis-log-${String(index).padStart(6, '0')}`;
    const encrypt = opts.settings.encrypt && opts.cipher !== undefined;
    const file = `${name}.jsonl${encrypt ? '.enc' : ''}`;
    const plain = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    const bytes = encrypt ? opts.cipher!.seal(plain, archiveAad(file)) : plain;
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT, index, file, fileSha256: sha256(bytes), encrypted: encrypt, keyId: encrypt ? opts.cipher!.activeKeyId : null,
      firstSeq: records[0]!.seq, lastSeq: through, records: records.length, timestamps: lines.length - records.length,
      firstPrevHash: records[0]!.prevHash, lastHash: records[records.length - 1]!.hash,
      previousManifestSha256: prev?.manifest_sha256 ?? null, previousManifest: prev === undefined ? null : basename(prev.manifest),
      createdAt: opts.now().toISOString(),
    };
    const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
    const manifestFile = `${name}.manifest.json`;
    writeAtomic(join(opts.dir, file), bytes);
    writeAtomic(join(opts.dir, manifestFile), Buffer.from(manifestText));
    log.db.prepare('INSERT INTO archives (idx, manifest, manifest_sha256, file, file_sha256, first_seq, last_seq, created_at) VALUES (?,?,?,?,?,?,?,?)')
      .run(index, manifestFile, sha256(manifestText), file, manifest.fileSha256, manifest.firstSeq, through, manifest.createdAt);
    opts.info?.(`registro archivado: ${file} (registros ${manifest.firstSeq}–${through})`);
    return manifest;
  };

  const purge = (): void => {
    if (opts.settings.retentionDays <= 0) return;
    // the fault log follows the same retention (faults are not archived: they reference messages)
    const faults = log.purgeFaultsBefore(new Date(opts.now().getTime() - opts.settings.retentionDays * 86_400_000));
    if (faults > 0) opts.info?.(`registro de fallas: ${faults} fallas antiguas purgadas`);
    const a = last();
    if (a === undefined) return;
    const cutoff = opts.now().getTime() - opts.settings.retentionDays * 86_400_000;
    // only a prefix: stop at the first record that is not archived or too young
    let through = 0;
    for (const r of log.rawRecords(log.chainStart().seq, 100_000)) {
      if (r.seq > a.last_seq || r.meta.at.getTime() >= cutoff) break;
      through = r.seq;
    }
    if (through === 0) return;
    // never purge what is not safely archived: every archive covering the range must be on disk, intact
    const covering = log.db.prepare('SELECT * FROM archives WHERE first_seq <= ? AND last_seq >= ?').all(through, log.chainStart().seq) as { file: string; file_sha256: string }[];
    for (const c of covering) {
      const path = join(opts.dir, c.file);
      if (!existsSync(path) || sha256(readFileSync(path)) !== c.file_sha256) {
        throw new MiisError('Config.InvalidInput', `no se purga: el archivo ${c.file} falta o no coincide con su manifiesto`);
      }
    }
    const n = log.purgeThrough(through);
    if (n > 0) opts.info?.(`registro: ${n} registros archivados purgados (hasta ${through})`);
  };

  return {
    run() {
      let latest: ArchiveManifest | undefined;
      for (let m = archiveOnce(); m !== undefined; m = archiveOnce()) latest = m;
      purge();
      return latest;
    },
    status() {
      const a = last();
      return { ultimo: a?.manifest ?? null, hastaSeq: a?.last_seq ?? 0, purgadosHastaSeq: log.chainStart().seq - 1 };
    },
  };
}

function writeAtomic(path: string, bytes: Buffer): void {
  writeFileSync(`${path}.tmp`, bytes, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}
