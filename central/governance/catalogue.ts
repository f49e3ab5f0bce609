/**
 * The catalogue of MIIS components (directive 6.1, 6.6, 7.1.5–7.1.7, 8.2, Anexo 01): databases
 * (or similar) administered by an entity, with their service family, unit of reference, personal
 * and sensitive data flags, the technical report that justified them, their status, and the
 * registry services that expose them.
 *
 * Status: identificado → [en-evaluacion →] en-incorporacion (needs a technical report, 7.1.5) →
 * disponible (published on the portal, 7.1.7) ⇄ suspendido; identificado or en-evaluacion →
 * descartado (with the report that discards it). A component an IPF asked for (intake.ts,
 * 6.6.1.2, 6.6.2.3, 8.2) has its request's dates kept with each change (gov_source_requests).
 */
import { MiisError } from '../../core/errors.js';
import { formatServiceId, parseServiceId } from '../../core/identifiers.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { ensureEntity, getEntity, requireEntity, type EntityRecord } from './entities.js';
import { currentUnit, type DesignationRecord } from './units.js';
import { change, checkText, optionalText, type Row } from './util.js';
import { limaDate } from '../../core/iso-date.js';

export const FAMILIES = ['identificacion', 'criterios-elegibilidad', 'afiliacion-egreso'] as const;
export type Family = (typeof FAMILIES)[number];
export const FAMILY_LABELS: Readonly<Record<Family, string>> = {
  identificacion: 'Identificación',
  'criterios-elegibilidad': 'Criterios de elegibilidad',
  'afiliacion-egreso': 'Afiliación y egreso',
};

export const COMPONENT_STATUSES = ['identificado', 'en-evaluacion', 'en-incorporacion', 'disponible', 'suspendido', 'descartado'] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];
export const STATUS_LABELS: Readonly<Record<ComponentStatus, string>> = {
  identificado: 'Identificado',
  'en-evaluacion': 'En evaluación',
  'en-incorporacion': 'En incorporación',
  disponible: 'Disponible',
  suspendido: 'Suspendido',
  descartado: 'Descartado',
};
/** The only status changes allowed. */
export const STATUS_TRANSITIONS: Readonly<Record<ComponentStatus, readonly ComponentStatus[]>> = {
  identificado: ['en-evaluacion', 'en-incorporacion', 'descartado'],
  'en-evaluacion': ['en-incorporacion', 'descartado'],
  'en-incorporacion': ['disponible'],
  disponible: ['suspendido'],
  suspendido: ['disponible'],
  descartado: [],
};

export const REFERENCE_UNITS = ['persona', 'hogar', 'vivienda', 'centro-poblado', 'manzana', 'entidad', 'otro'] as const;
export type ReferenceUnit = (typeof REFERENCE_UNITS)[number];

const CODE = /^[A-Z0-9][A-Z0-9_-]{1,39}$/;

