/**
 * The declarative `sql` adapter: the request's identifiers (one or many) go into a parameterised
 * query against a SQLite file or a PostgreSQL database; the node writes the SOAP response itself
 * (headers echoed byte for byte), mapping columns to elements and deriving attributes (threshold,
 * bands, value map) so that a raw value such as an income never leaves the node.
 */
import Database from 'better-sqlite3';
import { MiisError } from '../../core/errors.js';
import { escapeXml, formatClientId } from '../../core/identifiers.js';
import { readSoapMessage, type SoapMessage, type XRoadHeader } from '../../core/soap.js';
import type { XmlElement } from '../../core/xml.js';
import type { Derivation, SqlAdapterConfig, SqlAttribute } from './settings.js';
import { renderEchoResponse } from './soap-response.js';
import { bindValues, compileQuery, queryParams, type CompiledQuery } from './sql-query.js';
import { limaDate } from '../../core/iso-date.js';
import { inPgTransaction, loadPg, type PgClient } from '../../runtime/pg.js';

export interface SqlEngine {
  readonly name: 'sqlite' | 'postgres';
  select(q: CompiledQuery, values: unknown[]): Promise<Record<string, unknown>[]>;
  /** One statement per values list, all in one transaction; rows changed by each. */
  writeAll(q: CompiledQuery, valuesList: readonly unknown[][]): Promise<number[]>;
  /**
   * writeAll for one chunk of a batch, at most once: the chunk's key and the rows changed go into
   * APPLIED_TABLE in the same transaction as the writes; a chunk already there is not applied again
   * and its stored counts come back (`replayed`). See docs/operator-guide.md «Lotes».
   */
  writeChunkOnce(q: CompiledQuery, valuesList: readonly unknown[][], key: ChunkKey, at: string): Promise<{ changes: number[]; replayed: boolean }>;
  /** Result columns of a read query, or throws when the statement does not compile. */
  describe(q: CompiledQuery, write: boolean): Promise<string[]>;
  close(): Promise<void>;
}

/** Identifies a batch chunk in the backend's own database (the writes and this key commit together). */
export interface ChunkKey {
  readonly batchId: string;
  readonly client: string;
  readonly chunk: number;
}

/**
 * The table a writing sql adapter keeps in the service's database (created if absent): one row per
 * batch chunk applied, written in the transaction of the chunk's writes, so a provider killed after
 * that commit but before node.db records the chunk does not apply it twice when the chunk comes again.
 */
export const APPLIED_TABLE = 'miis_lote_trozos_aplicados';
const APPLIED_DDL = `CREATE TABLE IF NOT EXISTS ${APPLIED_TABLE} (lote TEXT NOT NULL, cliente TEXT NOT NULL, trozo INTEGER NOT NULL,
  cambios TEXT NOT NULL, aplicado_en TEXT NOT NULL, PRIMARY KEY (lote, cliente, trozo))`;
/**
 * Sessions that run CREATE TABLE IF NOT EXISTS at once (the first chunks of a first batch, two
 * provider nodes) collide in PostgreSQL's catalog: the losers get 23505 (nearly every time), 42P07 or
 * 42710 (measured: one of the last two in ~1 round in 5 with four sessions). Run in a transaction, a
 * transaction-scoped advisory lock makes them take turns (as runtime/pg-migrations.ts does); the
 * next one in sees the committed table and does nothing.
 */
