import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { checkDni, checkUbigeo, departmentName, dniCheckDigit } from '../../core/peru-ids.js';
import {
  CLASIFICACIONES, DEFAULT_PERSONS, DEFAULT_SEED, convertUbigeo, generateSandboxData, indexSandboxData,
  isCseVigente, samplesDni, type SandboxData,
} from '../../scripts/sandbox/data.js';

const data: SandboxData = generateSandboxData();
const index = indexSandboxData(data);

function ageOn(birth: string, day: string): number {
  const [by, bm, bd] = birth.split('-').map(Number) as [number, number, number];
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

function isRealDate(day: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
}

test('defaults: 12,000 persons, default seed, reference date', () => {
  assert.equal(data.persons.length, DEFAULT_PERSONS);
  assert.equal(DEFAULT_PERSONS, 12_000);
  assert.equal(data.seed, DEFAULT_SEED);
  assert.ok(isRealDate(data.referenceDate));
});

test('same options give identical data; another seed gives other data', () => {
  assert.deepEqual(generateSandboxData(), data);
  const small = generateSandboxData({ persons: 300, seed: 7 });
  assert.deepEqual(generateSandboxData({ persons: 300, seed: 7 }), small);
  assert.equal(small.persons.length, 300);
  const other = generateSandboxData({ persons: 300, seed: 8 });
  assert.notDeepEqual(other.persons.map((p) => p.dni), small.persons.map((p) => p.dni));
});

test('persons option is exact, including 0 and 1', () => {
  for (const n of [0, 1, 2, 999]) assert.equal(generateSandboxData({ persons: n }).persons.length, n);
  assert.throws(() => generateSandboxData({ persons: -1 }), RangeError);
  assert.throws(() => generateSandboxData({ persons: 1.5 }), RangeError);
});

test('12,000 persons generate in under a second', () => {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    generateSandboxData({ seed: 100 + i });
    best = Math.min(best, performance.now() - t0);
  }
  assert.ok(best < 1000, `generation took ${best.toFixed(0)} ms`);
});

test('DNIs: 8 digits, unique, outside the issued range, valid check digits', () => {
  const seen = new Set<string>();
  for (const p of data.persons) {
    assert.match(p.dni, /^9\d{7}$/);
    assert.ok(!seen.has(p.dni), `DNI repetido ${p.dni}`);
    seen.add(p.dni);
    assert.equal(p.checkDigit, dniCheckDigit(p.dni));
    const withCheck = checkDni(`${p.dni}-${p.checkDigit}`);
    assert.ok(withCheck.ok, `${p.dni}-${p.checkDigit}`);
    assert.equal(withCheck.value.dni, p.dni);
  }
});

test('persons: names, dates, sexo, estado civil, RENIEC ubigeo are well-formed', () => {
  for (const p of data.persons) {
    for (const name of [p.prenombres, p.primerApellido, p.segundoApellido]) assert.match(name, /^[A-ZÑ]+( [A-ZÑ]+)?$/);
    assert.ok(isRealDate(p.fechaNacimiento), p.fechaNacimiento);
    assert.ok(p.fechaNacimiento < data.referenceDate);
    const age = ageOn(p.fechaNacimiento, data.referenceDate);
    assert.ok(age >= 0 && age <= 101, `edad ${age}`);
    assert.ok(p.sexo === 'M' || p.sexo === 'F');
    if (age < 18) assert.equal(p.estadoCivil, 'SOLTERO', `${p.dni} tiene ${age} años`);
    const ubigeo = checkUbigeo(p.ubigeo, 'RENIEC');
    assert.ok(ubigeo.ok, ubigeo.ok ? '' : ubigeo.reason);
  }
});

test('distribution: ~1% deceased, both sexes, several departments, Ñ present', () => {
  const n = data.persons.length;
  const dead = data.persons.filter((p) => p.fallecido).length;
  assert.ok(dead > n * 0.005 && dead < n * 0.02, `fallecidos ${dead}`);
  const women = data.persons.filter((p) => p.sexo === 'F').length;
  assert.ok(women > n * 0.35 && women < n * 0.65, `mujeres ${women}`);
  const departments = new Set(data.persons.map((p) => p.ubigeo.slice(0, 2)));
  assert.ok(departments.size >= 20, `departamentos ${departments.size}`);
  const lima = data.persons.filter((p) => p.ubigeo.startsWith('14')).length;
  assert.ok(lima > n * 0.15 && lima < n * 0.45, `Lima ${lima}`);
  assert.ok(data.persons.some((p) => p.primerApellido.includes('Ñ') || p.segundoApellido.includes('Ñ')));
  const minors = data.persons.filter((p) => ageOn(p.fechaNacimiento, data.referenceDate) < 18).length;
  assert.ok(minors > n * 0.1 && minors < n * 0.6, `menores ${minors}`);
});

