/**
 * Issue 14 items 5 and 9 through the sandbox's real nodes (consumer node → provider node over
 * mutual TLS → adapter or backend): Marco Censal áreas, manzanas and viviendas by ubigeo (INEI),
 * household affiliation in the RNU with identity documents other than the DNI (MIDIS), the SINAFO
 * sanctions registry as a service (MIDIS, read from central's registry), and identification gaps
 * reported to RENIEC with an acknowledgement id.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { clientIdToXml, parseClientId, parseServiceId, serviceIdToXml } from '../../core/identifiers.js';
import { readSoapMessage } from '../../core/soap.js';
import { generateSandboxData, type SandboxData } from '../../scripts/sandbox/data.js';
import { NS, sandboxMarcoCensal, type MarcoCensal } from '../../scripts/sandbox/registries.js';
import { RENIEC_NS } from '../../scripts/sandbox/backends.js';
import { JUNTOS_CLIENT, JUNTOS_RUC, PENSION65_CLIENT, RENIEC_RUC, SERVICES, startSandbox, type RunningSandbox, SANDBOX_PORT_SPAN } from '../../scripts/sandbox/run.js';
import { postSoap, runCli } from './fixture.js';
import { freeBasePort } from '../helpers/net.js';

const PERSONS = 300;
let seq = 0;

function soap(o: { client: string; service: string; convenio: string; finalidad?: string; ns: string; body: string }): string {
  const id = `ru-${process.pid}-${Date.now()}-${(seq += 1)}`;
  return `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd" xmlns:t="${o.ns}">` +
    `<SOAP-ENV:Header>${clientIdToXml('xrd:client', parseClientId(o.client))}${serviceIdToXml('xrd:service', parseServiceId(o.service))}<xrd:id>${id}</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion>` +
    `<miis:convenio>${o.convenio}</miis:convenio><miis:finalidad>${o.finalidad ?? 'FOCALIZACION'}</miis:finalidad></SOAP-ENV:Header>` +
    `<SOAP-ENV:Body>${o.body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

/** Items of a `…Response` as "name=value,…" (nested elements as name=[…]). */
function items(text: string): string[] {
  const res = readSoapMessage(Buffer.from(text), 'response');
  assert.equal(res.fault, undefined, text);
  return (res.payload?.children ?? []).map((i) => (i.children.length === 0 ? `${i.local}=${i.text}` : i.children.map((c) => `${c.local}=${c.text}`).join(',')));
}

function fault(res: { status: number; text: string }): { code: string; text: string } {
  assert.equal(res.status, 500, res.text);
  const f = readSoapMessage(Buffer.from(res.text), 'response').fault;
  assert.ok(f !== undefined, res.text);
  return { code: f.faultCode, text: f.faultString };
}

