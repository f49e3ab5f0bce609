/**
 * How a provider node answers a local service: the `proxy` adapter (forward to the entity's SOAP
 * backend) or the declarative `sql` adapter (a parameterised query against SQLite or PostgreSQL;
 * the node builds the SOAP response itself). Settings are stored with the service in node.db;
 * this module parses and checks them (no I/O beyond reading the config file the CLI is given).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { MiisError } from '../../core/errors.js';

export const ADAPTER_KINDS = ['proxy', 'sql', 'rest'] as const;
export type AdapterKind = (typeof ADAPTER_KINDS)[number];

export interface ProxySettings {
  readonly kind: 'proxy';
  /** PEM file of the CA that issued the backend's TLS certificate (https backends). */
  readonly caFile?: string;
  /** Largest backend response accepted (bytes); default: the node's message limit. */
  readonly maxResponseBytes?: number;
}

/** A derived attribute: a comparison with a threshold, a category from bands, or a value map — never the raw value. */
export type Derivation =
  | { readonly threshold: number; readonly op: '>=' | '>' | '<=' | '<' }
  | { readonly bands: readonly { readonly below?: number; readonly value: string }[] }
  | { readonly map: Readonly<Record<string, string>>; readonly otherwise?: string };

export interface SqlAttribute {
  /** Result column. */
  readonly column: string;
  /** Response element name. */
  readonly element: string;
  readonly derive?: Derivation;
  /** Sensitive personal data (Ley 29733: income, health, biometrics…): for the message-log rules. */
  readonly sensible?: boolean;
}

export interface SqlAdapterConfig {
  /** SQLite file (absolute once stored) or a PostgreSQL connection string. */
  readonly database: { readonly sqlite: string } | { readonly postgres: string };
  /** Request operation element (local name), e.g. consultarIngresos. */
  readonly operation: string;
  /** Namespace of the response element. */
  readonly namespace: string;
  /** Repeated record element inside the operation (e.g. afiliacion); absent = the id elements are direct children. */
  readonly items?: string;
  /** Request element with the identifier (one or many per request). */
  readonly id: string;
  /** Other request fields bound as named parameters: parameter → element local name (inside the item). */
  readonly params?: Readonly<Record<string, string>>;
  /** SQL with named parameters :id (per-id), :ids (in-list), :name for params, and :_client, :_userId, :_now, :_today. */
  readonly query: string;
  readonly mode: 'per-id' | 'in-list';
  /** Column holding the identifier in result rows (required in in-list mode). */
  readonly idColumn?: string;
  /** True for INSERT/UPDATE/DELETE: each item answers `response.changed` = whether a row changed. */
  readonly write: boolean;
  readonly response: { readonly element: string; readonly item: string; readonly found: string; readonly changed?: string };
  readonly attributes: readonly SqlAttribute[];
  /** Largest number of ids per request the adapter accepts (protects the database); default 1000. */
  readonly maxIds: number;
  /** Query timeout (PostgreSQL statement_timeout), ms; default 10000. */
  readonly timeoutMs: number;
}

export interface SqlSettings {
  readonly kind: 'sql';
  readonly config: SqlAdapterConfig;
}

/** A REST service (X-Road message protocol for REST, node/adapters/rest.ts): the backend URL is its base URL. */
export interface RestSettings {
  readonly kind: 'rest';
  /** OpenAPI 3 description (JSON or YAML file, absolute path) served by the getOpenAPI metaservice. */
  readonly openapi?: string;
  /** PEM file of the CA that issued the backend's TLS certificate (https backends). */
  readonly caFile?: string;
  /** Largest backend response accepted (bytes); default: the node's message limit. */
  readonly maxResponseBytes?: number;
}

export type AdapterSettings = ProxySettings | SqlSettings | RestSettings;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const PARAM = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

const invalid = (where: string, detail: string): MiisError => new MiisError('Config.InvalidAdapter', `${where}: ${detail}`);

function obj(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(where, 'se espera un objeto JSON');
  return v as Record<string, unknown>;
}

function name(v: unknown, where: string): string {
  if (typeof v !== 'string' || !NAME.test(v)) throw invalid(where, 'se espera un nombre de elemento o columna (letras, dígitos, _ . -)');
  return v;
}

function onlyKeys(o: Record<string, unknown>, where: string, keys: readonly string[]): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw invalid(where, `clave desconocida «${extra[0] as string}» (se admiten: ${keys.join(', ')})`);
}