test('households: unique codes, INEI ubigeo in the members\' department, one head listed first', () => {
  const codes = new Set<string>();
  const members = new Set<string>();
  for (const h of data.households) {
    assert.ok(!codes.has(h.codigoHogar));
    codes.add(h.codigoHogar);
    assert.match(h.codigoHogar, /^[A-Z0-9]{1,32}$/);
    const ubigeo = checkUbigeo(h.ubigeo, 'INEI');
    assert.ok(ubigeo.ok, ubigeo.ok ? '' : ubigeo.reason);
    assert.ok(h.miembros.length >= 1 && h.miembros.length <= 7);
    assert.equal(h.miembros[0]!.parentesco, 'JEFE');
    assert.equal(h.miembros.filter((m) => m.parentesco === 'JEFE').length, 1);
    assert.ok(h.miembros.filter((m) => m.parentesco === 'CONYUGE').length <= 1);
    const head = index.personByDni.get(h.miembros[0]!.dni)!;
    for (const m of h.miembros) {
      assert.ok(!members.has(m.dni), `${m.dni} está en dos hogares`);
      members.add(m.dni);
      const p = index.personByDni.get(m.dni);
      assert.ok(p !== undefined, `miembro ${m.dni} no existe en RENIEC`);
      // The same district in both codings: department names agree (Lima 15 INEI = 14 RENIEC).
      assert.equal(departmentName(p.ubigeo.slice(0, 2), 'RENIEC'), departmentName(h.ubigeo.slice(0, 2), 'INEI'));
      assert.equal(convertUbigeo(h.ubigeo, 'INEI'), p.ubigeo);
      if (m.parentesco === 'HIJO' || m.parentesco === 'NIETO') assert.ok(p.fechaNacimiento > head.fechaNacimiento, `${m.dni} nació antes que su jefe de hogar`);
    }
  }
  const share = members.size / data.persons.length;
  assert.ok(share > 0.85 && share < 1, `personas en el PGH ${share}`);
  const sizes = new Set(data.households.map((h) => h.miembros.length));
  assert.ok(sizes.size >= 5);
});

test('CSE: one per classified household, 3-year validity, some expired, all classes', () => {
  const seen = new Set<string>();
  for (const c of data.cse) {
    assert.ok(index.householdByCode.has(c.codigoHogar));
    assert.ok(!seen.has(c.codigoHogar));
    seen.add(c.codigoHogar);
    assert.ok(isRealDate(c.fechaInicio) && isRealDate(c.fechaFin));
    assert.ok(c.fechaInicio <= data.referenceDate);
    const start = new Date(`${c.fechaInicio}T00:00:00Z`);
    const end = new Date(Date.UTC(start.getUTCFullYear() + 3, start.getUTCMonth(), start.getUTCDate()) - 86_400_000);
    assert.equal(c.fechaFin, end.toISOString().slice(0, 10), `fin de ${c.fechaInicio}`);
  }
  const share = data.cse.length / data.households.length;
  assert.ok(share > 0.9 && share < 1, `hogares con CSE ${share}`);
  const expired = data.cse.filter((c) => !isCseVigente(c, data.referenceDate)).length;
  assert.ok(expired > data.cse.length * 0.1 && expired < data.cse.length * 0.45, `vencidas ${expired}`);
  for (const k of CLASIFICACIONES) {
    const n = data.cse.filter((c) => c.clasificacion === k).length;
    assert.ok(n > data.cse.length * 0.1, `${k}: ${n}`);
  }
});

test('isCseVigente includes both ends', () => {
  const c = { codigoHogar: 'X', clasificacion: 'POBRE', fechaInicio: '2024-02-29', fechaFin: '2027-02-27' } as const;
  assert.equal(isCseVigente(c, '2024-02-28'), false);
  assert.equal(isCseVigente(c, '2024-02-29'), true);
  assert.equal(isCseVigente(c, '2027-02-27'), true);
  assert.equal(isCseVigente(c, '2027-02-28'), false);
});

test('samplesDni: n distinct DNIs present in the data, deterministic, filterable', () => {
  const sample = samplesDni(data, 50);
  assert.equal(sample.length, 50);
  assert.equal(new Set(sample).size, 50);
  for (const dni of sample) assert.ok(index.personByDni.has(dni));
  assert.deepEqual(samplesDni(data, 50), sample);
  assert.equal(samplesDni(data, data.persons.length).length, data.persons.length);
  assert.deepEqual(samplesDni(data, 0), []);
  assert.throws(() => samplesDni(data, data.persons.length + 1), RangeError);
  const classified = samplesDni(data, 20, (p) => {
    const h = index.householdByDni.get(p.dni);
    return h !== undefined && index.cseByHousehold.has(h.codigoHogar);
  });
  for (const dni of classified) assert.ok(index.cseByHousehold.has(index.householdByDni.get(dni)!.codigoHogar));
});

test('referenceDate must be a real date', () => {
  assert.throws(() => generateSandboxData({ persons: 1, referenceDate: '2026-02-30' }), RangeError);
  assert.throws(() => generateSandboxData({ persons: 1, referenceDate: '01/01/2026' }), RangeError);
  const shifted = generateSandboxData({ persons: 50, referenceDate: '2030-06-15' });
  for (const p of shifted.persons) assert.ok(p.fechaNacimiento < '2030-06-15');
});