describe('reference units, household affiliation, sanctions and identification gaps through the sandbox nodes', () => {
  let dir: string;
  let sb: RunningSandbox;
  let juntos: string;
  let p65: string;
  let data: SandboxData;
  let marco: MarcoCensal;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miis-sandbox-ru-'));
    sb = await startSandbox({ dir, basePort: await freeBasePort(SANDBOX_PORT_SPAN), persons: PERSONS });
    juntos = sb.info.nodes.find((n) => n.name === 'juntos')?.isUrl as string;
    p65 = sb.info.nodes.find((n) => n.name === 'pension65')?.isUrl as string;
    data = generateSandboxData({ persons: PERSONS });
    marco = sandboxMarcoCensal(data);
  });
  after(async () => {
    await sb?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const inei = (service: string, body: string, url = juntos, client = JUNTOS_CLIENT) =>
    postSoap(url, soap({ client, service, convenio: 'CONV-007-2026-INEI-MARCO-CENSAL', ns: NS.identificacion, body }));

  it('INEI: viviendas, manzanas and áreas censales by ubigeo, narrowed to one centro poblado, to both IPFs', async () => {
    const v0 = marco.viviendas.find((v) => v.manzana !== null) as MarcoCensal['viviendas'][number];
    const ubigeo = v0.ubigeo;
    const inDistrict = marco.viviendas.filter((v) => v.ubigeo === ubigeo);
    let res = await inei(SERVICES.consultarViviendas, `<t:consultarViviendas><t:ubigeo>${ubigeo}</t:ubigeo></t:consultarViviendas>`);
    assert.deepEqual(items(res.text), inDistrict.map((v) =>
      `ubigeo=${ubigeo},encontrado=true,codigoVivienda=${v.codigo},codigoCentroPoblado=${v.centroPoblado},codigoArea=${v.areaCensal},` +
      `${v.manzana === null ? '' : `codigoManzana=${v.manzana},`}tipo=${v.tipo},condicion=${v.condicion},direccion=${v.direccion}`));
    // one centro poblado of the district, from Pensión 65
    res = await inei(SERVICES.consultarViviendas, `<t:consultarViviendas><t:ubigeo>${ubigeo}</t:ubigeo><t:codigoCentroPoblado>${v0.centroPoblado}</t:codigoCentroPoblado></t:consultarViviendas>`, p65, PENSION65_CLIENT);
    const inCp = inDistrict.filter((v) => v.centroPoblado === v0.centroPoblado);
    assert.ok(inCp.length > 0 && inCp.length <= inDistrict.length);
    assert.deepEqual(items(res.text).map((i) => /codigoVivienda=(\d+)/.exec(i)?.[1]), inCp.map((v) => v.codigo));

    res = await inei(SERVICES.consultarManzanas, `<t:consultarManzanas><t:ubigeo>${ubigeo}</t:ubigeo></t:consultarManzanas>`);
    assert.deepEqual(items(res.text), marco.manzanas.filter((m) => m.ubigeo === ubigeo).map((m) =>
      `ubigeo=${ubigeo},encontrado=true,codigoManzana=${m.codigo},codigoCentroPoblado=${m.centroPoblado},codigoArea=${m.areaCensal},viviendas=${marco.viviendas.filter((v) => v.manzana === m.codigo).length}`));

    res = await inei(SERVICES.consultarAreasCensales, `<t:consultarAreasCensales><t:ubigeo>${ubigeo}</t:ubigeo></t:consultarAreasCensales>`);
    const areas = marco.areas.filter((a) => a.ubigeo === ubigeo);
    assert.deepEqual(items(res.text), areas.map((a) => {
      const vs = marco.viviendas.filter((v) => v.areaCensal === a.codigo);
      return `ubigeo=${ubigeo},encontrado=true,codigoArea=${a.codigo},tipo=${a.tipo},nombre=${a.nombre},centrosPoblados=${new Set(vs.map((v) => v.centroPoblado)).size},` +
        `manzanas=${new Set(vs.flatMap((v) => (v.manzana === null ? [] : [v.manzana]))).size},viviendas=${vs.length}`;
    }));
    assert.ok(areas.some((a) => a.tipo === 'ZONA'));

    // a district with no census data is an answer; an invalid ubigeo or centro poblado is refused by the provider node
    res = await inei(SERVICES.consultarManzanas, '<t:consultarManzanas><t:ubigeo>250399</t:ubigeo></t:consultarManzanas>');
    assert.deepEqual(items(res.text), ['ubigeo=250399,encontrado=false']);
    const bad = fault(await inei(SERVICES.consultarViviendas, '<t:consultarViviendas><t:ubigeo>260101</t:ubigeo></t:consultarViviendas>'));
    assert.equal(bad.code, 'Server.ServerProxy.ValidationFailed');
    assert.match(bad.text, /«ubigeo»: el departamento «26»/);
    const badCp = fault(await inei(SERVICES.consultarViviendas, `<t:consultarViviendas><t:ubigeo>${ubigeo}</t:ubigeo><t:codigoCentroPoblado>${ubigeo}0000</t:codigoCentroPoblado></t:consultarViviendas>`));
    assert.match(badCp.text, /«codigoCentroPoblado»: .*0000/);
  });

  const rnu = (service: string, body: string, finalidad: string, url = juntos, client = JUNTOS_CLIENT) =>
    postSoap(url, soap({ client, service, convenio: service === SERVICES.consultarAfiliacionHogar || service === SERVICES.consultarRNU ? 'CONV-006-2026-MIDIS-RNU-CONSULTA' : 'CONV-003-2026-MIDIS-RNU',
      finalidad, ns: service === SERVICES.consultarRNU ? NS.elegibilidad : NS.afiliacion, body }));
  const miembro = (tipo: string, numero: string, parentesco: string) =>
    `<t:miembro><t:tipoDocumento>${tipo}</t:tipoDocumento><t:numeroDocumento>${numero}</t:numeroDocumento><t:parentesco>${parentesco}</t:parentesco></t:miembro>`;
  const hogar = (codigo: string, programa: string, miembros: string) =>
    `<t:hogar><t:codigoHogar>${codigo}</t:codigoHogar><t:programa>${programa}</t:programa><t:fecha>2026-03-01</t:fecha>${miembros}</t:hogar>`;

  it('RNU: an IPF affiliates a PGH household with its members (DNI and CE, pasaporte, CPP); the RNU answers by household and by member', async () => {
    const [h, other] = data.households.filter((x) => x.miembros.length >= 2);
    assert.ok(h !== undefined && other !== undefined);
    const members = h.miembros.map((m) => miembro('DNI', m.dni, m.parentesco)).join('') +
      miembro('CE', '001234567', 'OTRO') + miembro('PASAPORTE', 'AB123456', 'OTRO') + miembro('CPP', '007654321', 'OTRO');
    const body = (inner: string) => `<t:registrarAfiliacionHogar>${inner}</t:registrarAfiliacionHogar>`;
    let res = await rnu(SERVICES.registrarAfiliacionHogar, body(hogar(h.codigoHogar, 'JUNTOS', members) + hogar('NO-EXISTE', 'JUNTOS', miembro('DNI', h.miembros[0]!.dni, 'JEFE'))), 'AFILIACION');
    assert.deepEqual(items(res.text), [
      `codigoHogar=${h.codigoHogar},registrado=true,miembros=${h.miembros.length + 3}`,
      'codigoHogar=NO-EXISTE,registrado=false,miembros=0,observacion=HOGAR_NO_EXISTE_EN_PGH',
    ]);
    // again: already affiliated; a DNI from another household; Pensión 65 cannot affiliate into Juntos's programme
    res = await rnu(SERVICES.registrarAfiliacionHogar, body(hogar(h.codigoHogar, 'JUNTOS', members) + hogar(other.codigoHogar, 'JUNTOS', miembro('DNI', h.miembros[0]!.dni, 'JEFE'))), 'AFILIACION');
    assert.deepEqual(items(res.text), [
      `codigoHogar=${h.codigoHogar},registrado=false,miembros=0,observacion=YA_AFILIADO`,
      `codigoHogar=${other.codigoHogar},registrado=false,miembros=0,observacion=MIEMBRO_NO_PERTENECE_AL_HOGAR ${h.miembros[0]!.dni}`,
    ]);
    res = await rnu(SERVICES.registrarAfiliacionHogar, body(hogar(other.codigoHogar, 'JUNTOS', miembro('DNI', other.miembros[0]!.dni, 'JEFE'))), 'AFILIACION', p65, PENSION65_CLIENT);
    assert.deepEqual(items(res.text), [`codigoHogar=${other.codigoHogar},registrado=false,miembros=0,observacion=PROGRAMA_NO_ADMINISTRADO`]);

    res = await rnu(SERVICES.consultarAfiliacionHogar, `<t:consultarAfiliacionHogar><t:codigoHogar>${h.codigoHogar}</t:codigoHogar><t:codigoHogar>${other.codigoHogar}</t:codigoHogar></t:consultarAfiliacionHogar>`, 'FOCALIZACION');
    assert.deepEqual(items(res.text), [
      `codigoHogar=${h.codigoHogar},encontrado=true,programa=JUNTOS,estado=AFILIADO,fechaAfiliacion=2026-03-01,miembros=${h.miembros.length + 3}`,
      `codigoHogar=${other.codigoHogar},encontrado=false`,
    ]);
    res = await rnu(SERVICES.consultarRNU, `<t:consultarRNU><t:dni>${h.miembros[1]!.dni}</t:dni></t:consultarRNU>`, 'FOCALIZACION');
    assert.deepEqual(items(res.text), [`dni=${h.miembros[1]!.dni},encontrado=true,programa=JUNTOS,estado=AFILIADO,fechaAfiliacion=2026-03-01`]);
  });

  it('RNU: documents are checked by type at the provider node; the proxied backend gets canonical numbers only', async () => {
    const h = data.households[0]!;
    const send = (m: string) => rnu(SERVICES.registrarAfiliacionHogar, `<t:registrarAfiliacionHogar>${hogar(h.codigoHogar, 'PENSION65', m)}</t:registrarAfiliacionHogar>`, 'AFILIACION', p65, PENSION65_CLIENT);
    let f = fault(await send(miembro('CE', 'AB12', 'OTRO')));
    assert.equal(f.code, 'Server.ServerProxy.ValidationFailed');
    assert.match(f.text, /«numeroDocumento»: carné de extranjería: /);
    f = fault(await send(miembro('LE', '12345678', 'OTRO')));
    assert.match(f.text, /tipo de documento «LE» no es válido: se admiten DNI, CE, PASAPORTE, CPP/);
    f = fault(await send(miembro('CPP', '7654321', 'OTRO')));
    assert.match(f.text, /«numeroDocumento»: «7654321» no está en forma canónica; envíe 007654321/);
    f = fault(await send(miembro('DNI', `${h.miembros[0]!.dni}-${data.persons.find((p) => p.dni === h.miembros[0]!.dni)!.checkDigit}`, 'JEFE')));
    assert.match(f.text, /no está en forma canónica; envíe \d{8}/);
    // the backend's own checks (parentesco) answer a SOAP fault from the service
    const r = await send(miembro('DNI', h.miembros[0]!.dni, 'PRIMO'));
    assert.equal(r.status, 500, r.text);
    assert.match(r.text, /parentesco «PRIMO» no válido/);
  });

  const sanciones = (rucs: readonly string[], url = juntos, client = JUNTOS_CLIENT) =>
    postSoap(url, soap({ client, service: SERVICES.consultarSanciones, convenio: 'CONV-008-2026-MIDIS-SANCIONES', ns: NS.elegibilidad,
      body: `<t:consultarSanciones>${rucs.map((r) => `<t:ruc>${r}</t:ruc>`).join('')}</t:consultarSanciones>` }));

  it('MIDIS: consultarSanciones answers central\'s sanctions registry by entity RUC', async () => {
    let res = await sanciones([JUNTOS_RUC]);
    assert.deepEqual(items(res.text), [`ruc=${JUNTOS_RUC},encontrado=true,entidad=Programa Nacional de Apoyo Directo a los Más Pobres - JUNTOS,sancionado=false`]);
    const add = await runCli(runCentralCli, ['sanction', 'add', '--entity', JUNTOS_RUC, '--infraction', 'No registró las desafiliaciones en el RNU en el plazo',
      '--resolution', 'R.D. Nº 015-2026-MIDIS/DGFO', '--date', '2026-06-01', '--dir', sb.info.central.dir]);
    assert.equal(add.code, 0, add.stderr);
    res = await sanciones([JUNTOS_RUC, RENIEC_RUC, '20512333797'], p65, PENSION65_CLIENT);
    assert.deepEqual(items(res.text), [
      `ruc=${JUNTOS_RUC},encontrado=true,entidad=Programa Nacional de Apoyo Directo a los Más Pobres - JUNTOS,sancionado=true,infraccion=No registró las desafiliaciones en el RNU en el plazo,` +
        'baseLegal=Artículo 21 de la Ley Nº 30435 (Capítulo V, Infracciones y Sanciones),resolucion=R.D. Nº 015-2026-MIDIS/DGFO,fecha=2026-06-01',
      `ruc=${RENIEC_RUC},encontrado=true,entidad=Registro Nacional de Identificación y Estado Civil,sancionado=false`,
      'ruc=20512333797,encontrado=false',
    ]);
    const f = fault(await sanciones(['20512333798']));
    assert.equal(f.code, 'Server.ServerProxy.ValidationFailed');
    assert.match(f.text, /«ruc»: el dígito de verificación/);
  });

  const brecha = (personas: string, url = juntos, client = JUNTOS_CLIENT) =>
    postSoap(url, soap({ client, service: SERVICES.reportarBrechaIdentificacion, convenio: 'CONV-009-2026-RENIEC-BRECHAS', finalidad: 'CIERRE_BRECHAS', ns: RENIEC_NS,
      body: `<t:reportarBrechaIdentificacion>${personas}</t:reportarBrechaIdentificacion>` }));
  const persona = (o: { nombres: string; apellido: string; nacimiento?: string; ubigeo?: string; cp?: string; situacion?: string; extra?: string }) =>
    `<t:persona><t:prenombres>${o.nombres}</t:prenombres><t:primerApellido>${o.apellido}</t:primerApellido><t:segundoApellido>QUISPE</t:segundoApellido><t:sexo>F</t:sexo>` +
    `${o.nacimiento === undefined ? '' : `<t:fechaNacimiento>${o.nacimiento}</t:fechaNacimiento>`}<t:ubigeo>${o.ubigeo ?? '080801'}</t:ubigeo>` +
    `${o.cp === undefined ? '' : `<t:codigoCentroPoblado>${o.cp}</t:codigoCentroPoblado>`}<t:situacion>${o.situacion ?? 'SIN_ACTA_NI_DNI'}</t:situacion>${o.extra ?? ''}</t:persona>`;

  it('RENIEC: an IPF reports persons without identity documents and gets an acknowledgement id and one case per person', async () => {
    const nina = persona({ nombres: 'Rosa Elena', apellido: 'Mamani', nacimiento: '2019-05-04', cp: '0808010003',
      extra: '<t:responsable><t:tipoDocumento>DNI</t:tipoDocumento><t:numeroDocumento>10117410</t:numeroDocumento></t:responsable>' });
    const migrante = persona({ nombres: 'Carlos', apellido: 'Pérez', situacion: 'CON_ACTA_SIN_DNI', ubigeo: '150101',
      extra: '<t:documentoAlterno><t:tipoDocumento>CPP</t:tipoDocumento><t:numeroDocumento>007654321</t:numeroDocumento></t:documentoAlterno>' });
    let res = await brecha(nina + migrante);
    let got = items(res.text);
    assert.match(got[0] ?? '', /^acuse=ACUSE-\d{8}-000001$/);
    assert.match(got[1] ?? '', /^fechaRecepcion=\d{4}-\d{2}-\d{2}T/);
    assert.equal(got.length, 4);
    assert.match(got[2] ?? '', /^numero=1,codigoCaso=BR-\d{4}-0000001,estado=REGISTRADO$/);
    assert.match(got[3] ?? '', /^numero=2,codigoCaso=BR-\d{4}-0000002,estado=REGISTRADO$/);
    const [caso1, caso2] = [/codigoCaso=([^,]+)/.exec(got[2] ?? '')?.[1], /codigoCaso=([^,]+)/.exec(got[3] ?? '')?.[1]];
    assert.match(caso1 ?? '', /^BR-\d{4}-0000001$/);
    assert.match(caso2 ?? '', /^BR-\d{4}-0000002$/);
    // the same girl reported again (by Pensión 65): the open case, a new acknowledgement
    res = await brecha(persona({ nombres: 'ROSA  ELENA', apellido: 'MAMANI', nacimiento: '2019-05-04' }), p65, PENSION65_CLIENT);
    got = items(res.text);
    assert.match(got[0] ?? '', /^acuse=ACUSE-\d{8}-000002$/);
    assert.deepEqual(got.slice(2), [`numero=1,codigoCaso=${caso1},estado=YA_REPORTADO`]);
  });

  it('RENIEC: invalid reports are refused — by the provider node (agreement) or by RENIEC\'s service — and nothing is recorded', async () => {
    let f = fault(await brecha(persona({ nombres: 'Ana', apellido: 'Rojas', ubigeo: '260101' })));
    assert.equal(f.code, 'Server.ServerProxy.ValidationFailed');
    assert.match(f.text, /«ubigeo»/);
    f = fault(await brecha(persona({ nombres: 'Ana', apellido: 'Rojas', extra: '<t:documentoAlterno><t:tipoDocumento>PASAPORTE</t:tipoDocumento><t:numeroDocumento>ABCDEFG</t:numeroDocumento></t:documentoAlterno>' })));
    assert.match(f.text, /«numeroDocumento»: pasaporte: .*al menos un dígito/);
    const service = async (p: string, pattern: RegExp) => {
      const r = await brecha(p);
      assert.equal(r.status, 500, r.text);
      assert.match(r.text, /<faultcode>[^<]*Client<\/faultcode>/);
      assert.match(r.text, pattern);
    };
    await service(persona({ nombres: 'Ana', apellido: 'Rojas', nacimiento: '2999-01-01' }), /fechaNacimiento: la fecha 2999-01-01 es posterior a hoy/);
    await service(persona({ nombres: 'Ana', apellido: 'Rojas', cp: '1501010001' }), /el centro poblado 1501010001 no está en el distrito 080801/);
    await service(persona({ nombres: 'Ana', apellido: 'Rojas', extra: '<t:documentoAlterno><t:tipoDocumento>DNI</t:tipoDocumento><t:numeroDocumento>10117410</t:numeroDocumento></t:documentoAlterno>' }), /documentoAlterno no puede ser un DNI/);
    await service(persona({ nombres: 'Ana', apellido: 'Rojas', situacion: 'PERDIDO' }), /situacion «PERDIDO» no válida/);
    await service(persona({ nombres: 'Ana 3', apellido: 'Rojas' }), /prenombres «Ana 3» debe tener de 1 a 60 letras/);
    // nothing was recorded by the refused requests: the next acknowledgement follows the earlier ones
    const got = items((await brecha(persona({ nombres: 'Luz', apellido: 'Huamán', nacimiento: '2020-01-01' }))).text);
    assert.match(got[0] ?? '', /^acuse=ACUSE-\d{8}-000003$/);
    assert.match(got[2] ?? '', /estado=REGISTRADO/);
  });
});
