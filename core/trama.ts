/**
 * Trama definitions (record layouts) of batch exchanges (lotes): the fields of each record, their
 * type and the validation rule (the same rule names as the agreements' minimum validations,
 * node/pipeline/trama-validation.ts), versioned, registered at central with an agreement and
 * published in the global configuration (`tramas`). Pure: a JSON value in, a checked definition
 * (or a Spanish reason) out. Both central (trama add) and nodes (global configuration) use it.
 */
import type { GlobalConfTrama, GlobalConfTramaField, GlobalConfValidation } from './global-conf-model.js';

export const TRAMA_RULES: readonly GlobalConfValidation['rule'][] = ['required', 'dni', 'ruc', 'carne-extranjeria', 'ubigeo-inei', 'ubigeo-reniec', 'centro-poblado', 'pattern'];
export const TRAMA_TYPES: readonly GlobalConfTramaField['type'][] = ['texto', 'entero', 'fecha'];
export const PERIODICITIES: readonly NonNullable<GlobalConfTrama['periodicity']>[] = ['diaria', 'semanal', 'mensual', 'trimestral', 'semestral', 'anual'];
export const TRAMA_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Largest number of records in one chunk a trama may set (the chunk travels as one signed message). */
export const MAX_CHUNK_RECORDS = 50_000;
export const DEFAULT_CHUNK_RECORDS = 10_000;

const TRAMA_KEYS = ['id', 'version', 'service', 'agreement', 'key', 'fields'] as const;
const TRAMA_OPTIONAL = ['periodicity', 'chunkRecords', 'title'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A published trama checked field by field; throws nothing, returns the reason instead. */
export function checkTrama(value: unknown, where = 'trama'): { ok: true; trama: GlobalConfTrama } | { ok: false; reason: string } {
  const fail = (reason: string) => ({ ok: false as const, reason: `${where}: ${reason}` });
  if (!isObject(value)) return fail('se espera un objeto JSON');
  for (const k of Object.keys(value)) {
    if (!(TRAMA_KEYS as readonly string[]).includes(k) && !(TRAMA_OPTIONAL as readonly string[]).includes(k)) return fail(`campo desconocido «${k.slice(0, 64)}»`);
  }
  for (const k of TRAMA_KEYS) if (!(k in value)) return fail(`falta el campo ${k}`);
  const { id, version, service, agreement, key, fields } = value;
  if (typeof id !== 'string' || !TRAMA_ID.test(id)) return fail('id: letras, dígitos, punto, guion y _ (hasta 64)');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return fail('version: entero positivo');
  if (typeof service !== 'string' || service.split('/').length !== 5) return fail('service: INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO (sin versión)');
  if (typeof agreement !== 'string' || agreement.length === 0 || agreement.length > 80) return fail('agreement: identificador del convenio');
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > 100) return fail('fields: de 1 a 100 campos');
  const names = new Set<string>();
  const out: GlobalConfTramaField[] = [];
  for (const [i, f] of fields.entries()) {
    const fw = `fields[${i}]`;
    if (!isObject(f)) return fail(`${fw}: se espera un objeto`);
    for (const k of Object.keys(f)) if (!['name', 'type', 'rule', 'pattern', 'required'].includes(k)) return fail(`${fw}: campo desconocido «${k.slice(0, 64)}»`);
    if (typeof f['name'] !== 'string' || !FIELD.test(f['name'])) return fail(`${fw}.name: nombre de campo no válido`);
    if (names.has(f['name'])) return fail(`${fw}.name: campo repetido ${f['name']}`);
    names.add(f['name']);
    if (!(TRAMA_TYPES as readonly unknown[]).includes(f['type'])) return fail(`${fw}.type: se espera ${TRAMA_TYPES.join(', ')}`);
    if (f['rule'] !== undefined && !(TRAMA_RULES as readonly unknown[]).includes(f['rule'])) return fail(`${fw}.rule: se espera ${TRAMA_RULES.join(', ')}`);
    if (f['rule'] === 'pattern') {
      if (typeof f['pattern'] !== 'string' || f['pattern'].length === 0) return fail(`${fw}.pattern: falta la expresión regular`);
      try {
        new RegExp(f['pattern'], 'u');
      } catch {
        return fail(`${fw}.pattern: expresión regular no válida`);
      }
    } else if (f['pattern'] !== undefined) return fail(`${fw}.pattern: solo con rule «pattern»`);
    if (f['required'] !== undefined && typeof f['required'] !== 'boolean') return fail(`${fw}.required: true o false`);
    out.push({
      name: f['name'], type: f['type'] as GlobalConfTramaField['type'],
      ...(f['rule'] === undefined ? {} : { rule: f['rule'] as GlobalConfValidation['rule'] }),
      ...(typeof f['pattern'] === 'string' ? { pattern: f['pattern'] } : {}),
      ...(f['required'] === true ? { required: true } : {}),
    });
  }
  if (typeof key !== 'string' || !names.has(key)) return fail('key: debe nombrar uno de los campos (el identificador que se consulta)');
  const periodicity = value['periodicity'];
  if (periodicity !== undefined && !(PERIODICITIES as readonly unknown[]).includes(periodicity)) return fail(`periodicity: se espera ${PERIODICITIES.join(', ')}`);
  const chunk = value['chunkRecords'];
  if (chunk !== undefined && (typeof chunk !== 'number' || !Number.isSafeInteger(chunk) || chunk < 1 || chunk > MAX_CHUNK_RECORDS)) return fail(`chunkRecords: entero de 1 a ${MAX_CHUNK_RECORDS}`);
  const title = value['title'];
  if (title !== undefined && (typeof title !== 'string' || title.length > 200)) return fail('title: texto de hasta 200 caracteres');
  return {
    ok: true,
    trama: {
      id, version, service, agreement, key, fields: out,
      ...(periodicity === undefined ? {} : { periodicity: periodicity as NonNullable<GlobalConfTrama['periodicity']> }),
      ...(chunk === undefined ? {} : { chunkRecords: chunk as number }),
      ...(title === undefined ? {} : { title: title as string }),
    },
  };
}

/** The published trama of a service (key without version), if any: the highest version. */
export function tramaOfService(tramas: readonly GlobalConfTrama[] | undefined, serviceKey: string, agreement?: string): GlobalConfTrama | undefined {
  let best: GlobalConfTrama | undefined;
  for (const t of tramas ?? []) {
    if (t.service !== serviceKey || (agreement !== undefined && t.agreement !== agreement)) continue;
    if (best === undefined || t.version > best.version) best = t;
  }
  return best;
}
