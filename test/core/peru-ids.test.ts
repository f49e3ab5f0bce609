import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MiisError } from '../../core/errors.js';
import {
  checkCarneExtranjeria, checkCentroPoblado, checkCpp, checkDni, checkDocumento, checkPasaporte, checkRuc, checkUbigeo, departmentName,
  dniCheckDigit, dniCheckLetter, rucCheckDigit, rucFromDni, validateDni, validateRuc,
} from '../../core/peru-ids.js';
import type { CheckResult } from '../../core/peru-ids.js';

function reasonOf<T>(result: CheckResult<T>): string {
  assert.equal(result.ok, false, 'se esperaba un rechazo');
  return result.ok ? '' : result.reason;
}

function valueOf<T>(result: CheckResult<T>): T {
  if (!result.ok) assert.fail(`rechazado: ${result.reason}`);
  return result.value;
}

describe('DNI', () => {
  it('computes the check digit and letter of the DOMAIN.md vectors', () => {
    assert.equal(dniCheckDigit('10117410'), '2');
    assert.equal(dniCheckDigit('10812543'), '3');
    assert.equal(dniCheckLetter('10812543'), 'H');
    // s = 70 mod 11 = 4 → letter 'G'
    assert.equal(dniCheckLetter('10117410'), 'G');
  });

  it('covers every residue with a consistent digit/letter pair', () => {
    const pairs = new Map<string, string>();
    for (let i = 0; i < 2000; i++) {
      const dni = String(10_000_000 + i * 4_999).padStart(8, '0');
      pairs.set(dniCheckLetter(dni), dniCheckDigit(dni));
    }
    assert.equal(pairs.size, 11);
    assert.deepEqual([...pairs.keys()].sort().join(''), 'ABCDEFGHIJK');
    assert.equal(pairs.get('K'), '6');
    assert.equal(pairs.get('A'), '7');
  });

  it('accepts the documented input forms', () => {
    assert.deepEqual(valueOf(checkDni('10117410')), { dni: '10117410' });
    assert.deepEqual(valueOf(checkDni('10117410-2')), { dni: '10117410', check: '2' });
    assert.deepEqual(valueOf(checkDni('101174102')), { dni: '10117410', check: '2' });
    assert.deepEqual(valueOf(checkDni('10812543H')), { dni: '10812543', check: 'H' });
    assert.deepEqual(valueOf(checkDni('10812543-H')), { dni: '10812543', check: 'H' });
    assert.deepEqual(valueOf(checkDni(' 10812543-h ')), { dni: '10812543', check: 'H' });
    assert.deepEqual(valueOf(checkDni('108125433')), { dni: '10812543', check: '3' });
  });

  it('names the expected character when the check is wrong', () => {
    const wrongDigit = reasonOf(checkDni('10117410-5'));
    assert.match(wrongDigit, /dígito de verificación «5»/);
    assert.match(wrongDigit, /se esperaba 2/);
    const wrongLetter = reasonOf(checkDni('10812543K'));
    assert.match(wrongLetter, /letra de verificación «K»/);
    assert.match(wrongLetter, /se esperaba H/);
  });

  it('refuses malformed input', () => {
    for (const bad of ['', '1011741', '1011741O', '10117410--2', '10117410-22', '10117410-Ñ', '1011 7410', '00000000']) {
      assert.equal(checkDni(bad).ok, false, bad);
    }
    assert.match(reasonOf(checkDni('1234567')), /8 dígitos/);
  });

  it('validateDni throws Config.InvalidDni with the reason', () => {
    assert.deepEqual(validateDni('10117410-2'), { dni: '10117410', check: '2' });
    assert.throws(() => validateDni('10117410-9'), (err: unknown) => {
      assert.ok(err instanceof MiisError);
      assert.equal(err.code, 'Config.InvalidDni');
      assert.match(err.message, /^DNI no válido: .*se esperaba 2/);
      return true;
    });
  });

  it('check functions refuse anything but 8 digits', () => {
    assert.throws(() => dniCheckDigit('1234567'), { code: 'Config.InvalidDni' });
    assert.throws(() => dniCheckLetter('1234567a'), { code: 'Config.InvalidDni' });
  });
});

