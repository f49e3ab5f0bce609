/**
 * The work plan of a meeting (directive 7.1.3: the first meeting "elabora un plan de trabajo" for
 * the data standards, electronic transactions and exchange procedures): activities, each with its
 * owner — DGFO or the meeting's entity — the unit that carries it out and a due date. Open
 * activities are deadlines (deadlines.ts, kind actividad-plan); done or overdue ones are
 * compliance facts (compliance.ts), late ones counted as missed.
 */
import { MiisError } from '../../core/errors.js';
import { parseIsoDate } from '../../core/business-days.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { requireEntity, rucOf } from './entities.js';
import { listMeetings, requireMeeting, type MeetingRecord } from './meetings.js';
import { currentUnit } from './units.js';
import { change, checkText, optionalText, type Row } from './util.js';

export const PLAN_OWNERS = ['DGFO', 'ENTIDAD'] as const;
export type PlanOwner = (typeof PLAN_OWNERS)[number];
export const DGFO_UNIT = 'Dirección General de Focalización';

export type PlanStatus = 'pendiente' | 'vencida' | 'cumplida' | 'cumplida-fuera-de-plazo';

export interface PlanActivity {
  readonly id: number;
  readonly meetingId: number;
  readonly entityRuc: string;
  readonly activity: string;
  /** Who must do it: DGFO or the meeting's entity. */
  readonly owner: PlanOwner;
  /** The organ, area or unit that carries it out (the entity's designated unit by default). */
  readonly ownerUnit: string | null;
  readonly dueAt: string;
  readonly doneAt: string | null;
  readonly createdAt: string;
}

export interface PlanActivityView extends PlanActivity {
  readonly status: PlanStatus;
}

const toActivity = (r: Row, meeting: MeetingRecord): PlanActivity => ({
  id: Number(r.id),
  meetingId: Number(r.meeting_id),
  entityRuc: meeting.entityRuc,
  activity: r.activity as string,
  owner: r.owner as PlanOwner,
  ownerUnit: (r.owner_unit as string | null) ?? null,
  dueAt: r.due_at as string,
  doneAt: (r.done_at as string | null) ?? null,
  createdAt: r.created_at as string,
});

export function planStatus(a: PlanActivity, today: string): PlanStatus {
  if (a.doneAt !== null) return a.doneAt <= a.dueAt ? 'cumplida' : 'cumplida-fuera-de-plazo';
  return today > a.dueAt ? 'vencida' : 'pendiente';
}

/** "DGFO", or the meeting's entity by RUC, member id or the word ENTIDAD. */
function parseOwner(value: string, meeting: MeetingRecord): PlanOwner {
  const v = value.trim();
  if (v.toUpperCase() === 'DGFO' || v.toUpperCase() === 'MIDIS') return 'DGFO';
  if (v.toUpperCase() === 'ENTIDAD') return 'ENTIDAD';
  let ruc: string;
  try {
    ruc = rucOf(v);
  } catch {
    throw new MiisError('Config.InvalidInput', `responsable no válido: «${value}». Use DGFO o el RUC de la entidad de la reunión (${meeting.entityRuc})`);
  }
  if (ruc !== meeting.entityRuc) throw new MiisError('Config.InvalidInput', `responsable no válido: «${value}»; el plan de la reunión ${meeting.id} es entre la DGFO y la entidad con RUC ${meeting.entityRuc}`);
  return 'ENTIDAD';
}

function defaultUnit(store: RegistryStore, owner: PlanOwner, ruc: string): string | null {
  return owner === 'DGFO' ? DGFO_UNIT : currentUnit(store, ruc)?.unit ?? null;
}

export function getActivity(store: RegistryStore, id: number): PlanActivity | undefined {
  const row = store.db.prepare('SELECT * FROM gov_plan_activities WHERE id = ?').get(id) as Row | undefined;
  return row === undefined ? undefined : toActivity(row, requireMeeting(store, Number(row.meeting_id)));
}

export function requireActivity(store: RegistryStore, id: number): PlanActivity {
  const a = getActivity(store, id);
  if (a === undefined) throw new MiisError('Config.NotFound', `la actividad ${id} del plan de trabajo; vea «miis-central plan list»`);
  return a;
}

export interface ActivityInput {
  readonly meeting: number;
  readonly activity: string;
  readonly owner: string;
  readonly unit?: string | undefined;
  readonly dueAt: string;
}

