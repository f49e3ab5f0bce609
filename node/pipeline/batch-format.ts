/**
 * What travels in a batch exchange (lote) and how its records are read and checked. Pure.
 *
 * A batch file is CSV (first line: the trama's field names, separated by ',' or ';'; no quoting)
 * or JSONL (one JSON object per line). The consumer node splits it into chunks of whole lines and
 * signs a manifest (file SHA-256, per-chunk SHA-256 and record count, agreement, purpose, trama
 * id/version); each chunk message is one JSON header line followed by the chunk's exact bytes.
 * The provider answers each chunk with one JSON header line followed by one result line per record
 * line, in order. Every message is signed (detached, like SOAP messages) and logged once per side.
 */
import { sha256Hex } from '../../core/digest.js';
import type { GlobalConfTrama, GlobalConfTramaField, GlobalConfValidation } from '../../core/global-conf-model.js';
import { canonicalValue, checkValue } from './trama-validation.js';

export const MANIFEST_FORMAT = 'miis-lote/1' as const;
export type FileFormat = 'csv' | 'jsonl';

export interface ChunkEntry {
  /** SHA-256 (hex) of the chunk's exact bytes in the file. */
  readonly sha256: string;
  readonly records: number;
  /** Line number (1-based, in the file) of the chunk's first record. */
  readonly firstLine: number;
}

export interface BatchManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly type: 'manifiesto';
  readonly batchId: string;
  readonly client: string;
  /** Full service id (with version when the IS gave one). */
  readonly service: string;
  readonly convenio: string;
  readonly finalidad: string;
  readonly trama: { readonly id: string; readonly version: number };
  readonly file: { readonly sha256: string; readonly format: FileFormat; readonly records: number; readonly columns?: readonly string[]; readonly separator?: string };
  readonly chunks: readonly ChunkEntry[];
  readonly createdAt: string;
}

export interface ChunkHeader {
  readonly type: 'trozo';
  readonly batchId: string;
  readonly chunk: number;
  readonly sha256: string;
}

export interface ResultHeader {
  readonly type: 'resultado';
  readonly batchId: string;
  /** -1 for the manifest's acknowledgement. */
  readonly chunk: number;
  /** SHA-256 of the signed request message this answers. */
  readonly requestSha256: string;
  readonly records?: number;
  readonly rejected?: number;
}

export { sha256Hex };

