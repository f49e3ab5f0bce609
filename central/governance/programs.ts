/**
 * The Registro Nacional de Programas Sociales (RPS, directive 4.1 c and e, 5.17, 6.6.2.1): the
 * targeted public interventions (IPF) approved by the CIAS, which DGFO registers and keeps up to
 * date: code, name, CIAS approval (reference and date), administering entity (RUC), target
 * population, intervention type and status. Published on the portal and, when there is at least
 * one, in the global configuration (`programs`); access requests and agreements may cite a
 * registered programme (table gov_program_links), checked here.
 *
 * Status: activo ⇄ suspendido, and either → cerrado (final).
 */
import { MiisError } from '../../core/errors.js';
import type { GlobalConfProgram } from '../../core/global-conf-model.js';
import { parseIsoDate } from '../../core/business-days.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { ensureEntity, getEntity } from './entities.js';
import { change, checkText, type Row } from './util.js';

export const PROGRAM_STATUSES = ['activo', 'suspendido', 'cerrado'] as const;
export type ProgramStatus = (typeof PROGRAM_STATUSES)[number];
export const PROGRAM_STATUS_LABELS: Readonly<Record<ProgramStatus, string>> = { activo: 'Activo', suspendido: 'Suspendido', cerrado: 'Cerrado' };
const PROGRAM_TRANSITIONS: Readonly<Record<ProgramStatus, readonly ProgramStatus[]>> = {
  activo: ['suspendido', 'cerrado'],
  suspendido: ['activo', 'cerrado'],
  cerrado: [],
};
/** Programme code: upper-case letters, digits, - and _ (e.g. JUNTOS, PENSION65). */
export const PROGRAM_CODE = /^[A-Z0-9][A-Z0-9_-]{1,39}$/;

