/**
 * The standard MIIS contracts (wsdl/identificacion.wsdl, elegibilidad.wsdl, afiliacion.wsdl,
 * metaservices.wsdl): zeep, an independent SOAP stack, builds a request for every operation with
 * several identifiers per call; MIIS's own reader accepts each one with its X-Road and MIIS headers.
 * Under CI a missing zeep fails instead of skipping.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { readSoapMessage } from '../../core/soap.js';
import { findFields } from '../../node/pipeline/trama-validation.js';
import { needTool, PYTHON } from '../helpers/tools.js';

const WSDL = fileURLToPath(new URL('../../../wsdl/', import.meta.url));
const BUILD = fileURLToPath(new URL('../../../test/interop/zeep_build.py', import.meta.url));
const skip = needTool('zeep');
const run = promisify(execFile);

const client = { objectType: 'SUBSYSTEM', xRoadInstance: 'PE', memberClass: 'GOB', memberCode: '20511268401', subsystemCode: 'JUNTOS' };
const headers = (memberCode: string, subsystemCode: string, serviceCode: string, miis = true) => ({
  client, service: { objectType: 'SERVICE', xRoadInstance: 'PE', memberClass: 'GOB', memberCode, subsystemCode, serviceCode, ...(miis ? { serviceVersion: 'v1' } : {}) },
  id: `zeep-${serviceCode}`, userId: 'PE10117410', protocolVersion: '4.0', ...(miis ? { convenio: 'CONV-X', finalidad: 'FOCALIZACION' } : {}),
});

const afil = (extra: Record<string, string> = {}) => [{ dni: '10117410', programa: 'JUNTOS', fecha: '2026-03-01', ...extra }, { dni: '10812543', programa: 'JUNTOS', fecha: '2026-03-01', ...extra }];

const CASES: readonly { wsdl: string; op: string; params: unknown; ids: [string, number]; ns: string; h: ReturnType<typeof headers> }[] = [
  { wsdl: 'identificacion.wsdl', op: 'consultarPersonas', params: { dni: ['10117410', '10812543-3'] }, ids: ['dni', 2], ns: 'identificacion', h: headers('20295613620', 'RUPN', 'consultarPersonas') },
  { wsdl: 'identificacion.wsdl', op: 'consultarHogares', params: { _value_1: [{ codigoHogar: 'HG0000000001' }, { dni: '10117410' }] }, ids: ['dni', 1], ns: 'identificacion', h: headers('20545565359', 'PGH', 'consultarHogares') },
  { wsdl: 'identificacion.wsdl', op: 'consultarCentrosPoblados', params: { codigoCentroPoblado: ['1501010001', '0801010002', '2101010003'] }, ids: ['codigoCentroPoblado', 3], ns: 'identificacion', h: headers('20151942629', 'MARCOCENSAL', 'consultarCentrosPoblados') },
  { wsdl: 'elegibilidad.wsdl', op: 'consultarCSE', params: { dni: ['10117410', '10812543'] }, ids: ['dni', 2], ns: 'elegibilidad', h: headers('20545565359', 'PGH', 'consultarCSE') },
  { wsdl: 'elegibilidad.wsdl', op: 'consultarRNU', params: { dni: ['10117410'] }, ids: ['dni', 1], ns: 'elegibilidad', h: headers('20545565359', 'RNU', 'consultarRNU') },
  { wsdl: 'elegibilidad.wsdl', op: 'consultarAtributos', params: { dni: ['10117410', '10812543', '10101174'] }, ids: ['dni', 3], ns: 'elegibilidad', h: headers('20131312955', 'RENTAS', 'consultarAtributos') },
  { wsdl: 'afiliacion.wsdl', op: 'registrarAfiliacion', params: { afiliacion: afil() }, ids: ['dni', 2], ns: 'afiliacion', h: headers('20545565359', 'RNU', 'registrarAfiliacion') },
  { wsdl: 'afiliacion.wsdl', op: 'registrarDesafiliacion', params: { desafiliacion: afil({ motivo: 'NO_CUMPLE' }) }, ids: ['dni', 2], ns: 'afiliacion', h: headers('20545565359', 'RNU', 'registrarDesafiliacion') },
  { wsdl: 'afiliacion.wsdl', op: 'registrarEgreso', params: { egreso: afil({ motivo: 'GRADUACION' }) }, ids: ['dni', 2], ns: 'afiliacion', h: headers('20545565359', 'RNU', 'registrarEgreso') },
  { wsdl: 'afiliacion.wsdl', op: 'consultarEstado', params: { dni: ['10117410', '10812543'] }, ids: ['dni', 2], ns: 'afiliacion', h: headers('20511268401', 'JUNTOS', 'consultarEstado') },
];

describe('standard contracts: zeep builds valid MIIS requests', () => {
  for (const c of CASES) {
    it(`${c.wsdl} ${c.op}`, { skip }, async () => {
      const { stdout } = await run(PYTHON, [BUILD, `${WSDL}${c.wsdl}`, c.op, JSON.stringify(c.params), JSON.stringify(c.h)], { timeout: 60_000 });
      const msg = readSoapMessage(Buffer.from(stdout, 'utf8'), 'request');
      assert.equal(msg.header?.service.serviceCode, c.op);
      assert.equal(msg.header?.convenio, 'CONV-X');
      assert.equal(msg.header?.finalidad, 'FOCALIZACION');
      assert.equal(msg.payload?.local, c.op);
      assert.equal(msg.payload?.uri, `http://miis.midis.gob.pe/servicios/${c.ns}`);
      assert.equal(findFields(msg.payload as NonNullable<typeof msg.payload>, c.ids[0]).length, c.ids[1], 'varios identificadores por llamada');
    });
  }

  for (const op of ['listClients', 'listMethods', 'allowedMethods', 'getWsdl'] as const) {
    it(`metaservices.wsdl ${op}`, { skip }, async () => {
      const params = op === 'getWsdl' ? { serviceCode: 'consultarRNU', serviceVersion: 'v1' } : {};
      const { stdout } = await run(PYTHON, [BUILD, `${WSDL}metaservices.wsdl`, op, JSON.stringify(params), JSON.stringify(headers('20545565359', 'RNU', op, false))], { timeout: 60_000 });
      const msg = readSoapMessage(Buffer.from(stdout, 'utf8'), 'request');
      assert.equal(msg.header?.service.serviceCode, op);
      assert.equal(msg.payload?.local, op);
      assert.equal(msg.payload?.uri, 'http://x-road.eu/xsd/xroad.xsd');
      if (op === 'getWsdl') assert.deepEqual(msg.payload?.children.map((e) => `${e.local}=${e.text}`), ['serviceCode=consultarRNU', 'serviceVersion=v1']);
    });
  }
});
