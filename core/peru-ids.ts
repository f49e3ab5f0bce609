/**
 * Peruvian identifiers: DNI, RUC, Carné de Extranjería, pasaporte, CPP, tipo + número de documento, UBIGEO (INEI and RENIEC codings) and
 * INEI centro poblado codes. Pure functions, no I/O.
 *
 * `check*` functions return a CheckResult whose `reason` is Spanish text naming the check that
 * failed (and the expected value when there is one); `validate*` functions throw a MiisError.
 * Algorithms and vectors: /work/shared/design/DOMAIN.md, section "Identifiers".
 */
import { MiisError } from './errors.js';

export type CheckResult<T> = { ok: true; value: T } | { ok: false; reason: string };

function pass<T>(value: T): CheckResult<T> {
  return { ok: true, value };
}

function fail<T>(reason: string): CheckResult<T> {
  return { ok: false, reason };
}

const DIGITS_8 = /^\d{8}$/;
const DIGITS_10 = /^\d{10}$/;

// --- DNI ------------------------------------------------------------------------------------

const DNI_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2] as const;
const DNI_DIGITS = '65432110987';
const DNI_LETTERS = 'KJIHGFEDCBA';

function dniIndex(dni8: string): number {
  if (!DIGITS_8.test(dni8)) {
    throw new MiisError('Config.InvalidDni', `«${dni8}» debe tener exactamente 8 dígitos`);
  }
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += DNI_WEIGHTS[i]! * Number(dni8[i]);
  return sum % 11;
}

/** Numeric check character of a DNI ('0'..'9'). Throws Config.InvalidDni unless 8 digits. */
export function dniCheckDigit(dni8: string): string {
  return DNI_DIGITS[dniIndex(dni8)]!;
}

/** Letter check character of a DNI ('A'..'K'). Throws Config.InvalidDni unless 8 digits. */
export function dniCheckLetter(dni8: string): string {
  return DNI_LETTERS[dniIndex(dni8)]!;
}

const DNI_FORM = /^(\d{8})(?:-?([0-9A-Z]))?$/;

/**
 * Accepts 8 digits, optionally followed by the check character (digit or letter A–K), with or
 * without a hyphen: '10117410', '10117410-2', '101174102', '10812543H', '10812543-h'.
 * Surrounding whitespace is ignored and the letter is upper-cased. '00000000' is refused.
 */
export function checkDni(input: string): CheckResult<{ dni: string; check?: string }> {
  const text = input.trim().toUpperCase();
  const match = DNI_FORM.exec(text);
  if (match === null) {
    return fail(`«${input}» debe tener 8 dígitos, opcionalmente seguidos del carácter de verificación (p. ej. 10117410 o 10117410-2)`);
  }
  const dni = match[1]!;
  const check = match[2];
  if (dni === '00000000') return fail('«00000000» no es un número de DNI');
  if (check === undefined) return pass({ dni });
  const digit = dniCheckDigit(dni);
  const letter = dniCheckLetter(dni);
  if (/\d/.test(check)) {
    if (check !== digit) {
      return fail(`el dígito de verificación «${check}» no corresponde al DNI ${dni}: se esperaba ${digit} (o la letra ${letter})`);
    }
  } else if (check !== letter) {
    return fail(`la letra de verificación «${check}» no corresponde al DNI ${dni}: se esperaba ${letter} (o el dígito ${digit})`);
  }
  return pass({ dni, check });
}

export function validateDni(input: string): { dni: string; check?: string } {
  const result = checkDni(input);
  if (!result.ok) throw new MiisError('Config.InvalidDni', result.reason);
  return result.value;
}

// --- RUC ------------------------------------------------------------------------------------

const RUC_WEIGHTS = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2] as const;
const RUC_PREFIXES = ['10', '15', '17', '20'] as const;

/** Check digit of a RUC from its first 10 digits. Throws Config.InvalidRuc unless 10 digits. */
export function rucCheckDigit(first10: string): string {
  if (!DIGITS_10.test(first10)) {
    throw new MiisError('Config.InvalidRuc', `«${first10}» debe tener exactamente 10 dígitos para calcular el dígito de verificación`);
  }
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += RUC_WEIGHTS[i]! * Number(first10[i]);
  return String((11 - (sum % 11)) % 10);
}

/** 11 digits, prefix 10, 15, 17 or 20, and a matching check digit. Surrounding whitespace is ignored. */
export function checkRuc(input: string): CheckResult<string> {
  const ruc = input.trim();
  if (!/^\d{11}$/.test(ruc)) return fail(`«${input}» debe tener exactamente 11 dígitos`);
  const prefix = ruc.slice(0, 2);
  if (!(RUC_PREFIXES as readonly string[]).includes(prefix)) {
    return fail(`el prefijo «${prefix}» no es válido: un RUC empieza con ${RUC_PREFIXES.join(', ')}`);
  }
  const expected = rucCheckDigit(ruc.slice(0, 10));
  if (ruc[10] !== expected) {
    return fail(`el dígito de verificación de ${ruc} es «${ruc[10]}» pero se esperaba ${expected}`);
  }
  return pass(ruc);
}