function parseDerivation(v: unknown, where: string): Derivation {
  const d = obj(v, where);
  if (d.threshold !== undefined) {
    onlyKeys(d, where, ['threshold', 'op']);
    if (typeof d.threshold !== 'number' || !Number.isFinite(d.threshold)) throw invalid(`${where}.threshold`, 'se espera un número');
    const op = d.op ?? '>=';
    if (op !== '>=' && op !== '>' && op !== '<=' && op !== '<') throw invalid(`${where}.op`, 'se espera >=, >, <= o <');
    return { threshold: d.threshold, op };
  }
  if (d.bands !== undefined) {
    onlyKeys(d, where, ['bands']);
    if (!Array.isArray(d.bands) || d.bands.length === 0) throw invalid(`${where}.bands`, 'se espera una lista de tramos');
    let last = -Infinity;
    const bands = d.bands.map((b, i) => {
      const band = obj(b, `${where}.bands[${i}]`);
      onlyKeys(band, `${where}.bands[${i}]`, ['below', 'value']);
      if (typeof band.value !== 'string' || band.value.length === 0) throw invalid(`${where}.bands[${i}].value`, 'se espera un texto');
      if (band.below === undefined) {
        if (i !== (d.bands as unknown[]).length - 1) throw invalid(`${where}.bands[${i}]`, 'solo el último tramo puede no tener «below»');
        return { value: band.value };
      }
      if (typeof band.below !== 'number' || band.below <= last) throw invalid(`${where}.bands[${i}].below`, 'los límites deben ser números crecientes');
      last = band.below;
      return { below: band.below, value: band.value };
    });
    return { bands };
  }
  if (d.map !== undefined) {
    onlyKeys(d, where, ['map', 'otherwise']);
    const m = obj(d.map, `${where}.map`);
    for (const [k, val] of Object.entries(m)) if (typeof val !== 'string') throw invalid(`${where}.map.${k}`, 'se espera un texto');
    if (d.otherwise !== undefined && typeof d.otherwise !== 'string') throw invalid(`${where}.otherwise`, 'se espera un texto');
    return { map: m as Record<string, string>, ...(d.otherwise === undefined ? {} : { otherwise: d.otherwise as string }) };
  }
  throw invalid(where, 'se espera threshold, bands o map');
}

const CONFIG_KEYS = ['database', 'operation', 'namespace', 'items', 'id', 'params', 'query', 'mode', 'idColumn', 'write', 'response', 'attributes', 'sensible', 'maxIds', 'timeoutMs'];

/**
 * Check a sql adapter configuration (parsed JSON). A relative SQLite path is resolved against
 * `baseDir` (the config file's folder). Throws Config.InvalidAdapter naming the bad field.
 */
