/**
 * Online backup and restore of a node or central data folder, as one archive file.
 *
 * Every SQLite database in the folder is copied with SQLite's online backup API (better-sqlite3
 * `db.backup()`): a consistent copy while the service keeps writing. Every other file (keys,
 * certificates, log keys, settings, archives) is copied as it is; -wal/-shm/-journal and *.tmp
 * files are left out (the backup of the database already holds their content).
 *
 * Archive (miis-backup/1): JSON lines, UTF-8. Line 1: {"format","kind","createdAt","version",
 * "files"}; then one line per file: {"path","mode","sha256","data": base64}.
 * Encrypted (miis-backup-encrypted/1): one JSON object {"format","kdf":{"name":"scrypt","salt",
 * "N","r","p"},"iv","tag","data"} with the archive encrypted by AES-256-GCM under a key derived
 * from a passphrase (given through an environment variable, never on the command line).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import Database from 'better-sqlite3';
import { MiisError } from '../core/errors.js';

export const BACKUP_FORMAT = 'miis-backup/1';
export const ENCRYPTED_BACKUP_FORMAT = 'miis-backup-encrypted/1';
export const PASSPHRASE_ENV = 'MIIS_BACKUP_PASSPHRASE';
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const SKIP = /(-wal|-shm|-journal|\.tmp)$/;
const SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;

export interface BackupEntry {
  readonly path: string;
  readonly mode: number;
  readonly data: Buffer;
}

export interface BackupSummary {
  readonly files: number;
  readonly databases: number;
  readonly bytes: number;
}

function isSqlite(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    return readSync(fd, head, 0, 16, 0) === 16 && head.equals(SQLITE_MAGIC);
  } finally {
    closeSync(fd);
  }
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...walk(path));
    else if (st.isFile() && !SKIP.test(name)) out.push(path);
  }
  return out;
}

/** Consistent copy of every file of `dir` (SQLite databases through the online backup API). */
export async function collectBackup(dir: string): Promise<{ entries: BackupEntry[]; databases: number }> {
  if (!existsSync(dir)) throw new MiisError('Config.NotFound', `la carpeta ${dir}`);
  const scratch = mkdtempSync(join(tmpdir(), 'miis-backup-'));
  try {
    const entries: BackupEntry[] = [];
    let databases = 0;
    for (const path of walk(dir)) {
      const rel = relative(dir, path).split(sep).join('/');
      const mode = statSync(path).mode & 0o777;
      if (isSqlite(path)) {
        const copy = join(scratch, `${databases}.db`);
        const db = new Database(path, { readonly: true, fileMustExist: true });
        try {
          await db.backup(copy);
        } finally {
          db.close();
        }
        databases += 1;
        entries.push({ path: rel, mode, data: readFileSync(copy) });
      } else {
        entries.push({ path: rel, mode, data: readFileSync(path) });
      }
    }
    return { entries, databases };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function encodeArchive(kind: string, version: string, createdAt: Date, entries: readonly BackupEntry[]): Buffer {
  const header = { format: BACKUP_FORMAT, kind, createdAt: createdAt.toISOString(), version, files: entries.map((e) => e.path) };
  const lines = [JSON.stringify(header), ...entries.map((e) => JSON.stringify({ path: e.path, mode: e.mode, sha256: createHash('sha256').update(e.data).digest('hex'), data: e.data.toString('base64') }))];
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

export function decodeArchive(bytes: Buffer): { kind: string; createdAt: string; version: string; entries: BackupEntry[] } {
  const bad = (why: string) => new MiisError('Config.InvalidInput', `copia de respaldo no válida: ${why}`);
  const lines = bytes.toString('utf8').split('\n').filter((l) => l !== '');
  let header: { format?: unknown; kind?: unknown; createdAt?: unknown; version?: unknown; files?: unknown };
  try {
    header = JSON.parse(lines[0] ?? '') as typeof header;
  } catch {
    throw bad('no empieza con una cabecera JSON');
  }
  if (header.format !== BACKUP_FORMAT) throw bad(`formato «${String(header.format)}» (se espera ${BACKUP_FORMAT})`);
  const entries = lines.slice(1).map((line, i) => {
    const e = JSON.parse(line) as { path?: unknown; mode?: unknown; sha256?: unknown; data?: unknown };
    if (typeof e.path !== 'string' || e.path.startsWith('/') || e.path.split('/').includes('..') || e.path === '') throw bad(`ruta no válida en el archivo ${i + 1}`);
    if (typeof e.data !== 'string' || typeof e.mode !== 'number') throw bad(`archivo ${e.path} incompleto`);
    const data = Buffer.from(e.data, 'base64');
    if (createHash('sha256').update(data).digest('hex') !== e.sha256) throw bad(`el archivo ${e.path} está dañado (SHA-256 distinto)`);
    return { path: e.path, mode: e.mode & 0o777, data };
  });
  if (JSON.stringify(entries.map((e) => e.path)) !== JSON.stringify(header.files)) throw bad('la lista de archivos no coincide con la cabecera (¿archivo truncado?)');
  return { kind: String(header.kind), createdAt: String(header.createdAt), version: String(header.version), entries };
}

export function encryptArchive(plain: Buffer, passphrase: string): Buffer {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = scryptSync(passphrase, salt, 32, { ...SCRYPT, maxmem: 64 * 1024 * 1024 });
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.from(JSON.stringify({
    format: ENCRYPTED_BACKUP_FORMAT, kdf: { name: 'scrypt', salt: salt.toString('base64'), ...SCRYPT },
    iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64'),
  }), 'utf8');
}

export function isEncryptedArchive(bytes: Buffer): boolean {
  return bytes.subarray(0, 200).toString('utf8').includes(`"format":"${ENCRYPTED_BACKUP_FORMAT}"`);
}

export function decryptArchive(bytes: Buffer, passphrase: string): Buffer {
  const env = JSON.parse(bytes.toString('utf8')) as { kdf: { salt: string; N: number; r: number; p: number }; iv: string; tag: string; data: string };
  const key = scryptSync(passphrase, Buffer.from(env.kdf.salt, 'base64'), 32, { N: env.kdf.N, r: env.kdf.r, p: env.kdf.p, maxmem: 256 * 1024 * 1024 });
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(env.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(env.data, 'base64')), decipher.final()]);
  } catch {
    throw new MiisError('Config.InvalidInput', 'no se pudo descifrar la copia de respaldo: frase de paso incorrecta o archivo alterado');
  }
}