export function addActivity(store: RegistryStore, input: ActivityInput, ctx: ChangeContext): PlanActivity {
  const meeting = requireMeeting(store, input.meeting);
  const activity = checkText(input.activity, 'actividad', 500);
  const owner = parseOwner(input.owner, meeting);
  const unit = optionalText(input.unit, 'unidad responsable', 200) ?? defaultUnit(store, owner, meeting.entityRuc);
  const dueAt = parseIsoDate(input.dueAt.trim());
  if (dueAt < meeting.date) throw new MiisError('Config.InvalidInput', `la actividad vence el ${dueAt}, antes de la reunión ${meeting.id} (${meeting.date}) que aprueba el plan`);
  return change(store, ctx, 'plan.add', () => {
    const info = store.db
      .prepare('INSERT INTO gov_plan_activities (meeting_id, activity, owner, owner_unit, due_at, done_at, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)')
      .run(meeting.id, activity, owner, unit, dueAt, ctx.at.toISOString());
    const record = requireActivity(store, Number(info.lastInsertRowid));
    return { after: record, result: record };
  });
}

export interface ActivityPatch {
  readonly activity?: string | undefined;
  readonly owner?: string | undefined;
  readonly unit?: string | undefined;
  readonly dueAt?: string | undefined;
}

export function setActivity(store: RegistryStore, id: number, patch: ActivityPatch, ctx: ChangeContext): PlanActivity {
  const before = requireActivity(store, id);
  if (Object.values(patch).every((v) => v === undefined)) throw new MiisError('Config.InvalidInput', 'indique qué cambiar: --activity, --owner, --unit o --due');
  const meeting = requireMeeting(store, before.meetingId);
  const activity = patch.activity === undefined ? before.activity : checkText(patch.activity, 'actividad', 500);
  const owner = patch.owner === undefined ? before.owner : parseOwner(patch.owner, meeting);
  const unit = patch.unit !== undefined ? optionalText(patch.unit, 'unidad responsable', 200) : owner !== before.owner ? defaultUnit(store, owner, meeting.entityRuc) : before.ownerUnit;
  const dueAt = patch.dueAt === undefined ? before.dueAt : parseIsoDate(patch.dueAt.trim());
  if (dueAt < meeting.date) throw new MiisError('Config.InvalidInput', `la actividad vence el ${dueAt}, antes de la reunión ${meeting.id} (${meeting.date}) que aprueba el plan`);
  return change(store, ctx, 'plan.set', () => {
    store.db.prepare('UPDATE gov_plan_activities SET activity = ?, owner = ?, owner_unit = ?, due_at = ? WHERE id = ?').run(activity, owner, unit, dueAt, id);
    const after = requireActivity(store, id);
    return { before, after, result: after };
  });
}

/** Mark an activity done on a date (not before the meeting, not in the future). */
export function completeActivity(store: RegistryStore, id: number, doneAt: string, today: string, ctx: ChangeContext): PlanActivity {
  const before = requireActivity(store, id);
  const date = parseIsoDate(doneAt.trim());
  if (before.doneAt !== null) throw new MiisError('Config.InvalidInput', `la actividad ${id} ya se cumplió el ${before.doneAt}`);
  const meeting = requireMeeting(store, before.meetingId);
  if (date < meeting.date) throw new MiisError('Config.InvalidInput', `la fecha ${date} es anterior a la reunión ${meeting.id} (${meeting.date}) que aprobó el plan`);
  if (date > today) throw new MiisError('Config.InvalidInput', `la fecha ${date} es futura (hoy es ${today}): registre la actividad cuando se cumpla`);
  return change(store, ctx, 'plan.done', () => {
    store.db.prepare('UPDATE gov_plan_activities SET done_at = ? WHERE id = ?').run(date, id);
    const after = requireActivity(store, id);
    return { before, after, result: after };
  });
}

export function listActivities(store: RegistryStore, today: string, opts: { entity?: string; meeting?: number } = {}): PlanActivityView[] {
  const meetings = opts.meeting !== undefined
    ? [requireMeeting(store, opts.meeting)]
    : listMeetings(store, opts.entity === undefined ? {} : { entity: requireEntity(store, opts.entity).ruc });
  const byId = new Map(meetings.map((m) => [m.id, m]));
  const rows = store.db.prepare('SELECT * FROM gov_plan_activities ORDER BY due_at, id').all() as Row[];
  return rows
    .filter((r) => byId.has(Number(r.meeting_id)))
    .map((r) => toActivity(r, byId.get(Number(r.meeting_id)) as MeetingRecord))
    .map((a) => ({ ...a, status: planStatus(a, today) }));
}