export function parseSqlAdapterConfig(value: unknown, baseDir: string): SqlAdapterConfig {
  const c = obj(value, 'configuración');
  onlyKeys(c, 'configuración', CONFIG_KEYS);
  const db = obj(c.database, 'database');
  let database: SqlAdapterConfig['database'];
  if (typeof db.sqlite === 'string' && db.postgres === undefined) {
    database = { sqlite: isAbsolute(db.sqlite) ? db.sqlite : resolve(baseDir, db.sqlite) };
  } else if (typeof db.postgres === 'string' && db.sqlite === undefined) {
    if (!/^postgres(ql)?:\/\//.test(db.postgres)) throw invalid('database.postgres', 'se espera una cadena de conexión postgresql://usuario@servidor:puerto/base');
    database = { postgres: db.postgres };
  } else {
    throw invalid('database', 'indique exactamente uno de «sqlite» (ruta del archivo) o «postgres» (cadena de conexión)');
  }
  if (typeof c.namespace !== 'string' || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(c.namespace)) throw invalid('namespace', 'se espera un URI de espacio de nombres');
  const mode = c.mode ?? 'per-id';
  if (mode !== 'per-id' && mode !== 'in-list') throw invalid('mode', 'se espera «per-id» o «in-list»');
  const write = c.write ?? false;
  if (typeof write !== 'boolean') throw invalid('write', 'se espera true o false');
  if (typeof c.query !== 'string' || c.query.trim().length === 0) throw invalid('query', 'se espera la consulta SQL');
  if (mode === 'in-list' && !/:ids\b/.test(c.query)) throw invalid('query', 'en modo in-list la consulta usa :ids, p. ej. WHERE dni IN (:ids)');
  if (mode === 'per-id' && /:ids\b/.test(c.query)) throw invalid('query', ':ids solo se usa en modo in-list');
  if (mode === 'in-list' && write) throw invalid('mode', 'una escritura se hace en modo per-id');
  const params: Record<string, string> = {};
  if (c.params !== undefined) {
    for (const [k, v] of Object.entries(obj(c.params, 'params'))) {
      if (!PARAM.test(k) || k === 'id' || k === 'ids') throw invalid(`params.${k}`, 'nombre de parámetro no válido (no use id ni ids)');
      params[k] = name(v, `params.${k}`);
    }
  }
  if (mode === 'in-list' && Object.keys(params).length > 0) throw invalid('params', 'en modo in-list solo se usa :ids');
  const r = obj(c.response, 'response');
  onlyKeys(r, 'response', ['element', 'item', 'found', 'changed']);
  const response = {
    element: name(r.element ?? `${name(c.operation, 'operation')}Response`, 'response.element'),
    item: name(r.item ?? 'resultado', 'response.item'),
    found: name(r.found ?? 'encontrado', 'response.found'),
    ...(write ? { changed: name(r.changed ?? 'registrado', 'response.changed') } : {}),
  };
  if (!Array.isArray(c.attributes)) throw invalid('attributes', 'se espera una lista (puede estar vacía)');
  const extraSensitive = c.sensible === undefined ? [] : (Array.isArray(c.sensible) ? c.sensible : [c.sensible]).map((s, i) => name(s, `sensible[${i}]`));
  const attributes = c.attributes.map((a, i): SqlAttribute => {
    const at = obj(a, `attributes[${i}]`);
    onlyKeys(at, `attributes[${i}]`, ['column', 'element', 'derive', 'sensible']);
    const element = name(at.element ?? at.column, `attributes[${i}].element`);
    if (at.sensible !== undefined && typeof at.sensible !== 'boolean') throw invalid(`attributes[${i}].sensible`, 'se espera true o false');
    return {
      column: name(at.column, `attributes[${i}].column`), element,
      ...(at.derive === undefined ? {} : { derive: parseDerivation(at.derive, `attributes[${i}].derive`) }),
      ...(at.sensible === true || extraSensitive.includes(element) ? { sensible: true } : {}),
    };
  });
  if (write && attributes.length > 0) throw invalid('attributes', 'una escritura no devuelve atributos');
  const maxIds = c.maxIds ?? 1000;
  if (typeof maxIds !== 'number' || !Number.isSafeInteger(maxIds) || maxIds < 1 || maxIds > 100_000) throw invalid('maxIds', 'se espera un entero de 1 a 100000');
  const timeoutMs = c.timeoutMs ?? 10_000;
  if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 100) throw invalid('timeoutMs', 'se espera un entero ≥ 100');
  const idColumn = c.idColumn === undefined ? undefined : name(c.idColumn, 'idColumn');
  if (mode === 'in-list' && idColumn === undefined) throw invalid('idColumn', 'en modo in-list indique la columna con el identificador');
  return {
    database, operation: name(c.operation, 'operation'), namespace: c.namespace, ...(c.items === undefined ? {} : { items: name(c.items, 'items') }),
    id: name(c.id, 'id'), ...(Object.keys(params).length === 0 ? {} : { params }), query: c.query, mode, ...(idColumn === undefined ? {} : { idColumn }),
    write, response, attributes, maxIds, timeoutMs,
  };
}

