/**
 * New sources an IPF asks for (directive 6.6.1.2, 6.6.2.3, 8.2): information not yet in the
 * catalogue. A request creates a component in state «identificado» with its requester (table
 * gov_source_requests, migration 9) and DGFO's evaluation deadline; the component then follows
 * its life cycle (catalogue.ts): en-evaluacion → en-incorporacion (technical report, 7.1.5) or
 * descartado → disponible (7.1.7), each step's day recorded on the request. Deadlines
 * (deadlines.ts): DGFO evaluates within DAYS.sourceEvaluation business days; once incorporation
 * starts, an administering entity without a responsible unit is asked to designate one within 30
 * (7.1.1), then the usual 15 (7.1.2) and the first meeting within 30 (7.1.3).
 */
import { MiisError } from '../../core/errors.js';
import { addBusinessDays, parseIsoDate, type Calendar } from '../../core/business-days.js';
import { formatClientId, formatMemberId, parseClientId } from '../../core/identifiers.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { addComponent, getComponent, parseFamily, parseReferenceUnit, type ComponentStatus } from './catalogue.js';
import { getEntity } from './entities.js';
import { checkProgramCitation, listPrograms } from './programs.js';
import { DAYS, change, checkText, optionalText, type Row } from './util.js';

/** Roles of entities in charge of IPFs (the requesters 6.6.1.2 and 6.6.2.3 name). */
const REQUESTER_ROLES: readonly string[] = ['IPF', 'MIDIS', 'GOBIERNO_REGIONAL', 'GOBIERNO_LOCAL'];

export interface SourceRequestRecord {
  /** NF-YYYY-NNNN */
  readonly id: string;
  readonly componentCode: string;
  readonly requester: string;
  readonly requesterRuc: string;
  readonly programCode: string | null;
  readonly description: string;
  readonly filedAt: string;
  readonly evaluationDue: string;
  readonly evaluationStartedAt: string | null;
  readonly evaluatedAt: string | null;
  readonly availableAt: string | null;
  readonly createdAt: string;
}

/** A request with its component's current status and administering entity. */
export interface SourceRequestView extends SourceRequestRecord {
  readonly status: ComponentStatus;
  readonly entityRuc: string;
  readonly componentName: string;
}

const toRequest = (r: Row): SourceRequestRecord => ({
  id: r.id as string,
  componentCode: r.component_code as string,
  requester: r.requester as string,
  requesterRuc: r.requester_ruc as string,
  programCode: (r.program_code as string | null) ?? null,
  description: r.description as string,
  filedAt: r.filed_at as string,
  evaluationDue: r.evaluation_due as string,
  evaluationStartedAt: (r.evaluation_started_at as string | null) ?? null,
  evaluatedAt: (r.evaluated_at as string | null) ?? null,
  availableAt: (r.available_at as string | null) ?? null,
  createdAt: r.created_at as string,
});

export interface SourceRequestInput {
  readonly entity: string;
  readonly requester: string;
  readonly description: string;
  readonly family: string;
  readonly name?: string | undefined;
  readonly code?: string | undefined;
  readonly referenceUnit?: string | undefined;
  readonly personal?: boolean | undefined;
  readonly sensitive?: boolean | undefined;
  readonly program?: string | undefined;
  readonly filedAt: string;
}

function nextId(store: RegistryStore, year: string): string {
  const n = store.db.prepare('SELECT COUNT(*) AS n FROM gov_source_requests WHERE id LIKE ?').pluck().get(`NF-${year}-%`) as number;
  return `NF-${year}-${String(n + 1).padStart(4, '0')}`;
}

