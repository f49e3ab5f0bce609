/**
 * Interoperability: zeep (python3-zeep), an independent SOAP stack, loads our WSDLs over HTTP
 * (schemas by relative schemaLocation) and calls the sandbox backends directly with X-Road and
 * MIIS headers. Skipped only when /usr/bin/python3 cannot import zeep.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateSandboxData, indexSandboxData } from '../../scripts/sandbox/data.js';
import { startMidisBackend, startReniecBackend, type RunningBackend } from '../../scripts/sandbox/backends.js';
import { needTool, PYTHON } from '../helpers/tools.js';

const WSDL_DIR = fileURLToPath(new URL('../../../wsdl/', import.meta.url));
const ZEEP_CALL = fileURLToPath(new URL('../../../test/interop/zeep_call.py', import.meta.url));
const PLACEHOLDER = 'http://localhost:8080/';

const skip = needTool('zeep');

const run = promisify(execFile);
const data = generateSandboxData();
const index = indexSandboxData(data);
let reniec: RunningBackend;
let midis: RunningBackend;
let wsdlServer: Server;
let wsdlBase = '';

/** Serves wsdl/<file> at /wsdl/<file>, pointing each WSDL's soap:address at its backend, as a node does. */
function startWsdlServer(addresses: Record<string, string>): Promise<Server> {
  const server = createServer((req, res) => {
    const match = /^\/wsdl\/([a-z]+\.(?:wsdl|xsd))$/.exec(req.url ?? '');
    if (req.method !== 'GET' || match === null) {
      res.writeHead(404).end();
      return;
    }
    const file = match[1]!;
    readFile(`${WSDL_DIR}${file}`, 'utf8').then((text) => {
      const address = addresses[file];
      const body = address === undefined ? text : text.replaceAll(PLACEHOLDER, address);
      res.writeHead(200, { 'content-type': 'text/xml; charset=utf-8' }).end(body);
    }, () => res.writeHead(404).end());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function headers(memberCode: string, subsystemCode: string, serviceCode: string, convenio: string): Record<string, unknown> {
  return {
    client: { objectType: 'SUBSYSTEM', xRoadInstance: 'PE', memberClass: 'GOB', memberCode: '20511268401', subsystemCode: 'JUNTOS' },
    service: { objectType: 'SERVICE', xRoadInstance: 'PE', memberClass: 'GOB', memberCode, subsystemCode, serviceCode, serviceVersion: 'v1' },
    id: randomUUID(),
    userId: 'PE93233053',
    protocolVersion: '4.0',
    convenio,
    finalidad: 'FOCALIZACION',
  };
}

const reniecHeaders = (): Record<string, unknown> => headers('20295613620', 'RUPN', 'consultarPersona', 'CONV-001-2026-MIDIS-RENIEC');

interface ZeepResult {
  ok: boolean;
  header?: Record<string, any>;
  body?: Record<string, any>;
  fault?: { code: string; message: string };
}

async function zeep(wsdl: string, address: string, operation: string, params: object, hdrs: object): Promise<ZeepResult> {
  const { stdout } = await run(PYTHON, [ZEEP_CALL, `${wsdlBase}${wsdl}`, address, operation, JSON.stringify(params), JSON.stringify(hdrs)], { timeout: 30_000 });
  return JSON.parse(stdout) as ZeepResult;
}

before(async () => {
  if (skip !== false) return;
  reniec = await startReniecBackend({ data });
  midis = await startMidisBackend({ data, now: () => new Date('2026-11-26T15:00:00Z') });
  wsdlServer = await startWsdlServer({ 'reniec.wsdl': reniec.url, 'midis.wsdl': midis.url });
  wsdlBase = `http://127.0.0.1:${(wsdlServer.address() as AddressInfo).port}/wsdl/`;
});

after(async () => {
  if (skip !== false) return;
  await reniec.close();
  await midis.close();
  await new Promise((resolve) => wsdlServer.close(resolve));
});

test('zeep calls RENIEC consultarPersona at the WSDL\'s rewritten soap:address and gets the person and echoed headers', { skip }, async () => {
  const p = data.persons.find((x) => x.primerApellido.includes('Ñ') || x.segundoApellido.includes('Ñ'))!;
  const hdrs = reniecHeaders();
  const result = await zeep('reniec.wsdl', '-', 'consultarPersona', { dni: p.dni }, hdrs);
  assert.equal(result.ok, true);
  assert.deepEqual(result.body, {
    encontrado: true,
    persona: {
      dni: p.dni, prenombres: p.prenombres, primerApellido: p.primerApellido, segundoApellido: p.segundoApellido,
      fechaNacimiento: p.fechaNacimiento, sexo: p.sexo, estadoCivil: p.estadoCivil, ubigeo: p.ubigeo, fallecido: p.fallecido,
    },
  });
  const h = result.header!;
  assert.equal(h['id'], hdrs['id']);
  assert.equal(h['protocolVersion'], '4.0');
  assert.equal(h['userId'], 'PE93233053');
  assert.equal(h['convenio'], 'CONV-001-2026-MIDIS-RENIEC');
  assert.equal(h['finalidad'], 'FOCALIZACION');
  assert.deepEqual(h['client'], hdrs['client']);
  assert.deepEqual(h['service'], hdrs['service']);
});

test('zeep: unknown DNI → encontrado false; invalid DNI → fault with Spanish message', { skip }, async () => {
  const [missing, invalid] = await Promise.all([
    zeep('reniec.wsdl', reniec.url, 'consultarPersona', { dni: '10117410' }, reniecHeaders()),
    zeep('reniec.wsdl', reniec.url, 'consultarPersona', { dni: '12x' }, reniecHeaders()),
  ]);
  assert.equal(missing.ok, true);
  assert.equal(missing.body!['encontrado'], false);
  assert.equal(missing.body!['persona'], null);
  assert.equal(invalid.ok, false);
  assert.equal(invalid.fault!.code, 'SOAP-ENV:Client');
  assert.match(invalid.fault!.message, /Solicitud no válida: .*8 dígitos/);
});

test('zeep calls MIDIS consultarHogar (choice: codigoHogar) and consultarCSE', { skip }, async () => {
  const cse = data.cse[0]!;
  const hogar = index.householdByCode.get(cse.codigoHogar)!;
  const dni = hogar.miembros[hogar.miembros.length - 1]!.dni;
  const [h, c] = await Promise.all([
    zeep('midis.wsdl', '-', 'consultarHogar', { codigoHogar: hogar.codigoHogar }, headers('20545565359', 'PGH', 'consultarHogar', 'CONV-002-2026-MIDIS-PGH')),
    zeep('midis.wsdl', '-', 'consultarCSE', { dni }, headers('20545565359', 'PGH', 'consultarCSE', 'CONV-002-2026-MIDIS-PGH')),
  ]);
  assert.equal(h.ok, true);
  assert.equal(h.body!['encontrado'], true);
  assert.equal(h.body!['codigoHogar'], hogar.codigoHogar);
  assert.equal(h.body!['ubigeo'], hogar.ubigeo);
  assert.deepEqual(h.body!['miembros']['miembro'].map((m: { dni: string; parentesco: string }) => [m.dni, m.parentesco]),
    hogar.miembros.map((m) => [m.dni, m.parentesco]));
  assert.equal(c.ok, true);
  assert.deepEqual(c.body, {
    encontrado: true, codigoHogar: cse.codigoHogar, clasificacion: cse.clasificacion,
    fechaInicio: cse.fechaInicio, fechaFin: cse.fechaFin, vigente: cse.fechaInicio <= '2026-11-26' && '2026-11-26' <= cse.fechaFin,
  });
  assert.equal(c.header!['service']['serviceCode'], 'consultarCSE');
});
