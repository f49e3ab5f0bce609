/**
 * Which engine holds the node's databases (node.json `database`, node/store/node-config.ts):
 * SQLite files in the node folder (default: node.db, messagelog.db) or one PostgreSQL database,
 * where the node store lives in schema `miis_node` and the message log in `miis_log`. Several
 * instances of one node may share the PostgreSQL database; each names itself with `instanceId`
 * (its own hash chain in the message log). The password never comes from node.json text shown to
 * anyone: it is read from an environment variable or a file, and URLs are shown without it.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { MiisError } from '../../core/errors.js';
import { redactPgUrl } from '../../runtime/pg.js';
import { readNodeConfig, type DatabaseConfig } from './node-config.js';

export const PG_NODE_SCHEMA = 'miis_node';
export const PG_LOG_SCHEMA = 'miis_log';

export type ResolvedDatabase =
  | { readonly engine: 'sqlite' }
  | {
    readonly engine: 'postgresql';
    /** The URL as configured (no password unless the operator put one there). */
    readonly url: string;
    readonly password: string | undefined;
    readonly instanceId: string;
    /** The URL without password, for messages. */
    readonly display: string;
  };

/** The configured database of a node folder, with the password read from its source. */
export function resolveDatabase(dir: string, config: DatabaseConfig | undefined = readNodeConfig(dir).database, env: NodeJS.ProcessEnv = process.env): ResolvedDatabase {
  if (config === undefined || config.engine === 'sqlite') return { engine: 'sqlite' };
  let password: string | undefined;
  if (config.passwordEnv !== undefined) {
    password = env[config.passwordEnv];
    if (password === undefined) throw new MiisError('Config.InvalidInput', `database.passwordEnv: la variable de entorno ${config.passwordEnv} no está definida`);
  } else if (config.passwordFile !== undefined) {
    const file = isAbsolute(config.passwordFile) ? config.passwordFile : join(dir, config.passwordFile);
    try {
      password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new MiisError('Config.InvalidInput', `database.passwordFile: no se puede leer ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return { engine: 'postgresql', url: config.url, password, instanceId: config.instanceId ?? defaultInstanceId(), display: redactPgUrl(config.url) };
}

/** The host name, trimmed to what an instance id may hold. */
export function defaultInstanceId(): string {
  return hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'nodo';
}

/** One line for `config get` and start-up messages (never the password). */
export function describeDatabase(config: DatabaseConfig | undefined): string {
  if (config === undefined || config.engine === 'sqlite') return 'sqlite (node.db, messagelog.db)';
  const source = config.passwordEnv !== undefined ? `, contraseña en $${config.passwordEnv}` : config.passwordFile !== undefined ? `, contraseña en ${config.passwordFile}` : '';
  return `postgresql ${redactPgUrl(config.url)}${config.instanceId === undefined ? '' : `, instancia ${config.instanceId}`}${source}`;
}
