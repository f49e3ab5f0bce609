/**
 * At-rest encryption of the message log: AES-256-GCM under a node key ring kept in
 * <node dir>/keys/log-keys.json (mode 0600). Every sealed value names the key it was sealed with,
 * so rotation adds a key and makes it active while old keys stay to read old records.
 *
 *   sealed = iv (12 bytes) || ciphertext || tag (16 bytes); AAD binds it to its record.
 *
 * Each key carries a check value (SHA-256 of a fixed label and the key, 16 hex chars), so a
 * damaged key file is detected and named when it is loaded, not when a record fails to open.
 */
import * as crypto from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { MiisError } from '../../core/errors.js';

export const LOG_KEYS_FORMAT = 'miis-log-keys/1' as const;

export interface LogKeyEntry {
  readonly id: string;
  /** base64 of 32 bytes. */
  readonly key: string;
  readonly check: string;
  readonly createdAt: string;
}

export interface LogKeyFile {
  readonly format: typeof LOG_KEYS_FORMAT;
  readonly active: string;
  readonly keys: readonly LogKeyEntry[];
}

export interface LogCipher {
  readonly activeKeyId: string;
  seal(plain: Uint8Array, aad: string): Buffer;
  /** Throws MiisError naming the key when it is unknown or the value was altered. */
  open(keyId: string, sealed: Uint8Array, aad: string): Buffer;
}

const KEY_ID = /^k[0-9]{1,6}$/;

function keyCheck(key: Buffer): string {
  return crypto.createHash('sha256').update('miis-log-key-check/1\n').update(key).digest('hex').slice(0, 16);
}

function damaged(path: string, what: string): MiisError {
  return new MiisError('Config.InvalidInput', `el archivo de claves del registro ${path} está dañado: ${what}`);
}

export function readLogKeyFile(path: string): LogKeyFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MiisError('Config.NotInitialized', `falta el archivo de claves del registro ${path}`);
    throw damaged(path, 'no es JSON válido');
  }
  const f = parsed as Partial<LogKeyFile>;
  if (f.format !== LOG_KEYS_FORMAT || !Array.isArray(f.keys) || typeof f.active !== 'string') throw damaged(path, 'formato desconocido');
  for (const k of f.keys) {
    if (typeof k?.id !== 'string' || !KEY_ID.test(k.id) || typeof k.key !== 'string') throw damaged(path, 'entrada de clave no válida');
    const raw = Buffer.from(k.key, 'base64');
    if (raw.length !== 32 || raw.toString('base64') !== k.key) throw damaged(path, `la clave ${k.id} no tiene 32 bytes en base64`);
    if (keyCheck(raw) !== k.check) throw damaged(path, `la clave ${k.id} no coincide con su valor de control`);
  }
  if (!f.keys.some((k) => k.id === f.active)) throw damaged(path, `la clave activa ${f.active} no existe`);
  return f as LogKeyFile;
}

function writeKeyFile(path: string, file: LogKeyFile): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function newEntry(id: string, now: Date): LogKeyEntry {
  const key = crypto.randomBytes(32);
  return { id, key: key.toString('base64'), check: keyCheck(key), createdAt: now.toISOString() };
}

/** Create the key file with one key when it does not exist; returns the file either way. */
export function ensureLogKeyFile(path: string, now: Date): LogKeyFile {
  if (existsSync(path)) return readLogKeyFile(path);
  const file: LogKeyFile = { format: LOG_KEYS_FORMAT, active: 'k1', keys: [newEntry('k1', now)] };
  writeKeyFile(path, file);
  return file;
}

/** Add a new key and make it active; old keys stay for reading old records. */
export function rotateLogKey(path: string, now: Date): string {
  const file = readLogKeyFile(path);
  const next = Math.max(...file.keys.map((k) => Number(k.id.slice(1)))) + 1;
  const id = `k${next}`;
  writeKeyFile(path, { format: LOG_KEYS_FORMAT, active: id, keys: [...file.keys, newEntry(id, now)] });
  return id;
}

export function createLogCipher(file: LogKeyFile): LogCipher {
  const keys = new Map(file.keys.map((k) => [k.id, Buffer.from(k.key, 'base64')] as const));
  const active = keys.get(file.active)!;
  return {
    activeKeyId: file.active,
    seal(plain, aad) {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', active, iv);
      c.setAAD(Buffer.from(`${file.active}|${aad}`));
      const body = Buffer.concat([c.update(plain), c.final()]);
      return Buffer.concat([iv, body, c.getAuthTag()]);
    },
    open(keyId, sealed, aad) {
      const key = keys.get(keyId);
      if (key === undefined) throw new MiisError('Config.InvalidInput', `falta la clave ${keyId} del registro para descifrar`);
      if (sealed.length < 28) throw new MiisError('Config.InvalidInput', 'el contenido cifrado está truncado');
      const buf = Buffer.from(sealed);
      try {
        const d = crypto.createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
        d.setAAD(Buffer.from(`${keyId}|${aad}`));
        d.setAuthTag(buf.subarray(buf.length - 16));
        return Buffer.concat([d.update(buf.subarray(12, buf.length - 16)), d.final()]);
      } catch {
        throw new MiisError('Config.InvalidInput', `el contenido cifrado fue alterado o no corresponde a la clave ${keyId}`);
      }
    },
  };
}
