/**
 * Responsible units (directive 6.2.2, 6.7, 7.1.1–7.1.2): DGFO asks an administering entity to
 * designate the órgano, área o unidad orgánica that must give access and its head; the entity
 * answers within 15 business days. A later designation replaces the current one (history kept).
 *
 * Status: 'solicitada' (asked, unanswered) → 'vigente' (answered, in force) → 'reemplazada'.
 */
import { MiisError } from '../../core/errors.js';
import { addBusinessDays, parseIsoDate, type Calendar } from '../../core/business-days.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { ensureEntity, requireEntity } from './entities.js';
import { DAYS, change, checkText, optionalText, type Row } from './util.js';

export const DESIGNATION_STATUSES = ['solicitada', 'vigente', 'reemplazada'] as const;
export type DesignationStatus = (typeof DESIGNATION_STATUSES)[number];

export interface DesignationRecord {
  readonly id: number;
  readonly entityRuc: string;
  readonly requestedAt: string;
  readonly dueAt: string;
  readonly requestRef: string | null;
  readonly answeredAt: string | null;
  readonly unit: string | null;
  readonly headName: string | null;
  readonly headPost: string | null;
  readonly headContact: string | null;
  /** The account the head (or a delegate) uses as --actor when answering access requests. */
  readonly headUser: string | null;
  readonly status: DesignationStatus;
  readonly replacedBy: number | null;
  readonly createdAt: string;
}

const toDesignation = (r: Row): DesignationRecord => ({
  id: Number(r.id),
  entityRuc: r.entity_ruc as string,
  requestedAt: r.requested_at as string,
  dueAt: r.due_at as string,
  requestRef: (r.request_ref as string | null) ?? null,
  answeredAt: (r.answered_at as string | null) ?? null,
  unit: (r.unit as string | null) ?? null,
  headName: (r.head_name as string | null) ?? null,
  headPost: (r.head_post as string | null) ?? null,
  headContact: (r.head_contact as string | null) ?? null,
  headUser: (r.head_user as string | null) ?? null,
  status: r.status as DesignationStatus,
  replacedBy: r.replaced_by === null || r.replaced_by === undefined ? null : Number(r.replaced_by),
  createdAt: r.created_at as string,
});

export function listDesignations(store: RegistryStore, opts: { entity?: string } = {}): DesignationRecord[] {
  const rows = opts.entity === undefined
    ? store.db.prepare('SELECT * FROM gov_designations ORDER BY entity_ruc, id').all()
    : store.db.prepare('SELECT * FROM gov_designations WHERE entity_ruc = ? ORDER BY id').all(requireEntity(store, opts.entity).ruc);
  return (rows as Row[]).map(toDesignation);
}

function getDesignation(store: RegistryStore, id: number): DesignationRecord {
  return toDesignation(store.db.prepare('SELECT * FROM gov_designations WHERE id = ?').get(id) as Row);
}

/** The unit in force for an entity (status 'vigente'), if any. */
export function currentUnit(store: RegistryStore, ruc: string): DesignationRecord | undefined {
  const row = store.db.prepare("SELECT * FROM gov_designations WHERE entity_ruc = ? AND status = 'vigente' ORDER BY id DESC LIMIT 1").get(ruc) as Row | undefined;
  return row === undefined ? undefined : toDesignation(row);
}

function pendingRequest(store: RegistryStore, ruc: string): DesignationRecord | undefined {
  const row = store.db.prepare("SELECT * FROM gov_designations WHERE entity_ruc = ? AND status = 'solicitada' ORDER BY id DESC LIMIT 1").get(ruc) as Row | undefined;
  return row === undefined ? undefined : toDesignation(row);
}

