/**
 * Deterministic synthetic data for the sandbox backends: RENIEC persons (RUPN), MIDIS households
 * (PGH) and their socioeconomic classification (CSE).
 *
 * Pure and fast: a seeded PRNG (mulberry32) and a fixed reference date, never global time or
 * Math.random. The same options always give the same data, byte for byte.
 *
 * Nobody here is real: names are random combinations of common Spanish and Quechua given names
 * and surnames, and every DNI lies in 90000000–99999999, a range RENIEC has not issued.
 * Check characters follow core/peru-ids.ts.
 */
import { dniCheckDigit, type UbigeoScheme } from '../../core/peru-ids.js';

export const DEFAULT_SEED = 32_017;
export const DEFAULT_PERSONS = 12_000;
/** Day the synthetic world is "as of": ages and CSE periods are computed from it. */
export const DEFAULT_REFERENCE_DATE = '2026-01-01';
/** CSE validity: 3 years (DOMAIN.md; configurable in the real PGH). */
export const CSE_VALIDITY_YEARS = 3;

export const SEXOS = ['M', 'F'] as const;
export type Sexo = (typeof SEXOS)[number];
export const ESTADOS_CIVILES = ['SOLTERO', 'CASADO', 'VIUDO', 'DIVORCIADO'] as const;
export type EstadoCivil = (typeof ESTADOS_CIVILES)[number];
export const PARENTESCOS = ['JEFE', 'CONYUGE', 'HIJO', 'NIETO', 'PADRE_MADRE', 'HERMANO', 'OTRO'] as const;
export type Parentesco = (typeof PARENTESCOS)[number];
export const CLASIFICACIONES = ['POBRE_EXTREMO', 'POBRE', 'NO_POBRE'] as const;
export type Clasificacion = (typeof CLASIFICACIONES)[number];

/** A person in RENIEC's RUPN. */
export interface Persona {
  readonly dni: string;
  /** Numeric check character of the DNI (core/peru-ids.ts dniCheckDigit). */
  readonly checkDigit: string;
  readonly prenombres: string;
  readonly primerApellido: string;
  readonly segundoApellido: string;
  /** YYYY-MM-DD */
  readonly fechaNacimiento: string;
  readonly sexo: Sexo;
  readonly estadoCivil: EstadoCivil;
  /** District of residence, RENIEC coding. */
  readonly ubigeo: string;
  readonly fallecido: boolean;
}

export interface MiembroHogar {
  readonly dni: string;
  readonly parentesco: Parentesco;
}

/** A household in MIDIS's PGH. */
export interface Hogar {
  /** Opaque code. */
  readonly codigoHogar: string;
  /** District, INEI coding. */
  readonly ubigeo: string;
  /** The head (JEFE) first. */
  readonly miembros: readonly MiembroHogar[];
}

/** Socioeconomic classification of a household. */
export interface Cse {
  readonly codigoHogar: string;
  readonly clasificacion: Clasificacion;
  /** YYYY-MM-DD, first day of validity. */
  readonly fechaInicio: string;
  /** YYYY-MM-DD, last day of validity (fechaInicio + 3 years − 1 day). */
  readonly fechaFin: string;
}

export interface SandboxData {
  readonly seed: number;
  readonly referenceDate: string;
  readonly persons: readonly Persona[];
  /** Households registered in the PGH (some persons belong to none). */
  readonly households: readonly Hogar[];
  /** One per classified household (a few registered households have none). */
  readonly cse: readonly Cse[];
}

export interface SandboxDataOptions {
  persons?: number;
  seed?: number;
  /** YYYY-MM-DD; default DEFAULT_REFERENCE_DATE. */
  referenceDate?: string;
}

// --- PRNG -----------------------------------------------------------------------------------

export type Random = () => number;

