/**
 * At-rest encryption of the message log: AES-256-GCM under a node key ring kept in
 * <node dir>/keys/log-keys.json (mode 0600). Every sealed value names the key it was sealed with,
 * so rotation adds a key and makes it active while old keys stay to read old records.
 *
 *   sealed = iv (12 bytes) || ciphertext || tag (16 bytes); AAD binds it to its record.
 *
 * Each key carries a check value (SHA-256 of a fixed label and the key, 16 hex chars), so a
 * damaged key file is detected and named when it is loaded, not when a record fails to open.
 *
 * IVs. `createLogCipher` draws a random 96-bit IV per seal (safe far below 2^32 seals per key).
 * The message log seals one value per record (two in logs written before format 2), so it uses `withIvCounter`: a 96-bit IV made of
 *   a 32-bit random prefix drawn once per cipher object (per process and key) ||
 *   a 64-bit counter from blocks reserved in durable storage *before* any IV of the block is used
 *   (the counter in memory only moves forward; a crash skips the rest of a block, never repeats it).
 * The persisted counter alone makes IVs unique per key across processes and restarts (each block
 * is handed out once by a committed transaction); the random prefix additionally covers a
 * database rolled back to an older copy (a repeat then needs the same 32-bit prefix as well).
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
  /**
   * The key ring this cipher was made from, for worker threads of this process that open records
   * themselves (log verify). Never written anywhere or logged.
   */
  readonly keyRing: LogKeyFile;
  /** Seal one value; given several parts, seals their concatenation. */
  seal(plain: Uint8Array | readonly Uint8Array[], aad: string): Buffer;
  /** Throws MiisError naming the key when it is unknown or the value was altered. */
  open(keyId: string, sealed: Uint8Array, aad: string): Buffer;
  /**
   * The same key ring, sealing with counter IVs (see the file comment). `reserve(keyId, n)` must
   * durably hand out [start, start + n) of that key's counter and return start.
   */
  withIvCounter(reserve: (keyId: string, count: number) => bigint): CountingLogCipher;
}

export interface CountingLogCipher extends LogCipher {
  /** Make sure `count` more seals can use reserved IVs (call outside any transaction that may roll back). */
  ensureIvs(count: number): void;
}

const IV_BLOCK = 4096;
const MAX_COUNTER = (1n << 64n) - 1n;

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
  const activeAadPrefix = `${file.active}|`;
  const sealWith = (iv: Buffer, plain: Uint8Array | readonly Uint8Array[], aad: string): Buffer => {
    const c = crypto.createCipheriv('aes-256-gcm', active, iv);
    c.setAAD(Buffer.from(activeAadPrefix + aad));
    // one update over the joined parts: each update call costs more than copying ~2 KB (stop 18)
    const ct = c.update(plain instanceof Uint8Array ? plain : Buffer.concat(plain));
    return Buffer.concat([iv, ct, c.final(), c.getAuthTag()]);
  };
  const open = (keyId: string, sealed: Uint8Array, aad: string): Buffer => {
    const key = keys.get(keyId);
    if (key === undefined) throw new MiisError('Config.InvalidInput', `falta la clave ${keyId} del registro para descifrar`);
    if (sealed.length < 28) throw new MiisError('Config.InvalidInput', 'el contenido cifrado está truncado');
    const buf = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed);
    try {
      const d = crypto.createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      d.setAAD(Buffer.from(`${keyId}|${aad}`));
      d.setAuthTag(buf.subarray(buf.length - 16));
      const plain = d.update(buf.subarray(12, buf.length - 16));
      d.final(); // checks the tag; GCM has no bytes left to give here
      return plain;
    } catch {
      throw new MiisError('Config.InvalidInput', `el contenido cifrado fue alterado o no corresponde a la clave ${keyId}`);
    }
  };
  const cipher: LogCipher = {
    activeKeyId: file.active,
    keyRing: file,
    seal: (plain, aad) => sealWith(crypto.randomBytes(12), plain, aad),
    open,
    withIvCounter(reserve) {
      const prefix = crypto.randomBytes(4);
      let next = 0n;
      let end = 0n; // [next, end) reserved and unused
      const take = (n: number): void => {
        const start = reserve(file.active, n);
        if (start < 0n || start + BigInt(n) > MAX_COUNTER) throw new MiisError('Config.InvalidInput', `el contador de IV de la clave ${file.active} se agotó: rote la clave del registro`);
        next = start;
        end = start + BigInt(n);
      };
      return {
        activeKeyId: file.active,
        keyRing: file,
        open,
        withIvCounter: cipher.withIvCounter,
        ensureIvs(count) {
          if (end - next < BigInt(count)) take(Math.max(count, IV_BLOCK));
        },
        seal(plain, aad) {
          if (next >= end) take(IV_BLOCK);
          const iv = Buffer.allocUnsafe(12);
          prefix.copy(iv, 0);
          iv.writeBigUInt64BE(next, 4);
          next += 1n;
          return sealWith(iv, plain, aad);
        },
      };
    },
  };
  return cipher;
}
