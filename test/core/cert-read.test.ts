import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { readCertificate } from '../../core/cert-read.js';
import { certDer, createCsr, createSelfSignedCa, generateKeyPair, issueCertificate } from '../../core/pki.js';

const now = new Date('2026-03-02T15:00:00Z');

describe('cert-read (DER reader of the hot path)', () => {
  it('reads names, serial, validity and extensions exactly as @peculiar/x509 does', async () => {
    const caKeys = await generateKeyPair('ecdsa-p256');
    const caPem = await createSelfSignedCa(caKeys, { organization: 'MIDIS, "Central"', commonName: ' CA #1;+<x>' }, { now, validDays: 365 });
    const ca = { certPem: caPem, privateKeyPem: caKeys.privateKeyPem };
    const signKeys = await generateKeyPair('ecdsa-p256');
    const sign = await issueCertificate({ csrPem: await createCsr(signKeys, { organization: 'RENIEC', commonName: 'Firma ñandú', serialNumber: 'PE/GOB/20295613620' }), profile: 'sign', ca, now, validDays: 30 });
    const auth = await issueCertificate({ csrPem: await createCsr(signKeys, { organization: 'RENIEC', commonName: 'nodo' }), profile: 'auth', ca, now, validDays: 30, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], serialNumberHex: '7f01' });
    for (const pem of [caPem, sign, auth]) {
      const mine = readCertificate(certDer(pem));
      const ref = new x509.X509Certificate(pem);
      const name = (n: x509.Name) => new x509.Name(n.toArrayBuffer(), { serialNumber: '2.5.4.5' }).toString();
      assert.equal(mine.subject, name(ref.subjectName));
      assert.equal(mine.issuer, name(ref.issuerName));
      assert.equal(mine.serialNumberHex, ref.serialNumber.toLowerCase());
      assert.equal(mine.notBefore.getTime(), ref.notBefore.getTime());
      assert.equal(mine.notAfter.getTime(), ref.notAfter.getTime());
      assert.equal(mine.isCa, ref.getExtension(x509.BasicConstraintsExtension)?.ca === true);
      assert.equal(mine.keyUsage, ref.getExtension(x509.KeyUsagesExtension)?.usages ?? 0);
      assert.deepEqual([...mine.extKeyUsages], [...(ref.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])].map(String));
      assert.deepEqual(mine.subjectAttributes.get('2.5.4.3'), ref.subjectName.getField('CN'));
      assert.deepEqual(mine.subjectAttributes.get('2.5.4.5') ?? [], ref.subjectName.getField('2.5.4.5'));
    }
  });

  it('refuses what is not a certificate', () => {
    assert.throws(() => readCertificate(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01])), /X\.509/);
  });
});
