/**
 * `<dir>/node.json`: the node's operational settings (addresses, ports, central URL, metrics
 * listener), validated with zod; errors in Spanish name the offending key. The identity (instance,
 * member, node name, key algorithm) and the clients, services and access rights stay in node.db.
 *
 * Migration is transparent: a node initialised before node.json existed keeps its addresses in
 * node.db; the file, when present, overrides them, and the first `config set` (or
 * `anchor import --url`) writes it with the values in force.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { MiisError } from '../../core/errors.js';

export const NODE_CONFIG_FILE = 'node.json';

const port = (what: string) => z.int({ error: `${what}: debe ser un número entero` }).min(0, { error: `${what}: debe estar entre 0 y 65535` }).max(65535, { error: `${what}: debe estar entre 0 y 65535` });
const host = z.string({ error: 'debe ser una dirección IP o un nombre de host' }).regex(/^[A-Za-z0-9.:_-]{1,255}$/, { error: 'debe ser una dirección IP o un nombre de host (sin espacios ni barras)' });
const httpUrl = z.string({ error: 'debe ser una URL http(s)' }).refine((v) => {
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, { error: 'debe ser una URL http:// o https:// (p. ej. http://127.0.0.1:4400)' });

const pgUrl = z.string({ error: 'debe ser una URL postgres://' }).refine((v) => {
  try {
    return ['postgres:', 'postgresql:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}, { error: 'debe ser una URL postgres://usuario@servidor:5432/base (la contraseña, mejor en passwordEnv o passwordFile)' });

/** Where node.db and messagelog.db live: SQLite files in the node folder (default) or a PostgreSQL database. */
export const DATABASE_SCHEMA = z.discriminatedUnion('engine', [
  z.strictObject({ engine: z.literal('sqlite') }),
  z.strictObject({
    engine: z.literal('postgresql'),
    url: pgUrl,
    /** Name of an environment variable holding the password. */
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'debe ser el nombre de una variable de entorno' }).optional(),
    /** A file (absolute, or relative to the node folder) holding the password. */
    passwordFile: z.string().min(1).optional(),
    /** This instance's name in a database shared by several instances (its own hash chain); default: the host name. */
    instanceId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'debe tener de 1 a 64 letras, dígitos, «.», «_» o «-»' }).optional(),
  }),
], { error: 'engine debe ser «sqlite» o «postgresql»' });

export type DatabaseConfig = z.infer<typeof DATABASE_SCHEMA>;

export const NODE_CONFIG_SCHEMA = z.strictObject({
  isHost: host.optional(),
  isPort: port('puerto').optional(),
  proxyHost: host.optional(),
  proxyPort: port('puerto').optional(),
  centralUrl: httpUrl.optional(),
  metricsHost: host.optional(),
  /** null or absent: no metrics listener. */
  metricsPort: port('puerto').nullable().optional(),
  database: DATABASE_SCHEMA.optional(),
});

export type NodeConfig = z.infer<typeof NODE_CONFIG_SCHEMA>;
export type NodeConfigKey = keyof NodeConfig;

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
function describeIssues(error: z.ZodError, file: string): string {
  const lines = error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') return `clave desconocida ${i.keys.map((k) => `«${k}»`).join(', ')} (claves válidas: ${Object.keys(NODE_CONFIG_KEYS).join(', ')})`;
    const at = i.path.length === 0 ? '(raíz)' : `«${i.path.map(String).join('.')}»`;
    return `${at}: ${i.path.length === 0 ? 'el archivo debe contener un objeto JSON' : i.message}`;
  });
  return `${file}: ${lines.join('; ')}`;
}

export function validateNodeConfig(value: unknown, file = NODE_CONFIG_FILE): NodeConfig {
  const r = NODE_CONFIG_SCHEMA.safeParse(value);
  if (!r.success) throw new MiisError('Config.InvalidInput', describeIssues(r.error, file));
  return r.data;
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
