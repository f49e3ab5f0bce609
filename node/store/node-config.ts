/**
 * `<dir>/node.json`: the node's operational settings (addresses, ports, central URL, metrics
 * listener, database), validated here; errors in Spanish name the offending key. The identity
 * (instance, member, node name, key algorithm) and the clients, services and access rights stay
 * in node.db.
 *
 * The validator is hand-written, not a schema library: node.json is operator configuration (a
 * small, fixed set of keys written by `config set` or by the operator, not input from the network),
 * and zod alone was ~7 MB of every node process's resident memory (docs/performance-log.md, «Memory»).
 * It keeps zod's semantics where they were observable: keys checked in declaration order, then
 * the unknown keys; every failed check of a key reported; output keys in declaration order.
 *
 * Migration is transparent: a node initialised before node.json existed keeps its addresses in
 * node.db; the file, when present, overrides them, and the first `config set` (or
 * `anchor import --url`) writes it with the values in force.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiisError } from '../../core/errors.js';

export const NODE_CONFIG_FILE = 'node.json';

/** Where node.db and messagelog.db live: SQLite files in the node folder (default) or a PostgreSQL database. */
export type DatabaseConfig =
  | { engine: 'sqlite' }
  | {
    engine: 'postgresql';
    url: string;
    /** Name of an environment variable holding the password. */
    passwordEnv?: string;
    /** A file (absolute, or relative to the node folder) holding the password. */
    passwordFile?: string;
    /** This instance's name in a database shared by several instances (its own hash chain); default: the host name. */
    instanceId?: string;
  };

export interface NodeConfig {
  isHost?: string;
  isPort?: number;
  proxyHost?: string;
  proxyPort?: number;
  centralUrl?: string;
  metricsHost?: string;
  /** null or absent: no metrics listener. */
  metricsPort?: number | null;
  database?: DatabaseConfig;
}
export type NodeConfigKey = keyof NodeConfig;

/** One problem found: the key path and the Spanish message, or unknown keys of the object at `path`. */
type Issue = { readonly path: readonly string[]; readonly message: string } | { readonly path: readonly string[]; readonly unknown: readonly string[]; readonly known: readonly string[] };
/** A check of one value: undefined when valid, else the messages (all failed checks, in order). */
type Check = (v: unknown) => string[] | undefined;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const port: Check = (v) => {
  if (typeof v !== 'number' || Number.isNaN(v)) return ['puerto: debe ser un número entero'];
  const m: string[] = [];
  if (!Number.isSafeInteger(v)) m.push('puerto: debe ser un número entero');
  if (v < 0 || v > 65535) m.push('puerto: debe estar entre 0 y 65535');
  return m.length === 0 ? undefined : m;
};

const HOST = /^[A-Za-z0-9.:_-]{1,255}$/;
const host: Check = (v) => {
  if (typeof v !== 'string') return ['debe ser una dirección IP o un nombre de host'];
  return HOST.test(v) ? undefined : ['debe ser una dirección IP o un nombre de host (sin espacios ni barras)'];
};

function hasProtocol(v: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(v).protocol);
  } catch {
    return false;
  }
}

const httpUrl: Check = (v) => {
  if (typeof v !== 'string') return ['debe ser una URL http(s)'];
  return hasProtocol(v, ['http:', 'https:']) ? undefined : ['debe ser una URL http:// o https:// (p. ej. http://127.0.0.1:4400)'];
};

const pgUrl: Check = (v) => {
  if (typeof v !== 'string') return ['debe ser una URL postgres://'];
  return hasProtocol(v, ['postgres:', 'postgresql:']) ? undefined : ['debe ser una URL postgres://usuario@servidor:5432/base (la contraseña, mejor en passwordEnv o passwordFile)'];
};

const matching = (re: RegExp, message: string): Check => (v) => (typeof v === 'string' && re.test(v) ? undefined : [message]);
const nonEmptyText: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : ['debe ser una ruta de archivo (texto no vacío)']);

/**
 * The checks of a strict object: every key of `fields` (optional, in this order), then unknown keys.
 * Returns the valid value (keys in declaration order) or undefined with `issues` appended.
 */
function strictObject(value: Record<string, unknown>, fields: Readonly<Record<string, { check: Check; required?: boolean }>>, path: readonly string[], issues: Issue[], nested?: Readonly<Record<string, (v: unknown, at: readonly string[], issues: Issue[]) => unknown>>): Record<string, unknown> | undefined {
  const before = issues.length;
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(fields)) {
    const v = value[key];
    if (v === undefined && !f.required) {
      if (key in value) out[key] = undefined;
      continue;
    }
    const messages = f.check(v);
    if (messages === undefined) out[key] = v;
    else for (const message of messages) issues.push({ path: [...path, key], message });
  }
  for (const [key, parse] of Object.entries(nested ?? {})) {
    if (value[key] === undefined) {
      if (key in value) out[key] = undefined;
      continue;
    }
    out[key] = parse(value[key], [...path, key], issues);
  }
  const known = [...Object.keys(fields), ...Object.keys(nested ?? {})];
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  if (unknown.length > 0) issues.push({ path, unknown, known });
  return issues.length === before ? out : undefined;
}

const ENGINE_MESSAGE = 'engine debe ser «sqlite» o «postgresql»';
const SQLITE_FIELDS = { engine: { check: () => undefined, required: true } };
const POSTGRESQL_FIELDS = {
  engine: { check: () => undefined, required: true },
  url: { check: pgUrl, required: true },
  passwordEnv: { check: matching(/^[A-Za-z_][A-Za-z0-9_]*$/, 'debe ser el nombre de una variable de entorno') },
  passwordFile: { check: nonEmptyText },
  instanceId: { check: matching(/^[A-Za-z0-9._-]{1,64}$/, 'debe tener de 1 a 64 letras, dígitos, «.», «_» o «-»') },
};

