/**
 * What is due and overdue (directive 7.1.1–7.1.3, 7.2.3), computed from recorded facts in
 * business days (core/business-days.ts with DGFO's decreed non-working days):
 *   solicitar-designacion   DGFO asks each administering entity: 30 days after the directive's approval
 *   responder-designacion   the entity answers: 15 days after the request
 *   primera-reunion         DGFO convenes the first meeting: 30 days after the answer
 *   responder-acceso        the designated unit answers an access request: 10 days after it was filed
 *   evaluar-fuente          DGFO evaluates a new source an IPF asked for (technical report, 7.1.5;
 *                           intake.ts): DAYS.sourceEvaluation days after the request
 *   actividad-plan          an activity of a meeting's work plan (7.1.3; work-plan.ts): its own due
 *                           date, owned by DGFO or the entity
 * The first meeting is due until one is held (a meeting recorded with a later date is only
 * scheduled and shown in the subject).
 * and, for a requested source whose incorporation started (7.1.6), solicitar-designacion for its
 * administering entity when it has no responsible unit yet: 30 days after that day (7.1.1);
 *   entrega-lote            a client of an agreement delivers the batch of its trama's periodicity
 *                           (deliveries.ts): the current period's, due at its last day, and the
 *                           previous period's when nothing came (overdue)
 * Only open obligations are listed; fulfilled ones feed compliance.ts.
 */
import { addBusinessDays, businessDaysBetween, parseIsoDate, type Calendar } from '../../core/business-days.js';
import type { RegistryStore } from '../registry/store.js';
import { listAccessRequests } from './access-requests.js';
import { listComponents } from './catalogue.js';
import { getEntity, listEntities, requireEntity } from './entities.js';
import { listDesignations } from './units.js';
import { listSourceRequests } from './intake.js';
import { nextScheduledMeeting, operatingSince } from './meetings.js';
import { DGFO_UNIT, listActivities } from './work-plan.js';
import { deliverySchedule } from './deliveries.js';
import { APPROVAL_DATE_SETTING, DAYS } from './util.js';

export const DEADLINE_KINDS = ['solicitar-designacion', 'responder-designacion', 'primera-reunion', 'responder-acceso', 'evaluar-fuente', 'actividad-plan', 'entrega-lote'] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];
export const DEADLINE_LABELS: Readonly<Record<DeadlineKind, string>> = {
  'solicitar-designacion': 'Solicitar designación de unidad responsable (7.1.1)',
  'responder-designacion': 'Designar unidad responsable (7.1.2)',
  'primera-reunion': 'Convocar la primera reunión de trabajo (7.1.3)',
  'responder-acceso': 'Responder solicitud de acceso (7.2.3)',
  'evaluar-fuente': 'Evaluar la fuente nueva solicitada por una IPF (6.6.1.2, 6.6.2.3, 7.1.5)',
  'actividad-plan': 'Actividad del plan de trabajo (7.1.3)',
  'entrega-lote': 'Entregar el lote de la periodicidad del acta (trama)',
};
export type DeadlineStatus = 'vencido' | 'por-vencer' | 'en-plazo';
/** Business days left at or under which a deadline is 'por-vencer'. */
export const WARNING_DAYS = 3;

export interface Deadline {
  readonly kind: DeadlineKind;
  readonly entityRuc: string;
  readonly entityName: string;
  /** Who must act: 'DGFO' or the entity. */
  readonly responsible: string;
  /** What it is about (request id, designation id…). */
  readonly subject: string;
  readonly from: string;
  readonly dueAt: string;
  readonly status: DeadlineStatus;
  /** Business days from today to the due date (negative when overdue). */
  readonly businessDaysLeft: number;
}

function statusOf(today: string, dueAt: string, cal: Calendar): { status: DeadlineStatus; left: number } {
  const left = businessDaysBetween(today, dueAt, cal);
  return { status: today > dueAt ? 'vencido' : left <= WARNING_DAYS ? 'por-vencer' : 'en-plazo', left };
}

