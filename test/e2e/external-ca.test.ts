/**
 * An external CA ("ECEP", made for the test) trusted by configuration: `miis-central ca trust`
 * with a field→member rule, RENIEC's node signing with an ECEP certificate (subject serialNumber
 * RUC20295613620, no MIIS policy, AIA → a test OCSP responder), Juntos verifying it by the rule and
 * by OCSP. Refused without trust, without a matching rule, for a certificate mapping to another
 * member, when revoked, and when the responder is down under "refuse"; "accept-and-flag" goes on
 * and /health says so.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { certificateInfo } from '../../core/pki.js';
import { runNodeCli } from '../../node/cli/index.js';
import { DEFAULT_EVIDENCE_SETTINGS } from '../../node/evidence/settings.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { createExternalCa, issueExternalCert, startTestOcspResponder, type ExternalCa, type TestOcspResponder } from '../helpers/external-ca.js';
import { faultCodeOf, personaRequest, postSoap, runCli, startInstance, waitFor, type Instance } from './fixture.js';
import { needTool } from '../helpers/tools.js';
import { sqliteLog } from '../helpers/node-log.js';

const RULE = 'subject.serialNumber:RUC(\\d{11})=>PE/GOB/$1';

describe('external CA (ECEP) trusted by configuration, with OCSP', { skip: needTool('openssl') }, () => {
  let inst: Instance;
  let ecep: ExternalCa;
  let responder: TestOcspResponder;
  let reniecDir: string;
  let centralDir: string;
  let reniecKey: string;
  let work: string;

  before(async () => {
    inst = await startInstance();
    work = inst.dir;
    ecep = await createExternalCa(work);
    responder = await startTestOcspResponder(ecep);
    reniecDir = nodeDir(inst.plan, 'reniec');
    centralDir = join(inst.dir, 'central');
    reniecKey = readFileSync(join(reniecDir, 'keys', 'sign-key.pem'), 'utf8');
  });
  after(async () => {
    await responder.close();
    await inst.close();
  });

  const central = (...args: string[]) => runCli(runCentralCli, [...args, '--dir', centralDir]);
  const publish = async (): Promise<void> => {
    inst.central.app.publisher.refresh();
    await inst.reniec.ctx.conf.refresh();
    await inst.juntos.ctx.conf.refresh();
  };
  /** Put a signing certificate in RENIEC's node as-is (as a misconfigured node would) and wait until it signs with it. */
  const useOnReniec = async (pem: string): Promise<void> => {
    writeFileSync(join(reniecDir, 'sign.pem'), pem);
    const sha = certificateInfo(pem).sha256;
    await waitFor(async () => (inst.reniec.ctx.signerSha256 === sha ? true : undefined), 'RENIEC firma con el certificado nuevo');
  };
  const exchange = () => postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
  const health = async () => (await (await fetch(new URL('health', inst.juntos.isUrl))).json()) as { ocsp: { estado: string; aviso: string | null; aceptadosSinVerificar: number } };

  it('ca trust validates the chain: a non-CA certificate and an expired CA are refused', async () => {
    const leaf = await issueExternalCert(ecep, { keyPem: reniecKey, subject: '/C=PE/O=RENIEC/CN=HOJA' });
    writeFileSync(join(work, 'leaf.pem'), leaf.pem);
    const notCa = await central('ca', 'trust', '--file', join(work, 'leaf.pem'), '--name', 'HOJA', '--map', RULE);
    assert.notEqual(notCa.code, 0);
    assert.match(notCa.stderr, /no es una CA \(basicConstraints CA:TRUE\)/);
    const old = await createExternalCa(mkdtempSync(join(work, 'old-')), { now: new Date(Date.now() - 800 * 86_400_000), validDays: 365, commonName: 'ECEP vencida' });
    const expired = await central('ca', 'trust', '--file', old.certPath, '--name', 'VENCIDA', '--map', RULE);
    assert.notEqual(expired.code, 0);
    assert.match(expired.stderr, /venció el/);
    const badRule = await central('ca', 'trust', '--file', ecep.certPath, '--name', 'ECEP-RENIEC', '--map', 'subject.serialNumber:RUC\\d{11}=>PE/GOB/$1');
    assert.equal(badRule.code, 2, badRule.stderr);
    assert.match(badRule.stderr, /exactamente un grupo de captura/);
  });

  it('signing with an ECEP certificate works only with a rule that maps it to the sender', async () => {
    const good = await issueExternalCert(ecep, { keyPem: reniecKey, subject: '/C=PE/O=RENIEC/serialNumber=RUC20295613620/CN=FIRMA DIGITAL RENIEC', ocspUrl: responder.url });
    writeFileSync(join(work, 'ecep-reniec.pem'), good.pem);
    const sha = certificateInfo(good.pem).sha256;
    assert.equal(certificateInfo(good.pem).profile, 'sign');

    // not trusted yet: the node's import refuses it, and a node that uses it anyway is refused by its peer
    const early = await runCli(runNodeCli, ['cert', 'import', '--sign', join(work, 'ecep-reniec.pem'), '--dir', reniecDir]);
    assert.notEqual(early.code, 0);
    assert.match(early.stderr, /es de RUC20295613620, no de PE\/GOB\/20295613620/);
    await useOnReniec(good.pem);
    const untrusted = await exchange();
    assert.equal(faultCodeOf(untrusted.text), 'Server.ClientProxy.IncorrectCertificate', untrusted.text);
    assert.match(untrusted.text, /no fue emitido por una CA de confianza/);

    // trusted without a rule: still refused
    const bare = await central('ca', 'trust', '--file', ecep.certPath, '--name', 'ECEP-RENIEC');
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stdout, /sin reglas de correspondencia ningún certificado de esta CA se acepta/);
    await publish();
    const noRule = await exchange();
    assert.equal(faultCodeOf(noRule.text), 'Server.ClientProxy.IncorrectCertificate', noRule.text);
    assert.match(noRule.text, /ninguna regla de correspondencia de la CA externa ECEP-RENIEC/);

    // with the rule: accepted (by configuration, not code), OCSP asked, the record names the ECEP certificate
    assert.equal((await central('ca', 'untrust', 'ECEP-RENIEC')).code, 0);
    const trust = await central('ca', 'trust', '--file', ecep.certPath, '--name', 'ECEP-RENIEC', '--map', RULE);
    assert.equal(trust.code, 0, trust.stderr);
    await publish();
    const conf = inst.juntos.ctx.conf.latest()!.conf;
    assert.deepEqual(conf.externalCas, [{ name: 'ECEP-RENIEC', certSha256: certificateInfo(ecep.certPem).sha256, memberMapping: [{ field: 'subject.serialNumber', pattern: 'RUC(\\d{11})', member: 'PE/GOB/$1' }] }]);
    assert.ok(conf.trustedCas.some((pem) => certificateInfo(pem).sha256 === certificateInfo(ecep.certPem).sha256), 'the ECEP CA is published in trustedCas');
    const listed = await central('ca', 'list', '--json');
    assert.match(listed.stdout, /"nombre": "ECEP-RENIEC"/);
    const imported = await runCli(runNodeCli, ['cert', 'import', '--sign', join(work, 'ecep-reniec.pem'), '--dir', reniecDir]);
    assert.equal(imported.code, 0, imported.stderr);

    const asked = responder.requests();
    const ok = await exchange();
    assert.equal(ok.status, 200, ok.text);
    assert.ok(responder.requests() > asked, 'Juntos asked the ECEP responder');
    const records = sqliteLog(inst.juntos).list({ limit: 1 });
    assert.equal(records[0]?.direction, 'response');
    assert.equal(records[0]?.signerCertSha256, sha);
    assert.equal((await health()).ocsp.estado, 'ok');

    // an ECEP certificate that maps to another member (Juntos) is refused for RENIEC's messages
    const juntosCert = await issueExternalCert(ecep, { keyPem: reniecKey, subject: '/C=PE/O=JUNTOS/serialNumber=RUC20511268401/CN=FIRMA DIGITAL JUNTOS', ocspUrl: responder.url });
    writeFileSync(join(work, 'ecep-juntos.pem'), juntosCert.pem);
    const wrongImport = await runCli(runNodeCli, ['cert', 'import', '--sign', join(work, 'ecep-juntos.pem'), '--dir', reniecDir]);
    assert.notEqual(wrongImport.code, 0);
    assert.match(wrongImport.stderr, /es de PE\/GOB\/20511268401, no de PE\/GOB\/20295613620/);
    await useOnReniec(juntosCert.pem);
    const wrong = await exchange();
    assert.equal(faultCodeOf(wrong.text), 'Server.ClientProxy.IncorrectCertificate', wrong.text);
    assert.match(wrong.text, /pertenece a PE\/GOB\/20511268401/);

    // revoked by its CA (OCSP): refused
    await useOnReniec(good.pem);
    assert.equal((await exchange()).status, 200);
    responder.revoke(good.serialHex);
    await inst.restartNode('juntos'); // a fresh OCSP cache (otherwise the good answer counts for ocsp.maxAgeSeconds)
    const revoked = await exchange();
    assert.equal(faultCodeOf(revoked.text), 'Server.ClientProxy.IncorrectCertificate', revoked.text);
    assert.match(revoked.text, /revocado por la CA externa ECEP-RENIEC/);
  });

  it('OCSP responder down: "refuse" refuses, "accept-and-flag" accepts and /health flags it', async () => {
    const fresh = await issueExternalCert(ecep, { keyPem: reniecKey, subject: '/C=PE/O=RENIEC/serialNumber=RUC20295613620/CN=FIRMA DIGITAL RENIEC 2', ocspUrl: responder.url });
    await useOnReniec(fresh.pem);
    await responder.close();
    await inst.restartNode('juntos', { evidence: { ...DEFAULT_EVIDENCE_SETTINGS, ocsp: { maxAgeSeconds: 300, onResponderDown: 'refuse', timeoutSeconds: 2 } } });
    const refused = await exchange();
    assert.equal(faultCodeOf(refused.text), 'Server.ClientProxy.IncorrectCertificate', refused.text);
    assert.match(refused.text, /no se pudo comprobar la revocación \(OCSP\)/);
    const h1 = await health();
    assert.equal(h1.ocsp.estado, 'sin-respuesta');
    assert.match(h1.ocsp.aviso ?? '', /RECHAZA/);

    await inst.restartNode('juntos', { evidence: { ...DEFAULT_EVIDENCE_SETTINGS, ocsp: { maxAgeSeconds: 300, onResponderDown: 'accept-and-flag', timeoutSeconds: 2 } } });
    const accepted = await exchange();
    assert.equal(accepted.status, 200, accepted.text);
    const h2 = await health();
    assert.equal(h2.ocsp.estado, 'sin-respuesta');
    assert.equal(h2.ocsp.aceptadosSinVerificar, 1);
    assert.match(h2.ocsp.aviso ?? '', /ACEPTA/);
  });
});
