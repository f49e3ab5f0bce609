/**
 * Certificate field → member mapping for external CAs (e.g. RENIEC's ECEP under the IOFE), by
 * configuration, not code. A rule names a certificate field, a regular expression with exactly
 * one capture group that must match the WHOLE field value, and a member template where `$1` is
 * replaced by the capture: `subject.serialNumber` `RUC(\d{11})` → `PE/GOB/$1`.
 *
 * Used by central (validating `miis-central ca trust --map`), core/global-conf.ts (validating the
 * published `externalCas` section) and nodes (node/certs/signing-cert.ts). Certificates are read with
 * core/cert-read.ts (through core/pki.ts and its cache), not @peculiar/x509.
 */
import { MiisError } from './errors.js';
import type { GlobalConfMemberMapping, MappingField } from './global-conf-model.js';
import { parseClientId } from './identifiers.js';
import { OID } from './oids.js';
import { certSanEmails, certSubjectValues } from './pki.js';

export const MAPPING_FIELDS = ['subject.serialNumber', 'subject.CN', 'subject.O', 'subject.OU', 'subject.emailAddress', 'san.email'] as const satisfies readonly MappingField[];

const SUBJECT_OIDS: Readonly<Record<Exclude<MappingField, 'san.email'>, string>> = {
  'subject.serialNumber': OID.serialNumber,
  'subject.CN': OID.commonName,
  'subject.O': OID.organization,
  'subject.OU': OID.organizationalUnit,
  'subject.emailAddress': OID.emailAddress,
};

const MAX_PATTERN = 200;
const MAX_TEMPLATE = 200;

/** Why a rule is not acceptable (Spanish), or undefined when it is. `instance`: the member template must name it. */
export function mappingRuleProblem(rule: unknown, instance?: string): string | undefined {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return 'se espera un objeto { field, pattern, member }';
  const r = rule as Record<string, unknown>;
  const unknownKey = Object.keys(r).find((k) => k !== 'field' && k !== 'pattern' && k !== 'member');
  if (unknownKey !== undefined) return `campo desconocido «${unknownKey.slice(0, 64)}»`;
  if (!(MAPPING_FIELDS as readonly unknown[]).includes(r['field'])) return `field: se espera uno de ${MAPPING_FIELDS.join(', ')}`;
  const pattern = r['pattern'];
  if (typeof pattern !== 'string' || pattern === '' || pattern.length > MAX_PATTERN) return `pattern: se espera una expresión regular de 1 a ${MAX_PATTERN} caracteres`;
  let groups: number;
  try {
    groups = new RegExp(`(?:${pattern})|`).exec('')!.length - 1;
  } catch {
    return 'pattern: expresión regular no válida';
  }
  if (groups !== 1) return `pattern: debe tener exactamente un grupo de captura (tiene ${groups})`;
  const member = r['member'];
  if (typeof member !== 'string' || member.length > MAX_TEMPLATE) return `member: se espera una plantilla de 1 a ${MAX_TEMPLATE} caracteres`;
  if (member.split('$1').length !== 2 || /\$[02-9]/.test(member)) return 'member: la plantilla debe contener $1 exactamente una vez (p. ej. PE/GOB/$1)';
  let id;
  try {
    id = parseClientId(member.replace('$1', 'X1'));
  } catch (err) {
    return `member: la plantilla no da un identificador de miembro válido (${(err as Error).message})`;
  }
  if (id.subsystemCode !== undefined) return 'member: la plantilla debe dar un miembro INSTANCIA/CLASE/CÓDIGO, no un subsistema';
  if (instance !== undefined && id.instance !== instance) return `member: la plantilla pertenece a otra instancia (${id.instance})`;
  return undefined;
}

/**
 * A rule from the command line: `<campo>:<expresión>=><plantilla>` (split at the first ':' and the
 * last '=>'), or the JSON object itself.
 */
export function parseMappingRule(text: string, instance?: string): GlobalConfMemberMapping {
  let rule: unknown;
  if (text.trim().startsWith('{')) {
    try {
      rule = JSON.parse(text);
    } catch {
      throw new MiisError('Config.InvalidInput', `regla de correspondencia: JSON no válido: «${text}»`);
    }
  } else {
    const colon = text.indexOf(':');
    const arrow = text.lastIndexOf('=>');
    if (colon < 1 || arrow < colon) throw new MiisError('Config.InvalidInput', `regla de correspondencia no válida: «${text}». Formato: campo:expresión=>plantilla, p. ej. 'subject.serialNumber:RUC(\\d{11})=>PE/GOB/$1'`);
    rule = { field: text.slice(0, colon).trim(), pattern: text.slice(colon + 1, arrow), member: text.slice(arrow + 2).trim() };
  }
  const problem = mappingRuleProblem(rule, instance);
  if (problem !== undefined) throw new MiisError('Config.InvalidInput', `regla de correspondencia: ${problem}`);
  return rule as GlobalConfMemberMapping;
}

/** Every value of a field in a certificate (a field may repeat). */
export function certFieldValues(pem: string, field: MappingField): string[] {
  if (field === 'san.email') return [...certSanEmails(pem)];
  return [...certSubjectValues(pem, SUBJECT_OIDS[field])];
}

/** The member a rule gives for one field value, if the whole value matches and the result is a member id. */
export function applyMappingRule(rule: GlobalConfMemberMapping, value: string): string | undefined {
  const m = new RegExp(`^(?:${rule.pattern})$`).exec(value);
  const capture = m?.[1];
  if (capture === undefined || capture === '') return undefined;
  const member = rule.member.replace('$1', capture);
  try {
    return parseClientId(member).subsystemCode === undefined ? member : undefined;
  } catch {
    return undefined;
  }
}

/** The distinct members the rules give for a certificate, in rule order (empty: none applies). */
export function membersFromCert(pem: string, rules: readonly GlobalConfMemberMapping[]): string[] {
  const out: string[] = [];
  for (const rule of rules) {
    for (const value of certFieldValues(pem, rule.field)) {
      const member = applyMappingRule(rule, value);
      if (member !== undefined && !out.includes(member)) out.push(member);
    }
  }
  return out;
}