export interface ProgramRecord {
  readonly code: string;
  readonly name: string;
  /** The CIAS approval: document reference and date (YYYY-MM-DD). */
  readonly ciasRef: string;
  readonly ciasDate: string;
  readonly entityRuc: string;
  readonly targetPopulation: string;
  readonly interventionType: string;
  readonly status: ProgramStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ProgramInput {
  readonly code: string;
  readonly name: string;
  readonly ciasRef: string;
  readonly ciasDate: string;
  readonly entity: string;
  readonly targetPopulation: string;
  readonly interventionType: string;
  readonly status?: string | undefined;
}

export type ProgramPatch = Partial<Omit<ProgramInput, 'code'>>;

const toProgram = (r: Row): ProgramRecord => ({
  code: r.code as string,
  name: r.name as string,
  ciasRef: r.cias_ref as string,
  ciasDate: r.cias_date as string,
  entityRuc: r.entity_ruc as string,
  targetPopulation: r.target_population as string,
  interventionType: r.intervention_type as string,
  status: r.status as ProgramStatus,
  createdAt: r.created_at as string,
  updatedAt: r.updated_at as string,
});

export function parseProgramStatus(value: string): ProgramStatus {
  const v = value.trim().toLowerCase();
  if (!(PROGRAM_STATUSES as readonly string[]).includes(v)) throw new MiisError('Config.InvalidInput', `estado de programa no válido: «${value}». Valores admitidos: ${PROGRAM_STATUSES.join(', ')}`);
  return v as ProgramStatus;
}

function normCode(code: string): string {
  const c = code.trim().toUpperCase();
  if (!PROGRAM_CODE.test(c)) throw new MiisError('Config.InvalidInput', `código de programa no válido: «${code}» (mayúsculas, dígitos, - y _, de 2 a 40; p. ej. JUNTOS)`);
  return c;
}

export function getProgram(store: RegistryStore, code: string): ProgramRecord | undefined {
  const row = store.db.prepare('SELECT * FROM gov_programs WHERE code = ?').get(code.trim().toUpperCase()) as Row | undefined;
  return row === undefined ? undefined : toProgram(row);
}

export function requireProgram(store: RegistryStore, code: string): ProgramRecord {
  const p = getProgram(store, code);
  if (p === undefined) throw new MiisError('Config.NotFound', `el programa «${code}» no está en el Registro Nacional de Programas Sociales (RPS); vea «miis-central programa list»`);
  return p;
}

export function listPrograms(store: RegistryStore, filter: { status?: string; entity?: string } = {}): ProgramRecord[] {
  const status = filter.status === undefined ? undefined : parseProgramStatus(filter.status);
  return (store.db.prepare('SELECT * FROM gov_programs ORDER BY code').all() as Row[]).map(toProgram)
    .filter((p) => (status === undefined || p.status === status) && (filter.entity === undefined || p.entityRuc === filter.entity));
}

function checked(input: Omit<ProgramInput, 'code' | 'entity'>): Omit<ProgramRecord, 'code' | 'entityRuc' | 'createdAt' | 'updatedAt' | 'status'> {
  return {
    name: checkText(input.name, 'nombre del programa', 200),
    ciasRef: checkText(input.ciasRef, 'referencia de la aprobación de la CIAS (--cias)', 200),
    ciasDate: parseIsoDate(input.ciasDate.trim()),
    targetPopulation: checkText(input.targetPopulation, 'población objetivo', 500),
    interventionType: checkText(input.interventionType, 'tipo de intervención', 200),
  };
}

/** Register an intervention approved by the CIAS (4.1 e); its administering entity must be known. */
export function addProgram(store: RegistryStore, input: ProgramInput, ctx: ChangeContext): ProgramRecord {
  const code = normCode(input.code);
  const fields = checked(input);
  if (getProgram(store, code) !== undefined) throw new MiisError('Config.Duplicate', `el programa ${code} en el RPS; use «programa set» para cambiar sus datos`);
  const entity = ensureEntity(store, input.entity, ctx);
  const at = ctx.at.toISOString();
  const record: ProgramRecord = { code, ...fields, entityRuc: entity.ruc, status: input.status === undefined ? 'activo' : parseProgramStatus(input.status), createdAt: at, updatedAt: at };
  return change(store, ctx, 'program.add', () => {
    store.db.prepare(`INSERT INTO gov_programs (code, name, cias_ref, cias_date, entity_ruc, target_population, intervention_type, status, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(record.code, record.name, record.ciasRef, record.ciasDate, record.entityRuc, record.targetPopulation,
      record.interventionType, record.status, record.createdAt, record.updatedAt);
    return { after: record, result: record };
  });
}

/** Update a programme's data or status (audited); a closed programme is not changed any more. */
export function setProgram(store: RegistryStore, code: string, patch: ProgramPatch, ctx: ChangeContext): ProgramRecord {
  const before = requireProgram(store, code);
  if (before.status === 'cerrado') throw new MiisError('Config.InvalidInput', `el programa ${before.code} está cerrado: no se modifica`);
  const fields = checked({
    name: patch.name ?? before.name, ciasRef: patch.ciasRef ?? before.ciasRef, ciasDate: patch.ciasDate ?? before.ciasDate,
    targetPopulation: patch.targetPopulation ?? before.targetPopulation, interventionType: patch.interventionType ?? before.interventionType,
  });
  const status = patch.status === undefined ? before.status : parseProgramStatus(patch.status);
  if (status !== before.status && !PROGRAM_TRANSITIONS[before.status].includes(status)) {
    throw new MiisError('Config.InvalidInput', `el programa ${before.code} está «${before.status}» y no puede pasar a «${status}»; se permite: ${PROGRAM_TRANSITIONS[before.status].join(', ')}`);
  }
  const entityRuc = patch.entity === undefined ? before.entityRuc : ensureEntity(store, patch.entity, ctx).ruc;
  const after: ProgramRecord = { ...before, ...fields, entityRuc, status, updatedAt: ctx.at.toISOString() };
  return change(store, ctx, 'program.update', () => {
    store.db.prepare(`UPDATE gov_programs SET name = ?, cias_ref = ?, cias_date = ?, entity_ruc = ?, target_population = ?, intervention_type = ?, status = ?, updated_at = ?
      WHERE code = ?`).run(after.name, after.ciasRef, after.ciasDate, after.entityRuc, after.targetPopulation, after.interventionType, after.status, after.updatedAt, after.code);
    return { before, after, result: after };
  });
}

export const LINK_KINDS = ['convenio', 'solicitud-acceso'] as const;
export type ProgramLinkKind = (typeof LINK_KINDS)[number];

/**
 * A registered programme an agreement or access request cites. It must be in the RPS and not
 * closed; when `client` is given (the requester or a client of the agreement), the programme must
 * be administered by that client's entity (its RUC). Returns the canonical code.
 */
export function checkProgramCitation(store: RegistryStore, code: string, clientRucs: readonly string[] = []): ProgramRecord {
  const p = requireProgram(store, code);
  if (p.status === 'cerrado') throw new MiisError('Config.InvalidInput', `el programa ${p.code} está cerrado en el RPS: no puede citarse`);
  if (clientRucs.length > 0 && !clientRucs.includes(p.entityRuc)) {
    throw new MiisError('Config.InvalidInput', `el programa ${p.code} lo administra el RUC ${p.entityRuc}, que no es el de ${clientRucs.length === 1 ? 'la entidad solicitante' : 'ningún cliente del convenio'} (${clientRucs.join(', ')})`);
  }
  return p;
}

/** Record that an agreement or access request cites a programme (in the caller's transaction when there is one). */
export function linkProgram(store: RegistryStore, kind: ProgramLinkKind, ref: string, programCode: string, ctx: ChangeContext): void {
  change(store, ctx, 'program.cite', () => {
    store.db.prepare('INSERT INTO gov_program_links (kind, ref, program_code, created_at) VALUES (?, ?, ?, ?)').run(kind, ref, programCode, ctx.at.toISOString());
    return { after: { kind, ref, program: programCode }, result: undefined };
  });
}

/** The programme an agreement or access request cites, if any. */
export function citedProgram(store: RegistryStore, kind: ProgramLinkKind, ref: string): string | undefined {
  return (store.db.prepare('SELECT program_code FROM gov_program_links WHERE kind = ? AND ref = ?').pluck().get(kind, ref) as string | undefined) ?? undefined;
}

/** What the global configuration publishes: every programme not closed, sorted by code. */
export function programsForConf(store: Pick<RegistryStore, 'db'>): GlobalConfProgram[] {
  return (store.db.prepare("SELECT * FROM gov_programs WHERE status <> 'cerrado' ORDER BY code").all() as Row[]).map(toProgram).map((p) => ({
    code: p.code, name: p.name, administrator: p.entityRuc, ciasApproval: p.ciasRef, ciasDate: p.ciasDate,
    targetPopulation: p.targetPopulation, interventionType: p.interventionType, status: p.status as 'activo' | 'suspendido',
  }));
}

/** The name of the administering entity (for listings). */
export function programEntityName(store: RegistryStore, p: ProgramRecord): string {
  return getEntity(store, p.entityRuc)?.name ?? p.entityRuc;
}
