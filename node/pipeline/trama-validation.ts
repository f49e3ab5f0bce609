/**
 * The minimum validations an agreement sets on a request's trama (directive 7.1.4), applied to the
 * operation element before any backend is called, and the agreement's maximum number of
 * identifiers per request. Pure: an element tree in, a verdict out.
 */
import type { GlobalConfAgreement, GlobalConfValidation } from '../../core/global-conf-model.js';
import { checkCarneExtranjeria, checkCentroPoblado, checkCpp, checkDni, checkDocumento, checkPasaporte, checkRuc, checkUbigeo } from '../../core/peru-ids.js';
import type { XmlElement } from '../../core/xml.js';

/** An identifier sent in another spelling than its canonical form (e.g. a DNI with its check character). */
export interface Rewrite {
  readonly field: string;
  readonly element: XmlElement;
  readonly canonical: string;
}

export type TramaVerdict =
  | { readonly ok: true; readonly ids: number; readonly rewrites: readonly Rewrite[] }
  | { readonly ok: false; readonly code: 'Server.ServerProxy.ValidationFailed' | 'Server.ServerProxy.TooManyIds'; readonly detail: string };

/** Rules whose field is an identifier: their occurrences are what maxIdsPerRequest counts. */
export const ID_RULES: ReadonlySet<GlobalConfValidation['rule']> = new Set(['dni', 'ruc', 'carne-extranjeria', 'pasaporte', 'cpp', 'documento', 'centro-poblado']);

/** The sibling element naming the document type of a field checked by the `documento` rule. */
export const TIPO_DOCUMENTO_FIELD = 'tipoDocumento';

const MAX_PATTERN_INPUT = 1024;

/** Every descendant element with this local name, in document order (any namespace). */
export function findFields(root: XmlElement, local: string): XmlElement[] {
  return findFieldsWithParent(root, local).map(([el]) => el);
}

/** Every descendant element with this local name and its parent element, in document order. */
export function findFieldsWithParent(root: XmlElement, local: string): [XmlElement, XmlElement][] {
  const out: [XmlElement, XmlElement][] = [];
  const stack: [XmlElement, XmlElement][] = [...root.children].reverse().map((c) => [c, root]);
  while (stack.length > 0) {
    const [el, parent] = stack.pop() as [XmlElement, XmlElement];
    if (el.local === local) out.push([el, parent]);
    for (let i = el.children.length - 1; i >= 0; i -= 1) stack.push([el.children[i] as XmlElement, el]);
  }
  return out;
}

/** Text of the `tipoDocumento` sibling of a field (first one in the parent), or undefined. */
function tipoOf(parent: XmlElement | undefined): string | undefined {
  return parent?.children.find((c) => c.local === TIPO_DOCUMENTO_FIELD)?.text;
}

/**
 * Spanish reason why `text` fails `v`, or undefined when it passes. For the `documento` rule,
 * `tipo` is the text of the field's sibling `tipoDocumento` (DNI, CE, PASAPORTE or CPP).
 */
