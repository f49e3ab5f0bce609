/**
 * The central's data directory: layout, `init`, and loading what the other commands need.
 *
 *   <dir>/central.db          registry (SQLite, WAL)
 *   <dir>/ca.pem              instance CA certificate
 *   <dir>/anchor.pem          global-configuration signing certificate (the nodes' anchor)
 *   <dir>/keys/ca-key.pem     CA private key (0600)
 *   <dir>/keys/conf-key.pem   conf-signing private key (0600)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MiisError } from '../../core/errors.js';
import type { CaMaterial, KeyAlgorithm } from '../../core/pki.js';
import { createSigner } from '../../core/signature.js';
import type { Signer } from '../../core/signature.js';
import { createInstancePki, registerInstancePki } from './ca.js';
import { SETTING } from '../registry/rules.js';
import { openSqliteRegistryStore } from '../registry/store.js';
import type { RegistryStore } from '../registry/store.js';

export interface CentralPaths {
  readonly dir: string;
  readonly db: string;
  readonly keysDir: string;
  readonly caKey: string;
  readonly confKey: string;
  readonly caCert: string;
  readonly anchor: string;
}

export const DEFAULT_OPERATOR_NAME = 'MIDIS - Direccion General de Focalizacion';
const INSTANCE = /^[A-Za-z0-9._\-]{1,64}$/;

export function centralPaths(dir: string): CentralPaths {
  const root = resolve(dir);
  const keysDir = join(root, 'keys');
  return {
    dir: root,
    db: join(root, 'central.db'),
    keysDir,
    caKey: join(keysDir, 'ca-key.pem'),
    confKey: join(keysDir, 'conf-key.pem'),
    caCert: join(root, 'ca.pem'),
    anchor: join(root, 'anchor.pem'),
  };
}

function writeNewFile(path: string, content: string, mode: number): void {
  try {
    writeFileSync(path, content, { mode, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new MiisError('Config.Duplicate', `el archivo ${path}; no se sobrescribe`);
    throw err;
  }
  chmodSync(path, mode); // exact mode whatever the umask
}

/** Create the directory, the database, the CA and the conf-signing key and certificate. */
export async function initCentralDir(opts: {
  dir: string;
  instance: string;
  operatorName?: string;
  keyAlgorithm: KeyAlgorithm;
  now: Date;
  actor: string;
}): Promise<CentralPaths> {
  if (!INSTANCE.test(opts.instance)) {
    throw new MiisError('Config.InvalidIdentifier', `instancia no válida: «${opts.instance}» (p. ej. PE)`);
  }
  const paths = centralPaths(opts.dir);
  if (existsSync(paths.db) || existsSync(paths.caKey) || existsSync(paths.confKey)) {
    throw new MiisError('Config.Duplicate', `un directorio central inicializado en ${paths.dir}`);
  }
  const operatorName = opts.operatorName ?? DEFAULT_OPERATOR_NAME;
  const pki = await createInstancePki({ instance: opts.instance, operatorName, keyAlgorithm: opts.keyAlgorithm, now: opts.now });
  mkdirSync(paths.keysDir, { recursive: true, mode: 0o700 });
  chmodSync(paths.keysDir, 0o700);
  writeNewFile(paths.caKey, pki.caKeys.privateKeyPem, 0o600);
  writeNewFile(paths.confKey, pki.confKeys.privateKeyPem, 0o600);
  writeNewFile(paths.caCert, pki.caCertPem, 0o644);
  writeNewFile(paths.anchor, pki.confCertPem, 0o644);
  const store = openSqliteRegistryStore(paths.db);
  try {
    registerInstancePki(store, { instance: opts.instance, operatorName, keyAlgorithm: opts.keyAlgorithm, pki }, { actor: opts.actor, at: opts.now });
  } finally {
    store.close();
  }
  return paths;
}

/** Open the registry of an initialised directory. */
export function openCentralStore(paths: CentralPaths): RegistryStore {
  if (!existsSync(paths.db)) {
    throw new MiisError('Config.NotInitialized', `no hay directorio central en ${paths.dir}; ejecute primero «miis-central init --dir ${paths.dir} --instance PE»`);
  }
  return openSqliteRegistryStore(paths.db);
}

function readKey(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new MiisError('Config.NotInitialized', `no se puede leer la clave ${path}`);
  }
}

function requireSetting(store: RegistryStore, key: string): string {
  const value = store.getSetting(key);
  if (value === undefined) throw new MiisError('Config.NotInitialized', `falta el ajuste ${key} en la base de datos del directorio central`);
  return value;
}

export function loadCaMaterial(paths: CentralPaths, store: RegistryStore): CaMaterial {
  return { certPem: requireSetting(store, SETTING.caCertPem), privateKeyPem: readKey(paths.caKey) };
}

export function loadConfSigner(paths: CentralPaths, store: RegistryStore): Signer {
  return createSigner(readKey(paths.confKey), requireSetting(store, SETTING.confCertPem));
}

export function readAnchorPem(store: RegistryStore): string {
  return requireSetting(store, SETTING.confCertPem);
}

export function readCaCertPem(store: RegistryStore): string {
  return requireSetting(store, SETTING.caCertPem);
}