export function validateRuc(input: string): string {
  const result = checkRuc(input);
  if (!result.ok) throw new MiisError('Config.InvalidRuc', result.reason);
  return result.value;
}

/** A natural person's RUC: 10 + DNI + check digit. Throws Config.InvalidDni unless 8 digits. */
export function rucFromDni(dni8: string): string {
  if (!DIGITS_8.test(dni8)) {
    throw new MiisError('Config.InvalidDni', `«${dni8}» debe tener exactamente 8 dígitos`);
  }
  const first10 = `10${dni8}`;
  return first10 + rucCheckDigit(first10);
}

// --- Carné de Extranjería ------------------------------------------------------------------

/**
 * Carné de Extranjería (Migraciones). The current card number is 9 digits with no check digit;
 * registries (SUNAT, PIDE services) accept up to 12 alphanumeric characters, so we accept that
 * superset and normalise:
 *   - trim, upper-case, remove spaces and hyphens;
 *   - numeric, 1–12 digits, not all zeros: left-padded with zeros to 9 digits (spreadsheets
 *     drop leading zeros), longer numbers are kept as they are;
 *   - containing letters: 9–12 characters among A–Z and 0–9, with at least one digit; kept as is.
 */
export function checkCarneExtranjeria(input: string): CheckResult<string> {
  const text = input.trim().toUpperCase().replace(/[\s-]+/g, '');
  if (!/^[A-Z0-9]{1,12}$/.test(text)) {
    return fail(`«${input}» debe tener de 1 a 12 caracteres entre A-Z y 0-9 (sin contar espacios ni guiones)`);
  }
  if (/^\d+$/.test(text)) {
    if (/^0+$/.test(text)) return fail(`«${input}» no es un número de carné de extranjería`);
    return pass(text.padStart(9, '0'));
  }
  if (text.length < 9) {
    return fail(`«${input}» contiene letras y debe tener de 9 a 12 caracteres (o ser solo dígitos, normalmente 9)`);
  }
  if (!/\d/.test(text)) return fail(`«${input}» debe contener al menos un dígito`);
  return pass(text);
}

// --- Pasaporte and CPP -----------------------------------------------------------------------

/**
 * Pasaporte (Peruvian or foreign). Numbers differ by issuing country (ICAO 9303 gives the MRZ
 * field 9 characters; some countries use more, with an overflow), so we accept what registries
 * such as SUNAT accept: after trimming, upper-casing and removing spaces and hyphens, 5 to 12
 * characters among A–Z and 0–9 with at least one digit. Leading zeros are significant in a
 * passport number, so nothing is padded: the canonical form is the cleaned text.
 */
export function checkPasaporte(input: string): CheckResult<string> {
  const text = input.trim().toUpperCase().replace(/[\s-]+/g, '');
  if (!/^[A-Z0-9]{5,12}$/.test(text)) {
    return fail(`«${input}» debe tener de 5 a 12 caracteres entre A-Z y 0-9 (sin contar espacios ni guiones)`);
  }
  if (!/\d/.test(text)) return fail(`«${input}» debe contener al menos un dígito`);
  if (/^0+$/.test(text)) return fail(`«${input}» no es un número de pasaporte`);
  return pass(text);
}

/**
 * Carné de Permiso Temporal de Permanencia (CPP, Migraciones; successor of the PTP). Its number
 * is numeric; its published design gives no check digit. We treat it as a CE number: digits only
 * (spaces and hyphens removed), 1 to 12 digits, not all zeros, left-padded with zeros to 9 digits
 * (spreadsheets drop leading zeros); longer numbers are kept as they are.
 */
export function checkCpp(input: string): CheckResult<string> {
  const text = input.trim().replace(/[\s-]+/g, '');
  if (!/^\d{1,12}$/.test(text)) return fail(`«${input}» debe tener de 1 a 12 dígitos (sin contar espacios ni guiones)`);
  if (/^0+$/.test(text)) return fail(`«${input}» no es un número de CPP`);
  return pass(text.padStart(9, '0'));
}

// --- Tipo de documento + número -------------------------------------------------------------

/** Identity documents a person is identified with in MIIS services (tipoDocumento). */
export const TIPOS_DOCUMENTO = ['DNI', 'CE', 'PASAPORTE', 'CPP'] as const;
export type TipoDocumento = (typeof TIPOS_DOCUMENTO)[number];

export interface Documento {
  readonly tipo: TipoDocumento;
  /** Canonical number: a DNI's 8 digits (check character dropped), a CE or CPP padded to 9 digits, a passport cleaned. */
  readonly numero: string;
}

/**
 * A tipoDocumento (DNI, CE, PASAPORTE, CPP; case-insensitive, surrounding spaces ignored) and a
 * numeroDocumento checked by that type's rule. The value is the canonical pair.
 */
