/**
 * The index of data subjects (titulares, Ley 29733): which logged requests concerned which
 * person, so the entity can answer "who consulted my data?" without reading (or decrypting) the
 * message bodies. An identifier is never stored: the table `subject_index` (messagelog.db,
 * migration 6) holds HMAC-SHA-256(key, "dni:<8 digits>") next to the record's seq, written in the
 * same transaction as the record (message-log.ts). The key is per node, in
 * keys/subject-index-key (random 32 bytes, base64, mode 0600): without it the index cannot be
 * searched by guessing DNIs (only 10^8 of them). Losing it makes the index unreadable (back up keys/).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MiisError } from '../../core/errors.js';

export const SUBJECT_KEY_FILE = 'subject-index-key';

export function subjectKeyPath(dir: string): string {
  return join(dir, 'keys', SUBJECT_KEY_FILE);
}

/** The node's subject-index key, created (0600, in keys/ 0700) when missing. */
export function ensureSubjectKey(dir: string): Buffer {
  const path = subjectKeyPath(dir);
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }
  const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new MiisError('Config.InvalidInput', `la clave del índice de titulares (${path}) no tiene 32 bytes`);
  return key;
}

/** The index key of a DNI (8 digits, canonical). */
export function subjectMac(key: Buffer, dni: string): Buffer {
  return createHmac('sha256', key).update(`dni:${dni}`, 'utf8').digest();
}