function database(value: unknown, path: readonly string[], issues: Issue[]): DatabaseConfig | undefined {
  if (!isObject(value)) {
    issues.push({ path, message: ENGINE_MESSAGE });
    return undefined;
  }
  const fields = value.engine === 'sqlite' ? SQLITE_FIELDS : value.engine === 'postgresql' ? POSTGRESQL_FIELDS : undefined;
  if (fields === undefined) {
    issues.push({ path: [...path, 'engine'], message: ENGINE_MESSAGE });
    return undefined;
  }
  return strictObject(value, fields, path, issues) as DatabaseConfig | undefined;
}

const NODE_CONFIG_FIELDS = {
  isHost: { check: host },
  isPort: { check: port },
  proxyHost: { check: host },
  proxyPort: { check: port },
  centralUrl: { check: httpUrl },
  metricsHost: { check: host },
  metricsPort: { check: (v: unknown) => (v === null ? undefined : port(v)) },
};

/** Each key: what it is and whether a running node applies a change without restarting. */
export const NODE_CONFIG_KEYS: Readonly<Record<NodeConfigKey, { readonly live: boolean; readonly description: string }>> = {
  isHost: { live: false, description: 'dirección del puerto SOAP para los sistemas de información' },
  isPort: { live: false, description: 'puerto SOAP para los sistemas de información (y /health, /wsdl/)' },
  proxyHost: { live: false, description: 'dirección para otros nodos (TLS mutuo)' },
  proxyPort: { live: true, description: 'puerto para otros nodos (TLS mutuo): el nodo en marcha escucha también en el nuevo y deja el anterior con «systemctl reload» (ver «miis-node address set»)' },
  centralUrl: { live: true, description: 'URL de central (configuración global); el nodo la usa en la siguiente descarga' },
  metricsHost: { live: false, description: 'dirección del puerto de métricas (por omisión 127.0.0.1)' },
  metricsPort: { live: false, description: 'puerto de GET /metrics (Prometheus); vacío o null = desactivado' },
  database: { live: false, description: 'base de datos del nodo, en JSON: {"engine":"sqlite"} (por omisión) o {"engine":"postgresql","url":"postgres://…","passwordEnv":"…"}' },
};

export function nodeConfigPath(dir: string): string {
  return join(dir, NODE_CONFIG_FILE);
}

/** Spanish, one issue per line, each naming its key path. */
function describeIssues(issues: readonly Issue[], file: string): string {
  const lines = issues.map((i) => {
    const at = i.path.length === 0 ? '(raíz)' : `«${i.path.join('.')}»`;
    if ('unknown' in i) return `${i.path.length === 0 ? '' : `${at}: `}clave desconocida ${i.unknown.map((k) => `«${k}»`).join(', ')} (claves válidas: ${i.known.join(', ')})`;
    return `${at}: ${i.message}`;
  });
  return `${file}: ${lines.join('; ')}`;
}

export function validateNodeConfig(value: unknown, file = NODE_CONFIG_FILE): NodeConfig {
  if (!isObject(value)) throw new MiisError('Config.InvalidInput', `${file}: (raíz): el archivo debe contener un objeto JSON`);
  const issues: Issue[] = [];
  const valid = strictObject(value, NODE_CONFIG_FIELDS, [], issues, { database });
  if (valid === undefined) throw new MiisError('Config.InvalidInput', describeIssues(issues, file));
  return valid as NodeConfig;
}

/** node.json of a node folder, validated; {} when the file does not exist. */
export function readNodeConfig(dir: string): NodeConfig {
  const path = nodeConfigPath(dir);
  if (!existsSync(path)) return {};
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new MiisError('Config.InvalidInput', `${path}: no es JSON válido (${(err as Error).message})`);
  }
  return validateNodeConfig(value, path);
}

export function writeNodeConfig(dir: string, config: NodeConfig): void {
  const valid = validateNodeConfig(config);
  const path = nodeConfigPath(dir);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(valid, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

/** The value given on the command line for one key («config set»), typed and validated. */
export function parseNodeConfigValue(key: string, text: string): { key: NodeConfigKey; value: NodeConfig[NodeConfigKey] } {
  if (!(key in NODE_CONFIG_KEYS)) throw new MiisError('Config.InvalidInput', `clave desconocida «${key}» (claves válidas: ${Object.keys(NODE_CONFIG_KEYS).join(', ')})`);
  const k = key as NodeConfigKey;
  let value: unknown = text;
  if (k === 'isPort' || k === 'proxyPort' || k === 'metricsPort') {
    value = k === 'metricsPort' && (text === '' || text === 'null') ? null : /^-?\d+$/.test(text) ? Number(text) : text;
  }
  if (k === 'database') {
    try {
      value = JSON.parse(text);
    } catch {
      throw new MiisError('Config.InvalidInput', 'database: el valor debe ser JSON, p. ej. {"engine":"postgresql","url":"postgres://miis@db:5432/miis","passwordEnv":"MIIS_DB_PASSWORD"}');
    }
  }
  const parsed = validateNodeConfig({ [k]: value }, 'valor');
  // the same spelling as «anchor import --url» stores
  if (k === 'centralUrl' && typeof parsed.centralUrl === 'string') return { key: k, value: new URL(parsed.centralUrl).toString() };
  return { key: k, value: parsed[k] };
}