/** Read and check a sql adapter configuration file (JSON). */
export function readSqlAdapterConfig(path: string): SqlAdapterConfig {
  if (!existsSync(path)) throw new MiisError('Config.InvalidAdapter', `no existe el archivo de configuración ${path}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new MiisError('Config.InvalidAdapter', `${path} no es JSON válido: ${(err as Error).message}`);
  }
  return parseSqlAdapterConfig(json, dirname(resolve(path)));
}

/** Element names of the attributes flagged sensitive. */
export function sensitiveAttributes(settings: AdapterSettings | undefined): string[] {
  return settings?.kind === 'sql' ? settings.config.attributes.filter((a) => a.sensible === true).map((a) => a.element) : [];
}

/** Settings as stored in node.db (JSON), and back. */
export function serializeAdapterSettings(s: AdapterSettings): string {
  return JSON.stringify(s);
}

export function parseStoredAdapterSettings(text: string | null): AdapterSettings | undefined {
  if (text === null || text === '') return undefined;
  const v = JSON.parse(text) as AdapterSettings;
  if (v.kind === 'sql') return { kind: 'sql', config: parseSqlAdapterConfig(v.config, '/') };
  return v;
}

export interface AdapterCliOptions {
  readonly backend?: string;
  readonly adapter?: string;
  readonly sqlConfig?: string;
  readonly backendCa?: string;
  readonly maxResponse?: string;
  readonly openapi?: string;
}

/**
 * `miis-node service add` options → backend URL and stored adapter settings. `checkUrl` validates
 * an http(s) URL (the CLI's own parser). Throws Config.InvalidInput / Config.InvalidAdapter.
 */
export function adapterFromCliOptions(o: AdapterCliOptions, checkUrl: (url: string) => string): { backendUrl: string; adapter: string | undefined; summary: string } {
  const kind = o.adapter ?? 'proxy';
  if (kind !== 'proxy' && kind !== 'sql' && kind !== 'rest') throw new MiisError('Config.InvalidInput', `adaptador desconocido «${kind}»: use proxy, sql o rest`);
  if (kind !== 'rest' && o.openapi !== undefined) throw new MiisError('Config.InvalidInput', '--openapi es del adaptador rest (use --adapter rest)');
  if (kind === 'sql') {
    if (o.sqlConfig === undefined) throw new MiisError('Config.InvalidInput', 'el adaptador sql necesita --sql-config <archivo.json>');
    if (o.backend !== undefined || o.backendCa !== undefined || o.maxResponse !== undefined) {
      throw new MiisError('Config.InvalidInput', '--backend, --backend-ca y --max-response son del adaptador proxy');
    }
    const config = readSqlAdapterConfig(o.sqlConfig);
    const where = 'sqlite' in config.database ? `SQLite ${config.database.sqlite}` : 'PostgreSQL';
    return { backendUrl: '', adapter: serializeAdapterSettings({ kind: 'sql', config }), summary: `adaptador sql (${where}, ${config.operation})` };
  }
  if (o.sqlConfig !== undefined) throw new MiisError('Config.InvalidInput', '--sql-config es del adaptador sql (use --adapter sql)');
  if (o.backend === undefined) throw new MiisError('Config.InvalidInput', `el adaptador ${kind} necesita --backend <url>`);
  const backendUrl = checkUrl(o.backend);
  let caFile: string | undefined;
  if (o.backendCa !== undefined) {
    caFile = resolve(o.backendCa);
    if (!existsSync(caFile)) throw new MiisError('Config.InvalidAdapter', `no existe el certificado de CA ${caFile}`);
    if (!backendUrl.startsWith('https:')) throw new MiisError('Config.InvalidInput', '--backend-ca solo tiene sentido con un backend https');
  }
  let maxResponseBytes: number | undefined;
  if (o.maxResponse !== undefined) {
    maxResponseBytes = Number(o.maxResponse);
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1024) throw new MiisError('Config.InvalidInput', `tamaño máximo no válido: «${o.maxResponse}» (bytes, mínimo 1024)`);
  }
  if (kind === 'rest') {
    let openapi: string | undefined;
    if (o.openapi !== undefined) {
      openapi = resolve(o.openapi);
      if (!existsSync(openapi)) throw new MiisError('Config.InvalidAdapter', `no existe la descripción OpenAPI ${openapi}`);
    }
    const rest: RestSettings = { kind: 'rest', ...(openapi === undefined ? {} : { openapi }), ...(caFile === undefined ? {} : { caFile }), ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }) };
    return { backendUrl, adapter: serializeAdapterSettings(rest), summary: `adaptador rest (${backendUrl})` };
  }
  const settings: ProxySettings = { kind: 'proxy', ...(caFile === undefined ? {} : { caFile }), ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }) };
  const plain = caFile === undefined && maxResponseBytes === undefined;
  return { backendUrl, adapter: plain ? undefined : serializeAdapterSettings(settings), summary: backendUrl };
}

/** A one-line description for `service list`. */
export function describeAdapter(backendUrl: string, stored: string | undefined): string {
  try {
    const s = parseStoredAdapterSettings(stored ?? null);
    if (s?.kind === 'sql') return `sql: ${'sqlite' in s.config.database ? s.config.database.sqlite : 'postgresql'}`;
    if (s?.kind === 'rest') return `rest: ${backendUrl}${s.caFile === undefined ? '' : ` (CA ${s.caFile})`}`;
    return s?.caFile === undefined ? backendUrl : `${backendUrl} (CA ${s.caFile})`;
  } catch {
    return `${backendUrl} (configuración ilegible)`;
  }
}

/** Hide the password of a connection string (postgresql://user:secret@host → postgresql://user:***@host) before showing it. */
export function redactSecrets(text: string): string {
  return text.replace(/(postgres(?:ql)?:\/\/[^:/@\s"]+):[^@\s"]+@/g, '$1:***@');
}
