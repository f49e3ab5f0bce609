import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MiisError } from '../../core/errors.js';
import {
  addBusinessDays, businessDaysBetween, createPeruCalendar, DECREED_DAY_NAME, isIsoDate, limaDate, parseIsoDate,
} from '../../core/business-days.js';

/** DOMAIN.md, "Business days": the 2026 national holidays. */
const HOLIDAYS_2026 = [
  '2026-01-01', '2026-04-02', '2026-04-03', '2026-05-01', '2026-06-07', '2026-06-29', '2026-07-23',
  '2026-07-28', '2026-07-29', '2026-08-06', '2026-08-30', '2026-10-08', '2026-11-01', '2026-12-08',
  '2026-12-09', '2026-12-25',
];
const EASTER_SUNDAY_2026 = '2026-04-05';

function datesOf(year: number): string[] {
  const out: string[] = [];
  for (let d = new Date(Date.UTC(year, 0, 1)); d.getUTCFullYear() === year; d = new Date(d.getTime() + 86_400_000)) {
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

function isInvalidInput(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof MiisError);
    assert.equal(err.code, 'Config.InvalidInput');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('Peru calendar', () => {
  const cal = createPeruCalendar();

  it('has exactly the 2026 national holidays of DOMAIN.md (plus Easter Sunday)', () => {
    const expected = new Set([...HOLIDAYS_2026, EASTER_SUNDAY_2026]);
    const found = datesOf(2026).filter((d) => cal.holidayName(d) !== undefined);
    assert.deepEqual(found, [...expected].sort());
    for (const d of HOLIDAYS_2026) assert.equal(cal.isBusinessDay(d), false, d);
    assert.equal(cal.holidayName('2026-12-09'), 'Batalla de Ayacucho');
    assert.match(cal.holidayName('2026-04-03') ?? '', /Viernes Santo/);
  });

  it('skips weekends and counts ordinary weekdays', () => {
    assert.equal(cal.isBusinessDay('2026-03-27'), true); // Friday
    assert.equal(cal.isBusinessDay('2026-03-28'), false); // Saturday
    assert.equal(cal.isBusinessDay('2026-03-29'), false); // Sunday
    assert.equal(cal.isBusinessDay('2026-03-30'), true); // Monday
    assert.equal(cal.holidayName('2026-03-28'), undefined);
    // 2026 has 261 weekdays; 13 of the holidays fall on a weekday (7 Jun, 30 Aug, 1 Nov are Sundays)
    assert.equal(datesOf(2026).filter((d) => cal.isBusinessDay(d)).length, 261 - 13);
  });

  it('computes the DOMAIN.md deadline vectors', () => {
    assert.equal(addBusinessDays('2026-03-27', 10, cal), '2026-04-14');
    assert.equal(addBusinessDays('2026-07-20', 15, cal), '2026-08-14');
    assert.equal(addBusinessDays('2026-11-20', 30, cal), '2027-01-07');
  });

  it('counts from the day after the start; n = 0 is the start itself', () => {
    assert.equal(addBusinessDays('2026-03-27', 1, cal), '2026-03-30');
    assert.equal(addBusinessDays('2026-03-28', 1, cal), '2026-03-30');
    assert.equal(addBusinessDays('2026-04-01', 1, cal), '2026-04-06');
    assert.equal(addBusinessDays('2026-03-28', 0, cal), '2026-03-28');
  });

  it('businessDaysBetween is the inverse of addBusinessDays and antisymmetric', () => {
    assert.equal(businessDaysBetween('2026-03-27', '2026-04-14', cal), 10);
    assert.equal(businessDaysBetween('2026-07-20', '2026-08-14', cal), 15);
    assert.equal(businessDaysBetween('2026-11-20', '2027-01-07', cal), 30);
    assert.equal(businessDaysBetween('2026-04-14', '2026-03-27', cal), -10);
    assert.equal(businessDaysBetween('2026-04-14', '2026-04-14', cal), 0);
    assert.equal(businessDaysBetween('2026-04-02', '2026-04-05', cal), 0);
    for (const start of ['2026-01-01', '2026-02-27', '2026-07-27', '2026-12-24']) {
      for (const n of [1, 5, 20, 45]) {
        assert.equal(businessDaysBetween(start, addBusinessDays(start, n, cal), cal), n, `${start} + ${n}`);
      }
    }
  });

  it('does not depend on the host time zone', () => {
    const saved = process.env['TZ'];
    try {
      for (const tz of ['Pacific/Kiritimati', 'America/Lima', 'Pacific/Pago_Pago']) {
        process.env['TZ'] = tz;
        const local = createPeruCalendar();
        assert.equal(addBusinessDays('2026-11-20', 30, local), '2027-01-07', tz);
        assert.equal(local.holidayName('2026-01-01'), cal.holidayName('2026-01-01'), tz);
        assert.equal(local.isBusinessDay('2026-12-31'), true, tz);
      }
    } finally {
      if (saved === undefined) delete process.env['TZ'];
      else process.env['TZ'] = saved;
    }
  });
});

describe('decreed non-working days', () => {
  it('2026-01-02 shifts a deadline by one business day', () => {
    const plain = createPeruCalendar();
    const decreed = createPeruCalendar({ extraNonWorkingDays: ['2026-01-02'] });
    assert.equal(plain.isBusinessDay('2026-01-02'), true);
    assert.equal(decreed.isBusinessDay('2026-01-02'), false);
    assert.equal(decreed.holidayName('2026-01-02'), DECREED_DAY_NAME);
    // notified Tuesday 30 Dec 2025: 31 Dec, (1 Jan holiday), 2 Jan, 5 Jan
    assert.equal(addBusinessDays('2025-12-30', 3, plain), '2026-01-05');
    assert.equal(addBusinessDays('2025-12-30', 3, decreed), '2026-01-06');
    assert.equal(businessDaysBetween('2025-12-30', '2026-01-06', decreed), 3);
    assert.equal(businessDaysBetween('2025-12-30', '2026-01-06', plain), 4);
  });

  it('refuses invalid decreed days in Spanish', () => {
    for (const bad of ['2026-1-2', '2026-02-30', '02/01/2026', '']) {
      assert.throws(() => createPeruCalendar({ extraNonWorkingDays: [bad] }), isInvalidInput(/^Día no laborable no válido/));
    }
  });
});

describe('input validation', () => {
  const cal = createPeruCalendar();

  it('parseIsoDate accepts real dates only', () => {
    assert.equal(parseIsoDate('2024-02-29'), '2024-02-29');
    assert.equal(parseIsoDate('2026-12-31'), '2026-12-31');
    for (const bad of ['2026-02-29', '2026-02-30', '2026-13-01', '2026-00-10', '2026-04-31', '2026-4-1', '2026-04-01T00:00:00Z', ' 2026-04-01', '0099-01-01', 'hoy']) {
      assert.throws(() => parseIsoDate(bad), isInvalidInput(/^Fecha no válida: /), bad);
    }
  });

  it('calendar and arithmetic refuse invalid dates and counts', () => {
    assert.throws(() => cal.isBusinessDay('2026-02-30'), isInvalidInput(/Fecha no válida: «2026-02-30»/));
    assert.throws(() => cal.holidayName('20260101'), isInvalidInput(/Fecha no válida/));
    assert.throws(() => addBusinessDays('2026-02-30', 1, cal), isInvalidInput(/Fecha no válida/));
    assert.throws(() => businessDaysBetween('2026-01-01', '2026-01-32', cal), isInvalidInput(/Fecha no válida/));
    for (const n of [-1, 1.5, Number.NaN, 1e9]) {
      assert.throws(() => addBusinessDays('2026-01-01', n, cal), isInvalidInput(/días hábiles no válido/), String(n));
    }
  });
});

describe('dates in Lima', () => {
  it('isIsoDate accepts real YYYY-MM-DD dates only', () => {
    for (const ok of ['2026-02-28', '2024-02-29', '2026-12-31']) assert.equal(isIsoDate(ok), true, ok);
    for (const bad of ['2026-02-29', '2026-13-01', '2026-1-01', '26-01-01', '2026-01-01T00:00:00Z', '']) assert.equal(isIsoDate(bad), false, bad);
  });

  it('limaDate turns at 05:00 UTC (Lima is UTC−5 all year)', () => {
    assert.equal(limaDate(new Date('2026-12-31T23:30:00Z')), '2026-12-31');
    assert.equal(limaDate(new Date('2027-01-01T04:59:59Z')), '2026-12-31');
    assert.equal(limaDate(new Date('2027-01-01T05:00:00Z')), '2027-01-01');
  });
});
