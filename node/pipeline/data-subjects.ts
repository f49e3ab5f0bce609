/**
 * The data subjects (titulares, Ley 29733) an exchange concerns: the DNIs in a request's operation
 * element, for the provider's index of who consulted whose data (evidence/subject-index.ts).
 * When the agreement's validations name DNI fields (rule 'dni'), those fields are read; otherwise
 * elements with the usual DNI names of the MIIS WSDLs and PIDE (dni, numeroDocumento, nuDni,
 * nuDniConsulta). Values are canonicalised (8 digits, check character dropped); values that are
 * not a DNI are skipped (the trama validation decides about them). REST calls carry no trama: their
 * subjects are read from the path, the query and a JSON body (restDataSubjectDnis). Pure.
 */
import type { GlobalConfValidation } from '../../core/global-conf-model.js';
import { checkDni } from '../../core/peru-ids.js';
import type { XmlElement } from '../../core/xml.js';
import { findFields } from './trama-validation.js';

/** Element names read as DNIs when the agreement names no DNI field. */
export const DEFAULT_DNI_FIELDS: readonly string[] = ['dni', 'numeroDocumento', 'nuDni', 'nuDniConsulta'];

/** At most this many distinct subjects are indexed per request (a batch beyond it is still logged). */
export const MAX_SUBJECTS_PER_REQUEST = 10_000;

/** Distinct canonical DNIs in the operation element, in document order. */
export function dataSubjectDnis(payload: XmlElement, validations: readonly GlobalConfValidation[] = []): string[] {
  const named = [...new Set(validations.filter((v) => v.rule === 'dni').map((v) => v.field))];
  const fields = named.length > 0 ? named : DEFAULT_DNI_FIELDS;
  const out = new Set<string>();
  for (const f of fields) {
    for (const el of findFields(payload, f)) {
      if (el.children.length > 0) continue;
      const r = checkDni(el.text);
      if (r.ok) out.add(r.value.dni);
      if (out.size >= MAX_SUBJECTS_PER_REQUEST) return [...out];
    }
  }
  return [...out];
}

/** Longest JSON body read for subjects (bigger bodies are logged, not indexed). */
export const MAX_REST_JSON_FOR_SUBJECTS = 256 * 1024;
/** Nesting followed in a JSON body (deeper values are not indexed). */
const MAX_JSON_DEPTH = 16;
const DNI_SEGMENT = /^\d{8}$/;

/**
 * Distinct canonical DNIs of a REST call (the provider's subject index): path segments of exactly
 * eight digits (`/personas/12345678`), query parameters named like the DNI fields (`?dni=…`,
 * `numeroDocumento`, `nuDni`, `nuDniConsulta`) and, in a JSON body of at most 256 KiB, values of
 * keys with those names at any depth up to 16. Anything that does not parse is skipped: the call
 * is still logged, only not indexed.
 */
export function restDataSubjectDnis(call: { readonly path: string; readonly query: string; readonly contentType?: string | undefined; readonly body: Buffer }): string[] {
  const out = new Set<string>();
  const add = (value: unknown): void => {
    if (out.size >= MAX_SUBJECTS_PER_REQUEST || (typeof value !== 'string' && typeof value !== 'number')) return;
    const r = checkDni(String(value));
    if (r.ok) out.add(r.value.dni);
  };
  for (const segment of call.path.split('/')) if (DNI_SEGMENT.test(segment)) add(segment);
  if (call.query !== '') {
    for (const [name, value] of new URLSearchParams(call.query)) if (DEFAULT_DNI_FIELDS.includes(name)) add(value);
  }
  if (call.body.length > 0 && call.body.length <= MAX_REST_JSON_FOR_SUBJECTS && /^application\/([a-z0-9.+-]*\+)?json\b/i.test(call.contentType ?? '')) {
    let doc: unknown;
    try {
      doc = JSON.parse(call.body.toString('utf8'));
    } catch {
      return [...out];
    }
    const stack: { value: unknown; depth: number }[] = [{ value: doc, depth: 0 }];
    while (stack.length > 0 && out.size < MAX_SUBJECTS_PER_REQUEST) {
      const { value, depth } = stack.pop()!;
      if (value === null || typeof value !== 'object' || depth >= MAX_JSON_DEPTH) continue;
      if (Array.isArray(value)) {
        for (const v of value) stack.push({ value: v, depth: depth + 1 });
        continue;
      }
      for (const [k, v] of Object.entries(value)) {
        if (DEFAULT_DNI_FIELDS.includes(k)) {
          if (Array.isArray(v)) v.forEach(add);
          else add(v);
        } else {
          stack.push({ value: v, depth: depth + 1 });
        }
      }
    }
  }
  return [...out];
}
