/**
 * Small helpers shared by the governance modules (entities, units, catalogue, requests, actas…):
 * Lima calendar dates, text checks, JSON columns, the business-day calendar with DGFO's decreed
 * non-working days, and writing a change with its audit row in one transaction.
 */
import { MiisError } from '../../core/errors.js';
import { createPeruCalendar, parseIsoDate, type Calendar } from '../../core/business-days.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { limaDate } from '../../core/business-days.js';

/** Settings key: JSON array of decreed non-working days (YYYY-MM-DD) of the public sector. */
export const DECREED_DAYS_SETTING = 'feriados_decretados';
/** Settings key: the date the directive was approved (start of the 30-day designation deadline, 7.1.1). */
export const APPROVAL_DATE_SETTING = 'fecha_aprobacion_directiva';

export const DAYS = {
  designationRequest: 30, // 7.1.1
  designationAnswer: 15, // 7.1.2
  firstMeeting: 30, // 7.1.3
  accessAnswer: 10, // 7.2.3
  /**
   * DGFO's evaluation of a new source an IPF asked for (technical report, 7.1.5). The directive
   * sets no number for 6.6.1.2 / 6.6.2.3: 30, as DGFO's other steps (7.1.1, 7.1.3). Check it.
   */
  sourceEvaluation: 30,
} as const;


/** A real date YYYY-MM-DD, or today in Lima when absent. */
export function dateOrToday(value: string | undefined, ctx: ChangeContext): string {
  return value === undefined ? limaDate(ctx.at) : parseIsoDate(value.trim());
}

export function checkText(value: string | undefined, what: string, max = 500): string {
  const text = (value ?? '').trim();
  if (text === '' || text.length > max || /[\u0000-\u0008\u000b-\u001f]/.test(text)) {
    throw new MiisError('Config.InvalidInput', `${what}: falta o no es válido (de 1 a ${max} caracteres imprimibles)`);
  }
  return text;
}

export function optionalText(value: string | undefined, what: string, max = 500): string | null {
  return value === undefined || value.trim() === '' ? null : checkText(value, what, max);
}

export function decreedDays(store: RegistryStore): string[] {
  const raw = store.getSetting(DECREED_DAYS_SETTING);
  return raw === undefined ? [] : (JSON.parse(raw) as string[]);
}

/** The business-day calendar: weekends, national holidays and the decreed days (stored + extra). */
export function calendarOf(store: RegistryStore, extra: readonly string[] = []): Calendar {
  return createPeruCalendar({ extraNonWorkingDays: [...decreedDays(store), ...extra] });
}

export function setDecreedDays(store: RegistryStore, days: readonly string[], ctx: ChangeContext): string[] {
  const sorted = [...new Set(days.map((d) => parseIsoDate(d.trim())))].sort();
  store.setSetting(DECREED_DAYS_SETTING, JSON.stringify(sorted), ctx);
  return sorted;
}

/** Run a change and its audit row atomically. */
export function change<T>(store: RegistryStore, ctx: ChangeContext, action: string, fn: () => { before?: unknown; after: unknown; result: T }): T {
  return store.transaction(() => {
    const { before, after, result } = fn();
    store.audit(ctx, action, before, after);
    return result;
  });
}

export const toJsonColumn = (value: unknown): string => JSON.stringify(value);
export const fromJsonColumn = <T>(value: unknown): T => JSON.parse(String(value)) as T;
export type Row = Record<string, unknown>;