export function checkValue(v: GlobalConfValidation, text: string, tipo?: string): string | undefined {
  const value = text.trim();
  if (value.length === 0) return 'está vacío';
  const r = (res: { ok: true } | { ok: false; reason: string }): string | undefined => (res.ok ? undefined : res.reason);
  switch (v.rule) {
    case 'required': return undefined;
    case 'dni': return r(checkDni(value));
    case 'ruc': return r(checkRuc(value));
    case 'carne-extranjeria': return r(checkCarneExtranjeria(value));
    case 'pasaporte': return r(checkPasaporte(value));
    case 'cpp': return r(checkCpp(value));
    case 'documento':
      if (tipo === undefined || tipo.trim().length === 0) return `falta el elemento hermano ${TIPO_DOCUMENTO_FIELD} (DNI, CE, PASAPORTE o CPP)`;
      return r(checkDocumento(tipo, value));
    case 'ubigeo-inei': return r(checkUbigeo(value, 'INEI'));
    case 'ubigeo-reniec': return r(checkUbigeo(value, 'RENIEC'));
    case 'centro-poblado': return r(checkCentroPoblado(value));
    case 'pattern': {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${v.pattern ?? ''})$`, 'u');
      } catch {
        return 'el convenio define un patrón no válido';
      }
      if (value.length > MAX_PATTERN_INPUT || !re.test(value)) return `«${value.slice(0, 40)}» no tiene el formato acordado`;
      return undefined;
    }
    default: return 'regla de validación desconocida';
  }
}

/**
 * The canonical form of a value that passes an identifier rule: a DNI is its 8 digits (a matching
 * check character, with or without '-', is dropped), a RUC its 11 digits, a carné de extranjería
 * upper-case without spaces or hyphens (digits only: 9 digits), a pasaporte upper-case without
 * spaces or hyphens, a CPP its digits padded to 9, a `documento` the canonical number for its
 * `tipo`, a centro poblado its 10 digits.
 * Undefined for rules that define no canonical form (required, pattern, ubigeo) or a failing value.
 */
export function canonicalValue(v: GlobalConfValidation, text: string, tipo?: string): string | undefined {
  const value = text.trim();
  switch (v.rule) {
    case 'dni': { const r = checkDni(value); return r.ok ? r.value.dni : undefined; }
    case 'ruc': { const r = checkRuc(value); return r.ok ? r.value : undefined; }
    case 'carne-extranjeria': { const r = checkCarneExtranjeria(value); return r.ok ? r.value : undefined; }
    case 'pasaporte': { const r = checkPasaporte(value); return r.ok ? r.value : undefined; }
    case 'cpp': { const r = checkCpp(value); return r.ok ? r.value : undefined; }
    case 'documento': { if (tipo === undefined) return undefined; const r = checkDocumento(tipo, value); return r.ok ? r.value.numero : undefined; }
    case 'centro-poblado': { const r = checkCentroPoblado(value); return r.ok ? r.value.code : undefined; }
    default: return undefined;
  }
}

/** Count identifiers (occurrences of identifier-rule fields; without such rules, the operation's children). */
export function countIds(payload: XmlElement, validations: readonly GlobalConfValidation[]): number {
  const idFields = [...new Set(validations.filter((v) => ID_RULES.has(v.rule)).map((v) => v.field))];
  if (idFields.length === 0) return payload.children.length;
  return idFields.reduce((n, f) => n + findFields(payload, f).length, 0);
}

export function validateTrama(payload: XmlElement, agreement: Pick<GlobalConfAgreement, 'validations' | 'maxIdsPerRequest'>): TramaVerdict {
  const validations = agreement.validations ?? [];
  const ids = countIds(payload, validations);
  if (agreement.maxIdsPerRequest !== undefined && ids > agreement.maxIdsPerRequest) {
    return { ok: false, code: 'Server.ServerProxy.TooManyIds', detail: `${ids} (máximo ${agreement.maxIdsPerRequest} por solicitud)` };
  }
  const rewrites: Rewrite[] = [];
  for (const v of validations) {
    const withParent = findFieldsWithParent(payload, v.field);
    const found = withParent.map(([el]) => el);
    if (v.rule === 'required' && found.every((el) => el.text.trim().length === 0 && el.children.length === 0)) {
      return { ok: false, code: 'Server.ServerProxy.ValidationFailed', detail: `campo «${v.field}»: es obligatorio y falta` };
    }
    for (const [i, el] of found.entries()) {
      if (v.rule === 'required' && el.children.length > 0) continue;
      const parent = withParent[i]?.[1];
      const tipo = v.rule === 'documento' ? tipoOf(parent) : undefined;
      const reason = checkValue(v, el.text, tipo);
      if (reason !== undefined) {
        const which = found.length > 1 ? ` (n.º ${i + 1})` : '';
        return { ok: false, code: 'Server.ServerProxy.ValidationFailed', detail: `campo «${v.field}»${which}: ${reason}` };
      }
      const canonical = canonicalValue(v, el.text, tipo);
      if (canonical !== undefined && canonical !== el.text) rewrites.push({ field: v.field, element: el, canonical });
      if (tipo !== undefined) {
        const tipoEl = parent?.children.find((c) => c.local === TIPO_DOCUMENTO_FIELD);
        const tipoCanonical = tipo.trim().toUpperCase();
        if (tipoEl !== undefined && tipoEl.text !== tipoCanonical) rewrites.push({ field: TIPO_DOCUMENTO_FIELD, element: tipoEl, canonical: tipoCanonical });
      }
    }
  }
  return { ok: true, ids, rewrites };
}
