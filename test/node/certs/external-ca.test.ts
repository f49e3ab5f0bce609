/**
 * External CA trust: mapping rules (core/member-mapping.ts), their validation in the global
 * configuration, the signing-certificate decision for external-CA certificates
 * (node/certs/signing-cert.ts) and the node's OCSP checker (node/certs/ocsp-checker.ts) against a real HTTP
 * responder for a test "ECEP" CA whose certificates are issued by the openssl CLI.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { splitPemChain, validateExternalChain } from '../../../central/pki/external-cas.js';
import { MiisError } from '../../../core/errors.js';
import { validateGlobalConf } from '../../../core/global-conf.js';
import { GLOBAL_CONF_FORMAT, type GlobalConf, type GlobalConfExternalCa } from '../../../core/global-conf-model.js';
import { membersFromCert, parseMappingRule } from '../../../core/member-mapping.js';
import { certificateInfo, createCsr, createSelfSignedCa, generateKeyPair, issueCertificate } from '../../../core/pki.js';
import { createOcspChecker, postOcsp, type OcspPost } from '../../../node/certs/ocsp-checker.js';
import { aiaOcspUrl, checkSigningCert, type OcspTarget } from '../../../node/certs/signing-cert.js';
import { createExternalCa, issueExternalCert, startTestOcspResponder, type ExternalCa, type TestOcspResponder } from '../../helpers/external-ca.js';
import { needTool } from '../../helpers/tools.js';

const RENIEC = 'PE/GOB/20295613620';
const JUNTOS = 'PE/GOB/20511268401';
const RULE = { field: 'subject.serialNumber', pattern: 'RUC(\\d{11})', member: 'PE/GOB/$1' } as const;

let serial = 100;

function confWith(trustedCas: readonly string[], externalCas?: readonly GlobalConfExternalCa[]): GlobalConf {
  serial += 1; // checkSigningCert caches per configuration serial: every case gets its own
  const now = Date.now();
  return {
    format: GLOBAL_CONF_FORMAT, instance: 'PE', serial, generatedAt: new Date(now).toISOString(), expiresAt: new Date(now + 3_600_000).toISOString(),
    members: [{ id: RENIEC, name: 'RENIEC', role: 'RENIEC' }, { id: JUNTOS, name: 'Programa Juntos', role: 'IPF' }],
    subsystems: [], nodes: [], services: [], trustedCas: [...trustedCas],
    ...(externalCas === undefined ? {} : { externalCas }),
  };
}

function throwsInvalid(fn: () => unknown, code: string, detail: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof MiisError && e.code === code && detail.test(e.detail));
}

describe('external CA trust and OCSP', { skip: needTool('openssl') }, () => {
  let dir: string;
  let ecep: ExternalCa;
  let instanceCa: string;
  let instanceSign: string;
  let responder: TestOcspResponder;
  let reniecKey: string;
  let ecepReniec: { pem: string; serialHex: string };
  let ecepJuntos: { pem: string; serialHex: string };
  let ecepNoAia: { pem: string; serialHex: string };
  let ecepLookalike: { pem: string; serialHex: string };
  let clock = Date.now();
  const now = (): Date => new Date(clock);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miis-extca-'));
    ecep = await createExternalCa(dir);
    responder = await startTestOcspResponder(ecep, { now });
    const caKeys = await generateKeyPair('ecdsa-p256');
    instanceCa = await createSelfSignedCa(caKeys, { organization: 'MIDIS', commonName: 'MIIS PE CA' }, { now: new Date(), validDays: 365 });
    const keys = await generateKeyPair('ecdsa-p256');
    reniecKey = keys.privateKeyPem;
    instanceSign = await issueCertificate({ csrPem: await createCsr(keys, { organization: 'RENIEC', commonName: '20295613620', serialNumber: RENIEC }), profile: 'sign', ca: { certPem: instanceCa, privateKeyPem: caKeys.privateKeyPem }, now: new Date(), validDays: 30 });
    ecepReniec = await issueExternalCert(ecep, { keyPem: reniecKey, subject: '/C=PE/O=RENIEC/serialNumber=RUC20295613620/CN=FIRMA DIGITAL RENIEC', ocspUrl: responder.url });
    ecepJuntos = await issueExternalCert(ecep, { keyPem: reniecKey, subject: '/C=PE/O=JUNTOS/serialNumber=RUC20511268401/CN=FIRMA DIGITAL JUNTOS', ocspUrl: responder.url });
    ecepNoAia = await issueExternalCert(ecep, { keyPem: reniecKey, subject: '/C=PE/O=RENIEC/serialNumber=RUC20295613620/CN=SIN AIA', email: '20295613620@ecep.gob.pe' });
    // an external certificate that imitates the instance form: serialNumber = member id
    ecepLookalike = await issueExternalCert(ecep, { keyPem: reniecKey, subject: `/C=PE/O=RENIEC/serialNumber=${RENIEC}/CN=IMITACION`, ocspUrl: responder.url });
  });
  after(async () => {
    await responder.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('parses mapping rules from the CLI form and JSON, and names what is wrong in Spanish', () => {
    assert.deepEqual(parseMappingRule('subject.serialNumber:RUC(\\d{11})=>PE/GOB/$1', 'PE'), RULE);
    assert.deepEqual(parseMappingRule(JSON.stringify(RULE), 'PE'), RULE);
    // a ':' inside the expression is kept (split at the first ':' and the last '=>')
    assert.equal(parseMappingRule('subject.CN:a:(\\d+)=>PE/GOB/$1').pattern, 'a:(\\d+)');
    const bad: [string, RegExp][] = [
      ['subject.serialNumber:RUC\\d{11}=>PE/GOB/$1', /exactamente un grupo de captura \(tiene 0\)/],
      ['subject.serialNumber:(RUC)(\\d{11})=>PE/GOB/$1', /exactamente un grupo de captura \(tiene 2\)/],
      ['subject.serialNumber:RUC(\\d{11}=>PE/GOB/$1', /expresión regular no válida/],
      ['subject.serialNumber:RUC(\\d{11})=>PE/GOB/20295613620', /\$1 exactamente una vez/],
      ['subject.serialNumber:RUC(\\d{11})=>PE/GOB/$1/RUPN', /no un subsistema/],
      ['subject.serialNumber:RUC(\\d{11})=>CL/GOB/$1', /otra instancia \(CL\)/],
      ['subject.L:RUC(\\d{11})=>PE/GOB/$1', /field: se espera uno de subject\.serialNumber/],
      ['sin-formato', /Formato: campo:expresión=>plantilla/],
    ];
    for (const [text, reason] of bad) throwsInvalid(() => parseMappingRule(text, 'PE'), 'Config.InvalidInput', reason);
  });

  it('maps certificate fields to members: whole-value match, several fields, SAN e-mail', () => {
    assert.deepEqual(membersFromCert(ecepReniec.pem, [RULE]), [RENIEC]);
    assert.deepEqual(membersFromCert(ecepJuntos.pem, [RULE]), [JUNTOS]);
    assert.deepEqual(membersFromCert(ecepReniec.pem, [{ field: 'subject.serialNumber', pattern: '(\\d{11})', member: 'PE/GOB/$1' }]), [], 'the expression must match the whole value');
    assert.deepEqual(membersFromCert(ecepNoAia.pem, [{ field: 'san.email', pattern: '(\\d{11})@ecep\\.gob\\.pe', member: 'PE/GOB/$1' }]), [RENIEC]);
    assert.deepEqual(membersFromCert(ecepReniec.pem, [{ field: 'subject.O', pattern: '(RENIEC)', member: 'PE/GOB/$1' }]), ['PE/GOB/RENIEC']);
    assert.equal(certificateInfo(ecepReniec.pem).profile, 'sign', 'key usages alone make it a signing certificate (no MIIS policy)');
  });

  it('validates the externalCas section of the global configuration', () => {
    const sha = certificateInfo(ecep.certPem).sha256;
    const good = confWith([instanceCa, ecep.certPem], [{ name: 'ECEP-RENIEC', certSha256: sha, memberMapping: [RULE], ocspUrl: responder.url }]);
    assert.equal(validateGlobalConf(JSON.parse(JSON.stringify(good))).externalCas?.[0]?.name, 'ECEP-RENIEC');
    const cases: [GlobalConfExternalCa[], string[], RegExp][] = [
      [[{ name: 'ECEP-RENIEC', certSha256: sha, memberMapping: [RULE] }], [instanceCa], /externalCas\[0\]\.certSha256: el certificado de la CA no está en trustedCas/],
      [[{ name: 'ECEP-RENIEC', certSha256: sha, memberMapping: [{ ...RULE, pattern: 'RUC\\d+' }] }], [instanceCa, ecep.certPem], /externalCas\[0\]\.memberMapping\[0\]: pattern: debe tener exactamente un grupo/],
      [[{ name: 'ECEP-RENIEC', certSha256: sha, memberMapping: [{ ...RULE, member: 'XX/GOB/$1' }] }], [instanceCa, ecep.certPem], /member: la plantilla pertenece a otra instancia/],
      [[{ name: 'ECEP-RENIEC', certSha256: sha, memberMapping: [], ocspUrl: 'ftp://x' }], [instanceCa, ecep.certPem], /externalCas\[0\]\.ocspUrl: se espera una URL http/],
      [[{ name: 'A', certSha256: sha, memberMapping: [] }, { name: 'A', certSha256: sha, memberMapping: [] }], [instanceCa, ecep.certPem], /externalCas\[1\]\.name: CA externa duplicada A/],
    ];
    for (const [externalCas, trusted, reason] of cases) {
      throwsInvalid(() => validateGlobalConf(JSON.parse(JSON.stringify(confWith(trusted, externalCas)))), 'Config.InvalidGlobalConf', reason);
    }
    const extra = JSON.parse(JSON.stringify(good)) as Record<string, any>;
    extra.externalCas[0].extra = 1;
    throwsInvalid(() => validateGlobalConf(extra), 'Config.InvalidGlobalConf', /externalCas\[0\]: campo desconocido «extra»/);
  });

  it('accepts an external-CA signing certificate only when the rules map it to the sender', () => {
    const t = new Date();
    const sha = certificateInfo(ecep.certPem).sha256;
    const ext = (memberMapping: GlobalConfExternalCa['memberMapping'], ocspUrl?: string): GlobalConfExternalCa[] => [{ name: 'ECEP-RENIEC', certSha256: sha, memberMapping, ...(ocspUrl === undefined ? {} : { ocspUrl }) }];
    const check = (conf: GlobalConf, pem: string, member: string) => checkSigningCert(conf, pem, certificateInfo(pem).sha256, member, t);

    const untrusted = check(confWith([instanceCa]), ecepReniec.pem, RENIEC);
    assert.equal(untrusted.ok, false);
    assert.match((untrusted as { reason: string }).reason, /no fue emitido por una CA de confianza/);

    const withRule = confWith([instanceCa, ecep.certPem], ext([RULE]));
    const ok = check(withRule, ecepReniec.pem, RENIEC);
    assert.equal(ok.ok, true);
    const target = (ok as { ocsp?: OcspTarget }).ocsp!;
    assert.equal(target.url, responder.url, 'OCSP URL from the certificate (AIA)');
    assert.equal(target.issuerPem, ecep.certPem);
    assert.equal(aiaOcspUrl(ecepReniec.pem), responder.url);

    const other = check(withRule, ecepJuntos.pem, RENIEC);
    assert.equal(other.ok, false);
    assert.match((other as { reason: string }).reason, /pertenece a PE\/GOB\/20511268401 \(según las reglas de la CA externa ECEP-RENIEC\), no a PE\/GOB\/20295613620/);

    const noRule = check(confWith([instanceCa, ecep.certPem], ext([])), ecepReniec.pem, RENIEC);
    assert.match((noRule as { reason: string }).reason, /ninguna regla de correspondencia de la CA externa ECEP-RENIEC/);

    const lookalike = check(withRule, ecepLookalike.pem, RENIEC);
    assert.equal(lookalike.ok, false, 'an external CA never names members through serialNumber alone');

    const ambiguous = check(confWith([instanceCa, ecep.certPem], ext([RULE, { field: 'subject.O', pattern: '(RENIEC)', member: 'PE/GOB/$1' }])), ecepReniec.pem, RENIEC);
    assert.match((ambiguous as { reason: string }).reason, /varios miembros/);

    const confUrl = check(confWith([instanceCa, ecep.certPem], ext([RULE], 'http://127.0.0.1:1/ocsp-central')), ecepReniec.pem, RENIEC);
    assert.equal((confUrl as { ocsp?: OcspTarget }).ocsp?.url, 'http://127.0.0.1:1/ocsp-central', 'the configuration URL wins over AIA');
    const none = check(withRule, ecepNoAia.pem, RENIEC);
    assert.equal(none.ok, true);
    assert.equal((none as { ocsp?: OcspTarget }).ocsp?.url, undefined);

    const own = check(withRule, instanceSign, RENIEC);
    assert.deepEqual(own, { ok: true }, 'instance-CA certificates: serialNumber names the member, no OCSP step');
  });

  it('central validates an external chain: issuing CA first, each issued by the next, all CAs in force', async () => {
    const sub = await generateKeyPair('rsa-2048');
    const intermediate = await issueExternalCert(ecep, { keyPem: sub.privateKeyPem, subject: '/C=PE/O=RENIEC/CN=ECEP-RENIEC CA Class 3', ca: true, days: 100 });
    assert.equal(validateExternalChain(splitPemChain(intermediate.pem + ecep.certPem), new Date()), splitPemChain(intermediate.pem)[0]);
    throwsInvalid(() => validateExternalChain(splitPemChain(ecep.certPem + intermediate.pem), new Date()), 'Config.InvalidCertificate', /certificado 1 de la cadena .*: no fue emitido por el certificado 2/);
    throwsInvalid(() => validateExternalChain(splitPemChain(ecepReniec.pem), new Date()), 'Config.InvalidCertificate', /no es una CA/);
    throwsInvalid(() => validateExternalChain(splitPemChain(intermediate.pem + ecep.certPem), new Date(Date.now() + 200 * 86_400_000)), 'Config.InvalidCertificate', /venció el/);
    throwsInvalid(() => splitPemChain('nada'), 'Config.InvalidCertificate', /no contiene certificados PEM/);
  });

  it('OCSP: good is cached while fresh, re-asked when stale; revoked is refused and stays refused', async () => {
    let calls = 0;
    const post: OcspPost = (url, body, ms) => {
      calls += 1;
      return postOcsp(url, body, ms);
    };
    const checker = createOcspChecker({ settings: { maxAgeSeconds: 60, onResponderDown: 'refuse', timeoutSeconds: 2 }, now, info: () => undefined, post });
    const target: OcspTarget = { certPem: ecepReniec.pem, certSha256: certificateInfo(ecepReniec.pem).sha256, issuerPem: ecep.certPem, url: responder.url, caName: 'ECEP-RENIEC' };
    assert.deepEqual(await checker.check(target), { ok: true });
    assert.deepEqual(await checker.check(target), { ok: true });
    assert.equal(calls, 1, 'a fresh response is reused');
    clock += 61_000;
    assert.deepEqual(await checker.check(target), { ok: true });
    assert.equal(calls, 2, 'older than maxAgeSeconds: asked again');
    assert.equal((checker.health() as { estado: string }).estado, 'ok');

    responder.revoke(ecepReniec.serialHex, new Date(clock - 1000));
    clock += 61_000;
    const revoked = await checker.check(target);
    assert.equal(revoked.ok, false);
    assert.match((revoked as { reason: string }).reason, /revocado por la CA externa ECEP-RENIEC \(OCSP, desde /);
    clock += 3_600_000;
    const later = await checker.check({ ...target, url: 'http://127.0.0.1:9/ocsp' });
    assert.equal(later.ok, false, 'a revocation is never forgotten, even with the responder down');
    assert.match((later as { reason: string }).reason, /revocado/);
  });

  it('OCSP responder down: "refuse" refuses, "accept-and-flag" accepts and flags /health; retries wait', async () => {
    const target: OcspTarget = { certPem: ecepJuntos.pem, certSha256: certificateInfo(ecepJuntos.pem).sha256, issuerPem: ecep.certPem, url: 'http://127.0.0.1:9/ocsp', caName: 'ECEP-RENIEC' };
    let calls = 0;
    const post: OcspPost = (url, body, ms) => {
      calls += 1;
      return postOcsp(url, body, ms);
    };
    const refuse = createOcspChecker({ settings: { maxAgeSeconds: 60, onResponderDown: 'refuse', timeoutSeconds: 2 }, now, info: () => undefined, post });
    const r = await refuse.check(target);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /no se pudo comprobar la revocación \(OCSP\) del certificado de ECEP-RENIEC: el respondedor http:\/\/127\.0\.0\.1:9\/ocsp no responde/);
    await refuse.check(target);
    assert.equal(calls, 1, 'within the retry pause the responder is not asked again');
    const h = refuse.health() as { estado: string; aviso: string; ultimoError: string };
    assert.equal(h.estado, 'sin-respuesta');
    assert.match(h.aviso, /RECHAZA/);

    const lines: string[] = [];
    const accept = createOcspChecker({ settings: { maxAgeSeconds: 60, onResponderDown: 'accept-and-flag', timeoutSeconds: 2 }, now, info: (l) => lines.push(l) });
    assert.deepEqual(await accept.check(target), { ok: true });
    const h2 = accept.health() as { estado: string; aviso: string; aceptadosSinVerificar: number };
    assert.equal(h2.estado, 'sin-respuesta');
    assert.equal(h2.aceptadosSinVerificar, 1);
    assert.match(h2.aviso, /ACEPTA/);
    assert.match(lines[0] ?? '', /aceptado sin comprobar su revocación/);

    const noUrl = await refuse.check({ ...target, url: undefined });
    assert.match((noUrl as { reason: string }).reason, /no indica respondedor OCSP/);
    // the responder answers again: the flag clears
    assert.deepEqual(await accept.check({ ...target, url: responder.url }), { ok: true });
    assert.equal((accept.health() as { estado: string }).estado, 'ok');
  });

  it('OCSP: a response signed by another CA is not accepted', async () => {
    const other = await createExternalCa(mkdtempSync(join(dir, 'other-')), { commonName: 'Otra CA' });
    const wrong = await startTestOcspResponder(other, { now });
    try {
      const checker = createOcspChecker({ settings: { maxAgeSeconds: 60, onResponderDown: 'refuse', timeoutSeconds: 2 }, now, info: () => undefined });
      const r = await checker.check({ certPem: ecepNoAia.pem, certSha256: certificateInfo(ecepNoAia.pem).sha256, issuerPem: ecep.certPem, url: wrong.url, caName: 'ECEP-RENIEC' });
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, /firma de la respuesta OCSP no es válida/);
    } finally {
      await wrong.close();
    }
  });
});
