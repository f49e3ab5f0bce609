/**
 * Issue 9, item 6: canonical identifiers end to end. A DNI is its 8 digits; a matching check
 * character (digit or letter, with or without '-') is accepted and dropped. The sql adapter binds
 * the canonical value (one RNU row for one person, whatever the spelling); a proxy service never
 * receives a non-canonical spelling (the signed bytes are not rewritten: such a request is refused).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { clientIdToXml, parseClientId, parseServiceId, serviceIdToXml } from '../../core/identifiers.js';
import { dniCheckDigit, dniCheckLetter } from '../../core/peru-ids.js';
import { NS, registryPaths } from '../../scripts/sandbox/registries.js';
import { JUNTOS_CLIENT, SERVICES, registriesDir, startSandbox, type RunningSandbox, SANDBOX_PORT_SPAN } from '../../scripts/sandbox/run.js';
import { freeBasePort } from '../helpers/net.js';
import { BASE_AGREEMENT, faultCodeOf, personaRequest, postSoap, startInstance, type Instance } from '../e2e/fixture.js';
import { expectGood, newId } from './hardening-helpers.js';

const spellings = (d: string): string[] => [d, `${d}-${dniCheckDigit(d)}`, `${d}${dniCheckDigit(d)}`, `${d}${dniCheckLetter(d).toLowerCase()}`];

describe('hardening: a proxy service never receives a non-canonical DNI', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance({ agreements: [{ ...BASE_AGREEMENT, validate: ['dni:dni'] }] });
  });
  after(async () => {
    await inst.close();
  });

  it('the canonical spelling is served; the three others are refused before the backend', async () => {
    const [canonical, ...others] = spellings(inst.dni);
    const before = inst.backend.requests;
    const ok = await postSoap(inst.juntos.isUrl, personaRequest(canonical as string, { id: newId('dni-ok') }));
    assert.equal(ok.status, 200, ok.text);
    for (const spelling of others) {
      const res = await postSoap(inst.juntos.isUrl, personaRequest(spelling, { id: newId('dni-alt') }));
      assert.equal(faultCodeOf(res.text), 'Server.ServerProxy.ValidationFailed', res.text);
      assert.match(res.text, new RegExp(`no está en forma canónica; envíe ${canonical}`));
    }
    assert.equal(inst.backend.requests, before + 1, 'only the canonical request reached the backend');
    await expectGood(inst);
  });
});

describe('hardening: the sql adapter binds the canonical DNI (RNU)', () => {
  let dir: string;
  let sb: RunningSandbox;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miis-hard-canon-'));
    sb = await startSandbox({ dir, basePort: await freeBasePort(SANDBOX_PORT_SPAN), persons: 300 });
  });
  after(async () => {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('four spellings of one DNI register one RNU row', async () => {
    const d = '40337956';
    const juntos = sb.nodes.get('juntos')?.isUrl as string;
    const answers: string[] = [];
    for (const spelling of spellings(d)) {
      const id = newId('rnu');
      const xml = `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd" xmlns:t="${NS.afiliacion}">`
        + `<SOAP-ENV:Header>${clientIdToXml('xrd:client', parseClientId(JUNTOS_CLIENT))}${serviceIdToXml('xrd:service', parseServiceId(SERVICES.registrarAfiliacion))}<xrd:id>${id}</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion><miis:convenio>CONV-003-2026-MIDIS-RNU</miis:convenio><miis:finalidad>AFILIACION</miis:finalidad></SOAP-ENV:Header>`
        + `<SOAP-ENV:Body><t:registrarAfiliacion><t:afiliacion><t:dni>${spelling}</t:dni><t:programa>JUNTOS</t:programa><t:fecha>2026-03-01</t:fecha></t:afiliacion></t:registrarAfiliacion></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
      const res = await postSoap(juntos, xml);
      assert.equal(res.status, 200, res.text);
      answers.push(/<[^>]*registrado>(true|false)</.exec(res.text)?.[1] ?? res.text);
      // the answer names the canonical DNI
      assert.match(res.text, new RegExp(`<[^>]*dni>${d}<`));
    }
    assert.deepEqual(answers, ['true', 'false', 'false', 'false']);
    const db = new Database(registryPaths(registriesDir(dir)).rnuDb, { readonly: true });
    try {
      const rows = db.prepare("SELECT dni FROM afiliaciones WHERE dni LIKE '4033795%'").all() as { dni: string }[];
      assert.deepEqual(rows, [{ dni: d }]);
    } finally {
      db.close();
    }
  });
});