describe('RUC', () => {
  it('accepts the DOMAIN.md vectors', () => {
    for (const ruc of ['20512333797', '10054148289', '20100255325']) {
      assert.equal(valueOf(checkRuc(ruc)), ruc);
      assert.equal(rucCheckDigit(ruc.slice(0, 10)), ruc[10]);
    }
    assert.equal(validateRuc(' 20100255325 '), '20100255325');
  });

  it('derives a person RUC from the DNI', () => {
    assert.equal(rucFromDni('10117410'), '10101174102');
    assert.equal(valueOf(checkRuc(rucFromDni('10812543'))), rucFromDni('10812543'));
    assert.throws(() => rucFromDni('1011741'), { code: 'Config.InvalidDni' });
  });

  it('names the expected check digit', () => {
    const reason = reasonOf(checkRuc('20512333790'));
    assert.match(reason, /se esperaba 7/);
    assert.throws(() => validateRuc('20100255320'), (err: unknown) => {
      assert.ok(err instanceof MiisError);
      assert.equal(err.code, 'Config.InvalidRuc');
      assert.match(err.message, /^RUC no válido: .*se esperaba 5/);
      return true;
    });
  });

  it('refuses wrong length, non-digits and unknown prefixes', () => {
    assert.match(reasonOf(checkRuc('2051233379')), /11 dígitos/);
    assert.match(reasonOf(checkRuc('2051233379A')), /11 dígitos/);
    // a valid check digit but prefix 30
    const first10 = '3051233379';
    assert.match(reasonOf(checkRuc(first10 + rucCheckDigit(first10))), /prefijo «30»/);
    for (const prefix of ['15', '17']) {
      const body = `${prefix}12345678`;
      assert.equal(checkRuc(body + rucCheckDigit(body)).ok, true, prefix);
    }
    assert.throws(() => rucCheckDigit('123'), { code: 'Config.InvalidRuc' });
  });

  it('catches every single-digit change of a valid RUC body', () => {
    const ruc = '20512333797';
    for (let i = 2; i < 10; i++) {
      for (let d = 0; d <= 9; d++) {
        if (String(d) === ruc[i]) continue;
        const changed = ruc.slice(0, i) + d + ruc.slice(i + 1);
        assert.equal(checkRuc(changed).ok, false, changed);
      }
    }
  });
});

describe('Carné de Extranjería', () => {
  it('normalises numbers to 9 digits', () => {
    assert.equal(valueOf(checkCarneExtranjeria('001234567')), '001234567');
    assert.equal(valueOf(checkCarneExtranjeria('1234567')), '001234567');
    assert.equal(valueOf(checkCarneExtranjeria(' 001-234 567 ')), '001234567');
    assert.equal(valueOf(checkCarneExtranjeria('123456789012')), '123456789012');
  });

  it('accepts alphanumeric numbers of 9 to 12 characters, upper-cased', () => {
    assert.equal(valueOf(checkCarneExtranjeria('ab1234567')), 'AB1234567');
  });

  it('refuses the rest with a reason', () => {
    assert.match(reasonOf(checkCarneExtranjeria('1234567890123')), /1 a 12/);
    assert.match(reasonOf(checkCarneExtranjeria('CE12345')), /9 a 12/);
    assert.match(reasonOf(checkCarneExtranjeria('ABCDEFGHIJ')), /al menos un dígito/);
    assert.equal(checkCarneExtranjeria('000000000').ok, false);
    assert.equal(checkCarneExtranjeria('12345.678').ok, false);
    assert.equal(checkCarneExtranjeria('').ok, false);
  });
});

describe('Pasaporte', () => {
  it('canonical form: upper-case, without spaces or hyphens, leading zeros kept', () => {
    assert.equal(valueOf(checkPasaporte('119650123')), '119650123');
    assert.equal(valueOf(checkPasaporte(' ab-123 456 ')), 'AB123456');
    assert.equal(valueOf(checkPasaporte('0012345')), '0012345');
    assert.equal(valueOf(checkPasaporte('C01X00T47')), 'C01X00T47');
  });

  it('refuses the rest with a reason', () => {
    assert.match(reasonOf(checkPasaporte('A123')), /5 a 12/);
    assert.match(reasonOf(checkPasaporte('A1234567890123')), /5 a 12/);
    assert.match(reasonOf(checkPasaporte('ABCDEFG')), /al menos un dígito/);
    assert.match(reasonOf(checkPasaporte('00000')), /no es un número de pasaporte/);
    assert.match(reasonOf(checkPasaporte('AB.12345')), /A-Z y 0-9/);
    assert.equal(checkPasaporte('').ok, false);
  });
});

describe('CPP (permiso temporal de permanencia)', () => {
  it('canonical form: digits padded to 9', () => {
    assert.equal(valueOf(checkCpp('001234567')), '001234567');
    assert.equal(valueOf(checkCpp('1234567')), '001234567');
    assert.equal(valueOf(checkCpp(' 001-234 567 ')), '001234567');
    assert.equal(valueOf(checkCpp('1234567890')), '1234567890');
  });

  it('refuses letters, too many digits and zeros', () => {
    assert.match(reasonOf(checkCpp('CPP123456')), /1 a 12 dígitos/);
    assert.match(reasonOf(checkCpp('1234567890123')), /1 a 12 dígitos/);
    assert.match(reasonOf(checkCpp('000000000')), /no es un número de CPP/);
    assert.equal(checkCpp('').ok, false);
  });
});

