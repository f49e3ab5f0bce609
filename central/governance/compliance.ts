/**
 * Compliance with what was agreed (directive 7.3.1): for each entity, and for each agreement,
 * the obligations whose deadline has passed or that were fulfilled, each met or missed, from
 * recorded facts (designation answers, first meeting, answers to access requests, DGFO's
 * evaluation of new sources IPFs asked for, activities of the meetings' work plans). Only meetings
 * held by `today` count: one recorded with a later date is scheduled, neither held nor missed; a
 * first meeting held after its due date is late (missed); periodic batch deliveries a client owes
 * under a trama's periodicity (deliveries.ts: on time is met, late or not delivered is missed). The level is
 * the share met: alto ≥ 90 %, medio ≥ 60 %, bajo below, sin-datos when nothing is evaluable yet.
 * Node-reported availability can be added later as more facts.
 */
import { addBusinessDays, type Calendar } from '../../core/business-days.js';
import type { RegistryStore } from '../registry/store.js';
import { listAccessRequests } from './access-requests.js';
import { getComponent } from './catalogue.js';
import { listEntities, requireEntity } from './entities.js';
import { operatingSince } from './meetings.js';
import { listActivities } from './work-plan.js';
import { listDesignations } from './units.js';
import { listSourceRequests } from './intake.js';
import { listSanctions } from './sanctions.js';
import { deliverySchedule, type DeliveryRow } from './deliveries.js';
import { DAYS } from './util.js';

export type ComplianceLevel = 'alto' | 'medio' | 'bajo' | 'sin-datos';

export interface ComplianceFact {
  readonly obligation: string;
  readonly dueAt: string;
  /** When it was done, or null when still undone. */
  readonly doneAt: string | null;
  readonly met: boolean;
  readonly agreementId: string | null;
}

export interface ComplianceRow {
  readonly entityRuc: string;
  readonly entityName: string;
  readonly met: number;
  readonly missed: number;
  readonly level: ComplianceLevel;
  readonly sanctions: number;
  readonly facts: readonly ComplianceFact[];
  /** Per agreement: the facts tied to it (access requests granted under it). */
  readonly agreements: readonly { readonly agreementId: string; readonly met: number; readonly missed: number; readonly level: ComplianceLevel }[];
}

export function levelOf(met: number, missed: number): ComplianceLevel {
  const total = met + missed;
  if (total === 0) return 'sin-datos';
  const share = met / total;
  return share >= 0.9 ? 'alto' : share >= 0.6 ? 'medio' : 'bajo';
}

/** Facts for one entity as of `today`: only obligations done or already due count. */
function factsOf(store: RegistryStore, ruc: string, today: string, cal: Calendar, deliveries: readonly DeliveryRow[]): ComplianceFact[] {
  const facts: ComplianceFact[] = [];
  const add = (obligation: string, dueAt: string, doneAt: string | null, agreementId: string | null = null): void => {
    if (doneAt === null && today <= dueAt) return; // still in time: not evaluable
    facts.push({ obligation, dueAt, doneAt, met: doneAt !== null && doneAt <= dueAt, agreementId });
  };
  const designations = listDesignations(store, { entity: ruc }).filter((d) => d.requestRef !== null || d.answeredAt !== d.requestedAt);
  for (const d of designations) add(`designación de unidad responsable (solicitud del ${d.requestedAt})`, d.dueAt, d.answeredAt);
  const firstAnswer = designations.map((d) => d.answeredAt).filter((a): a is string => a !== null).sort()[0];
  if (firstAnswer !== undefined) {
    add('primera reunión de trabajo (obligación de DGFO con la entidad)', addBusinessDays(firstAnswer, DAYS.firstMeeting, cal), operatingSince(store, ruc, today));
  }
  for (const a of listActivities(store, today, { entity: ruc })) {
    add(`actividad ${a.id} del plan de trabajo (reunión ${a.meetingId}): ${a.activity}${a.owner === 'DGFO' ? ' (obligación de DGFO)' : ''}`, a.dueAt, a.doneAt);
  }
  for (const r of listAccessRequests(store)) {
    if (getComponent(store, r.componentCode)?.entityRuc !== ruc) continue;
    add(`respuesta a la solicitud de acceso ${r.id}`, r.dueAt, r.decidedAt, r.agreementId);
  }
  // periodic batch deliveries the entity owes as a client of an agreement's trama (7.1.4; 6.8 for the RNU)
  for (const d of deliveries) {
    if (memberCodeOf(d.client) !== ruc) continue;
    add(`entrega por lotes ${d.trama} del periodo ${d.period} (convenio ${d.agreement})`, d.dueAt, d.deliveredAt, d.agreement);
  }
  for (const r of listSourceRequests(store, { entity: ruc }).filter((x) => x.entityRuc === ruc)) {
    add(`evaluación de la fuente nueva ${r.id} (${r.componentCode}) pedida por ${r.requester} (obligación de DGFO)`, r.evaluationDue, r.evaluatedAt);
  }
  return facts;
}

/** The member code (RUC) of a subsystem id INSTANCE/CLASS/CODE/SUBSYSTEM. */
const memberCodeOf = (subsystemId: string): string | undefined => subsystemId.split('/')[2];

export function computeCompliance(store: RegistryStore, today: string, cal: Calendar, opts: { entity?: string } = {}): ComplianceRow[] {
  const entities = opts.entity === undefined ? listEntities(store) : [requireEntity(store, opts.entity)];
  const deliveries = deliverySchedule(store, today);
  return entities.map((e) => {
    const facts = factsOf(store, e.ruc, today, cal, deliveries);
    const met = facts.filter((f) => f.met).length;
    const missed = facts.length - met;
    const ids = [...new Set(facts.map((f) => f.agreementId).filter((a): a is string => a !== null))].sort();
    const agreements = ids.map((agreementId) => {
      const own = facts.filter((f) => f.agreementId === agreementId);
      const m = own.filter((f) => f.met).length;
      return { agreementId, met: m, missed: own.length - m, level: levelOf(m, own.length - m) };
    });
    return { entityRuc: e.ruc, entityName: e.name, met, missed, level: levelOf(met, missed), sanctions: listSanctions(store, { entity: e.ruc }).length, facts, agreements };
  });
}