export function computeDeadlines(store: RegistryStore, today: string, cal: Calendar, opts: { entity?: string } = {}): Deadline[] {
  parseIsoDate(today);
  const only = opts.entity === undefined ? undefined : requireEntity(store, opts.entity).ruc;
  const out: Deadline[] = [];
  const push = (d: Omit<Deadline, 'status' | 'businessDaysLeft'>): void => {
    if (only !== undefined && d.entityRuc !== only) return;
    const { status, left } = statusOf(today, d.dueAt, cal);
    out.push({ ...d, status, businessDaysLeft: left });
  };
  const designations = listDesignations(store);
  const approval = store.getSetting(APPROVAL_DATE_SETTING);
  const sources = listSourceRequests(store);
  // the directive's own deadline (7.1.1) is for the catalogue it found; requested sources have theirs (below)
  const requested = new Set(sources.map((r) => r.componentCode));
  const administering = new Set(listComponents(store).filter((c) => !requested.has(c.code)).map((c) => c.entityRuc));
  for (const e of listEntities(store)) {
    const own = designations.filter((d) => d.entityRuc === e.ruc);
    if (approval !== undefined && administering.has(e.ruc) && own.length === 0) {
      push({ kind: 'solicitar-designacion', entityRuc: e.ruc, entityName: e.name, responsible: 'DGFO', subject: `aprobación de la directiva (${approval})`, from: approval, dueAt: addBusinessDays(approval, DAYS.designationRequest, cal) });
    } else if (own.length === 0) {
      // a requested source being incorporated (7.1.6): its entity is asked to designate a unit (7.1.1)
      const started = sources.filter((r) => r.entityRuc === e.ruc && r.evaluatedAt !== null && r.status !== 'descartado').sort((a, b) => ((a.evaluatedAt as string) < (b.evaluatedAt as string) ? -1 : 1))[0];
      if (started !== undefined) {
        push({ kind: 'solicitar-designacion', entityRuc: e.ruc, entityName: e.name, responsible: 'DGFO', subject: `incorporación de ${started.componentCode} (${started.id})`, from: started.evaluatedAt as string, dueAt: addBusinessDays(started.evaluatedAt as string, DAYS.designationRequest, cal) });
      }
    }
    for (const d of own.filter((x) => x.status === 'solicitada')) {
      push({ kind: 'responder-designacion', entityRuc: e.ruc, entityName: e.name, responsible: e.acronym ?? e.name, subject: `designación ${d.id}${d.requestRef === null ? '' : ` (${d.requestRef})`}`, from: d.requestedAt, dueAt: d.dueAt });
    }
    const firstAnswer = own.map((d) => d.answeredAt).filter((a): a is string => a !== null).sort()[0];
    if (firstAnswer !== undefined && operatingSince(store, e.ruc, today) === null) {
      const scheduled = nextScheduledMeeting(store, e.ruc, today);
      push({ kind: 'primera-reunion', entityRuc: e.ruc, entityName: e.name, responsible: 'DGFO', subject: `respuesta del ${firstAnswer}${scheduled === null ? '' : `; programada el ${scheduled}`}`, from: firstAnswer, dueAt: addBusinessDays(firstAnswer, DAYS.firstMeeting, cal) });
    }
    for (const a of listActivities(store, today, { entity: e.ruc }).filter((x) => x.doneAt === null)) {
      const responsible = a.owner === 'DGFO' ? 'DGFO' : a.ownerUnit === null ? e.acronym ?? e.name : `${e.acronym ?? e.name} (${a.ownerUnit})`;
      push({ kind: 'actividad-plan', entityRuc: e.ruc, entityName: e.name, responsible: a.owner === 'DGFO' && a.ownerUnit !== null && a.ownerUnit !== DGFO_UNIT ? `DGFO (${a.ownerUnit})` : responsible, subject: `actividad ${a.id} (reunión ${a.meetingId}): ${a.activity}`, from: a.createdAt.slice(0, 10), dueAt: a.dueAt });
    }
  }
  const components = new Map(listComponents(store).map((c) => [c.code, c]));
  for (const r of listAccessRequests(store, { status: 'pendiente' })) {
    const c = components.get(r.componentCode);
    if (c === undefined) continue;
    const e = getEntity(store, c.entityRuc) ?? c.entity;
    push({ kind: 'responder-acceso', entityRuc: e.ruc, entityName: e.name, responsible: c.responsibleUnit?.unit ?? e.acronym ?? e.name, subject: `${r.id}: ${r.clientId} → ${r.serviceId ?? r.componentCode}`, from: r.filedAt, dueAt: r.dueAt });
  }
  for (const r of sources.filter((x) => x.evaluatedAt === null && (x.status === 'identificado' || x.status === 'en-evaluacion'))) {
    const e = getEntity(store, r.entityRuc);
    push({ kind: 'evaluar-fuente', entityRuc: r.entityRuc, entityName: e?.name ?? r.entityRuc, responsible: 'DGFO', subject: `${r.id}: ${r.componentCode} (${r.status}), pedido por ${r.requester}`, from: r.filedAt, dueAt: r.evaluationDue });
  }
  for (const d of deliverySchedule(store, today).filter((x) => x.status === 'pendiente' || x.status === 'no-entregado')) {
    const ruc = d.client.split('/')[2] ?? d.client;
    const e = getEntity(store, ruc);
    push({ kind: 'entrega-lote', entityRuc: ruc, entityName: e?.name ?? ruc, responsible: d.client, subject: `${d.trama} (${d.periodicity}, ${d.period}), convenio ${d.agreement}`, from: d.period.slice(0, 10), dueAt: d.dueAt });
  }
  return out.sort((a, b) => (a.dueAt === b.dueAt ? (a.entityName < b.entityName ? -1 : 1) : a.dueAt < b.dueAt ? -1 : 1));
}