describe('tipo de documento + número', () => {
  it('checks the number by its type and answers the canonical pair', () => {
    assert.deepEqual(valueOf(checkDocumento('DNI', '10117410-2')), { tipo: 'DNI', numero: '10117410' });
    assert.deepEqual(valueOf(checkDocumento(' ce ', '1234567')), { tipo: 'CE', numero: '001234567' });
    assert.deepEqual(valueOf(checkDocumento('pasaporte', 'ab-123456')), { tipo: 'PASAPORTE', numero: 'AB123456' });
    assert.deepEqual(valueOf(checkDocumento('CPP', '7654321')), { tipo: 'CPP', numero: '007654321' });
  });

  it('names the type in the reason and refuses unknown types', () => {
    assert.match(reasonOf(checkDocumento('DNI', '10117410-5')), /^DNI: el dígito de verificación/);
    assert.match(reasonOf(checkDocumento('CPP', 'AB1234567')), /^CPP: /);
    assert.match(reasonOf(checkDocumento('PASAPORTE', 'ABCDEFG')), /^pasaporte: /);
    assert.match(reasonOf(checkDocumento('LM', '12345678')), /tipo de documento «LM» no es válido: se admiten DNI, CE, PASAPORTE, CPP/);
    // a DNI spelled as a CE is a CE number, not a DNI
    assert.deepEqual(valueOf(checkDocumento('CE', '10117410')), { tipo: 'CE', numero: '010117410' });
  });
});

describe('UBIGEO', () => {
  it('keeps Lima and Callao apart in INEI and RENIEC codings', () => {
    assert.equal(valueOf(checkUbigeo('150101', 'INEI')).department, 'Lima');
    assert.equal(valueOf(checkUbigeo('140101', 'RENIEC')).department, 'Lima');
    assert.equal(valueOf(checkUbigeo('070101', 'INEI')).department, 'Callao');
    assert.equal(valueOf(checkUbigeo('240101', 'RENIEC')).department, 'Callao');
    // the same digits mean different departments
    assert.equal(valueOf(checkUbigeo('140101', 'INEI')).department, 'Lambayeque');
    assert.equal(valueOf(checkUbigeo('070101', 'RENIEC')).department, 'Cusco');
    assert.equal(valueOf(checkUbigeo('240101', 'INEI')).department, 'Tumbes');
    assert.equal(valueOf(checkUbigeo('230101', 'RENIEC')).department, 'Tumbes');
    assert.equal(valueOf(checkUbigeo('250101', 'RENIEC')).department, 'Ucayali');
    assert.equal(valueOf(checkUbigeo('250101', 'INEI')).department, 'Ucayali');
  });

  it('returns the code and scheme', () => {
    assert.deepEqual(valueOf(checkUbigeo(' 080101 ', 'INEI')), { code: '080101', scheme: 'INEI', department: 'Cusco' });
  });

  it('has 25 departments in each scheme, the same set of names', () => {
    for (const scheme of ['INEI', 'RENIEC'] as const) {
      const names = [];
      for (let i = 1; i <= 25; i++) names.push(departmentName(String(i).padStart(2, '0'), scheme));
      assert.equal(new Set(names).size, 25, scheme);
      assert.ok(names.every((n) => n !== undefined), scheme);
      assert.equal(departmentName('26', scheme), undefined);
      assert.equal(departmentName('00', scheme), undefined);
    }
  });

  it('refuses bad codes with a reason', () => {
    assert.match(reasonOf(checkUbigeo('15010', 'INEI')), /6 dígitos/);
    assert.match(reasonOf(checkUbigeo('15010A', 'INEI')), /6 dígitos/);
    assert.match(reasonOf(checkUbigeo('260101', 'INEI')), /departamento «26».*INEI/);
    assert.match(reasonOf(checkUbigeo('000101', 'RENIEC')), /departamento «00».*RENIEC/);
    assert.match(reasonOf(checkUbigeo('910101', 'RENIEC')), /departamento «91»/);
    assert.match(reasonOf(checkUbigeo('150001', 'INEI')), /provincia.*00/);
    assert.match(reasonOf(checkUbigeo('150100', 'INEI')), /distrito.*00/);
  });
});

describe('Centro poblado', () => {
  it('accepts an INEI ubigeo followed by a 4-digit sequence', () => {
    const result = valueOf(checkCentroPoblado('0101010001'));
    assert.equal(result.code, '0101010001');
    assert.deepEqual(result.ubigeo, { code: '010101', scheme: 'INEI', department: 'Amazonas' });
    assert.equal(valueOf(checkCentroPoblado('1501010023')).ubigeo.department, 'Lima');
  });

  it('refuses wrong length, bad ubigeo and sequence 0000', () => {
    assert.match(reasonOf(checkCentroPoblado('010101001')), /10 dígitos/);
    assert.match(reasonOf(checkCentroPoblado('2601010001')), /departamento «26»/);
    assert.match(reasonOf(checkCentroPoblado('1500010001')), /provincia/);
    assert.match(reasonOf(checkCentroPoblado('0101010000')), /0000/);
  });
});
