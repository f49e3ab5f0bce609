/**
 * The message log's journal (`messagelog.journal`): the point of record of a serving node's SQLite
 * log. A batch of records is one `write(2)` of length-prefixed, checksummed frames to a file opened
 * O_APPEND; an append resolves once its frame is written, and SQLite (the log's index and the
 * place every reader looks) is filled right behind it, off the exchange's path (message-log.ts).
 * Durability is SQLite's with `synchronous = NORMAL` in WAL mode, which the log had before: a
 * written frame survives the process (kill -9), not a power cut. At start the frames SQLite lacks
 * are inserted before anything else runs (message-log.ts, recoverJournal); the file is emptied
 * whenever SQLite has every frame in it and the file has grown past RESET_BYTES.
 *
 * A frame holds the row exactly as it will be stored (already hashed and sealed: the journal holds
 * no clear body the database would not hold), the signing certificate when the row is the first
 * to refer to it, and the keys of the data-subject index.
 *
 * Frame format 1 (part of the storage format; never change it, add a version):
 *   0x4A 0x01 | u32be payload length | u32be CRC-32 of the payload | payload
 *   payload = u32be JSON length | JSON array (below) | message bytes | signature bytes
 *   JSON = [seq, side, direction, message_id, client, service, user_id, convenio, finalidad, at,
 *           fault, signer_cert_sha256, prev_hash, hash, message_sha256, signature_sha256, key_id,
 *           body_kept, sig_cert, message length, signature is text (0|1), certificate base64 | null,
 *           [subject index keys, hex]]
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writevSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { MiisError } from '../../core/errors.js';

/** The values of one `messages` row, in the INSERT's column order (message-log.ts). */
export type RowParams = [
  seq: number, side: string, direction: string, messageId: string, client: string, service: string,
  userId: string | null, convenio: string | null, finalidad: string | null, at: string, fault: string | null,
  signerCertSha256: string, message: Buffer, signature: string | Buffer, prevHash: string, hash: string,
  messageSha256: string, signatureSha256: string, keyId: string | null, bodyKept: 0 | 1, sigCert: string | null,
];

/** A record ready to store: its row, the certificate row it introduces, its subject-index keys. */
export interface PreparedRow {
  readonly params: RowParams;
  /** base64 of the signing certificate whose id is params[20], when this row is the first to refer to it here. */
  readonly certB64: string | undefined;
  readonly subjectMacs: readonly Buffer[];
}

export const FRAME_MAGIC = 0x4a;
export const FRAME_VERSION = 1;
const HEADER_BYTES = 10;
/** Largest payload a frame may declare: a 2 MiB message sealed, its signature and metadata fit many times over. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Empty the file once SQLite holds every frame and the file is at least this long. */
export const RESET_BYTES = 4 * 1024 * 1024;

const MESSAGE = 12;
const SIGNATURE = 13;

/** One row as a frame (header and payload pieces, for one writev). */
export function encodeFrame(row: PreparedRow): Buffer[] {
  const p = row.params;
  const signature = typeof p[SIGNATURE] === 'string' ? Buffer.from(p[SIGNATURE], 'utf8') : p[SIGNATURE];
  const json = Buffer.from(JSON.stringify([
    p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[14], p[15], p[16], p[17], p[18], p[19], p[20],
    p[MESSAGE].length, typeof p[SIGNATURE] === 'string' ? 1 : 0, row.certB64 ?? null, row.subjectMacs.map((m) => m.toString('hex')),
  ]), 'utf8');
  const head = Buffer.allocUnsafe(HEADER_BYTES + 4);
  head.writeUInt32BE(json.length, HEADER_BYTES);
  const length = 4 + json.length + p[MESSAGE].length + signature.length;
  let crc = crc32(head.subarray(HEADER_BYTES));
  crc = crc32(json, crc);
  crc = crc32(p[MESSAGE], crc);
  crc = crc32(signature, crc);
  head[0] = FRAME_MAGIC;
  head[1] = FRAME_VERSION;
  head.writeUInt32BE(length, 2);
  head.writeUInt32BE(crc, 6);
  return [head, json, p[MESSAGE], signature];
}