async function createAppliedTable(client: PgClient): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`miis-tabla:${APPLIED_TABLE}`]);
  await client.query(APPLIED_DDL);
}
/** One chunk's writes and its key (in the caller's transaction); a key already there answers with its stored counts. */
async function applyChunkOnce(client: PgClient, q: CompiledQuery, list: readonly unknown[][], key: ChunkKey, at: string): Promise<{ changes: number[]; replayed: boolean }> {
  // the key first: a concurrent twin waits on the primary key and then sees the row
  const ins = await client.query({ text: `INSERT INTO ${APPLIED_TABLE} (lote, cliente, trozo, cambios, aplicado_en) VALUES ($1,$2,$3,'',$4) ON CONFLICT DO NOTHING`, values: [key.batchId, key.client, key.chunk, at] });
  if ((ins.rowCount ?? 0) === 0) {
    const prev = await client.query({ text: `SELECT cambios FROM ${APPLIED_TABLE} WHERE lote = $1 AND cliente = $2 AND trozo = $3`, values: [key.batchId, key.client, key.chunk] });
    return { changes: decodeChanges(String((prev.rows[0] as { cambios: string }).cambios)), replayed: true };
  }
  const changes: number[] = [];
  for (const v of list) changes.push((await client.query({ text: q.text, values: v })).rowCount ?? 0);
  await client.query({ text: `UPDATE ${APPLIED_TABLE} SET cambios = $4 WHERE lote = $1 AND cliente = $2 AND trozo = $3`, values: [key.batchId, key.client, key.chunk, encodeChanges(changes)] });
  return { changes, replayed: false };
}
/** Rows changed per record, stored compactly (one decimal count per record, comma-separated). */
const encodeChanges = (changes: readonly number[]): string => changes.join(',');
const decodeChanges = (text: string): number[] => (text.length === 0 ? [] : text.split(',').map(Number));

export function openSqliteEngine(path: string, write: boolean, timeoutMs: number): SqlEngine {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: !write, fileMustExist: true });
  } catch (err) {
    throw new MiisError('Config.InvalidAdapter', `no se puede abrir la base SQLite ${path}: ${(err as Error).message}`);
  }
  db.pragma(`busy_timeout = ${timeoutMs}`);
  const cache = new Map<string, Database.Statement>();
  const prepare = (text: string): Database.Statement => {
    let s = cache.get(text);
    if (s === undefined) {
      s = db.prepare(text);
      if (cache.size > 200) cache.clear();
      cache.set(text, s);
    }
    return s;
  };
  return {
    name: 'sqlite',
    async select(q, values) {
      return prepare(q.text).all(...values) as Record<string, unknown>[];
    },
    async writeAll(q, list) {
      const stmt = prepare(q.text);
      return db.transaction(() => list.map((v) => stmt.run(...v).changes))();
    },
    async writeChunkOnce(q, list, key, at) {
      db.exec(APPLIED_DDL);
      const stmt = prepare(q.text);
      const seen = prepare(`SELECT cambios FROM ${APPLIED_TABLE} WHERE lote = ? AND cliente = ? AND trozo = ?`);
      const mark = prepare(`INSERT INTO ${APPLIED_TABLE} (lote, cliente, trozo, cambios, aplicado_en) VALUES (?,?,?,?,?)`);
      return db.transaction(() => {
        const prev = seen.get(key.batchId, key.client, key.chunk) as { cambios: string } | undefined;
        if (prev !== undefined) return { changes: decodeChanges(prev.cambios), replayed: true };
        const changes = list.map((v) => stmt.run(...v).changes);
        mark.run(key.batchId, key.client, key.chunk, encodeChanges(changes), at);
        return { changes, replayed: false };
      }).immediate();
    },
    async describe(q, isWrite) {
      const stmt = db.prepare(q.text);
      if (isWrite) {
        if (stmt.reader) throw new Error('la consulta devuelve filas pero el adaptador es de escritura (write: true)');
        return [];
      }
      if (!stmt.reader) throw new Error('la consulta no devuelve filas; para escrituras use write: true');
      return stmt.columns().map((c) => c.name);
    },
    async close() {
      db.close();
    },
  };
}

const PG_DATE = 1082;