export interface ComponentRecord {
  readonly code: string;
  readonly name: string;
  readonly entityRuc: string;
  readonly description: string;
  readonly legalBasis: string;
  readonly family: Family;
  readonly referenceUnit: ReferenceUnit;
  readonly personal: boolean;
  readonly sensitive: boolean;
  readonly technicalReport: string | null;
  readonly status: ComponentStatus;
  /** Where the component comes from (e.g. "Directiva 6.1 a", "Anexo Nº 01, ítem 3"). */
  readonly source: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A component with what the portal and the CLI show next to it. */
export interface ComponentView extends ComponentRecord {
  readonly entity: EntityRecord;
  readonly responsibleUnit: DesignationRecord | null;
  readonly services: readonly string[];
}

export interface ComponentInput {
  readonly code: string;
  readonly name: string;
  readonly entity: string;
  readonly description: string;
  readonly legalBasis: string;
  readonly family: string;
  readonly referenceUnit: string;
  readonly personal: boolean;
  readonly sensitive: boolean;
  readonly technicalReport?: string | undefined;
  readonly source?: string | undefined;
  /** Initial status (the seed uses it); default 'identificado'. */
  readonly status?: ComponentStatus;
}

const toComponent = (r: Row): ComponentRecord => ({
  code: r.code as string,
  name: r.name as string,
  entityRuc: r.entity_ruc as string,
  description: r.description as string,
  legalBasis: r.legal_basis as string,
  family: r.family as Family,
  referenceUnit: r.reference_unit as ReferenceUnit,
  personal: Number(r.personal) === 1,
  sensitive: Number(r.sensitive) === 1,
  technicalReport: (r.technical_report as string | null) ?? null,
  status: r.status as ComponentStatus,
  source: (r.source as string | null) ?? null,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
});

function parseOne<T extends string>(value: string, choices: readonly T[], what: string): T {
  const v = value.trim().toLowerCase();
  if (!(choices as readonly string[]).includes(v)) throw new MiisError('Config.InvalidInput', `${what} no válido: «${value}». Valores admitidos: ${choices.join(', ')}`);
  return v as T;
}
export const parseFamily = (v: string): Family => parseOne(v, FAMILIES, 'familia de servicios');
export const parseStatus = (v: string): ComponentStatus => parseOne(v, COMPONENT_STATUSES, 'estado');
export const parseReferenceUnit = (v: string): ReferenceUnit => parseOne(v, REFERENCE_UNITS, 'unidad de referencia');

export function getComponent(store: RegistryStore, code: string): ComponentRecord | undefined {
  const row = store.db.prepare('SELECT * FROM gov_components WHERE code = ?').get(code.trim().toUpperCase()) as Row | undefined;
  return row === undefined ? undefined : toComponent(row);
}

export function requireComponent(store: RegistryStore, code: string): ComponentRecord {
  const found = getComponent(store, code);
  if (found === undefined) throw new MiisError('Config.NotFound', `el componente «${code}» no está en el catálogo; vea «miis-central component list»`);
  return found;
}

export function componentServices(store: RegistryStore, code: string): string[] {
  return (store.db.prepare('SELECT service_id FROM gov_component_services WHERE component_code = ? ORDER BY service_id').all(code) as Row[]).map((r) => r.service_id as string);
}

export function addComponent(store: RegistryStore, input: ComponentInput, ctx: ChangeContext): ComponentRecord {
  const code = input.code.trim().toUpperCase();
  if (!CODE.test(code)) throw new MiisError('Config.InvalidInput', `código de componente no válido: «${input.code}» (mayúsculas, dígitos, - y _, de 2 a 40; p. ej. RUPN)`);
  const at = ctx.at.toISOString();
  const base = {
    code,
    name: checkText(input.name, 'nombre del componente', 200),
    description: checkText(input.description, 'descripción', 2000),
    legalBasis: checkText(input.legalBasis, 'base legal', 500),
    family: parseFamily(input.family),
    referenceUnit: parseReferenceUnit(input.referenceUnit),
    personal: input.personal,
    sensitive: input.sensitive,
    technicalReport: optionalText(input.technicalReport, 'informe técnico', 300),
    status: input.status ?? ('identificado' as const),
    source: optionalText(input.source, 'origen', 200),
    createdAt: at,
    updatedAt: at,
  };
  if (base.sensitive && !base.personal) throw new MiisError('Config.InvalidInput', 'un componente con datos sensibles contiene datos personales: use también --personal');
  if (getComponent(store, code) !== undefined) throw new MiisError('Config.Duplicate', `el componente ${code}`);
  const entity = ensureEntity(store, input.entity, ctx);
  const record: ComponentRecord = { ...base, entityRuc: entity.ruc };
  return change(store, ctx, 'component.add', () => {
    store.db
      .prepare('INSERT INTO gov_components (code, name, entity_ruc, description, legal_basis, family, reference_unit, personal, sensitive, technical_report, status, source, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(record.code, record.name, record.entityRuc, record.description, record.legalBasis, record.family, record.referenceUnit, record.personal ? 1 : 0, record.sensitive ? 1 : 0, record.technicalReport, record.status, record.source, record.createdAt, record.updatedAt);
    return { after: record, result: record };
  });
}

/** Move a component along its life cycle; en-incorporacion needs a technical report (7.1.5–7.1.6). */
/** Column of gov_source_requests (migration 9) that records the day a requested source reached a status. */
const SOURCE_STEP_COLUMN: Partial<Record<ComponentStatus, string>> = {
  'en-evaluacion': 'evaluation_started_at',
  'en-incorporacion': 'evaluated_at',
  descartado: 'evaluated_at',
  disponible: 'available_at',
};

export function setComponentStatus(store: RegistryStore, code: string, to: string, opts: { technicalReport?: string | undefined; date?: string | undefined }, ctx: ChangeContext): ComponentRecord {
  const before = requireComponent(store, code);
  const status = parseStatus(to);
  const allowed = STATUS_TRANSITIONS[before.status];
  if (!allowed.includes(status)) {
    throw new MiisError('Config.InvalidInput', `el componente ${before.code} está «${before.status}» y no puede pasar a «${status}»; desde «${before.status}» solo se permite: ${allowed.join(', ')}`);
  }
  const technicalReport = optionalText(opts.technicalReport, 'informe técnico', 300) ?? before.technicalReport;
  if (status === 'en-incorporacion' && technicalReport === null) {
    throw new MiisError('Config.InvalidInput', `para incorporar ${before.code} hace falta el informe técnico que lo justifica (7.1.5): use --report "Informe Nº …"`);
  }
  if (status === 'descartado' && optionalText(opts.technicalReport, 'informe técnico', 300) === null) {
    throw new MiisError('Config.InvalidInput', `para descartar ${before.code} indique el informe técnico que lo sustenta (7.1.5): use --report "Informe Nº …"`);
  }
  const after: ComponentRecord = { ...before, status, technicalReport, updatedAt: ctx.at.toISOString() };
  const day = opts.date ?? limaDate(ctx.at);
  return change(store, ctx, 'component.status', () => {
    store.db.prepare('UPDATE gov_components SET status = ?, technical_report = ?, updated_at = ? WHERE code = ?').run(after.status, after.technicalReport, after.updatedAt, after.code);
    // the follow-up of a requested source (intake.ts): the day each step was reached
    const column = SOURCE_STEP_COLUMN[status];
    if (column !== undefined) store.db.prepare(`UPDATE gov_source_requests SET ${column} = COALESCE(${column}, ?) WHERE component_code = ?`).run(day, after.code);
    return { before, after, result: after };
  });
}

/** Link a registry service to the component; the service must belong to the administering entity. */
export function linkComponentService(store: RegistryStore, code: string, serviceRef: string, ctx: ChangeContext): string[] {
  const component = requireComponent(store, code);
  const serviceId = formatServiceId(parseServiceId(serviceRef.trim()));
  const service = store.getService(serviceId);
  if (service === undefined) throw new MiisError('Config.NotFound', `el servicio ${serviceId} no está registrado; regístrelo con «miis-central service add»`);
  const owner = parseServiceId(serviceId).memberCode;
  if (owner !== component.entityRuc) {
    throw new MiisError('Config.InvalidInput', `el servicio ${serviceId} es del RUC ${owner}, pero el componente ${component.code} lo administra el RUC ${component.entityRuc}`);
  }
  const before = componentServices(store, component.code);
  if (before.includes(serviceId)) throw new MiisError('Config.Duplicate', `el servicio ${serviceId} en el componente ${component.code}`);
  return change(store, ctx, 'component.service.link', () => {
    store.db.prepare('INSERT INTO gov_component_services (component_code, service_id) VALUES (?, ?)').run(component.code, serviceId);
    const after = componentServices(store, component.code);
    return { before: { code: component.code, services: before }, after: { code: component.code, services: after }, result: after };
  });
}

export function listComponents(store: RegistryStore, filter: { entity?: string; status?: string; family?: string } = {}): ComponentView[] {
  const ruc = filter.entity === undefined ? undefined : requireEntity(store, filter.entity).ruc;
  const status = filter.status === undefined ? undefined : parseStatus(filter.status);
  const family = filter.family === undefined ? undefined : parseFamily(filter.family);
  return (store.db.prepare('SELECT * FROM gov_components ORDER BY code').all() as Row[])
    .map(toComponent)
    .filter((c) => (ruc === undefined || c.entityRuc === ruc) && (status === undefined || c.status === status) && (family === undefined || c.family === family))
    .map((c) => viewComponent(store, c));
}

export function viewComponent(store: RegistryStore, c: ComponentRecord): ComponentView {
  const entity = getEntity(store, c.entityRuc) ?? requireEntity(store, c.entityRuc);
  return { ...c, entity, responsibleUnit: currentUnit(store, c.entityRuc) ?? null, services: componentServices(store, c.code) };
}