/** mulberry32: small, fast, good enough for synthetic data. Returns floats in [0, 1). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickInt(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function pickOne<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function pickWeighted<T>(random: Random, items: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, w] of items) total += w;
  let r = random() * total;
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1]![0];
}

// --- Names ----------------------------------------------------------------------------------

const MALE_NAMES = [
  'JUAN', 'JOSE', 'LUIS', 'CARLOS', 'JORGE', 'PEDRO', 'MIGUEL', 'VICTOR', 'CESAR', 'WILBER',
  'EDWIN', 'ROLANDO', 'FREDY', 'ALEX', 'ANGEL', 'HUGO', 'RAUL', 'ELMER', 'MARCO', 'DAVID',
  'INTI', 'AMARU', 'WAMAN', 'YACHAY', 'KUNTUR', 'ATOQ', 'SAYRI', 'WILLKA', 'ILLAPA', 'ROMULO',
] as const;
const FEMALE_NAMES = [
  'MARIA', 'ROSA', 'CARMEN', 'ANA', 'JULIA', 'LUZ', 'ELENA', 'SONIA', 'GLADYS', 'NELLY',
  'YOLANDA', 'FLOR', 'KARINA', 'MILAGROS', 'ROCIO', 'MARLENI', 'DELIA', 'NORMA', 'EDITH', 'ZOILA',
  'SUMAQ', 'KILLA', 'ILLARI', 'CHASKA', 'NAYRA', 'TIKA', 'KUSI', 'WAYTA', 'KANTU', 'URPI',
] as const;
const SURNAMES = [
  'QUISPE', 'MAMANI', 'HUAMAN', 'FLORES', 'CONDORI', 'CHOQUE', 'ROJAS', 'GARCIA', 'TORRES', 'CHAVEZ',
  'RAMOS', 'VARGAS', 'SANCHEZ', 'MENDOZA', 'CCAHUANA', 'APAZA', 'HUANCA', 'CUSI', 'YUPANQUI', 'TAIPE',
  'CCORI', 'PARI', 'TICONA', 'ÑAUPARI', 'MUÑOZ', 'NUÑEZ', 'PEÑA', 'HUILLCA', 'SONCCO', 'PUMA',
  'CHAMBI', 'LLANOS', 'DIAZ', 'PAUCAR', 'ÑAHUI', 'CHALCO', 'AYME', 'CRUZ', 'SALAS', 'INCA',
] as const;

function pickPrenombres(random: Random, sexo: Sexo): string {
  const names: readonly string[] = sexo === 'M' ? MALE_NAMES : FEMALE_NAMES;
  const first = pickOne(random, names);
  if (random() < 0.45) return first;
  let second = pickOne(random, names);
  if (second === first) second = names[(names.indexOf(first) + 1) % names.length]!;
  return `${first} ${second}`;
}

// --- Places ---------------------------------------------------------------------------------

/**
 * Departments with their INEI and RENIEC codes, how many districts of the capital province we
 * draw from (both codings number the capital province 01), and a weight roughly like population.
 */
const DEPARTMENTS: readonly (readonly [inei: string, reniec: string, districts: number, weight: number])[] = [
  ['15', '14', 43, 30], // Lima
  ['07', '24', 6, 3], // Callao
  ['20', '19', 9, 6], // Piura
  ['13', '12', 11, 5], // La Libertad
  ['04', '04', 29, 5], // Arequipa
  ['06', '06', 12, 5], // Cajamarca
  ['21', '20', 15, 5], // Puno
  ['12', '11', 28, 4], // Junín
  ['08', '07', 8, 4], // Cusco
  ['14', '13', 20, 4], // Lambayeque
  ['02', '02', 12, 3], // Áncash
  ['16', '15', 11, 3], // Loreto
  ['10', '09', 12, 3], // Huánuco
  ['05', '05', 16, 3], // Ayacucho
  ['22', '21', 6, 3], // San Martín
  ['11', '10', 14, 2], // Ica
  ['09', '08', 19, 2], // Huancavelica
  ['03', '03', 9, 2], // Apurímac
  ['25', '25', 7, 2], // Ucayali
  ['01', '01', 21, 1], // Amazonas
  ['23', '22', 10, 1], // Tacna
  ['19', '18', 13, 1], // Pasco
  ['24', '23', 6, 1], // Tumbes
  ['18', '17', 6, 1], // Moquegua
  ['17', '16', 4, 1], // Madre de Dios
];