/** A message = one JSON line + body bytes. */
export function encodeMessage(header: object, body: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`, 'utf8'), body]);
}

export function decodeMessage(message: Buffer): { header: Record<string, unknown>; body: Buffer } {
  const nl = message.indexOf(0x0a);
  const head = nl < 0 ? message : message.subarray(0, nl);
  if (head.length > 1024 * 1024) throw new Error('cabecera demasiado larga');
  const header = JSON.parse(head.toString('utf8')) as unknown;
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('la cabecera no es un objeto JSON');
  return { header: header as Record<string, unknown>, body: nl < 0 ? Buffer.alloc(0) : message.subarray(nl + 1) };
}

/** The separator and columns of a CSV header line, checked against the trama (every required field present, no unknown column). */
export function readCsvHeader(line: string, trama: GlobalConfTrama): { columns: string[]; separator: string } | string {
  const separator = line.includes(';') && !line.includes(',') ? ';' : ',';
  const columns = line.split(separator).map((c) => c.trim());
  const known = new Set(trama.fields.map((f) => f.name));
  const unknown = columns.find((c) => !known.has(c));
  if (unknown !== undefined) return `la columna «${unknown.slice(0, 40)}» no es un campo de la trama ${trama.id} v${trama.version} (${[...known].join(', ')})`;
  if (new Set(columns).size !== columns.length) return 'el encabezado repite una columna';
  if (!columns.includes(trama.key)) return `falta la columna «${trama.key}» (identificador de la trama)`;
  const missing = trama.fields.find((f) => f.required === true && !columns.includes(f.name));
  if (missing !== undefined) return `falta la columna obligatoria «${missing.name}»`;
  return { columns, separator };
}

/** Split a chunk's bytes into lines (a final newline ends the last line; '\r\n' accepted). */
export function splitLines(body: Buffer): string[] {
  const text = body.toString('utf8');
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

export function parseRecord(line: string, file: BatchManifest['file']): Record<string, string> | string {
  if (file.format === 'jsonl') {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return 'la línea no es JSON válido';
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'la línea no es un objeto JSON';
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string') out[k] = x;
      else if (typeof x === 'number' || typeof x === 'boolean') out[k] = String(x);
      else if (x !== null) return `el campo «${k.slice(0, 40)}» no es un valor simple`;
    }
    return out;
  }
  const columns = file.columns ?? [];
  const values = line.split(file.separator ?? ',');
  if (values.length !== columns.length) return `se esperaban ${columns.length} columnas y hay ${values.length}`;
  const out: Record<string, string> = {};
  columns.forEach((c, i) => { out[c] = (values[i] as string).trim(); });
  return out;
}

function checkType(f: GlobalConfTramaField, value: string): string | undefined {
  if (f.type === 'entero' && !/^-?\d{1,18}$/.test(value)) return 'no es un número entero';
  if (f.type === 'fecha' && !/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'no es una fecha AAAA-MM-DD';
  return undefined;
}

/**
 * Check one record against the trama: unknown fields, required fields, types and rules. Returns
 * the record with identifiers in canonical form, or the Spanish reason it is rejected.
 */
export function checkRecord(record: Record<string, string>, trama: GlobalConfTrama): { ok: true; id: string; fields: Record<string, string> } | { ok: false; reason: string } {
  const fields: Record<string, string> = {};
  for (const k of Object.keys(record)) {
    if (!trama.fields.some((f) => f.name === k)) return { ok: false, reason: `campo «${k.slice(0, 40)}» no pertenece a la trama` };
  }
  for (const f of trama.fields) {
    const raw = record[f.name];
    const value = raw?.trim() ?? '';
    if (value.length === 0) {
      if (f.required === true || f.name === trama.key || f.rule === 'required') return { ok: false, reason: `campo «${f.name}»: es obligatorio y falta` };
      continue;
    }
    const typeProblem = checkType(f, value);
    if (typeProblem !== undefined) return { ok: false, reason: `campo «${f.name}»: ${typeProblem}` };
    if (f.rule !== undefined) {
      const v: GlobalConfValidation = { field: f.name, rule: f.rule, ...(f.pattern === undefined ? {} : { pattern: f.pattern }) };
      const reason = checkValue(v, value);
      if (reason !== undefined) return { ok: false, reason: `campo «${f.name}»: ${reason}` };
      fields[f.name] = canonicalValue(v, value) ?? value;
    } else {
      fields[f.name] = value;
    }
  }
  return { ok: true, id: fields[trama.key] as string, fields };
}

/** Keys a manifest must carry, checked by the provider before anything else. */
export function readManifest(header: Record<string, unknown>): BatchManifest | string {
  const m = header as Partial<BatchManifest>;
  if (m.format !== MANIFEST_FORMAT || m.type !== 'manifiesto') return `formato de manifiesto no admitido (se espera ${MANIFEST_FORMAT})`;
  for (const k of ['batchId', 'client', 'service', 'convenio', 'finalidad', 'createdAt'] as const) {
    if (typeof m[k] !== 'string' || (m[k] as string).length === 0 || (m[k] as string).length > 300) return `manifiesto: falta ${k}`;
  }
  if (!/^[A-Za-z0-9-]{8,64}$/.test(m.batchId as string)) return 'manifiesto: identificador de lote no válido';
  if (typeof m.trama !== 'object' || m.trama === null || typeof m.trama.id !== 'string' || typeof m.trama.version !== 'number') return 'manifiesto: falta la trama';
  const f = m.file;
  if (typeof f !== 'object' || f === null || typeof f.sha256 !== 'string' || (f.format !== 'csv' && f.format !== 'jsonl') || typeof f.records !== 'number') return 'manifiesto: falta el archivo';
  if (f.format === 'csv' && (!Array.isArray(f.columns) || typeof f.separator !== 'string')) return 'manifiesto: faltan las columnas del CSV';
  if (!Array.isArray(m.chunks) || m.chunks.length > 100_000) return 'manifiesto: faltan los trozos';
  let total = 0;
  for (const c of m.chunks) {
    if (typeof c !== 'object' || c === null || typeof c.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(c.sha256) || typeof c.records !== 'number' || typeof c.firstLine !== 'number') return 'manifiesto: trozo mal formado';
    total += c.records;
  }
  if (total !== f.records) return `manifiesto: los trozos suman ${total} registros y el archivo dice ${f.records}`;
  return m as BatchManifest;
}
