/**
 * Issue 5 end to end on the sandbox (central + RENIEC, MIDIS (PGH, RNU), Juntos, INEI, SUNAT and
 * Pensión 65 nodes, real mutual TLS): agreements and purposes enforced per request with one fault
 * code per refusal and no backend call for refused requests; the declarative sql adapter serving
 * registries with no code (SQLite, and PostgreSQL when installed); a derived attribute that never
 * reveals the amount; the RNU registration flow; a misconfigured adapter stopping the node.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { FAULTS, MiisError, type FaultCode } from '../../core/errors.js';
import { clientIdToXml, parseClientId, parseServiceId, serviceIdToXml } from '../../core/identifiers.js';
import { readSoapMessage } from '../../core/soap.js';
import { runNodeCli } from '../../node/cli/index.js';
import { startNode, type RunningNode } from '../../node/main.js';
import { generateSandboxData } from '../../scripts/sandbox/data.js';
import { nodeDir, type AgreementPlan } from '../../scripts/sandbox/provision.js';
import { sandboxCentrosPoblados, sandboxIncomes, NS, UMBRAL_INGRESO_ANUAL } from '../../scripts/sandbox/registries.js';
import { JUNTOS_CLIENT, PENSION65_CLIENT, SERVICES, startSandbox, type RunningSandbox, SANDBOX_PORT_SPAN } from '../../scripts/sandbox/run.js';
import { freeBasePort } from '../helpers/net.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { postSoap, runCli, waitFor } from './fixture.js';
import { needTool } from '../helpers/tools.js';
import { sqliteLog } from '../helpers/node-log.js';

const PERSONS = 600;
const RENIEC = 'PE/GOB/20295613620';
let seq = 0;

function soap(o: { client: string; service: string; convenio?: string | null; finalidad?: string | null; body: string; ns?: string; id?: string }): { id: string; xml: string } {
  const id = o.id ?? `p5-${process.pid}-${Date.now()}-${(seq += 1)}`;
  const convenio = o.convenio === null || o.convenio === undefined ? '' : `<miis:convenio>${o.convenio}</miis:convenio>`;
  const finalidad = o.finalidad === null ? '' : `<miis:finalidad>${o.finalidad ?? 'FOCALIZACION'}</miis:finalidad>`;
  return {
    id,
    xml: `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd" xmlns:t="${o.ns ?? NS.elegibilidad}">` +
      `<SOAP-ENV:Header>${clientIdToXml('xrd:client', parseClientId(o.client))}${serviceIdToXml('xrd:service', parseServiceId(o.service))}<xrd:id>${id}</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion>${convenio}${finalidad}</SOAP-ENV:Header>` +
      `<SOAP-ENV:Body>${o.body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`,
  };
}

const dnis = (list: readonly string[]): string => list.map((d) => `<t:dni>${d}</t:dni>`).join('');

/** The fault code of a response (asserting it is an X-Road style fault with the Spanish text). */
function faultOf(res: { status: number; text: string }): { code: string; text: string } {
  assert.equal(res.status, 500, res.text);
  const fault = readSoapMessage(Buffer.from(res.text), 'response').fault;
  assert.ok(fault !== undefined, res.text);
  const code = fault.faultCode as FaultCode;
  if (code in FAULTS) {
    const [pre = ''] = FAULTS[code].message.split('{detail}');
    assert.ok(fault.faultString.startsWith(pre), fault.faultString);
  }
  return { code: fault.faultCode, text: fault.faultString };
}

/** Items of a `…Response` as arrays of "name=value". */
function items(text: string): string[] {
  const res = readSoapMessage(Buffer.from(text), 'response');
  assert.equal(res.fault, undefined, text);
  return (res.payload?.children ?? []).map((i) => i.children.map((c) => `${c.local}=${c.text}`).join(','));
}