/** Record an IPF's request for a source not in the catalogue: a new component «identificado» and its follow-up. */
export function requestNewSource(store: RegistryStore, input: SourceRequestInput, cal: Calendar, ctx: ChangeContext): SourceRequestView {
  const filedAt = parseIsoDate(input.filedAt.trim());
  const description = checkText(input.description, 'descripción de la información solicitada (--descripcion)', 2000);
  const family = parseFamily(input.family);
  if (family === 'afiliacion-egreso') throw new MiisError('Config.InvalidInput', 'las fuentes nuevas son de identificación (6.6.1.2) o de criterios de elegibilidad (6.6.2.3); los padrones de afiliación y egreso son de cada IPF (6.6.3)');
  const clientId = parseClientId(input.requester.trim());
  const requester = clientId.subsystemCode === undefined ? formatMemberId(clientId) : formatClientId(clientId);
  const known = clientId.subsystemCode === undefined ? store.getMember(requester) !== undefined : store.getSubsystem(requester) !== undefined;
  if (!known) throw new MiisError('Config.NotFound', `el solicitante ${requester} no está registrado en el directorio central (registre el miembro y su subsistema)`);
  const requesterRuc = clientId.memberCode;
  const role = getEntity(store, requesterRuc)?.role ?? store.getMember(formatMemberId(clientId))?.role;
  const runsProgram = listPrograms(store).some((p) => p.entityRuc === requesterRuc && p.status !== 'cerrado');
  if (!runsProgram && (role === undefined || !REQUESTER_ROLES.includes(role))) {
    throw new MiisError('Config.InvalidInput', `el solicitante ${requester} (rol ${role ?? 'desconocido'}) no está a cargo de una intervención pública focalizada: las fuentes nuevas se incorporan a requerimiento de las IPF (6.6.1.2, 6.6.2.3)`);
  }
  const program = input.program === undefined ? null : checkProgramCitation(store, input.program, [requesterRuc]).code;
  const year = filedAt.slice(0, 4);
  const id = nextId(store, year);
  const code = input.code === undefined ? id : input.code;
  if (getComponent(store, code) !== undefined) throw new MiisError('Config.Duplicate', `el componente ${code.trim().toUpperCase()} ya está en el catálogo: pida acceso a él (7.2) en lugar de una fuente nueva`);
  const section = family === 'identificacion' ? '6.6.1.2' : '6.6.2.3';
  return store.transaction(() => {
    const component = addComponent(store, {
      code, entity: input.entity, description, family, referenceUnit: parseReferenceUnit(input.referenceUnit ?? 'persona'),
      name: optionalText(input.name, 'nombre', 200) ?? `Fuente solicitada: ${description.slice(0, 150)}`,
      legalBasis: `Por determinar en la evaluación (requerimiento de IPF, directiva ${section})`,
      personal: input.personal === true || input.sensitive === true, sensitive: input.sensitive === true,
      source: `Requerimiento ${id} de ${requester} (${section})`,
    }, ctx);
    const record: SourceRequestRecord = {
      id, componentCode: component.code, requester, requesterRuc, programCode: program, description, filedAt,
      evaluationDue: addBusinessDays(filedAt, DAYS.sourceEvaluation, cal), evaluationStartedAt: null, evaluatedAt: null, availableAt: null,
      createdAt: ctx.at.toISOString(),
    };
    return change(store, ctx, 'source.request', () => {
      store.db.prepare(`INSERT INTO gov_source_requests (id, component_code, requester, requester_ruc, program_code, description, filed_at, evaluation_due, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(record.id, record.componentCode, record.requester, record.requesterRuc, record.programCode, record.description,
        record.filedAt, record.evaluationDue, record.createdAt);
      return { after: record, result: { ...record, status: component.status, entityRuc: component.entityRuc, componentName: component.name } };
    });
  });
}

export function listSourceRequests(store: RegistryStore, filter: { entity?: string; status?: string } = {}): SourceRequestView[] {
  const rows = store.db.prepare(`SELECT r.*, c.status AS c_status, c.entity_ruc AS c_entity, c.name AS c_name
    FROM gov_source_requests r JOIN gov_components c ON c.code = r.component_code ORDER BY r.id`).all() as Row[];
  return rows.map((r) => ({ ...toRequest(r), status: r.c_status as ComponentStatus, entityRuc: r.c_entity as string, componentName: r.c_name as string }))
    .filter((r) => (filter.entity === undefined || r.entityRuc === filter.entity || r.requesterRuc === filter.entity) && (filter.status === undefined || r.status === filter.status));
}
