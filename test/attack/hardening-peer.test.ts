/**
 * Issue 9, item 2: cost before trust. The provider node checks the peer's TLS identity before it
 * reads the body, and the signature part's size before it parses the SOAP message.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { createCsr, generateKeyPair } from '../../core/pki.js';
import { encodeSignedMessage } from '../../node/pipeline/signed-message.js';
import { centralDir } from '../../scripts/sandbox/provision.js';
import { faultCodeOf, postMtls, runCli, startInstance, type Instance, type MtlsIdentity } from '../e2e/fixture.js';
import { expectGood, juntosTls, UUID } from './hardening-helpers.js';
import { sqliteLog } from '../helpers/node-log.js';

/** A body no XML reader accepts: parsing it would give an XML fault. */
const MALFORMED = Buffer.from(`<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">${'<a>'.repeat(5000)}`, 'utf8');

describe('hardening: the provider checks the peer and the signature size before parsing', () => {
  let inst: Instance;
  let tls: MtlsIdentity;
  let impostor: MtlsIdentity;
  let work: string;

  before(async () => {
    inst = await startInstance();
    tls = juntosTls(inst);
    work = mkdtempSync(join(tmpdir(), 'miis-hard-peer-'));
    // a TLS certificate the instance CA really issued, to something that is not a registered node
    const keys = await generateKeyPair('ecdsa-p256');
    writeFileSync(join(work, 'x.csr'), await createCsr(keys, { organization: 'Programa Juntos', commonName: 'no-es-un-nodo', serialNumber: 'PE/GOB/20511268401' }));
    const issued = await runCli(runCentralCli, ['cert', 'sign', '--csr', join(work, 'x.csr'), '--profile', 'auth', '--ip', '127.0.0.1', '--out', join(work, 'x.pem'), '--dir', centralDir(inst.plan)]);
    assert.equal(issued.code, 0, issued.stderr);
    impostor = { ...tls, keyPem: keys.privateKeyPem, certPem: readFileSync(join(work, 'x.pem'), 'utf8') };
  });
  after(async () => {
    await inst.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('a CA-issued certificate that is no registered node gets the TLS-identity fault, not an XML fault', async () => {
    const before = inst.backend.requests;
    const faultsBefore = sqliteLog(inst.reniec).faults(10_000).length;
    const msg = encodeSignedMessage(MALFORMED, '<ds:Signature/>');
    const res = await postMtls(`${inst.reniec.proxyUrl}/miis/v1/message`, msg.body, msg.contentType, impostor);
    const text = res.body.toString('utf8');
    assert.equal(faultCodeOf(text), 'Server.ServerProxy.SslAuthenticationFailed', text);
    assert.match(text, /no es el de un nodo de la configuración global/);
    assert.match(text, UUID);
    const logged = sqliteLog(inst.reniec).faults(10_000);
    assert.equal(logged.length, faultsBefore + 1);
    assert.equal(logged[0]?.code, 'Server.ServerProxy.SslAuthenticationFailed');
    assert.equal(logged[0]?.messageId, undefined, 'the body was not parsed to describe the fault');
    assert.equal(inst.backend.requests, before);
    await expectGood(inst);
  });

  it('a registered peer whose signature part is oversized is refused before the message is parsed', async () => {
    const before = inst.backend.requests;
    const msg = encodeSignedMessage(MALFORMED, `<ds:Signature>${'A'.repeat(64 * 1024)}</ds:Signature>`);
    const res = await postMtls(`${inst.reniec.proxyUrl}/miis/v1/message`, msg.body, msg.contentType, tls);
    const text = res.body.toString('utf8');
    assert.equal(faultCodeOf(text), 'Server.ServerProxy.InvalidMessage', text);
    assert.match(text, /la parte de firma tiene \d+ bytes; máximo 32768/);
    assert.equal(inst.backend.requests, before);
    await expectGood(inst);
  });
});