export function checkDocumento(tipo: string, numero: string): CheckResult<Documento> {
  const t = tipo.trim().toUpperCase();
  if (!(TIPOS_DOCUMENTO as readonly string[]).includes(t)) {
    return fail(`el tipo de documento «${tipo}» no es válido: se admiten ${TIPOS_DOCUMENTO.join(', ')}`);
  }
  const tipoDoc = t as TipoDocumento;
  switch (tipoDoc) {
    case 'DNI': { const r = checkDni(numero); return r.ok ? pass({ tipo: tipoDoc, numero: r.value.dni }) : fail(`DNI: ${r.reason}`); }
    case 'CE': { const r = checkCarneExtranjeria(numero); return r.ok ? pass({ tipo: tipoDoc, numero: r.value }) : fail(`carné de extranjería: ${r.reason}`); }
    case 'PASAPORTE': { const r = checkPasaporte(numero); return r.ok ? pass({ tipo: tipoDoc, numero: r.value }) : fail(`pasaporte: ${r.reason}`); }
    case 'CPP': { const r = checkCpp(numero); return r.ok ? pass({ tipo: tipoDoc, numero: r.value }) : fail(`CPP: ${r.reason}`); }
  }
}

// --- UBIGEO ---------------------------------------------------------------------------------

export type UbigeoScheme = 'INEI' | 'RENIEC';

export interface Ubigeo {
  readonly code: string;
  readonly scheme: UbigeoScheme;
  /** Department name in Spanish. */
  readonly department: string;
}

/** INEI departments: alphabetical order, Callao included (07), so Lima is 15. */
const INEI_DEPARTMENTS = [
  'Amazonas', 'Áncash', 'Apurímac', 'Arequipa', 'Ayacucho', 'Cajamarca', 'Callao', 'Cusco',
  'Huancavelica', 'Huánuco', 'Ica', 'Junín', 'La Libertad', 'Lambayeque', 'Lima', 'Loreto',
  'Madre de Dios', 'Moquegua', 'Pasco', 'Piura', 'Puno', 'San Martín', 'Tacna', 'Tumbes', 'Ucayali',
] as const;

/**
 * RENIEC departments: alphabetical order without Callao (Amazonas 01 … Tumbes 23, so Cusco is
 * 07 and Lima 14), then Callao 24 and Ucayali 25. RENIEC's codes 91–95 for residence abroad
 * (continents) are not national ubigeos and are refused here.
 */
const RENIEC_DEPARTMENTS = [
  ...INEI_DEPARTMENTS.filter((name) => name !== 'Callao' && name !== 'Ucayali'),
  'Callao',
  'Ucayali',
] as const;

const DEPARTMENTS: Record<UbigeoScheme, readonly string[]> = { INEI: INEI_DEPARTMENTS, RENIEC: RENIEC_DEPARTMENTS };

/** Department name for a two-digit code in a scheme, or undefined. */
export function departmentName(code2: string, scheme: UbigeoScheme): string | undefined {
  if (!/^\d{2}$/.test(code2)) return undefined;
  return DEPARTMENTS[scheme][Number(code2) - 1];
}

/**
 * 6 digits DDPPdd. The department must exist in the given scheme; province and district codes
 * must not be 00 (a department- or province-level code is not a district ubigeo). Whether the
 * province and district exist is not checked (that needs the full, changing INEI/RENIEC tables).
 */
export function checkUbigeo(input: string, scheme: UbigeoScheme): CheckResult<Ubigeo> {
  const code = input.trim();
  if (!/^\d{6}$/.test(code)) return fail(`el ubigeo «${input}» debe tener exactamente 6 dígitos (DDPPdd)`);
  const department = departmentName(code.slice(0, 2), scheme);
  if (department === undefined) {
    return fail(`el departamento «${code.slice(0, 2)}» del ubigeo ${code} no existe en la codificación ${scheme} (01 a 25)`);
  }
  if (code.slice(2, 4) === '00') return fail(`la provincia del ubigeo ${code} no puede ser 00`);
  if (code.slice(4, 6) === '00') return fail(`el distrito del ubigeo ${code} no puede ser 00`);
  return pass({ code, scheme, department });
}

// --- Centro poblado -------------------------------------------------------------------------

/**
 * INEI centro poblado code: 10 digits = INEI district ubigeo + 4-digit sequence within the
 * district. INEI numbers centros poblados from 0001 (the district capital is usually 0001), so
 * the sequence 0000 is refused.
 */
export function checkCentroPoblado(input: string): CheckResult<{ code: string; ubigeo: Ubigeo }> {
  const code = input.trim();
  if (!/^\d{10}$/.test(code)) {
    return fail(`el código de centro poblado «${input}» debe tener exactamente 10 dígitos (ubigeo INEI + 4 dígitos)`);
  }
  const ubigeo = checkUbigeo(code.slice(0, 6), 'INEI');
  if (!ubigeo.ok) return fail(`centro poblado ${code}: ${ubigeo.reason}`);
  if (code.slice(6) === '0000') return fail(`el número correlativo del centro poblado ${code} no puede ser 0000`);
  return pass({ code, ubigeo: ubigeo.value });
}
