/**
 * Calendar dates written YYYY-MM-DD and "today in Lima": what the node's hot path needs from
 * core/business-days.ts, without loading its holiday tables (date-holidays, ~25 MB of RSS).
 * Dates are plain 'YYYY-MM-DD' strings; arithmetic is done on UTC day numbers.
 */
import { MiisError } from './errors.js';

export const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MIN_YEAR = 1900;

/** Days since 1970-01-01 of a valid date, or undefined. */
export function toDayNumber(s: string): number | undefined {
  const match = ISO_DATE.exec(s);
  if (match === null) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (year < MIN_YEAR || month < 1 || month > 12 || day < 1) return undefined;
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return undefined;
  return ms / DAY_MS;
}

export function fromDayNumber(dayNumber: number): string {
  return new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
}

export function dayNumberOf(s: string): number {
  const n = toDayNumber(s);
  if (n === undefined) {
    throw new MiisError('Config.InvalidInput', `Fecha no válida: «${s}» (use AAAA-MM-DD con una fecha real, año ${MIN_YEAR} o posterior)`);
  }
  return n;
}

/** Whether `s` is a real calendar date written YYYY-MM-DD (2026-02-30 is not), year 1900 or later. */
export function isIsoDate(s: string): boolean {
  return toDayNumber(s) !== undefined;
}

/** Peru keeps UTC−5 all year (no daylight saving time). */
const LIMA_OFFSET_MS = 5 * 3_600_000;

/** The calendar date in Lima (YYYY-MM-DD) of an instant: the "today" of deadlines and agreements. */
export function limaDate(at: Date): string {
  return new Date(at.getTime() - LIMA_OFFSET_MS).toISOString().slice(0, 10);
}

/** An instant as Lima wall time, "YYYY-MM-DD HH:MM" (what listings show people; JSON keeps ISO instants). */
export function limaDateTime(at: Date | string): string {
  const t = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(t)) return String(at);
  return new Date(t - LIMA_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/** Validates a real calendar date written YYYY-MM-DD (2026-02-30 is refused) and returns it. */
export function parseIsoDate(s: string): string {
  dayNumberOf(s);
  return s;
}
