/**
 * Peruvian business days (días hábiles) for legal deadlines: not Saturday, not Sunday, not a
 * national holiday, not a decreed non-working day of the public sector.
 *
 * Dates are plain 'YYYY-MM-DD' strings; arithmetic is done on UTC day numbers, so the host time
 * zone never matters. National holidays come from `date-holidays` (country 'PE', no state):
 * only holidays of type 'public' are counted (in date-holidays 3.37 every PE holiday is 'public';
 * the list includes Easter Sunday, which is a Sunday anyway). Decreed non-working days are not in
 * any package and are passed in as `extraNonWorkingDays`.
 */
import Holidays from 'date-holidays';
import { MiisError } from './errors.js';
import { DAY_MS, dayNumberOf, fromDayNumber, toDayNumber } from './iso-date.js';

export { isIsoDate, limaDate, parseIsoDate } from './iso-date.js';

export interface Calendar {
  isBusinessDay(date: string): boolean;
  holidayName(date: string): string | undefined;
}

/** Upper bound on n in addBusinessDays: about 40 years of business days. */
const MAX_BUSINESS_DAYS = 10_000;

function isWeekend(dayNumber: number): boolean {
  const weekday = new Date(dayNumber * DAY_MS).getUTCDay();
  return weekday === 0 || weekday === 6;
}

/** Map 'YYYY-MM-DD' → holiday name of one year's public national holidays. */
function loadYear(holidays: Holidays, year: number): Map<string, string> {
  const byDate = new Map<string, string>();
  for (const h of holidays.getHolidays(year, 'es')) {
    if (h.type !== 'public') continue;
    const date = h.date.slice(0, 10);
    const previous = byDate.get(date);
    byDate.set(date, previous === undefined ? h.name : `${previous} / ${h.name}`);
  }
  return byDate;
}

export const DECREED_DAY_NAME = 'Día no laborable (decretado)';

export function createPeruCalendar(opts?: { extraNonWorkingDays?: readonly string[] }): Calendar {
  const extra = new Set<string>();
  for (const day of opts?.extraNonWorkingDays ?? []) {
    if (toDayNumber(day) === undefined) {
      throw new MiisError('Config.InvalidInput', `Día no laborable no válido: «${day}» (use AAAA-MM-DD con una fecha real)`);
    }
    extra.add(day);
  }
  const holidays = new Holidays('PE', { languages: 'es' });
  const cache = new Map<number, Map<string, string>>();

  function holidaysOf(year: number): Map<string, string> {
    let byDate = cache.get(year);
    if (byDate === undefined) {
      byDate = loadYear(holidays, year);
      cache.set(year, byDate);
    }
    return byDate;
  }

  function holidayName(date: string): string | undefined {
    dayNumberOf(date);
    return holidaysOf(Number(date.slice(0, 4))).get(date) ?? (extra.has(date) ? DECREED_DAY_NAME : undefined);
  }

  function isBusinessDay(date: string): boolean {
    if (isWeekend(dayNumberOf(date))) return false;
    return holidayName(date) === undefined;
  }

  return { isBusinessDay, holidayName };
}

/**
 * The date n business days after `start`, counting from the day after `start` (the day of
 * notification does not count). n = 0 returns `start` itself.
 */
export function addBusinessDays(start: string, n: number, cal: Calendar): string {
  let day = dayNumberOf(start);
  if (!Number.isInteger(n) || n < 0 || n > MAX_BUSINESS_DAYS) {
    throw new MiisError('Config.InvalidInput', `Número de días hábiles no válido: ${n} (debe ser un entero entre 0 y ${MAX_BUSINESS_DAYS})`);
  }
  let left = n;
  while (left > 0) {
    day += 1;
    if (cal.isBusinessDay(fromDayNumber(day))) left -= 1;
  }
  return fromDayNumber(day);
}

/**
 * Business days after `from` up to and including `to`; negative (the count after `to` up to
 * and including `from`) when `to` is before `from`. So addBusinessDays(d, n) = e implies
 * businessDaysBetween(d, e) = n.
 */
export function businessDaysBetween(from: string, to: string, cal: Calendar): number {
  const a = dayNumberOf(from);
  const b = dayNumberOf(to);
  if (b < a) return -businessDaysBetween(to, from, cal);
  let count = 0;
  for (let day = a + 1; day <= b; day++) {
    if (cal.isBusinessDay(fromDayNumber(day))) count += 1;
  }
  return count;
}
