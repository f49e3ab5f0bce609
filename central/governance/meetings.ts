/**
 * Coordination meetings between DGFO and an administering entity (directive 6.2.4, 7.1.3, 8.1):
 * date, times, place, participants (MIDIS and the entity), agenda, development and agreements.
 * The MIIS starts operating for an entity with its first meeting (8.1). A meeting may be recorded
 * when convened, before its participants are known; its acta needs them (actas.ts).
 */
import { MiisError } from '../../core/errors.js';
import { parseIsoDate } from '../../core/business-days.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { ensureEntity, requireEntity } from './entities.js';
import { change, checkText, fromJsonColumn, optionalText, toJsonColumn, type Row } from './util.js';

export const PARTICIPANT_SIDES = ['MIDIS', 'ENTIDAD'] as const;
export type ParticipantSide = (typeof PARTICIPANT_SIDES)[number];

export interface Participant {
  readonly side: ParticipantSide;
  readonly name: string;
  readonly post: string;
}

export interface MeetingRecord {
  readonly id: number;
  readonly entityRuc: string;
  readonly date: string;
  readonly startTime: string | null;
  readonly endTime: string | null;
  readonly place: string | null;
  readonly participants: readonly Participant[];
  readonly agenda: readonly string[];
  readonly development: string | null;
  readonly agreements: readonly string[];
  readonly createdAt: string;
}

export const DEFAULT_PLACE = 'Dirección General de Focalización, avenida Paseo de la República Nº 3101, distrito de San Isidro, provincia y departamento de Lima';
const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

const toMeeting = (r: Row): MeetingRecord => ({
  id: Number(r.id),
  entityRuc: r.entity_ruc as string,
  date: r.date as string,
  startTime: (r.start_time as string | null) ?? null,
  endTime: (r.end_time as string | null) ?? null,
  place: (r.place as string | null) ?? null,
  participants: fromJsonColumn<Participant[]>(r.participants_json),
  agenda: fromJsonColumn<string[]>(r.agenda_json),
  development: (r.development as string | null) ?? null,
  agreements: fromJsonColumn<string[]>(r.agreements_json),
  createdAt: r.created_at as string,
});

/** "MIDIS|Nombre Apellido|Cargo" or "ENTIDAD|Nombre|Cargo". */
export function parseParticipant(spec: string): Participant {
  const parts = spec.split('|').map((p) => p.trim());
  const side = (parts[0] ?? '').toUpperCase();
  if (parts.length !== 3 || !(PARTICIPANT_SIDES as readonly string[]).includes(side)) {
    throw new MiisError('Config.InvalidInput', `participante no válido: «${spec}». Use "MIDIS|Nombre y apellido|Cargo" o "ENTIDAD|Nombre y apellido|Cargo"`);
  }
  return { side: side as ParticipantSide, name: checkText(parts[1], 'nombre del participante', 200), post: checkText(parts[2], 'cargo del participante', 200) };
}

function checkTime(value: string | undefined, what: string): string | null {
  if (value === undefined) return null;
  if (!TIME.test(value.trim())) throw new MiisError('Config.InvalidInput', `${what} no válida: «${value}» (use HH:MM, p. ej. 10:30)`);
  return value.trim();
}

export interface MeetingInput {
  readonly entity: string;
  readonly date: string;
  readonly startTime?: string | undefined;
  readonly endTime?: string | undefined;
  readonly place?: string | undefined;
  readonly participants: readonly string[];
  readonly agenda: readonly string[];
  readonly development?: string | undefined;
  readonly agreements: readonly string[];
}

export function getMeeting(store: RegistryStore, id: number): MeetingRecord | undefined {
  const row = store.db.prepare('SELECT * FROM gov_meetings WHERE id = ?').get(id) as Row | undefined;
  return row === undefined ? undefined : toMeeting(row);
}

export function requireMeeting(store: RegistryStore, id: number): MeetingRecord {
  const m = getMeeting(store, id);
  if (m === undefined) throw new MiisError('Config.NotFound', `la reunión ${id}; vea «miis-central meeting list»`);
  return m;
}

export function addMeeting(store: RegistryStore, input: MeetingInput, ctx: ChangeContext): MeetingRecord {
  const date = parseIsoDate(input.date.trim());
  const startTime = checkTime(input.startTime, 'hora de inicio');
  const endTime = checkTime(input.endTime, 'hora de fin');
  if (startTime !== null && endTime !== null && endTime <= startTime) throw new MiisError('Config.InvalidInput', `la hora de fin ${endTime} no es posterior a la de inicio ${startTime}`);
  const participants = input.participants.map(parseParticipant);
  const agenda = input.agenda.map((a) => checkText(a, 'punto de agenda', 500));
  if (agenda.length === 0) throw new MiisError('Config.InvalidInput', 'una reunión necesita al menos un punto de agenda (--agenda "…")');
  const agreements = input.agreements.map((a) => checkText(a, 'acuerdo', 1000));
  const place = optionalText(input.place, 'lugar', 300);
  const development = optionalText(input.development, 'desarrollo de la agenda', 5000);
  const entity = ensureEntity(store, input.entity, ctx);
  return change(store, ctx, 'meeting.add', () => {
    const info = store.db
      .prepare('INSERT INTO gov_meetings (entity_ruc, date, start_time, end_time, place, participants_json, agenda_json, development, agreements_json, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(entity.ruc, date, startTime, endTime, place, toJsonColumn(participants), toJsonColumn(agenda), development, toJsonColumn(agreements), ctx.at.toISOString());
    const record = getMeeting(store, Number(info.lastInsertRowid))!;
    return { after: record, result: record };
  });
}

export function listMeetings(store: RegistryStore, opts: { entity?: string } = {}): MeetingRecord[] {
  const rows = opts.entity === undefined
    ? store.db.prepare('SELECT * FROM gov_meetings ORDER BY date, id').all()
    : store.db.prepare('SELECT * FROM gov_meetings WHERE entity_ruc = ? ORDER BY date, id').all(requireEntity(store, opts.entity).ruc);
  return (rows as Row[]).map(toMeeting);
}

/**
 * The date the MIIS started operating for an entity: its first meeting held by `today` (8.1), or
 * null. A meeting recorded with a later date is only scheduled: it has not been held yet.
 */
export function operatingSince(store: RegistryStore, ruc: string, today: string): string | null {
  const row = store.db.prepare('SELECT MIN(date) AS d FROM gov_meetings WHERE entity_ruc = ? AND date <= ?').get(ruc, today) as { d: string | null };
  return row.d ?? null;
}

/** The next meeting with an entity scheduled after `today`, or null. */
export function nextScheduledMeeting(store: RegistryStore, ruc: string, today: string): string | null {
  const row = store.db.prepare('SELECT MIN(date) AS d FROM gov_meetings WHERE entity_ruc = ? AND date > ?').get(ruc, today) as { d: string | null };
  return row.d ?? null;
}
