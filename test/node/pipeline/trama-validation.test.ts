import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GlobalConfValidation } from '../../../core/global-conf-model.js';
import { parseXml, type XmlElement } from '../../../core/xml.js';
import { parseValidationSpec } from '../../../central/registry/agreements.js';
import { countIds, validateTrama } from '../../../node/pipeline/trama-validation.js';

const payload = (inner: string): XmlElement => parseXml(Buffer.from(`<q:op xmlns:q="urn:x">${inner}</q:op>`)).root;
const dni = (d: string): string => `<dni>${d}</dni>`;

describe('validateTrama', () => {
  const v = (...validations: GlobalConfValidation[]) => ({ validations });

  it('passes valid identifiers, with or without check character, and names their canonical form', () => {
    const r = validateTrama(payload(dni('10117410') + dni('10117410-2') + dni('10812543H')), v({ field: 'dni', rule: 'dni' }));
    assert.ok(r.ok);
    assert.equal(r.ids, 3);
    assert.deepEqual(r.rewrites.map((w) => [w.element.text, w.canonical]), [['10117410-2', '10117410'], ['10812543H', '10812543']]);
  });

  it('the four spellings of one DNI have one canonical form; other spellings are refused', () => {
    // 40337956: check digit 1, check letter E
    const r = validateTrama(payload(dni('40337956') + dni('40337956-1') + dni('403379561') + dni('40337956e')), v({ field: 'dni', rule: 'dni' }));
    assert.ok(r.ok);
    assert.deepEqual(r.rewrites.map((w) => w.canonical), ['40337956', '40337956', '40337956']);
    for (const bad of ['40337956-2', '40337956F', '4033795', '40337956-', '40 337 956', '403379561x']) {
      assert.equal(validateTrama(payload(dni(bad)), v({ field: 'dni', rule: 'dni' })).ok, false, bad);
    }
  });

  it('names the field, the occurrence and the reason', () => {
    const r = validateTrama(payload(dni('10117410') + dni('10117410-5')), v({ field: 'dni', rule: 'dni' }));
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'Server.ServerProxy.ValidationFailed');
    assert.match(!r.ok ? r.detail : '', /campo «dni» \(n\.º 2\): el dígito de verificación «5» no corresponde al DNI 10117410: se esperaba 2/);
    const one = validateTrama(payload(dni('1234')), v({ field: 'dni', rule: 'dni' }));
    assert.match(!one.ok ? one.detail : '', /^campo «dni»: /);
  });

  it('checks RUC, ubigeo by scheme, centro poblado, carné, pattern and required', () => {
    const check = (inner: string, val: GlobalConfValidation): boolean => validateTrama(payload(inner), v(val)).ok;
    assert.equal(check('<ruc>20512333797</ruc>', { field: 'ruc', rule: 'ruc' }), true);
    assert.equal(check('<ruc>20512333798</ruc>', { field: 'ruc', rule: 'ruc' }), false);
    assert.equal(check('<ubigeo>150101</ubigeo>', { field: 'ubigeo', rule: 'ubigeo-inei' }), true);
    assert.equal(check('<ubigeo>260101</ubigeo>', { field: 'ubigeo', rule: 'ubigeo-inei' }), false);
    assert.equal(check('<ubigeo>140101</ubigeo>', { field: 'ubigeo', rule: 'ubigeo-reniec' }), true);
    assert.equal(check('<ccpp>1501010001</ccpp>', { field: 'ccpp', rule: 'centro-poblado' }), true);
    assert.equal(check('<ccpp>1501010000</ccpp>', { field: 'ccpp', rule: 'centro-poblado' }), false);
    assert.equal(check('<ce>001234567</ce>', { field: 'ce', rule: 'carne-extranjeria' }), true);
    assert.equal(check('<codigo>AB-12</codigo>', { field: 'codigo', rule: 'pattern', pattern: '[A-Z]{2}-[0-9]{2}' }), true);
    assert.equal(check('<codigo>AB-123</codigo>', { field: 'codigo', rule: 'pattern', pattern: '[A-Z]{2}-[0-9]{2}' }), false);
    assert.equal(check('<programa>JUNTOS</programa>', { field: 'programa', rule: 'required' }), true);
    const missing = validateTrama(payload(dni('10117410')), v({ field: 'programa', rule: 'required' }));
    assert.match(!missing.ok ? missing.detail : '', /«programa»: es obligatorio y falta/);
    // an absent optional field passes; an empty one does not
    assert.equal(check('', { field: 'ruc', rule: 'ruc' }), true);
    assert.equal(check('<ruc> </ruc>', { field: 'ruc', rule: 'ruc' }), false);
  });

  it('checks pasaporte and CPP and names their canonical form', () => {
    const r = validateTrama(payload('<p>ab-123456</p><c>1234567</c>'), v({ field: 'p', rule: 'pasaporte' }, { field: 'c', rule: 'cpp' }));
    assert.ok(r.ok);
    assert.equal(r.ids, 2);
    assert.deepEqual(r.rewrites.map((w) => [w.field, w.canonical]), [['p', 'AB123456'], ['c', '001234567']]);
    assert.equal(validateTrama(payload('<p>ABCDEFG</p>'), v({ field: 'p', rule: 'pasaporte' })).ok, false);
    assert.equal(validateTrama(payload('<c>CPP1</c>'), v({ field: 'c', rule: 'cpp' })).ok, false);
  });

  it('documento: numeroDocumento checked by its sibling tipoDocumento, both rewritten to canonical form', () => {
    const m = (tipo: string, numero: string) => `<miembro><tipoDocumento>${tipo}</tipoDocumento><numeroDocumento>${numero}</numeroDocumento></miembro>`;
    const rule = v({ field: 'numeroDocumento', rule: 'documento' });
    const r = validateTrama(payload(m('DNI', '10117410-2') + m('ce', '1234567') + m('PASAPORTE', 'AB123456') + m('CPP', '007654321')), rule);
    assert.ok(r.ok);
    assert.equal(r.ids, 4);
    assert.deepEqual(r.rewrites.map((w) => [w.field, w.canonical]), [['numeroDocumento', '10117410'], ['numeroDocumento', '001234567'], ['tipoDocumento', 'CE']]);
    const bad = validateTrama(payload(m('DNI', '10117410') + m('CE', 'AB12')), rule);
    assert.match(!bad.ok ? bad.detail : '', /campo «numeroDocumento» \(n\.º 2\): carné de extranjería: /);
    const unknown = validateTrama(payload(m('LM', '10117410')), rule);
    assert.match(!unknown.ok ? unknown.detail : '', /tipo de documento «LM» no es válido/);
    const noType = validateTrama(payload('<miembro><numeroDocumento>10117410</numeroDocumento></miembro>'), rule);
    assert.match(!noType.ok ? noType.detail : '', /falta el elemento hermano tipoDocumento/);
    assert.deepEqual(parseValidationSpec('numeroDocumento:documento'), { field: 'numeroDocumento', rule: 'documento' });
    assert.deepEqual(parseValidationSpec('pasaporte:pasaporte'), { field: 'pasaporte', rule: 'pasaporte' });
  });

  it('finds fields at any depth (records inside items)', () => {
    const inner = '<afiliacion><dni>10117410</dni></afiliacion><afiliacion><dni>99999999-1</dni></afiliacion>';
    const r = validateTrama(payload(inner), v({ field: 'dni', rule: 'dni' }));
    assert.match(!r.ok ? r.detail : '', /n\.º 2/);
  });

  it('counts identifiers and refuses more than maxIdsPerRequest before validating them', () => {
    const many = Array.from({ length: 101 }, () => dni('bad')).join('');
    const r = validateTrama(payload(many), { validations: [{ field: 'dni', rule: 'dni' }], maxIdsPerRequest: 100 });
    assert.deepEqual(r, { ok: false, code: 'Server.ServerProxy.TooManyIds', detail: '101 (máximo 100 por solicitud)' });
    assert.equal(validateTrama(payload(Array.from({ length: 100 }, () => dni('10117410')).join('')), { validations: [{ field: 'dni', rule: 'dni' }], maxIdsPerRequest: 100 }).ok, true);
    // without identifier rules, the operation's children are counted
    assert.equal(countIds(payload('<a/><b/><c/>'), []), 3);
    assert.equal(validateTrama(payload('<a/><b/><c/>'), { maxIdsPerRequest: 2 }).ok, false);
  });
});

describe('parseValidationSpec (miis-central agreement add --validate)', () => {
  it('reads field:rule and field:pattern:EXPR', () => {
    assert.deepEqual(parseValidationSpec('dni:dni'), { field: 'dni', rule: 'dni' });
    assert.deepEqual(parseValidationSpec('codigo:pattern:[0-9]{6}'), { field: 'codigo', rule: 'pattern', pattern: '[0-9]{6}' });
    assert.match(String(parseValidationSpec('dni:otra')), /regla desconocida/);
    assert.match(String(parseValidationSpec('codigo:pattern')), /necesita una expresión/);
    assert.match(String(parseValidationSpec('x:pattern:[')), /no válida/);
    assert.match(String(parseValidationSpec('sin-regla')), /campo:regla/);
  });
});