interface Place {
  readonly inei: string;
  readonly reniec: string;
}

const WEIGHTED_DEPARTMENTS = DEPARTMENTS.map((d) => [d, d[3]] as const);

function pickPlace(random: Random): Place {
  const [inei, reniec, districts] = pickWeighted(random, WEIGHTED_DEPARTMENTS);
  const district = String(pickInt(random, 1, districts)).padStart(2, '0');
  return { inei: `${inei}01${district}`, reniec: `${reniec}01${district}` };
}

/** The same district in the other coding (only for codes this module generates). */
export function convertUbigeo(code: string, from: UbigeoScheme): string | undefined {
  const dept = code.slice(0, 2);
  const row = DEPARTMENTS.find((d) => (from === 'INEI' ? d[0] : d[1]) === dept);
  if (row === undefined) return undefined;
  return (from === 'INEI' ? row[1] : row[0]) + code.slice(2);
}

// --- Dates ----------------------------------------------------------------------------------

// Day numbers (days since 1970-01-01) with plain integer arithmetic: Date and toISOString are
// the slowest part of generation otherwise. Algorithms: H. Hinnant, "chrono-compatible
// low-level date algorithms".

function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(day: number): [number, number, number] {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function parseDay(date: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (match === null) throw new RangeError(`fecha no válida: ${date} (use AAAA-MM-DD)`);
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const day = daysFromCivil(y, m, d);
  const back = civilFromDays(day);
  if (back[1] !== m || back[2] !== d) throw new RangeError(`fecha no válida: ${date}`);
  return day;
}

function formatDay(day: number): string {
  const [y, m, d] = civilFromDays(day);
  return `${y}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

/** Same month and day `years` later; 29 February becomes 1 March in a common year. */
function addYears(day: number, years: number): number {
  const [y, m, d] = civilFromDays(day);
  if (m === 2 && d === 29) return daysFromCivil(y + years, 3, 1) - (isLeap(y + years) ? 1 : 0);
  return daysFromCivil(y + years, m, d);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function birthDay(random: Random, refDay: number, age: number): number {
  return addYears(refDay, -age) - pickInt(random, 1, 364);
}

// --- Generation -----------------------------------------------------------------------------

interface Draft {
  sexo: Sexo;
  age: number;
  primerApellido: string;
  segundoApellido: string;
  estadoCivil: EstadoCivil;
  parentesco: Parentesco;
}

const HOUSEHOLD_SIZES = [[1, 12], [2, 18], [3, 22], [4, 22], [5, 14], [6, 8], [7, 4]] as const;

function draftHousehold(random: Random, size: number): Draft[] {
  const headSexo: Sexo = random() < 0.35 ? 'F' : 'M';
  const headAge = pickInt(random, 22, 85);
  const head: Draft = {
    sexo: headSexo, age: headAge,
    primerApellido: pickOne(random, SURNAMES), segundoApellido: pickOne(random, SURNAMES),
    estadoCivil: 'SOLTERO', parentesco: 'JEFE',
  };
  const members: Draft[] = [head];
  let spouse: Draft | undefined;
  if (size >= 2 && random() < 0.75) {
    spouse = {
      sexo: headSexo === 'M' ? 'F' : 'M', age: Math.max(18, headAge + pickInt(random, -6, 6)),
      primerApellido: pickOne(random, SURNAMES), segundoApellido: pickOne(random, SURNAMES),
      estadoCivil: 'SOLTERO', parentesco: 'CONYUGE',
    };
    const married = random() < 0.55;
    head.estadoCivil = married ? 'CASADO' : 'SOLTERO';
    spouse.estadoCivil = head.estadoCivil;
    members.push(spouse);
  } else if (headAge >= 45) {
    head.estadoCivil = pickWeighted(random, [['VIUDO', 30], ['DIVORCIADO', 10], ['SOLTERO', 60]] as const);
  }
  const father = headSexo === 'M' ? head : spouse;
  const mother = headSexo === 'F' ? head : spouse;
  while (members.length < size) members.push(draftRelative(random, head, father, mother));
  return members;
}

function draftRelative(random: Random, head: Draft, father: Draft | undefined, mother: Draft | undefined): Draft {
  const sexo: Sexo = random() < 0.5 ? 'M' : 'F';
  const kind = pickWeighted(random, [
    ['HIJO', 80], ['NIETO', head.age >= 50 ? 25 : 0], ['PADRE_MADRE', head.age <= 50 ? 6 : 0], ['HERMANO', 4], ['OTRO', 3],
  ] as const);
  const primer = father?.primerApellido ?? pickOne(random, SURNAMES);
  const segundo = mother?.primerApellido ?? pickOne(random, SURNAMES);
  switch (kind) {
    case 'HIJO': {
      const age = pickInt(random, 0, Math.max(0, Math.min(head.age - 17, 45)));
      return { sexo, age, primerApellido: primer, segundoApellido: segundo, estadoCivil: adultCivil(random, age, 0.15), parentesco: 'HIJO' };
    }
    case 'NIETO': {
      const age = pickInt(random, 0, Math.min(head.age - 36, 17));
      return { sexo, age, primerApellido: pickOne(random, SURNAMES), segundoApellido: primer, estadoCivil: 'SOLTERO', parentesco: 'NIETO' };
    }
    case 'PADRE_MADRE': {
      const age = Math.min(100, head.age + pickInt(random, 18, 35));
      return {
        sexo, age, primerApellido: sexo === 'M' ? head.primerApellido : head.segundoApellido,
        segundoApellido: pickOne(random, SURNAMES), estadoCivil: random() < 0.6 ? 'VIUDO' : 'CASADO', parentesco: 'PADRE_MADRE',
      };
    }
    case 'HERMANO': {
      const age = Math.max(0, head.age + pickInt(random, -10, 10));
      return { sexo, age, primerApellido: head.primerApellido, segundoApellido: head.segundoApellido, estadoCivil: adultCivil(random, age, 0.3), parentesco: 'HERMANO' };
    }
    case 'OTRO': {
      const age = pickInt(random, 0, 80);
      return { sexo, age, primerApellido: pickOne(random, SURNAMES), segundoApellido: pickOne(random, SURNAMES), estadoCivil: adultCivil(random, age, 0.3), parentesco: 'OTRO' };
    }
  }
}

function adultCivil(random: Random, age: number, married: number): EstadoCivil {
  return age >= 18 && random() < married ? 'CASADO' : 'SOLTERO';
}

/**
 * Generates RENIEC persons grouped in households. About 95 % of households are registered in
 * the PGH; about 97 % of those have a CSE, started at most 4 years before the reference date,
 * so roughly a quarter are expired at it. About 1 % of persons are deceased.
 */
export function generateSandboxData(opts: SandboxDataOptions = {}): SandboxData {
  const count = opts.persons ?? DEFAULT_PERSONS;
  const seed = opts.seed ?? DEFAULT_SEED;
  const referenceDate = opts.referenceDate ?? DEFAULT_REFERENCE_DATE;
  if (!Number.isInteger(count) || count < 0 || count > 2_000_000) throw new RangeError(`persons fuera de rango: ${count}`);
  const refDay = parseDay(referenceDate);
  const random = createRandom(seed);

  const dnis = new Set<string>();
  const nextDni = (): string => {
    for (;;) {
      const dni = String(90_000_000 + Math.floor(random() * 10_000_000));
      if (!dnis.has(dni)) {
        dnis.add(dni);
        return dni;
      }
    }
  };

  const persons: Persona[] = [];
  const households: Hogar[] = [];
  const cse: Cse[] = [];
  const codes = new Set<string>();

  while (persons.length < count) {
    const size = Math.min(pickWeighted(random, HOUSEHOLD_SIZES), count - persons.length);
    const place = pickPlace(random);
    const miembros: MiembroHogar[] = [];
    for (const draft of draftHousehold(random, size)) {
      const dni = nextDni();
      persons.push({
        dni,
        checkDigit: dniCheckDigit(dni),
        prenombres: pickPrenombres(random, draft.sexo),
        primerApellido: draft.primerApellido,
        segundoApellido: draft.segundoApellido,
        fechaNacimiento: formatDay(birthDay(random, refDay, draft.age)),
        sexo: draft.sexo,
        estadoCivil: draft.estadoCivil,
        ubigeo: place.reniec,
        fallecido: random() < 0.01,
      });
      miembros.push({ dni, parentesco: draft.parentesco });
    }
    if (random() < 0.05) continue; // not registered in the PGH
    const codigoHogar = createHouseholdCode(random, codes);
    households.push({ codigoHogar, ubigeo: place.inei, miembros });
    if (random() < 0.03) continue; // registered, not yet classified
    const start = refDay - pickInt(random, 0, 4 * 365);
    cse.push({
      codigoHogar,
      clasificacion: pickWeighted(random, [['POBRE_EXTREMO', 18], ['POBRE', 32], ['NO_POBRE', 50]] as const),
      fechaInicio: formatDay(start),
      fechaFin: formatDay(addYears(start, CSE_VALIDITY_YEARS) - 1),
    });
  }
  return { seed, referenceDate, persons, households, cse };
}

const CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

function createHouseholdCode(random: Random, taken: Set<string>): string {
  for (;;) {
    let code = 'HG';
    for (let i = 0; i < 10; i++) code += CODE_ALPHABET[Math.floor(random() * CODE_ALPHABET.length)];
    if (!taken.has(code)) {
      taken.add(code);
      return code;
    }
  }
}

// --- Lookups --------------------------------------------------------------------------------

export interface SandboxIndex {
  readonly personByDni: ReadonlyMap<string, Persona>;
  readonly householdByCode: ReadonlyMap<string, Hogar>;
  readonly householdByDni: ReadonlyMap<string, Hogar>;
  readonly cseByHousehold: ReadonlyMap<string, Cse>;
}

export function indexSandboxData(data: SandboxData): SandboxIndex {
  const personByDni = new Map<string, Persona>();
  for (const p of data.persons) personByDni.set(p.dni, p);
  const householdByCode = new Map<string, Hogar>();
  const householdByDni = new Map<string, Hogar>();
  for (const h of data.households) {
    householdByCode.set(h.codigoHogar, h);
    for (const m of h.miembros) householdByDni.set(m.dni, h);
  }
  const cseByHousehold = new Map<string, Cse>();
  for (const c of data.cse) cseByHousehold.set(c.codigoHogar, c);
  return { personByDni, householdByCode, householdByDni, cseByHousehold };
}

/** Whether a CSE is in force on a day (YYYY-MM-DD), both ends included. */
export function isCseVigente(cse: Cse, day: string): boolean {
  return cse.fechaInicio <= day && day <= cse.fechaFin;
}

/**
 * `n` DNIs present in the data, spread evenly over it (deterministic). With `filter`, only
 * persons that pass it (e.g. those with a classified household) are considered.
 */
export function samplesDni(data: SandboxData, n: number, filter?: (p: Persona) => boolean): string[] {
  const pool = filter === undefined ? data.persons : data.persons.filter(filter);
  if (!Number.isInteger(n) || n < 0 || n > pool.length) {
    throw new RangeError(`no hay ${n} DNI disponibles (hay ${pool.length})`);
  }
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(pool[Math.floor((i * pool.length) / n)]!.dni);
  return out;
}
