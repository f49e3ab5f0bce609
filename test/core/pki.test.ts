import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { MiisError } from '../../core/errors.js';
import {
  certMatchesKey, isIpAddress, generateKeyPair, createCsr, createSelfSignedCa, issueCertificate, certificateInfo, verifyChain, certSha256, PROFILE_POLICY_OIDS,
  type KeyPairPem, type CaMaterial,
} from '../../core/pki.js';
import { needTool } from '../helpers/tools.js';

const NOW = new Date('2025-03-01T12:00:00Z');
const DAY = 86_400_000;
const at = (days: number): Date => new Date(NOW.getTime() + days * DAY);

/** Extensions as printed by the real openssl (independent of our parser). */
function opensslExtensions(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-ext', 'basicConstraints,keyUsage,extendedKeyUsage,subjectAltName,certificatePolicies'], { input: pem }).toString();
}

function pemToDer(pem: string, label: string): Buffer {
  const body = pem.replace(`-----BEGIN ${label}-----`, '').replace(`-----END ${label}-----`, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

function derToPem(der: Buffer, label: string): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

function assertMiisError(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof MiisError && err.code === code);
}

async function assertRejectsMiis(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof MiisError && err.code === code);
}

describe('pki', () => {
  let caKeys: KeyPairPem;
  let ca: CaMaterial;
  let rsaKeys: KeyPairPem;
  let ecKeys: KeyPairPem;
  let otherCa: CaMaterial;

  before(async () => {
    caKeys = await generateKeyPair('rsa-2048');
    ca = { certPem: await createSelfSignedCa(caKeys, { organization: 'MIDIS', commonName: 'MIIS CA de prueba' }, { now: NOW, validDays: 3650 }), privateKeyPem: caKeys.privateKeyPem };
    const otherKeys = await generateKeyPair('ecdsa-p256');
    otherCa = { certPem: await createSelfSignedCa(otherKeys, { organization: 'Otra', commonName: 'CA ajena' }, { now: NOW, validDays: 3650 }), privateKeyPem: otherKeys.privateKeyPem };
    rsaKeys = await generateKeyPair('rsa-2048');
    ecKeys = await generateKeyPair('ecdsa-p256');
  });

  it('generates PKCS#8 / SPKI key pairs of the requested algorithm', () => {
    assert.match(rsaKeys.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(rsaKeys.publicKeyPem, /^-----BEGIN PUBLIC KEY-----/);
    const rsa = crypto.createPrivateKey(rsaKeys.privateKeyPem);
    assert.equal(rsa.asymmetricKeyType, 'rsa');
    assert.equal(rsa.asymmetricKeyDetails?.modulusLength, 2048);
    const ec = crypto.createPrivateKey(ecKeys.privateKeyPem);
    assert.equal(ec.asymmetricKeyType, 'ec');
    assert.equal(ec.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(
      crypto.createPublicKey(ecKeys.privateKeyPem).export({ type: 'spki', format: 'der' }),
      crypto.createPublicKey(ecKeys.publicKeyPem).export({ type: 'spki', format: 'der' }),
    );
  });

  it('creates a CA certificate with CA basic constraints and keyCertSign/cRLSign', { skip: needTool('openssl') }, () => {
    const info = certificateInfo(ca.certPem);
    assert.equal(info.profile, 'ca');
    assert.equal(info.keyAlgorithm, 'rsa-2048');
    assert.equal(info.subject, info.issuer);
    assert.equal(info.organization, 'MIDIS');
    assert.match(info.subject, /C=PE/);
    assert.equal(info.notBefore.getTime(), NOW.getTime());
    assert.equal(info.notAfter.getTime(), at(3650).getTime());
    assert.equal(new crypto.X509Certificate(ca.certPem).ca, true);
    { // openssl, independent of our parser
      const ext = opensslExtensions(ca.certPem);
      assert.match(ext, /CA:TRUE/);
      assert.match(ext, /Certificate Sign, CRL Sign/);
    }
  });

  it('issues an RSA auth certificate with TLS key usages and SAN', { skip: needTool('openssl') }, async () => {
    const csrPem = await createCsr(rsaKeys, { organization: 'RENIEC', commonName: 'nodo-reniec' });
    assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----/);
    const pem = await issueCertificate({ csrPem, profile: 'auth', ca, now: NOW, validDays: 365, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    const info = certificateInfo(pem);
    assert.equal(info.profile, 'auth');
    assert.equal(info.commonName, 'nodo-reniec');
    assert.equal(info.keyAlgorithm, 'rsa-2048');
    assert.equal(info.issuer, certificateInfo(ca.certPem).subject);
    const node = new crypto.X509Certificate(pem);
    assert.equal(node.ca, false);
    assert.equal(node.checkHost('localhost'), 'localhost');
    assert.equal(node.checkIP('127.0.0.1'), '127.0.0.1');
    assert.deepEqual(node.keyUsage?.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // Node's keyUsage = EKU OIDs
    { // openssl, independent of our parser
      const ext = opensslExtensions(pem);
      assert.match(ext, /Digital Signature, Key Encipherment/);
      assert.match(ext, /TLS Web Server Authentication, TLS Web Client Authentication/);
      assert.match(ext, /CA:FALSE/);
    }
  });

  it('issues an ECDSA auth certificate without keyEncipherment', { skip: needTool('openssl') }, async () => {
    const csrPem = await createCsr(ecKeys, { organization: 'INEI', commonName: 'nodo-inei' });
    const pem = await issueCertificate({ csrPem, profile: 'auth', ca, now: NOW, validDays: 365 });
    assert.equal(certificateInfo(pem).profile, 'auth');
    assert.equal(certificateInfo(pem).keyAlgorithm, 'ecdsa-p256');
    { // openssl, independent of our parser
      const ext = opensslExtensions(pem);
      assert.match(ext, /Digital Signature\n/);
      assert.doesNotMatch(ext, /Key Encipherment/);
    }
  });

  it('issues sign and conf certificates: non-repudiation, no TLS EKU, member id in serialNumber', { skip: needTool('openssl') }, async () => {
    const csrPem = await createCsr(ecKeys, { organization: 'RENIEC', commonName: 'RENIEC firma', serialNumber: 'PE/GOB/20295613620' });
    const sign = await issueCertificate({ csrPem, profile: 'sign', ca, now: NOW, validDays: 365, serialNumberHex: '1a2b3c' });
    const info = certificateInfo(sign);
    assert.equal(info.profile, 'sign');
    assert.equal(info.subjectSerialNumber, 'PE/GOB/20295613620');
    assert.match(info.subject, /serialNumber=PE\/GOB\/20295613620/);
    assert.equal(info.serialNumberHex, '1a2b3c');
    assert.equal(new crypto.X509Certificate(sign).serialNumber.toLowerCase(), '1a2b3c');
    const conf = await issueCertificate({ csrPem, profile: 'conf', ca, now: NOW, validDays: 365 });
    assert.equal(certificateInfo(conf).profile, 'conf');
    assert.equal(certificateInfo(conf).subjectSerialNumber, 'PE/GOB/20295613620');
    { // openssl, independent of our parser
      assert.ok(opensslExtensions(sign).includes(`Policy: ${PROFILE_POLICY_OIDS.sign}\n`));
      assert.ok(opensslExtensions(conf).includes(`Policy: ${PROFILE_POLICY_OIDS.conf}\n`));
      for (const pem of [sign, conf]) {
        const ext = opensslExtensions(pem);
        assert.match(ext, /Digital Signature, Non Repudiation/);
        assert.doesNotMatch(ext, /TLS Web/);
      }
    }
  });

  it('gives every issued certificate a fresh random serial by default', async () => {
    const csrPem = await createCsr(ecKeys, { organization: 'X', commonName: 'x' });
    const a = certificateInfo(await issueCertificate({ csrPem, profile: 'sign', ca, now: NOW, validDays: 1 }));
    const b = certificateInfo(await issueCertificate({ csrPem, profile: 'sign', ca, now: NOW, validDays: 1 }));
    assert.notEqual(a.serialNumberHex, b.serialNumberHex);
    assert.ok(a.serialNumberHex.length >= 30);
  });

  it('refuses a CSR whose signature does not verify', async () => {
    const csrPem = await createCsr(rsaKeys, { organization: 'RENIEC', commonName: 'nodo' });
    const der = pemToDer(csrPem, 'CERTIFICATE REQUEST');
    der[der.length - 1] = der[der.length - 1]! ^ 0x01; // flip a bit of the signature
    const bad = derToPem(der, 'CERTIFICATE REQUEST');
    await assert.rejects(issueCertificate({ csrPem: bad, profile: 'auth', ca, now: NOW, validDays: 1 }),
      (err: unknown) => err instanceof MiisError && err.code === 'Config.InvalidCertificate' && /firma/.test(err.message));
  });

  it('refuses an oversized or unreadable CSR', async () => {
    await rejectsCsr('-----BEGIN CERTIFICATE REQUEST-----\n' + 'A'.repeat(17 * 1024) + '\n-----END CERTIFICATE REQUEST-----\n');
    await rejectsCsr('no es un CSR');
    async function rejectsCsr(csrPem: string): Promise<void> {
      await assert.rejects(issueCertificate({ csrPem, profile: 'sign', ca, now: NOW, validDays: 1 }),
        (err: unknown) => err instanceof MiisError && err.code === 'Config.InvalidCertificate');
    }
  });

  it('refuses a CA private key that does not match the CA certificate', async () => {
    const csrPem = await createCsr(ecKeys, { organization: 'X', commonName: 'x' });
    await rejectsMiis(issueCertificate({ csrPem, profile: 'sign', ca: { certPem: ca.certPem, privateKeyPem: rsaKeys.privateKeyPem }, now: NOW, validDays: 1 }));
    async function rejectsMiis(p: Promise<unknown>): Promise<void> {
      await assertRejectsMiis(p, 'Config.InvalidCertificate');
    }
  });

  it('verifies chains: issued, foreign CA, expired leaf, not yet valid, expired CA', async () => {
    const csrPem = await createCsr(ecKeys, { organization: 'RENIEC', commonName: 'firma', serialNumber: 'PE/GOB/20295613620' });
    const leaf = await issueCertificate({ csrPem, profile: 'sign', ca, now: NOW, validDays: 30 });
    assert.deepEqual(verifyChain(leaf, [ca.certPem], at(1)), { ok: true });
    assert.deepEqual(verifyChain(leaf, [otherCa.certPem, ca.certPem], at(1)), { ok: true });
    const foreign = verifyChain(leaf, [otherCa.certPem], at(1));
    assert.equal(foreign.ok, false);
    const expired = verifyChain(leaf, [ca.certPem], at(31));
    assert.equal(expired.ok, false);
    assert.match(expired.ok ? '' : expired.reason, /vencido/);
    assert.equal(verifyChain(leaf, [ca.certPem], at(-1)).ok, false);
    assert.equal(verifyChain(leaf, [], at(1)).ok, false);
    assert.equal(verifyChain(leaf, [leaf], at(1)).ok, false, 'a non-CA certificate is not a trust anchor');
    assert.equal(verifyChain('basura', [ca.certPem], at(1)).ok, false);

    const shortCaKeys = await generateKeyPair('ecdsa-p256');
    const shortCa = { certPem: await createSelfSignedCa(shortCaKeys, { organization: 'MIDIS', commonName: 'CA corta' }, { now: NOW, validDays: 10 }), privateKeyPem: shortCaKeys.privateKeyPem };
    const leaf2 = await issueCertificate({ csrPem, profile: 'sign', ca: shortCa, now: NOW, validDays: 30 });
    assert.deepEqual(verifyChain(leaf2, [shortCa.certPem], at(5)), { ok: true });
    const caExpired = verifyChain(leaf2, [shortCa.certPem], at(20));
    assert.equal(caExpired.ok, false);
    assert.match(caExpired.ok ? '' : caExpired.reason, /CA emisora/);
  });

  it('detects a certificate that names the CA as issuer but is signed by another key', async () => {
    // Same subject name as the trusted CA, different key: the impostor issues a certificate.
    const impostorKeys = await generateKeyPair('rsa-2048');
    const impostor = { certPem: await createSelfSignedCa(impostorKeys, { organization: 'MIDIS', commonName: 'MIIS CA de prueba' }, { now: NOW, validDays: 3650 }), privateKeyPem: impostorKeys.privateKeyPem };
    const csrPem = await createCsr(ecKeys, { organization: 'Falso', commonName: 'falso' });
    const forged = await issueCertificate({ csrPem, profile: 'sign', ca: impostor, now: NOW, validDays: 30 });
    assert.equal(certificateInfo(forged).issuer, certificateInfo(ca.certPem).subject);
    assert.equal(verifyChain(forged, [ca.certPem], at(1)).ok, false);
  });

  it('computes sha256 of the DER from PEM or DER and matches Node fingerprint', () => {
    const der = pemToDer(ca.certPem, 'CERTIFICATE');
    const expected = crypto.createHash('sha256').update(der).digest('hex');
    assert.equal(certSha256(ca.certPem), expected);
    assert.equal(certSha256(der), expected);
    assert.equal(certSha256(Buffer.from(ca.certPem)), expected);
    assert.equal(new crypto.X509Certificate(ca.certPem).fingerprint256.replace(/:/g, '').toLowerCase(), expected);
    assert.equal(certificateInfo(der).sha256, expected);
    assert.equal(certificateInfo(der), certificateInfo(ca.certPem), 'parsed info is cached by sha256');
  });

  it('refuses unparsable or oversized certificates', () => {
    assertMiisError(() => certificateInfo('basura'), 'Config.InvalidCertificate');
    assertMiisError(() => certificateInfo('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), 'Config.InvalidCertificate');
    assertMiisError(() => certificateInfo(ca.certPem + ' '.repeat(64 * 1024)), 'Config.InvalidCertificate');
    assertMiisError(() => certificateInfo(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x00])), 'Config.InvalidCertificate');
  });

  it('refuses invalid SAN entries', async () => {
    const csrPem = await createCsr(ecKeys, { organization: 'X', commonName: 'x' });
    await assertRejectsMiis(issueCertificate({ csrPem, profile: 'auth', ca, now: NOW, validDays: 1, ipAddresses: ['999.1.1.1'] }), 'Config.InvalidInput');
    await assertRejectsMiis(issueCertificate({ csrPem, profile: 'auth', ca, now: NOW, validDays: 1, dnsNames: ['a b'] }), 'Config.InvalidInput');
  });

  it('refuses invalid subjects', async () => {
    await assertRejectsMiis(createCsr(ecKeys, { organization: '', commonName: 'x' }), 'Config.InvalidInput');
    await assertRejectsMiis(createCsr(ecKeys, { organization: 'X', commonName: 'x', country: 'Peru' }), 'Config.InvalidInput');
    await assertRejectsMiis(createCsr(ecKeys, { organization: 'X', commonName: 'x', serialNumber: 'PE/GOB/ñ' }), 'Config.InvalidInput');
  });
});

describe('certMatchesKey', () => {
  it('is true only for the certificate of that key, false for another key or garbage', async () => {
    const keys = await generateKeyPair('ecdsa-p256');
    const other = await generateKeyPair('ecdsa-p256');
    const ca = await createSelfSignedCa(keys, { organization: 'CA', commonName: 'CA' }, { now: NOW, validDays: 10 });
    assert.equal(certMatchesKey(ca, keys.privateKeyPem), true);
    assert.equal(certMatchesKey(ca, keys.publicKeyPem), true);
    assert.equal(certMatchesKey(ca, other.privateKeyPem), false);
    assert.equal(certMatchesKey('no es un certificado', keys.privateKeyPem), false);
  });
});

describe('isIpAddress (pure, no node:net)', () => {
  it('accepts IPv4 dotted quads and IPv6, refuses the rest', () => {
    for (const ok of ['127.0.0.1', '10.0.0.255', '::1', 'fe80::1', '::ffff:1.2.3.4', '2001:db8::8a2e:370:7334']) assert.equal(isIpAddress(ok), true, ok);
    for (const bad of ['1.2.3', '256.1.1.1', '01.2.3.4', 'abc', 'localhost', '1:2:3:4:5:6:7:8:9', '[::1]', '']) assert.equal(isIpAddress(bad), false, bad);
  });
});