/** DGFO asks the entity to designate its responsible unit (7.1.1); due 15 business days later (7.1.2). */
export function requestDesignation(
  store: RegistryStore,
  input: { entity: string; requestedAt: string; requestRef?: string | undefined },
  cal: Calendar,
  ctx: ChangeContext,
): DesignationRecord {
  const requestedAt = parseIsoDate(input.requestedAt.trim());
  const dueAt = addBusinessDays(requestedAt, DAYS.designationAnswer, cal);
  const requestRef = optionalText(input.requestRef, 'referencia del oficio', 120);
  const entity = ensureEntity(store, input.entity, ctx);
  const pending = pendingRequest(store, entity.ruc);
  if (pending !== undefined) {
    throw new MiisError('Config.Duplicate', `una solicitud de designación pendiente para ${entity.name} (del ${pending.requestedAt}, vence el ${pending.dueAt}); registre la respuesta con «unit answer»`);
  }
  return change(store, ctx, 'designation.request', () => {
    const info = store.db
      .prepare("INSERT INTO gov_designations (entity_ruc, requested_at, due_at, request_ref, status, created_at) VALUES (?, ?, ?, ?, 'solicitada', ?)")
      .run(entity.ruc, requestedAt, dueAt, requestRef, ctx.at.toISOString());
    const record = getDesignation(store, Number(info.lastInsertRowid));
    return { after: record, result: record };
  });
}

export interface UnitAnswer {
  readonly entity: string;
  readonly answeredAt: string;
  readonly unit: string;
  readonly headName: string;
  readonly headPost: string;
  readonly headContact: string;
  readonly headUser?: string | undefined;
}

/**
 * Record the entity's answer (the designated unit and its head). Answers the pending request;
 * without one, replaces the unit in force (the old one becomes 'reemplazada').
 */
export function answerDesignation(store: RegistryStore, input: UnitAnswer, ctx: ChangeContext): DesignationRecord {
  const answeredAt = parseIsoDate(input.answeredAt.trim());
  const fields = {
    unit: checkText(input.unit, 'órgano, área o unidad (--unidad)', 200),
    headName: checkText(input.headName, 'nombre del titular (--titular)', 200),
    headPost: checkText(input.headPost, 'cargo del titular (--cargo)', 200),
    headContact: checkText(input.headContact, 'contacto del titular (--contacto)', 300),
    headUser: optionalText(input.headUser, 'usuario del titular (--usuario)', 100),
  };
  const entity = requireEntity(store, input.entity);
  const pending = pendingRequest(store, entity.ruc);
  const current = currentUnit(store, entity.ruc);
  if (pending === undefined && current === undefined) {
    throw new MiisError('Config.NotFound', `una solicitud de designación para ${entity.name}; regístrela primero con «miis-central unit request --entity ${entity.ruc} --date AAAA-MM-DD»`);
  }
  if (pending !== undefined && answeredAt < pending.requestedAt) {
    throw new MiisError('Config.InvalidInput', `la fecha de respuesta ${answeredAt} es anterior a la solicitud (${pending.requestedAt})`);
  }
  return change(store, ctx, pending === undefined ? 'designation.replace' : 'designation.answer', () => {
    let id: number;
    if (pending !== undefined) {
      store.db
        .prepare("UPDATE gov_designations SET answered_at = ?, unit = ?, head_name = ?, head_post = ?, head_contact = ?, head_user = ?, status = 'vigente' WHERE id = ?")
        .run(answeredAt, fields.unit, fields.headName, fields.headPost, fields.headContact, fields.headUser, pending.id);
      id = pending.id;
    } else {
      const info = store.db
        .prepare("INSERT INTO gov_designations (entity_ruc, requested_at, due_at, request_ref, answered_at, unit, head_name, head_post, head_contact, head_user, status, created_at) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, 'vigente', ?)")
        .run(entity.ruc, answeredAt, answeredAt, answeredAt, fields.unit, fields.headName, fields.headPost, fields.headContact, fields.headUser, ctx.at.toISOString());
      id = Number(info.lastInsertRowid);
    }
    if (current !== undefined) {
      store.db.prepare("UPDATE gov_designations SET status = 'reemplazada', replaced_by = ? WHERE id = ?").run(id, current.id);
    }
    const record = getDesignation(store, id);
    return { before: current ?? pending, after: record, result: record };
  });
}

/** Does this actor act for the entity's designated unit? (its head's account, or the head's name) */
export function actsForUnit(unit: DesignationRecord, actor: string): boolean {
  const norm = (s: string | null): string => (s ?? '').trim().toLowerCase();
  return norm(actor) !== '' && (norm(actor) === norm(unit.headUser) || norm(actor) === norm(unit.headName));
}