describe('provider rules, adapters and RNU through the sandbox', () => {
  let dir: string;
  let sb: RunningSandbox;
  let juntos: string;
  let p65: string;
  let hits = 0;
  let counting: Server;
  let garbage: Server;
  const data = generateSandboxData({ persons: PERSONS });
  const EXTRA: AgreementPlan[] = [
    { id: 'CONV-900-VENCIDO', provider: RENIEC, clients: [JUNTOS_CLIENT], services: [SERVICES.consultarPersona], purposes: ['FOCALIZACION'], from: '2024-01-01', until: '2025-12-31' },
    { id: 'CONV-901-FUTURO', provider: RENIEC, clients: [JUNTOS_CLIENT], services: [SERVICES.consultarPersona], purposes: ['FOCALIZACION'], from: '2099-01-01' },
    { id: 'CONV-902-VALIDADO', provider: RENIEC, clients: [JUNTOS_CLIENT], services: [SERVICES.consultarPersona], purposes: ['FOCALIZACION'], from: '2026-01-01', maxIds: 1, validate: ['dni:dni'] },
  ];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miis-p5-'));
    sb = await startSandbox({ dir, basePort: await freeBasePort(SANDBOX_PORT_SPAN), persons: PERSONS, extraAgreements: EXTRA });
    juntos = sb.nodes.get('juntos')?.isUrl as string;
    p65 = sb.nodes.get('pension65')?.isUrl as string;
    // RENIEC's backend behind a counter, so refused requests can be shown never to reach it
    const reniecBackend = `http://127.0.0.1:${new URL(sb.info.central.url).port === '' ? 0 : Number(new URL(sb.info.central.url).port) + 1}/`;
    counting = createServer((req, res) => {
      hits += 1;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void fetch(reniecBackend, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: Buffer.concat(chunks) }).then(async (r) => {
          const body = Buffer.from(await r.arrayBuffer());
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/xml' }).end(body);
        });
      });
    });
    await new Promise<void>((r) => counting.listen(0, '127.0.0.1', r));
    garbage = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>mantenimiento</html>'));
    await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
    await setReniecBackend(`http://127.0.0.1:${(counting.address() as AddressInfo).port}/`);
    await waitFor(async () => ((await personaQuery('CONV-001-2026-MIDIS-RENIEC')).status === 200 && hits > 0 ? true : undefined), 'RENIEC usa el backend con contador');
  });
  after(async () => {
    await sb?.close();
    counting?.closeAllConnections();
    garbage?.closeAllConnections();
    await Promise.all([new Promise((r) => counting?.close(r)), new Promise((r) => garbage?.close(r))]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function setReniecBackend(url: string): Promise<void> {
    const r = await runCli(runNodeCli, ['service', 'add', SERVICES.consultarPersona, '--backend', url, '--wsdl', 'reniec.wsdl', '--timeout', '5000', '--dir', nodeDir({ dir }, 'reniec')]);
    assert.equal(r.code, 0, r.stderr);
  }

  function personaQuery(convenio: string | null, over: { finalidad?: string | null; body?: string; client?: string; url?: string } = {}): Promise<{ status: number; text: string }> {
    const m = soap({ client: over.client ?? JUNTOS_CLIENT, service: SERVICES.consultarPersona, convenio, finalidad: over.finalidad, ns: 'http://miis.midis.gob.pe/servicios/reniec', body: over.body ?? `<t:consultarPersona><dni>${data.persons[0]?.dni}</dni></t:consultarPersona>` });
    return postSoap(over.url ?? juntos, m.xml);
  }

  it('each refusal reason has its own fault code, and no refused request reaches the backend', async () => {
    const dni = data.persons[0]?.dni as string;
    const before = hits;
    const cases: [Promise<{ status: number; text: string }>, FaultCode, RegExp?][] = [
      [personaQuery(null), 'Server.ServerProxy.MissingAgreement'],
      [personaQuery('CONV-404'), 'Server.ServerProxy.UnknownAgreement', /CONV-404/],
      // an agreement of another provider is unknown for this one
      [personaQuery('CONV-002-2026-MIDIS-PGH'), 'Server.ServerProxy.UnknownAgreement'],
      [personaQuery('CONV-900-VENCIDO'), 'Server.ServerProxy.AgreementNotInForce', /venció el 2025-12-31/],
      [personaQuery('CONV-901-FUTURO'), 'Server.ServerProxy.AgreementNotInForce', /rige desde el 2099-01-01/],
      [personaQuery('CONV-001-2026-MIDIS-RENIEC', { finalidad: null }), 'Server.ServerProxy.PurposeNotAllowed', /falta miis:finalidad/],
      [personaQuery('CONV-001-2026-MIDIS-RENIEC', { finalidad: 'PUBLICIDAD' }), 'Server.ServerProxy.PurposeNotAllowed', /PUBLICIDAD/],
      [personaQuery('CONV-902-VALIDADO', { body: `<t:consultarPersona><dni>${dni}-Z</dni></t:consultarPersona>` }), 'Server.ServerProxy.ValidationFailed', /campo «dni»/],
      [personaQuery('CONV-902-VALIDADO', { body: `<t:consultarPersona><dni>${dni}</dni><dni>${dni}</dni></t:consultarPersona>` }), 'Server.ServerProxy.TooManyIds', /2 \(máximo 1 por solicitud\)/],
    ];
    for (const [p, code, re] of cases) {
      const f = faultOf(await p);
      assert.equal(f.code, code, f.text);
      if (re !== undefined) assert.match(f.text, re);
    }
    // the agreement must cover the service: the RNU agreement cited for a PGH service
    const cse = soap({ client: JUNTOS_CLIENT, service: SERVICES.consultarCSE, convenio: 'CONV-003-2026-MIDIS-RNU', ns: 'http://miis.midis.gob.pe/servicios/midis', body: `<t:consultarCSE><t:dni>${dni}</t:dni></t:consultarCSE>` });
    const f = faultOf(await postSoap(juntos, cse.xml));
    assert.equal(f.code, 'Server.ServerProxy.AgreementDoesNotCover');
    assert.match(f.text, /no incluye el servicio/);
    assert.equal(hits, before, 'ninguna solicitud rechazada llegó al backend');
    // the refused requests were not logged as exchanges by RENIEC, only their faults
    const ok = await personaQuery('CONV-902-VALIDADO');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(hits, before + 1);
  });

  it('10 000 identifiers where the agreement allows 100 → TooManyIds; an invalid DNI → ValidationFailed (sql adapter untouched)', async () => {
    const many = Array.from({ length: 10_000 }, (_, i) => String(90_000_000 + i));
    const big = soap({ client: JUNTOS_CLIENT, service: SERVICES.consultarAtributos, convenio: 'CONV-005-2026-SUNAT-JUNTOS', body: `<t:consultarAtributos>${dnis(many)}</t:consultarAtributos>` });
    const f = faultOf(await postSoap(juntos, big.xml));
    assert.equal(f.code, 'Server.ServerProxy.TooManyIds');
    assert.match(f.text, /10000 \(máximo 100 por solicitud\)/);
    const bad = soap({ client: JUNTOS_CLIENT, service: SERVICES.consultarAtributos, convenio: 'CONV-005-2026-SUNAT-JUNTOS', body: `<t:consultarAtributos>${dnis(['10117410', '10117410-7'])}</t:consultarAtributos>` });
    const f2 = faultOf(await postSoap(juntos, bad.xml));
    assert.equal(f2.code, 'Server.ServerProxy.ValidationFailed');
    assert.match(f2.text, /campo «dni» \(n\.º 2\): el dígito de verificación «7» no corresponde al DNI 10117410: se esperaba 2/);
    const sunat = sb.nodes.get('sunat') as RunningNode;
    assert.deepEqual(sqliteLog(sunat).list({ messageId: big.id }), [], 'SUNAT no registró ni consultó nada');
    assert.deepEqual(sqliteLog(sunat).list({ messageId: bad.id }), []);
  });

  it('SUNAT answers Juntos whether income passes the threshold, never the amount; Pensión 65 is refused for the same service', async () => {
    const incomes = sandboxIncomes(data);
    // amounts with a fractional part, so their text cannot hide inside a DNI
    const withIncome = [...incomes].filter(([, v]) => !Number.isInteger(v));
    const above = withIncome.filter(([, v]) => v >= UMBRAL_INGRESO_ANUAL).slice(0, 2);
    const below = withIncome.filter(([, v]) => v < UMBRAL_INGRESO_ANUAL).slice(0, 2);
    const none = data.persons.find((p) => !incomes.has(p.dni))?.dni as string;
    const asked = [...above, ...below].map(([d]) => d);
    const m = soap({ client: JUNTOS_CLIENT, service: SERVICES.consultarAtributos, convenio: 'CONV-005-2026-SUNAT-JUNTOS', body: `<t:consultarAtributos>${dnis([...asked, none])}</t:consultarAtributos>` });
    const res = await postSoap(juntos, m.xml);
    assert.equal(res.status, 200, res.text);
    const band = (v: number): string => (v < 6_000 ? 'BAJO' : v < UMBRAL_INGRESO_ANUAL ? 'MEDIO' : 'ALTO');
    assert.deepEqual(items(res.text), [
      ...[...above, ...below].map(([d, v]) => `dni=${d},encontrado=true,superaUmbral=${v >= UMBRAL_INGRESO_ANUAL},rangoIngreso=${band(v)}`),
      `dni=${none},encontrado=false`,
    ]);
    const sunat = sb.nodes.get('sunat') as RunningNode;
    const logged = [...sqliteLog(sunat).list({ messageId: m.id }), ...sqliteLog(sb.nodes.get('juntos') as RunningNode).list({ messageId: m.id })];
    assert.equal(logged.length, 4);
    for (const [, amount] of [...above, ...below]) {
      const text = String(amount);
      assert.ok(!res.text.includes(text), `el monto ${text} no está en la respuesta`);
      for (const r of logged) assert.ok(!r.message.toString('utf8').includes(text), `el monto ${text} no está en el registro (${r.side}/${r.direction})`);
    }
    // Pensión 65 has an access right on SUNAT's node but the agreement only covers Juntos
    const p = soap({ client: PENSION65_CLIENT, service: SERVICES.consultarAtributos, convenio: 'CONV-005-2026-SUNAT-JUNTOS', body: `<t:consultarAtributos>${dnis(asked)}</t:consultarAtributos>` });
    const f = faultOf(await postSoap(p65, p.xml));
    assert.equal(f.code, 'Server.ServerProxy.AgreementDoesNotCover');
    assert.match(f.text, /no incluye al cliente PE\/GOB\/20511343080\/PENSION65/);
  });

  it('INEI serves centros poblados from a SQLite file with no code, many per call, to both IPFs', async () => {
    const ccpp = sandboxCentrosPoblados(data).slice(0, 3);
    for (const [url, client] of [[juntos, JUNTOS_CLIENT], [p65, PENSION65_CLIENT]] as const) {
      const m = soap({ client, service: SERVICES.consultarCentrosPoblados, convenio: 'CONV-004-2026-INEI', ns: NS.identificacion,
        body: `<t:consultarCentrosPoblados>${[...ccpp.map((c) => c.codigo), '1501019999'].map((c) => `<t:codigoCentroPoblado>${c}</t:codigoCentroPoblado>`).join('')}</t:consultarCentrosPoblados>` });
      const res = await postSoap(url, m.xml);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(items(res.text), [
        ...ccpp.map((c) => `codigoCentroPoblado=${c.codigo},encontrado=true,nombre=${c.nombre},ubigeo=${c.ubigeo},area=${c.area},altitud=${c.altitud}`),
        'codigoCentroPoblado=1501019999,encontrado=false',
      ]);
    }
    const bad = soap({ client: JUNTOS_CLIENT, service: SERVICES.consultarCentrosPoblados, convenio: 'CONV-004-2026-INEI', ns: NS.identificacion, body: '<t:consultarCentrosPoblados><t:codigoCentroPoblado>1501010000</t:codigoCentroPoblado></t:consultarCentrosPoblados>' });
    assert.equal(faultOf(await postSoap(juntos, bad.xml)).code, 'Server.ServerProxy.ValidationFailed');
  });

  it('RNU: Juntos registers affiliations and disaffiliations through MIDIS, only for its own programme', async () => {
    const [a, b] = [data.persons[10]?.dni as string, data.persons[11]?.dni as string];
    const rnu = (service: string, body: string, convenioFinalidad = 'AFILIACION', url = juntos, client = JUNTOS_CLIENT) =>
      postSoap(url, soap({ client, service, convenio: service.includes('consultarRNU') ? 'CONV-006-2026-MIDIS-RNU-CONSULTA' : 'CONV-003-2026-MIDIS-RNU', finalidad: convenioFinalidad, ns: service.includes('consultarRNU') ? NS.elegibilidad : NS.afiliacion, body }).xml);
    const afil = (programa: string, ...list: string[]) => `<t:registrarAfiliacion>${list.map((d) => `<t:afiliacion><t:dni>${d}</t:dni><t:programa>${programa}</t:programa><t:fecha>2026-03-01</t:fecha></t:afiliacion>`).join('')}</t:registrarAfiliacion>`;
    let res = await rnu(SERVICES.registrarAfiliacion, afil('JUNTOS', a, b));
    assert.deepEqual(items(res.text), [`dni=${a},registrado=true`, `dni=${b},registrado=true`]);
    res = await rnu(SERVICES.registrarAfiliacion, afil('JUNTOS', a));
    assert.deepEqual(items(res.text), [`dni=${a},registrado=false`], 'ya estaba afiliado');
    // Juntos cannot register someone in Pensión 65's programme
    res = await rnu(SERVICES.registrarAfiliacion, afil('PENSION65', a));
    assert.deepEqual(items(res.text), [`dni=${a},registrado=false`]);
    res = await rnu(SERVICES.registrarDesafiliacion, `<t:registrarDesafiliacion><t:desafiliacion><t:dni>${b}</t:dni><t:programa>JUNTOS</t:programa><t:fecha>2026-04-15</t:fecha><t:motivo>NO_CUMPLE_CRITERIOS</t:motivo></t:desafiliacion></t:registrarDesafiliacion>`, 'EGRESO');
    assert.deepEqual(items(res.text), [`dni=${b},registrado=true`]);
    // Pensión 65 registers its own programme
    res = await rnu(SERVICES.registrarAfiliacion, afil('PENSION65', a), 'AFILIACION', p65, PENSION65_CLIENT);
    assert.deepEqual(items(res.text), [`dni=${a},registrado=true`]);
    res = await rnu(SERVICES.consultarRNU, `<t:consultarRNU>${dnis([a, b])}</t:consultarRNU>`, 'FOCALIZACION');
    assert.deepEqual(items(res.text), [
      `dni=${a},encontrado=true,programa=JUNTOS,estado=AFILIADO,fechaAfiliacion=2026-03-01`,
      `dni=${a},encontrado=true,programa=PENSION65,estado=AFILIADO,fechaAfiliacion=2026-03-01`,
      `dni=${b},encontrado=true,programa=JUNTOS,estado=DESAFILIADO,fechaAfiliacion=2026-03-01,fechaEgreso=2026-04-15`,
    ]);
    // a record without programa fails the agreement's minimum validation before MIDIS's database
    res = await rnu(SERVICES.registrarAfiliacion, `<t:registrarAfiliacion><t:afiliacion><t:dni>${a}</t:dni><t:fecha>2026-03-01</t:fecha></t:afiliacion></t:registrarAfiliacion>`);
    assert.equal(faultOf(res).code, 'Server.ServerProxy.ValidationFailed');
  });

  it('a backend answering garbage → InvalidServiceResponse; the node keeps serving after restoring it', async () => {
    await setReniecBackend(`http://127.0.0.1:${(garbage.address() as AddressInfo).port}/`);
    try {
      const f = await waitFor(async () => {
        const res = await personaQuery('CONV-001-2026-MIDIS-RENIEC');
        return res.text.includes('InvalidServiceResponse') ? faultOf(res) : undefined;
      }, 'RENIEC usa el backend que responde basura');
      assert.match(f.text, /text\/html/);
    } finally {
      await setReniecBackend(`http://127.0.0.1:${(counting.address() as AddressInfo).port}/`);
    }
    await waitFor(async () => ((await personaQuery('CONV-001-2026-MIDIS-RENIEC')).status === 200 ? true : undefined), 'backend restablecido');
  });

  it('a misconfigured sql adapter stops the node at start with a Spanish message', async () => {
    const ineiDir = nodeDir({ dir }, 'inei');
    await sb.nodes.get('inei')?.close();
    const cfg = join(dir, 'mal.sql.json');
    writeFileSync(cfg, JSON.stringify({ database: { sqlite: join(dir, 'registries', 'inei.db') }, operation: 'consultarCentrosPoblados', namespace: NS.identificacion, id: 'codigoCentroPoblado', query: 'SELECT nombre FROM tabla_que_no_existe WHERE codigo = :id', response: {}, attributes: [{ column: 'nombre' }] }));
    const r = await runCli(runNodeCli, ['service', 'add', SERVICES.consultarCentrosPoblados, '--adapter', 'sql', '--sql-config', cfg, '--wsdl', 'identificacion.wsdl', '--dir', ineiDir]);
    assert.equal(r.code, 0, r.stderr);
    await assert.rejects(startNode({ dir: ineiDir, info: () => undefined }), (err: unknown) => {
      assert.ok(err instanceof MiisError);
      assert.equal(err.code, 'Config.InvalidAdapter');
      assert.match(err.message, /^El adaptador del servicio no está bien configurado: servicio PE\/GOB\/20151942629\/MARCOCENSAL\/consultarCentrosPoblados: la consulta no es válida para la base de datos: no such table: tabla_que_no_existe/);
      return true;
    });
    const cli = await runCli(runNodeCli, ['serve', '--dir', ineiDir]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /no such table/);
  });


  it('the same SUNAT service served from PostgreSQL by changing only the adapter configuration', { skip: needTool('postgresql') }, async () => {
    let server: PgServer | undefined;
    try {
      server = await startPgServer();
      await server.createDatabase('sunat');
      const url = server.url('sunat');
      const incomes = [...sandboxIncomes(data)].filter(([, v]) => !Number.isInteger(v)).slice(0, 3);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query('CREATE TABLE rentas (dni text PRIMARY KEY, ingreso_anual numeric(12,2) NOT NULL)');
      for (const [d, v] of incomes) await client.query('INSERT INTO rentas VALUES ($1, $2)', [d, v]);
      await client.end();
      const cfg = join(dir, 'sunat-pg.sql.json');
      writeFileSync(cfg, JSON.stringify({ database: { postgres: url }, operation: 'consultarAtributos', namespace: NS.elegibilidad, id: 'dni', mode: 'in-list', idColumn: 'dni',
        query: 'SELECT dni, ingreso_anual FROM rentas WHERE dni IN (:ids)', response: {},
        attributes: [{ column: 'ingreso_anual', element: 'superaUmbral', derive: { threshold: UMBRAL_INGRESO_ANUAL, op: '>=' }, sensible: true }] }));
      const r = await runCli(runNodeCli, ['service', 'add', SERVICES.consultarAtributos, '--adapter', 'sql', '--sql-config', cfg, '--wsdl', 'elegibilidad.wsdl', '--dir', nodeDir({ dir }, 'sunat')]);
      assert.equal(r.code, 0, r.stderr);
      const expected = incomes.map(([d, v]) => `dni=${d},encontrado=true,superaUmbral=${v >= UMBRAL_INGRESO_ANUAL}`);
      const got = await waitFor(async () => {
        const res = await postSoap(juntos, soap({ client: JUNTOS_CLIENT, service: SERVICES.consultarAtributos, convenio: 'CONV-005-2026-SUNAT-JUNTOS', body: `<t:consultarAtributos>${dnis(incomes.map(([d]) => d))}</t:consultarAtributos>` }).xml);
        const list = res.status === 200 ? items(res.text) : [];
        return list.length === 3 && !list.some((l) => l.includes('rangoIngreso')) ? { list, text: res.text } : undefined;
      }, 'SUNAT responde desde PostgreSQL', 10_000);
      assert.deepEqual(got.list, expected);
      for (const [, v] of incomes) assert.ok(!got.text.includes(String(v)));
    } finally {
      server?.stop();
    }
  });
});
