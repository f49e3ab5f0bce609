/**
 * The sandbox's writing services (scripts/sandbox/writes.ts) on in-memory SQLite, and the Marco
 * Censal generator: acknowledgement ids per Lima day, case codes, duplicates, all-or-nothing
 * validation, household affiliation rules; codes nested as documented (registries.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parseXml, type XmlElement } from '../../core/xml.js';
import { checkCentroPoblado, checkUbigeo } from '../../core/peru-ids.js';
import { createReniecService, RENIEC_NS } from '../../scripts/sandbox/backends.js';
import { generateSandboxData, indexSandboxData } from '../../scripts/sandbox/data.js';
import { RNU_SCHEMA, sandboxCentrosPoblados, sandboxMarcoCensal } from '../../scripts/sandbox/registries.js';
import { AFILIACION_NS, createBrechaReport, createHogarAffiliation, InputError } from '../../scripts/sandbox/writes.js';

const data = generateSandboxData({ persons: 400 });
const CLIENT = 'PE/GOB/20511268401/JUNTOS';

const el = (ns: string, xml: string): XmlElement => parseXml(Buffer.from(`<op xmlns="${ns}">${xml}</op>`)).root;
const texts = (xml: string, local: string): string[] => [...xml.matchAll(new RegExp(`<${local}>([^<]*)</${local}>`, 'g'))].map((m) => m[1] as string);

describe('reportarBrechaIdentificacion (RENIEC)', () => {
  const persona = (nombres: string, extra = '') => `<persona><prenombres>${nombres}</prenombres><primerApellido>Quispe</primerApellido><ubigeo>080801</ubigeo><situacion>SIN_ACTA_NI_DNI</situacion>${extra}</persona>`;

  it('one acknowledgement per request, numbered per Lima day; case codes run on per year; a repeated person keeps its case', () => {
    const report = createBrechaReport(new Database(':memory:'), RENIEC_NS);
    // 2026-03-02 03:00 UTC is still 1 March in Lima
    let out = report(el(RENIEC_NS, persona('Ana') + persona('Luis') + persona('ana')), CLIENT, 'PE10117410', new Date('2026-03-02T03:00:00Z'));
    assert.deepEqual(texts(out, 'acuse'), ['ACUSE-20260301-000001']);
    assert.deepEqual(texts(out, 'codigoCaso'), ['BR-2026-0000001', 'BR-2026-0000002', 'BR-2026-0000001']);
    assert.deepEqual(texts(out, 'estado'), ['REGISTRADO', 'REGISTRADO', 'YA_REPORTADO']);
    out = report(el(RENIEC_NS, persona('Rosa')), CLIENT, undefined, new Date('2026-03-02T15:00:00Z'));
    assert.deepEqual(texts(out, 'acuse'), ['ACUSE-20260302-000001']);
    assert.deepEqual(texts(out, 'codigoCaso'), ['BR-2026-0000003']);
    out = report(el(RENIEC_NS, persona('Rosa', '<fechaNacimiento>2020-01-01</fechaNacimiento>')), CLIENT, undefined, new Date('2026-03-02T16:00:00Z'));
    assert.deepEqual(texts(out, 'acuse'), ['ACUSE-20260302-000002']);
    assert.deepEqual(texts(out, 'estado'), ['REGISTRADO'], 'another birth date is another person');
  });

  it('refuses the whole request on one invalid persona and records nothing', () => {
    const db = new Database(':memory:');
    const report = createBrechaReport(db, RENIEC_NS);
    const at = new Date('2026-03-02T15:00:00Z');
    assert.throws(() => report(el(RENIEC_NS, persona('Ana') + persona('Luis', '<sexo>X</sexo>')), CLIENT, undefined, at), (e: Error) => e instanceof InputError && /persona n\.º 2: sexo debe ser M o F/.test(e.message));
    assert.throws(() => report(el(RENIEC_NS, persona('Ana', '<responsable><tipoDocumento>CE</tipoDocumento></responsable>')), CLIENT, undefined, at), /falta el elemento numeroDocumento/);
    assert.throws(() => report(el(RENIEC_NS, persona('Ana', '<fechaNacimiento>2026-02-30</fechaNacimiento>')), CLIENT, undefined, at), /no es una fecha/);
    assert.throws(() => report(el(RENIEC_NS, ''), CLIENT, undefined, at), /falta el elemento persona/);
    assert.throws(() => report(el(RENIEC_NS, persona('Ana').repeat(101)), CLIENT, undefined, at), /101 personas \(máximo 100\)/);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM acuses').get() as { n: number }).n, 0);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM brechas').get() as { n: number }).n, 0);
  });

  it('the RENIEC backend needs the X-Road client in the header and answers a Client fault otherwise', () => {
    const service = createReniecService(data, undefined, { brechas: new Database(':memory:'), now: () => new Date('2026-03-02T15:00:00Z') });
    const env = (header: string) => Buffer.from(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>${header}</s:Header><s:Body><reportarBrechaIdentificacion xmlns="${RENIEC_NS}">${persona('Ana')}</reportarBrechaIdentificacion></s:Body></s:Envelope>`);
    const none = service(env(''));
    assert.equal(none.status, 500);
    assert.match(none.body.toString(), /<faultcode>SOAP-ENV:Client<\/faultcode>.*falta el cliente X-Road/);
    const client = '<xrd:client xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client>';
    const ok = service(env(client));
    assert.equal(ok.status, 200, ok.body.toString());
    assert.match(ok.body.toString(), /<acuse>ACUSE-20260302-000001<\/acuse>/);
  });
});

describe('registrarAfiliacionHogar (MIDIS RNU)', () => {
  const rnu = (): Database.Database => {
    const db = new Database(':memory:');
    db.exec(RNU_SCHEMA);
    db.prepare('INSERT INTO programas VALUES (?, ?)').run('JUNTOS', CLIENT);
    return db;
  };
  const h = data.households.find((x) => x.miembros.length >= 2)!;
  const miembro = (tipo: string, numero: string, parentesco = 'OTRO') => `<miembro><tipoDocumento>${tipo}</tipoDocumento><numeroDocumento>${numero}</numeroDocumento><parentesco>${parentesco}</parentesco></miembro>`;
  const hogar = (m: string, fecha = '2026-03-01', codigo = h.codigoHogar) => `<hogar><codigoHogar>${codigo}</codigoHogar><programa>JUNTOS</programa><fecha>${fecha}</fecha>${m}</hogar>`;
  const at = new Date('2026-03-02T15:00:00Z');

  it('stores canonical documents (the backend canonicalises too) and person-level affiliations for DNI members', () => {
    const db = rnu();
    const affiliate = createHogarAffiliation(db, indexSandboxData(data));
    const out = affiliate(el(AFILIACION_NS, hogar(miembro('dni', h.miembros[0]!.dni, 'jefe') + miembro('ce', '1234567') + miembro('Pasaporte', 'ab-123456'))), CLIENT, at);
    assert.deepEqual(texts(out, 'registrado'), ['true']);
    assert.deepEqual(db.prepare('SELECT tipo_documento, numero_documento, parentesco FROM miembros_afiliados ORDER BY tipo_documento').all(), [
      { tipo_documento: 'CE', numero_documento: '001234567', parentesco: 'OTRO' },
      { tipo_documento: 'DNI', numero_documento: h.miembros[0]!.dni, parentesco: 'JEFE' },
      { tipo_documento: 'PASAPORTE', numero_documento: 'AB123456', parentesco: 'OTRO' },
    ]);
    assert.deepEqual(db.prepare('SELECT dni, programa, codigo_hogar, estado FROM afiliaciones').all(), [{ dni: h.miembros[0]!.dni, programa: 'JUNTOS', codigo_hogar: h.codigoHogar, estado: 'AFILIADO' }]);
  });

  it('refuses the request (nothing written) on a repeated member, a future date, an unknown document type or no members', () => {
    const db = rnu();
    const affiliate = createHogarAffiliation(db, indexSandboxData(data));
    const refuse = (xml: string, pattern: RegExp) => assert.throws(() => affiliate(el(AFILIACION_NS, xml), CLIENT, at), (e: Error) => e instanceof InputError && pattern.test(e.message));
    refuse(hogar(miembro('CE', '1234567') + miembro('CE', '001234567')), /el miembro CE 001234567 se repite/);
    refuse(hogar(miembro('CE', '1234567'), '2026-03-03'), /posterior a hoy \(2026-03-02\)/);
    refuse(hogar(miembro('DNI', h.miembros[0]!.dni)) + hogar(miembro('LE', '12345678')), /hogar n\.º 2, miembro n\.º 1: el tipo de documento «LE» no es válido/);
    refuse(hogar(''), /al menos un miembro/);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM afiliaciones_hogar').get() as { n: number }).n, 0);
  });
});

describe('sandbox Marco Censal', () => {
  it('is deterministic, nests its codes and stays inside the sandbox centros poblados', () => {
    const m = sandboxMarcoCensal(data);
    assert.deepEqual(sandboxMarcoCensal(generateSandboxData({ persons: 400 })), m);
    const ccpp = new Map(sandboxCentrosPoblados(data).map((c) => [c.codigo, c]));
    const areas = new Map(m.areas.map((a) => [a.codigo, a]));
    assert.ok(m.viviendas.length > m.manzanas.length && m.manzanas.length > 0);
    for (const a of m.areas) {
      assert.ok(checkUbigeo(a.ubigeo, 'INEI').ok && a.codigo.startsWith(a.ubigeo) && a.codigo.length === 9, a.codigo);
      for (const c of a.centrosPoblados) assert.equal(ccpp.get(c)?.area, a.tipo === 'ZONA' ? 'URBANO' : 'RURAL');
    }
    for (const x of m.manzanas) assert.ok(x.codigo.startsWith(x.areaCensal) && areas.get(x.areaCensal)?.tipo === 'ZONA', x.codigo);
    for (const v of m.viviendas) {
      assert.ok(checkCentroPoblado(v.centroPoblado).ok && v.codigo.startsWith(v.centroPoblado) && v.codigo.length === 14, v.codigo);
      assert.equal(v.manzana === null, areas.get(v.areaCensal)?.tipo === 'AER', v.codigo);
    }
    assert.equal(new Set(m.viviendas.map((v) => v.codigo)).size, m.viviendas.length, 'codes are unique');
  });
});