const str = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** The row of one frame's payload; undefined when the payload is not a format-1 row. */
function decodePayload(payload: Buffer): PreparedRow | undefined {
  if (payload.length < 4) return undefined;
  const jsonLength = payload.readUInt32BE(0);
  if (jsonLength > payload.length - 4) return undefined;
  let a: unknown;
  try {
    a = JSON.parse(payload.toString('utf8', 4, 4 + jsonLength));
  } catch {
    return undefined;
  }
  if (!Array.isArray(a) || a.length !== 23) return undefined;
  const [seq, side, direction, messageId, client, service, userId, convenio, finalidad, at, fault, signerCertSha256,
    prevHash, hash, messageSha256, signatureSha256, keyId, bodyKept, sigCert, messageLength, sigIsText, certB64, macs] = a as unknown[];
  if (!Number.isSafeInteger(seq) || (seq as number) < 1 || !Number.isSafeInteger(messageLength) || (messageLength as number) < 0) return undefined;
  if (![side, direction, messageId, client, service, at, signerCertSha256, prevHash, hash, messageSha256, signatureSha256].every(str)) return undefined;
  if (![userId, convenio, finalidad, fault, keyId, sigCert, certB64].every(strOrNull)) return undefined;
  if ((bodyKept !== 0 && bodyKept !== 1) || (sigIsText !== 0 && sigIsText !== 1) || !Array.isArray(macs) || !macs.every(str)) return undefined;
  const bodyStart = 4 + jsonLength;
  if ((messageLength as number) > payload.length - bodyStart) return undefined;
  const message = Buffer.from(payload.subarray(bodyStart, bodyStart + (messageLength as number)));
  const sigBytes = payload.subarray(bodyStart + (messageLength as number));
  const signature = sigIsText === 1 ? sigBytes.toString('utf8') : Buffer.from(sigBytes);
  return {
    params: [seq as number, side as string, direction as string, messageId as string, client as string, service as string,
      userId as string | null, convenio as string | null, finalidad as string | null, at as string, fault as string | null,
      signerCertSha256 as string, message, signature, prevHash as string, hash as string, messageSha256 as string,
      signatureSha256 as string, keyId as string | null, bodyKept as 0 | 1, sigCert as string | null],
    certB64: (certB64 as string | null) ?? undefined,
    subjectMacs: (macs as string[]).map((m) => Buffer.from(m, 'hex')),
  };
}

/** What a journal file holds: its rows in order, and where the whole frames end. */
export interface JournalContents {
  readonly rows: PreparedRow[];
  /** Bytes of whole, valid frames from the start of the file. */
  readonly validBytes: number;
  /** Bytes after them: a frame cut short by a crash in the middle of its write. */
  readonly tornBytes: number;
}

/**
 * Read a journal's frames. A last frame that stops short (a write cut by a crash) is reported in
 * `tornBytes`; a whole frame that is damaged (bad header, checksum or content) is an error naming
 * its offset, as the records after it could not be trusted either.
 */
export function decodeJournal(buf: Buffer, path: string): JournalContents {
  const rows: PreparedRow[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < HEADER_BYTES) break; // torn header
    const damaged = (what: string): MiisError => new MiisError('Config.MessageLogJournal',
      `${path}: ${what} en el byte ${at}; guarde una copia del archivo y de messagelog.db, y consulte la guía del operador (§4, «Diario del registro»)`);
    if (buf[at] !== FRAME_MAGIC || buf[at + 1] !== FRAME_VERSION) throw damaged('un registro sin la marca del formato 1');
    const length = buf.readUInt32BE(at + 2);
    if (length > MAX_FRAME_BYTES) throw damaged(`un registro que declara ${length} bytes (máximo ${MAX_FRAME_BYTES})`);
    if (buf.length - at - HEADER_BYTES < length) break; // torn payload
    const payload = buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length);
    if (crc32(payload) !== buf.readUInt32BE(at + 6)) throw damaged('un registro con la suma de control alterada');
    const row = decodePayload(payload);
    if (row === undefined) throw damaged('un registro con un contenido que no es el del formato 1');
    rows.push(row);
    at += HEADER_BYTES + length;
  }
  return { rows, validBytes: at, tornBytes: buf.length - at };
}

export interface Journal {
  /** Bytes in the file now. */
  readonly bytes: number;
  /** Write these rows as one batch; returns the bytes written. On failure the file is cut back to its length before, and it throws. */
  write(rows: readonly PreparedRow[]): number;
  /** Empty the file (every frame in it is in SQLite). */
  reset(): void;
  close(): void;
}

/** Open (creating) the journal for appending, after `read` returned its contents. */
export function openJournal(path: string): { journal: Journal; contents: JournalContents } {
  const fd = openSync(path, 'a+', 0o600);
  let bytes = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(bytes);
  for (let off = 0; off < bytes;) {
    const n = readSync(fd, buf, off, bytes - off, off);
    if (n === 0) break;
    off += n;
  }
  let contents: JournalContents;
  try {
    contents = decodeJournal(buf, path);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (contents.tornBytes > 0) {
    ftruncateSync(fd, contents.validBytes);
    bytes = contents.validBytes;
  }
  let open = true;
  return {
    contents,
    journal: {
      get bytes() {
        return bytes;
      },
      write(rows) {
        const pieces: Buffer[] = [];
        let total = 0;
        for (const row of rows) {
          for (const piece of encodeFrame(row)) {
            pieces.push(piece);
            total += piece.length;
          }
        }
        let written = 0;
        try {
          // a regular file takes a whole writev unless the disk fills: a short write is the same failure
          while (written < total) {
            const n = writevSync(fd, written === 0 ? pieces : [Buffer.concat(pieces).subarray(written)]);
            if (n === 0) throw new Error('no se pudo escribir en el diario del registro (0 bytes escritos)');
            written += n;
          }
        } catch (err) {
          if (written > 0) ftruncateSync(fd, bytes);
          throw err;
        }
        bytes += total;
        return total;
      },
      reset() {
        ftruncateSync(fd, 0);
        bytes = 0;
      },
      close() {
        if (!open) return;
        open = false;
        closeSync(fd);
      },
    },
  };
}
