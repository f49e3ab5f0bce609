/**
 * Metaservices with X-Road semantics answered for zeep through the sandbox nodes: listClients (the
 * IS's own node, SOAP and GET), listMethods / allowedMethods / getWsdl (forwarded to the provider's
 * node, signed and logged like any exchange), and zeep calling a standard contract operation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { HIDDEN_ENDPOINT } from '../../node/pipeline/metaservices.js';
import { generateSandboxData } from '../../scripts/sandbox/data.js';
import { sandboxCentrosPoblados, sandboxIncomes } from '../../scripts/sandbox/registries.js';
import { INEI_RUC, INSTANCE, MIDIS_RUC, PENSION65_RUC, SUNAT_RUC, JUNTOS_RUC, startSandbox, type RunningSandbox, SANDBOX_PORT_SPAN } from '../../scripts/sandbox/run.js';
import { freeBasePort } from '../helpers/net.js';
import { needTool, PYTHON } from '../helpers/tools.js';
import { sqliteLog } from '../helpers/node-log.js';

const ZEEP_CALL = fileURLToPath(new URL('../../../test/interop/zeep_call.py', import.meta.url));
const skip = needTool('zeep');
const run = promisify(execFile);
const PERSONS = 400;

const sub = (ruc: string, code: string) => ({ objectType: 'SUBSYSTEM', xRoadInstance: INSTANCE, memberClass: 'GOB', memberCode: ruc, subsystemCode: code });
const svc = (ruc: string, code: string, serviceCode: string, serviceVersion?: string) => ({ objectType: 'SERVICE', xRoadInstance: INSTANCE, memberClass: 'GOB', memberCode: ruc, subsystemCode: code, serviceCode, ...(serviceVersion === undefined ? {} : { serviceVersion }) });
let seq = 0;

interface ZeepResult { ok: boolean; body: Record<string, unknown> | null; fault?: { code: string; message: string } }

async function zeep(isUrl: string, wsdl: string, op: string, params: object, headers: object): Promise<ZeepResult> {
  const { stdout } = await run(PYTHON, [ZEEP_CALL, `${isUrl}wsdl/${wsdl}`, '-', op, JSON.stringify(params), JSON.stringify(headers)], { timeout: 60_000 });
  return JSON.parse(stdout) as ZeepResult;
}

const meta = (client: object, service: object) => ({ client, service, id: `meta-${process.pid}-${(seq += 1)}`, userId: 'PE10117410', protocolVersion: '4.0' });
const codes = (r: ZeepResult): string[] => ((r.body?.service as { serviceCode: string; serviceVersion?: string }[] | undefined) ?? []).map((s) => `${s.serviceCode}/${s.serviceVersion ?? ''}`);

describe('metaservices and standard contracts for zeep, through the nodes', () => {
  let dir: string;
  let sb: RunningSandbox;
  let juntos: string;
  let p65: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miis-meta-'));
    sb = await startSandbox({ dir, basePort: await freeBasePort(SANDBOX_PORT_SPAN), persons: PERSONS });
    juntos = sb.nodes.get('juntos')?.isUrl as string;
    p65 = sb.nodes.get('pension65')?.isUrl as string;
  });
  after(async () => {
    await sb?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listClients: SOAP for zeep and plain GET (XML and JSON), from the global configuration', { skip }, async () => {
    const r = await zeep(juntos, 'metaservices.wsdl', 'listClients', {}, meta(sub(JUNTOS_RUC, 'JUNTOS'), svc(JUNTOS_RUC, 'JUNTOS', 'listClients')));
    assert.equal(r.ok, true, JSON.stringify(r));
    const members = (r.body?.member as { id: { memberCode: string; subsystemCode?: string; objectType: string }; name: string }[]);
    assert.ok(members.some((m) => m.id.memberCode === MIDIS_RUC && m.id.subsystemCode === 'RNU' && m.id.objectType === 'SUBSYSTEM'));
    assert.ok(members.some((m) => m.id.memberCode === PENSION65_RUC && m.id.objectType === 'MEMBER' && m.name === 'Programa Nacional de Asistencia Solidaria Pensión 65'));
    const xml = await fetch(`${juntos}listClients`);
    assert.match(xml.headers.get('content-type') ?? '', /text\/xml/);
    const text = await xml.text();
    assert.match(text, /<xrd:clientList [^>]*><xrd:member><xrd:id id:objectType="MEMBER">/);
    assert.equal((text.match(/<xrd:member>/g) ?? []).length, members.length);
    const json = await (await fetch(`${juntos}listClients`, { headers: { accept: 'application/json' } })).json() as { member: { id: { subsystem_code?: string } }[] };
    assert.equal(json.member.length, members.length);
    assert.ok(json.member.some((m) => m.id.subsystem_code === 'RENTAS'));
  });

  it('listMethods lists a provider subsystem\'s services; allowedMethods only those the caller may use', { skip }, async () => {
    const list = await zeep(juntos, 'metaservices.wsdl', 'listMethods', {}, meta(sub(JUNTOS_RUC, 'JUNTOS'), svc(MIDIS_RUC, 'RNU', 'listMethods')));
    assert.equal(list.ok, true, JSON.stringify(list));
    assert.deepEqual(codes(list), ['consultarAfiliacionHogar/v1', 'consultarRNU/v1', 'registrarAfiliacion/v1', 'registrarAfiliacionHogar/v1', 'registrarDesafiliacion/v1', 'registrarEgreso/v1']);
    const forJuntos = await zeep(juntos, 'metaservices.wsdl', 'allowedMethods', {}, meta(sub(JUNTOS_RUC, 'JUNTOS'), svc(SUNAT_RUC, 'RENTAS', 'allowedMethods')));
    assert.deepEqual(codes(forJuntos), ['consultarAtributos/v1']);
    const forP65 = await zeep(p65, 'metaservices.wsdl', 'allowedMethods', {}, meta(sub(PENSION65_RUC, 'PENSION65'), svc(SUNAT_RUC, 'RENTAS', 'allowedMethods')));
    assert.equal(forP65.ok, true, JSON.stringify(forP65));
    assert.deepEqual(codes(forP65), [], 'Pensión 65 tiene derecho de acceso pero ningún convenio con SUNAT');
    // the exchange is signed and logged on both nodes like any other
    const sunat = sb.nodes.get('sunat');
    assert.ok(sunat !== undefined && sqliteLog(sunat).list({ limit: 1000 }).some((r) => r.service.endsWith('/RENTAS/allowedMethods') && r.direction === 'response'));
  });

  it('getWsdl returns the service contract with the endpoint hidden', { skip }, async () => {
    const r = await zeep(juntos, 'metaservices.wsdl', 'getWsdl', { serviceCode: 'consultarAtributos', serviceVersion: 'v1' }, meta(sub(JUNTOS_RUC, 'JUNTOS'), svc(SUNAT_RUC, 'RENTAS', 'getWsdl')));
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.body?.serviceCode, 'consultarAtributos');
    const wsdl = String(r.body?.wsdl);
    assert.match(wsdl, /<wsdl:definitions name="elegibilidad"/);
    assert.ok(wsdl.includes(`location="${HIDDEN_ENDPOINT}"`));
    const unknown = await zeep(juntos, 'metaservices.wsdl', 'getWsdl', { serviceCode: 'noExiste' }, meta(sub(JUNTOS_RUC, 'JUNTOS'), svc(SUNAT_RUC, 'RENTAS', 'getWsdl')));
    assert.equal(unknown.ok, false);
    assert.equal(unknown.fault?.code, 'Server.ServerProxy.UnknownService');
  });

  it('zeep calls a standard contract operation (elegibilidad consultarAtributos) through the nodes', { skip }, async () => {
    const data = generateSandboxData({ persons: PERSONS });
    const [[dni, amount]] = [...sandboxIncomes(data)];
    const headers = { ...meta(sub(JUNTOS_RUC, 'JUNTOS'), svc(SUNAT_RUC, 'RENTAS', 'consultarAtributos', 'v1')), convenio: 'CONV-005-2026-SUNAT-JUNTOS', finalidad: 'FOCALIZACION' };
    const r = await zeep(juntos, 'elegibilidad.wsdl', 'consultarAtributos', { dni: [dni] }, headers);
    assert.equal(r.ok, true, JSON.stringify(r));
    const item = (r.body?.resultado as Record<string, unknown>[])[0] as Record<string, unknown>;
    assert.equal(item.dni, dni);
    assert.equal(item.encontrado, true);
    // the derived attributes arrive as the contract's open content (xs:any), parsed by zeep
    assert.match(JSON.stringify(item._value_1), /elegibilidad\}superaUmbral.*elegibilidad\}rangoIngreso/);
    assert.ok(!JSON.stringify(r).includes(String(amount)));
    // a concrete result type: INEI's centros poblados, read by zeep field by field
    const ccpp = sandboxCentrosPoblados(data).slice(0, 2);
    const h2 = { ...meta(sub(JUNTOS_RUC, 'JUNTOS'), svc(INEI_RUC, 'MARCOCENSAL', 'consultarCentrosPoblados', 'v1')), convenio: 'CONV-004-2026-INEI', finalidad: 'FOCALIZACION' };
    const r2 = await zeep(juntos, 'identificacion.wsdl', 'consultarCentrosPoblados', { codigoCentroPoblado: ccpp.map((c) => c.codigo) }, h2);
    assert.equal(r2.ok, true, JSON.stringify(r2));
    assert.deepEqual((r2.body?.resultado as Record<string, unknown>[]).map((x) => [x.codigoCentroPoblado, x.encontrado, x.nombre, x.altitud]), ccpp.map((c) => [c.codigo, true, c.nombre, c.altitud]));
  });
});
