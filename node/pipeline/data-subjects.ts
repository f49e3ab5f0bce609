/**
 * The data subjects (titulares, Ley 29733) an exchange concerns: the DNIs in a request's operation
 * element, for the provider's index of who consulted whose data (evidence/subject-index.ts).
 * When the agreement's validations name DNI fields (rule 'dni'), those fields are read; otherwise
 * elements with the usual DNI names of the MIIS WSDLs and PIDE (dni, numeroDocumento, nuDni,
 * nuDniConsulta). Values are canonicalised (8 digits, check character dropped); values that are
 * not a DNI are skipped (the trama validation decides about them). Pure.
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