function passphraseFrom(env: Readonly<Record<string, string | undefined>>): string {
  const p = env[PASSPHRASE_ENV];
  if (p === undefined || p.length < 12) throw new MiisError('Config.InvalidInput', `defina la frase de paso (12 caracteres o más) en la variable de entorno ${PASSPHRASE_ENV}; nunca se pasa en la línea de comandos`);
  return p;
}

/** `backup --out file [--encrypt]`. */
export async function writeBackup(opts: { dir: string; out: string; kind: string; version: string; now: Date; encrypt: boolean; env: Readonly<Record<string, string | undefined>> }): Promise<BackupSummary> {
  const passphrase = opts.encrypt ? passphraseFrom(opts.env) : undefined;
  const { entries, databases } = await collectBackup(opts.dir);
  const plain = encodeArchive(opts.kind, opts.version, opts.now, entries);
  const bytes = passphrase === undefined ? plain : encryptArchive(plain, passphrase);
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, bytes, { mode: 0o600 });
  return { files: entries.length, databases, bytes: bytes.length };
}

/** `restore --from file --dir D`: D must be absent or empty. */
export function restoreBackup(opts: { from: string; dir: string; kind: string; env: Readonly<Record<string, string | undefined>> }): { files: number; createdAt: string; version: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(opts.from);
  } catch {
    throw new MiisError('Config.NotFound', `la copia de respaldo ${opts.from}`);
  }
  if (isEncryptedArchive(bytes)) bytes = decryptArchive(bytes, passphraseFrom(opts.env));
  const archive = decodeArchive(bytes);
  if (archive.kind !== opts.kind) throw new MiisError('Config.InvalidInput', `la copia es de un ${archive.kind === 'central' ? 'directorio central' : 'nodo'}, no de un ${opts.kind === 'central' ? 'directorio central' : 'nodo'}`);
  if (existsSync(opts.dir) && readdirSync(opts.dir).length > 0) throw new MiisError('Config.Duplicate', `la carpeta ${opts.dir} no está vacía; restaure en una carpeta nueva o vacía`);
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  for (const e of archive.entries) {
    const path = join(opts.dir, ...e.path.split('/'));
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, e.data, { mode: e.mode });
    chmodSync(path, e.mode);
  }
  return { files: archive.entries.length, createdAt: archive.createdAt, version: archive.version };
}
