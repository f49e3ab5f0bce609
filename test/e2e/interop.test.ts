/**
 * Independent verification through the nodes: zeep (python3-zeep) builds requests from the WSDL the
 * Juntos node serves and calls RENIEC through both nodes; xmlsec1 verifies a signature taken from a
 * node's message log. Under CI (CI=true) missing tools fail the test instead of skipping it.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { personaRequest, postSoap, startInstance, type Instance } from './fixture.js';
import { needTool, PYTHON } from '../helpers/tools.js';
import { sqliteLog } from '../helpers/node-log.js';

const run = promisify(execFile);
const ZEEP_CALL = fileURLToPath(new URL('../../../test/interop/zeep_call.py', import.meta.url));

describe('interoperability through the nodes', () => {
  let inst: Instance;
  let work: string;
  before(async () => {
    inst = await startInstance();
    work = mkdtempSync(join(tmpdir(), 'miis-interop-'));
  });
  after(async () => {
    await inst.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('zeep calls consultarPersona through the Juntos node from the served WSDL', { skip: needTool('zeep') }, async () => {
    const headers = {
      client: { objectType: 'SUBSYSTEM', xRoadInstance: 'PE', memberClass: 'GOB', memberCode: '20511268401', subsystemCode: 'JUNTOS' },
      service: { objectType: 'SERVICE', xRoadInstance: 'PE', memberClass: 'GOB', memberCode: '20295613620', subsystemCode: 'RUPN', serviceCode: 'consultarPersona', serviceVersion: 'v1' },
      id: `zeep-${Date.now()}`, userId: 'PE10117410', protocolVersion: '4.0', convenio: 'CONV-001-2026', finalidad: 'FOCALIZACION',
    };
    const { stdout } = await run(PYTHON, [ZEEP_CALL, `${inst.juntos.isUrl}wsdl/reniec.wsdl`, '-', 'consultarPersona', JSON.stringify({ dni: inst.dni }), JSON.stringify(headers)], { timeout: 60_000 });
    const result = JSON.parse(stdout) as { ok: boolean; body: { encontrado: boolean; persona: { dni: string } } };
    assert.equal(result.ok, true, stdout);
    assert.equal(result.body.encontrado, true);
    assert.equal(result.body.persona.dni, inst.dni);
    // the exchange went through both nodes: each logged request and response under zeep's message id
    for (const node of [inst.juntos, inst.reniec]) {
      assert.deepEqual(sqliteLog(node).list({ messageId: headers.id }).map((r) => r.direction), ['request', 'response'], node.name);
    }
  });

  it('xmlsec1 verifies signatures taken from both message logs and refuses a changed byte', { skip: needTool('xmlsec1') }, async () => {
    const id = `xmlsec-${Date.now()}`;
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
    assert.equal(res.status, 200, res.text);
    const records = [...sqliteLog(inst.juntos).list({ messageId: id }), ...sqliteLog(inst.reniec).list({ messageId: id })];
    assert.equal(records.length, 4);
    for (const [i, r] of records.entries()) {
      const der = /<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(r.signature)?.[1];
      assert.ok(der !== undefined, 'la firma lleva el certificado del firmante');
      const dir = join(work, String(i));
      spawnSync('mkdir', ['-p', dir]);
      writeFileSync(join(dir, 'message.xml'), r.message);
      writeFileSync(join(dir, 'signature.xml'), r.signature);
      writeFileSync(join(dir, 'cert.pem'), `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`);
      const verify = (file: string) => spawnSync('xmlsec1', ['--verify', '--pubkey-cert-pem', 'cert.pem', '--enabled-key-data', 'rsa', `--url-map:message.xml`, file, 'signature.xml'], { cwd: dir, encoding: 'utf8' });
      const good = verify('message.xml');
      assert.equal(good.status, 0, `${r.side}/${r.direction}: ${good.stderr}`);
      const tampered = Buffer.from(r.message);
      tampered[tampered.length - 20] = (tampered[tampered.length - 20] as number) ^ 1;
      writeFileSync(join(dir, 'tampered.xml'), tampered);
      assert.notEqual(verify('tampered.xml').status, 0, 'un byte cambiado debe invalidar la firma');
    }
  });
});