export function openPostgresEngine(connectionString: string, timeoutMs: number): SqlEngine {
  const pg = loadPg();
  const pool = new pg.Pool({
    connectionString, max: 8, connectionTimeoutMillis: 5000, statement_timeout: timeoutMs, query_timeout: timeoutMs + 1000,
    types: { getTypeParser: ((oid: number, format?: string) => (oid === PG_DATE ? (v: string) => v : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
  });
  pool.on('error', () => undefined); // idle client errors surface on the next query
  /** APPLIED_TABLE exists (created by this engine's first chunk, or found); reset if creating failed. */
  let appliedReady: Promise<void> | undefined;
  const appliedTable = (): Promise<void> => (appliedReady ??= inPgTransaction(pool, createAppliedTable).catch((err: unknown) => {
    appliedReady = undefined;
    throw err;
  }));
  return {
    name: 'postgres',
    async select(q, values) {
      return (await pool.query({ text: q.text, values })).rows as Record<string, unknown>[];
    },
    writeAll: (q, list) => inPgTransaction(pool, async (client) => {
      const out: number[] = [];
      for (const v of list) out.push((await client.query({ text: q.text, values: v })).rowCount ?? 0);
      return out;
    }),
    async writeChunkOnce(q, list, key, at) {
      const apply = (): Promise<{ changes: number[]; replayed: boolean }> => inPgTransaction(pool, (client) => applyChunkOnce(client, q, list, key, at));
      await appliedTable();
      try {
        return await apply();
      } catch (err) {
        if ((err as { code?: string }).code !== '42P01') throw err;
        // the table was dropped while the node ran (an operator clearing it): made again, once
        appliedReady = undefined;
        await appliedTable();
        return apply();
      }
    },
    async describe(q, isWrite) {
      const client = await pool.connect();
      try {
        if (isWrite) {
          await client.query(`PREPARE miis_check AS ${q.text}`);
          await client.query('DEALLOCATE miis_check');
          return [];
        }
        const res = await client.query({ text: `SELECT * FROM (${q.text}) AS miis_q LIMIT 0`, values: q.names.map(() => null) });
        return res.fields.map((f) => f.name);
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}

// --- pure parts --------------------------------------------------------------------------------

/** The text of a derived or plain attribute, or undefined to leave the element out. */
export function renderValue(value: unknown, derive: Derivation | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (derive === undefined) {
    if (value instanceof Date) return value.toISOString();
    if (Buffer.isBuffer(value)) return value.toString('base64');
    return String(value);
  }
  if ('map' in derive) return derive.map[String(value)] ?? derive.otherwise;
  const n = typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : Number(String(value));
  if (!Number.isFinite(n)) return undefined;
  if ('threshold' in derive) {
    const t = derive.threshold;
    const r = derive.op === '>=' ? n >= t : derive.op === '>' ? n > t : derive.op === '<=' ? n <= t : n < t;
    return String(r);
  }
  return derive.bands.find((b) => b.below === undefined || n < b.below)?.value;
}

function renderAttributes(row: Record<string, unknown>, attributes: readonly SqlAttribute[]): string {
  let out = '';
  for (const a of attributes) {
    const text = renderValue(row[a.column], a.derive);
    if (text !== undefined) out += `<${a.element}>${escapeXml(text)}</${a.element}>`;
  }
  return out;
}

interface RequestItem {
  readonly id: string;
  readonly params: Readonly<Record<string, string | null>>;
}

class ServiceFault extends Error {}

function childText(el: XmlElement, local: string): string | undefined {
  const c = el.children.find((x) => x.local === local);
  return c === undefined ? undefined : c.text.trim();
}

/** The identifiers (and bound fields) of a request, per the adapter configuration. */
export function readItems(payload: XmlElement, c: SqlAdapterConfig): RequestItem[] {
  const fields = (el: XmlElement): Record<string, string | null> => {
    const out: Record<string, string | null> = {};
    for (const [param, element] of Object.entries(c.params ?? {})) out[param] = childText(el, element) ?? null;
    return out;
  };
  if (c.items !== undefined) {
    return payload.children.filter((x) => x.local === c.items).map((item) => {
      const id = childText(item, c.id);
      if (id === undefined || id.length === 0) throw new ServiceFault(`Solicitud no válida: falta el elemento ${c.id} en ${c.items}`);
      return { id, params: fields(item) };
    });
  }
  const shared = fields(payload);
  return payload.children.filter((x) => x.local === c.id).map((el) => {
    const id = el.text.trim();
    if (id.length === 0) throw new ServiceFault(`Solicitud no válida: el elemento ${c.id} está vacío`);
    return { id, params: shared };
  });
}

function renderFaultBody(prefix: string, message: string): string {
  return `<${prefix}Fault><faultcode>${prefix}Client</faultcode><faultstring>${escapeXml(message)}</faultstring></${prefix}Fault>`;
}

export interface SqlAdapter {
  readonly engine: SqlEngine;
  call(request: SoapMessage): Promise<SoapMessage>;
  /** Batch exchanges (lotes): many records at once, no SOAP (node/pipeline/batch-provider.ts). */
  bulk(records: readonly BulkRecord[], client: string, chunk?: ChunkKey): Promise<BulkAnswer[]>;
  readonly writes: boolean;
}

/** One record of a batch: its identifier and its other fields by element (field) name. */
export interface BulkRecord {
  readonly id: string;
  readonly fields: Readonly<Record<string, string>>;
}

/** The answer for one record: rows found (attributes by element name) or, for a writing service, whether a row changed. */
export type BulkAnswer = { readonly found: boolean; readonly rows: readonly Record<string, string>[] } | { readonly changed: boolean };

function rowAttributes(row: Record<string, unknown>, attributes: readonly SqlAttribute[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of attributes) {
    const text = renderValue(row[a.column], a.derive);
    if (text !== undefined) out[a.element] = text;
  }
  return out;
}

/** Build the adapter and check its configuration against the real database (Config.InvalidAdapter on any problem). */
export async function createSqlAdapter(c: SqlAdapterConfig, deps: { now: () => Date; maxMessageBytes: number; service: string }): Promise<SqlAdapter> {
  const engine = 'sqlite' in c.database ? openSqliteEngine(c.database.sqlite, c.write, c.timeoutMs) : openPostgresEngine(c.database.postgres, c.timeoutMs);
  const where = `servicio ${deps.service}`;
  try {
    const known = new Set(['id', '_client', '_userId', '_now', '_today', ...Object.keys(c.params ?? {})]);
    const unknown = queryParams(c.query).filter((p) => !known.has(p));
    if (unknown.length > 0) throw new Error(`la consulta usa :${unknown[0] as string}, que no es :id ni un parámetro de «params»`);
    let columns: string[];
    try {
      columns = await engine.describe(compileQuery(c.query, engine.name, 1), c.write);
    } catch (err) {
      throw new Error(`la consulta no es válida para la base de datos: ${(err as Error).message}`);
    }
    const needed = [...c.attributes.map((a) => a.column), ...(c.idColumn === undefined ? [] : [c.idColumn])];
    const missing = c.write ? [] : needed.filter((col) => !columns.includes(col));
    if (missing.length > 0) throw new Error(`la consulta no devuelve la columna «${missing[0] as string}» (devuelve: ${columns.join(', ')})`);
  } catch (err) {
    await engine.close().catch(() => undefined);
    if (err instanceof MiisError) throw err;
    throw new MiisError('Config.InvalidAdapter', `${where}: ${(err as Error).message}`, { cause: err });
  }
  const perId = compileQuery(c.query, engine.name, 1);
  const r = c.response;

  const answer = async (request: SoapMessage): Promise<string> => {
    const header = request.header as XRoadHeader;
    const payload = request.payload as XmlElement;
    if (payload.local !== c.operation) throw new ServiceFault(`Operación no admitida por este servicio: ${payload.local}`);
    const items = readItems(payload, c);
    if (items.length === 0) throw new ServiceFault(`Solicitud no válida: falta el elemento ${c.items ?? c.id}`);
    if (items.length > c.maxIds) throw new ServiceFault(`Solicitud no válida: ${items.length} identificadores (máximo ${c.maxIds})`);
    const now = deps.now();
    const builtins = { _client: formatClientId(header.client), _userId: header.userId ?? null, _now: now.toISOString(), _today: limaDate(now) };
    const idXml = (id: string): string => `<${c.id}>${escapeXml(id)}</${c.id}>`;
    let body = '';
    if (c.write) {
      const changes = await engine.writeAll(perId, items.map((it) => bindValues(perId, { ...builtins, ...it.params, id: it.id })));
      items.forEach((it, i) => {
        body += `<${r.item}>${idXml(it.id)}<${r.changed as string}>${(changes[i] ?? 0) > 0}</${r.changed as string}></${r.item}>`;
      });
    } else if (c.mode === 'in-list') {
      const ids = [...new Set(items.map((it) => it.id))];
      const q = compileQuery(c.query, engine.name, ids.length);
      const rows = await engine.select(q, bindValues(q, builtins, ids));
      const byId = new Map<string, Record<string, unknown>[]>();
      for (const row of rows) {
        const key = String(row[c.idColumn as string]);
        byId.set(key, [...(byId.get(key) ?? []), row]);
      }
      for (const id of ids) body += renderRows(id, byId.get(id) ?? []);
    } else {
      for (const it of items) body += renderRows(it.id, await engine.select(perId, bindValues(perId, { ...builtins, ...it.params, id: it.id })));
    }
    return `<${r.element} xmlns="${escapeXml(c.namespace)}">${body}</${r.element}>`;

    function renderRows(id: string, rows: readonly Record<string, unknown>[]): string {
      if (rows.length === 0) return `<${r.item}>${idXml(id)}<${r.found}>false</${r.found}></${r.item}>`;
      return rows.map((row) => `<${r.item}>${idXml(id)}<${r.found}>true</${r.found}>${renderAttributes(row, c.attributes)}</${r.item}>`).join('');
    }
  };

  /** `chunk`: a writing service applies the records at most once per chunk key (APPLIED_TABLE). */
  const bulk = async (records: readonly BulkRecord[], client: string, chunk?: ChunkKey): Promise<BulkAnswer[]> => {
    const now = deps.now();
    const builtins = { _client: client, _userId: null, _now: now.toISOString(), _today: limaDate(now) };
    const paramsOf = (rec: BulkRecord): Record<string, string | null> => {
      const out: Record<string, string | null> = {};
      for (const [param, element] of Object.entries(c.params ?? {})) out[param] = rec.fields[element] ?? null;
      return out;
    };
    try {
      if (c.write) {
        const values = records.map((rec) => bindValues(perId, { ...builtins, ...paramsOf(rec), id: rec.id }));
        const changes = chunk === undefined ? await engine.writeAll(perId, values) : (await engine.writeChunkOnce(perId, values, chunk, builtins._now)).changes;
        return records.map((_, i) => ({ changed: (changes[i] ?? 0) > 0 }));
      }
      const byId = new Map<string, Record<string, unknown>[]>();
      if (c.mode === 'in-list') {
        const ids = [...new Set(records.map((rec) => rec.id))];
        for (let i = 0; i < ids.length; i += c.maxIds) {
          const page = ids.slice(i, i + c.maxIds);
          const q = compileQuery(c.query, engine.name, page.length);
          for (const row of await engine.select(q, bindValues(q, builtins, page))) {
            const key = String(row[c.idColumn as string]);
            const list = byId.get(key);
            if (list === undefined) byId.set(key, [row]);
            else list.push(row);
          }
        }
      } else {
        for (const rec of records) if (!byId.has(rec.id)) byId.set(rec.id, await engine.select(perId, bindValues(perId, { ...builtins, ...paramsOf(rec), id: rec.id })));
      }
      return records.map((rec) => {
        const rows = byId.get(rec.id) ?? [];
        return { found: rows.length > 0, rows: rows.map((row) => rowAttributes(row, c.attributes)) };
      });
    } catch (err) {
      if ((err as { code?: string }).code === '57014' || /timeout/i.test((err as Error).message)) {
        throw new MiisError('Server.ServerProxy.ServiceTimeout', `${c.timeoutMs} ms (base de datos)`, { cause: err });
      }
      throw new MiisError('Server.ServerProxy.ServiceFailed', 'error de la base de datos del adaptador sql (detalle en el registro del nodo)', { cause: err });
    }
  };

  return {
    engine,
    bulk,
    writes: c.write,
    async call(request) {
      let body: string;
      try {
        body = await answer(request);
      } catch (err) {
        if (err instanceof ServiceFault) {
          const prefix = request.doc.root.prefix === '' ? '' : `${request.doc.root.prefix}:`;
          body = renderFaultBody(prefix, err.message);
        } else if ((err as { code?: string }).code === '57014' || /timeout/i.test((err as Error).message)) {
          throw new MiisError('Server.ServerProxy.ServiceTimeout', `${c.timeoutMs} ms (base de datos)`, { cause: err });
        } else {
          throw new MiisError('Server.ServerProxy.ServiceFailed', 'error de la base de datos del adaptador sql (detalle en el registro del nodo)', { cause: err });
        }
      }
      const raw = renderEchoResponse(request, body);
      return readSoapMessage(raw, 'response', { maxBytes: deps.maxMessageBytes, maxDepth: 32, maxElements: 200_000 });
    },
  };
}
