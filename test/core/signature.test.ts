import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { MiisError } from '../../core/errors.js';
import { generateKeyPair, createCsr, createSelfSignedCa, issueCertificate, certSha256, type KeyAlgorithm, type KeyPairPem } from '../../core/pki.js';
import { createSigner, signDetached, verifyDetached, SIGNATURE_METHODS, type Signer } from '../../core/signature.js';

const NOW = new Date('2025-03-01T12:00:00Z');
const MESSAGE = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>Ñandú</SOAP-ENV:Body></SOAP-ENV:Envelope>\n', 'utf8');

interface Material { keys: KeyPairPem; certPem: string; signer: Signer }

async function makeMaterial(alg: KeyAlgorithm, caAlg: KeyAlgorithm = 'rsa-2048'): Promise<Material> {
  const caKeys = await generateKeyPair(caAlg);
  const caPem = await createSelfSignedCa(caKeys, { organization: 'MIDIS', commonName: 'CA' }, { now: NOW, validDays: 3650 });
  const keys = await generateKeyPair(alg);
  const csrPem = await createCsr(keys, { organization: 'RENIEC', commonName: 'firma', serialNumber: 'PE/GOB/20295613620' });
  const certPem = await issueCertificate({ csrPem, profile: 'sign', ca: { certPem: caPem, privateKeyPem: caKeys.privateKeyPem }, now: NOW, validDays: 365 });
  return { keys, certPem, signer: createSigner(keys.privateKeyPem, certPem) };
}

function reasonOf(r: ReturnType<typeof verifyDetached>): string {
  assert.equal(r.ok, false);
  return r.ok ? '' : r.reason;
}

function signedInfoOf(doc: string): string {
  const m = /<ds:SignedInfo[\s\S]*<\/ds:SignedInfo>/.exec(doc);
  assert.ok(m);
  return m[0];
}

describe('signature (detached XML-DSig)', () => {
  let rsa: Material;
  let ec: Material;
  let rsa2: Material;

  before(async () => {
    [rsa, ec, rsa2] = await Promise.all([makeMaterial('rsa-2048'), makeMaterial('ecdsa-p256', 'ecdsa-p256'), makeMaterial('rsa-2048')]);
  });

  it('signs and verifies with RSA and ECDSA; reports the signing certificate', () => {
    for (const m of [rsa, ec]) {
      const doc = signDetached(MESSAGE, m.signer);
      const r = verifyDetached(MESSAGE, doc);
      assert.equal(r.ok, true);
      assert.equal(r.ok && r.certSha256, certSha256(m.certPem));
      assert.equal(r.ok && certSha256(r.certPem), certSha256(m.certPem));
      assert.equal(verifyDetached(MESSAGE, Buffer.from(doc)).ok, true, 'bytes and string both accepted');
    }
    assert.equal(rsa.signer.algorithm, 'rsa-sha256');
    assert.equal(ec.signer.algorithm, 'ecdsa-sha256');
  });

  it('writes the documented structure: exc-c14n, SHA-256 digest of the raw bytes, signature method', () => {
    for (const m of [rsa, ec]) {
      const doc = signDetached(MESSAGE, m.signer);
      assert.ok(doc.startsWith('<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'));
      assert.ok(doc.includes('<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>'));
      assert.ok(doc.includes(`<ds:SignatureMethod Algorithm="${SIGNATURE_METHODS[m.signer.algorithm]}"></ds:SignatureMethod>`));
      assert.ok(doc.includes('<ds:Reference URI="message.xml"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod>'));
      const digest = crypto.createHash('sha256').update(MESSAGE).digest('base64');
      assert.ok(doc.includes(`<ds:DigestValue>${digest}</ds:DigestValue>`));
      assert.doesNotMatch(doc, />\s+</, 'no whitespace between elements');
    }
  });

  it('signs exactly the SignedInfo bytes (checked independently with node:crypto)', () => {
    const rsaDoc = signDetached(MESSAGE, rsa.signer);
    const rsaSig = Buffer.from(/<ds:SignatureValue>([^<]+)</.exec(rsaDoc)![1]!, 'base64');
    assert.ok(crypto.verify('sha256', Buffer.from(signedInfoOf(rsaDoc)), new crypto.X509Certificate(rsa.certPem).publicKey, rsaSig));
    const ecDoc = signDetached(MESSAGE, ec.signer);
    const ecSig = Buffer.from(/<ds:SignatureValue>([^<]+)</.exec(ecDoc)![1]!, 'base64');
    assert.equal(ecSig.length, 64, 'ECDSA value is raw r||s');
    assert.ok(crypto.verify('sha256', Buffer.from(signedInfoOf(ecDoc)), { key: new crypto.X509Certificate(ec.certPem).publicKey, dsaEncoding: 'ieee-p1363' }, ecSig));
  });

  it('Signer.sign returns OpenSSL-form signatures (PKCS#1 v1.5 / DER ECDSA)', () => {
    const data = Buffer.from('hola');
    assert.ok(crypto.verify('sha256', data, new crypto.X509Certificate(ec.certPem).publicKey, ec.signer.sign(data)));
    assert.ok(crypto.verify('sha256', data, new crypto.X509Certificate(rsa.certPem).publicKey, rsa.signer.sign(data)));
  });

  it('uses the given reference URI and refuses a different one at verification', () => {
    const doc = signDetached(MESSAGE, ec.signer, 'request.xml');
    assert.ok(doc.includes('URI="request.xml"'));
    assert.equal(verifyDetached(MESSAGE, doc, 'request.xml').ok, true);
    assert.equal(reasonOf(verifyDetached(MESSAGE, doc)), 'referencia de firma no corresponde');
    assert.throws(() => signDetached(MESSAGE, ec.signer, 'a"b'), (e: unknown) => e instanceof MiisError);
  });

  it('fails when one byte of the message changes', () => {
    for (const m of [rsa, ec]) {
      const doc = signDetached(MESSAGE, m.signer);
      for (const i of [0, 60, MESSAGE.length - 1]) {
        const tampered = Buffer.from(MESSAGE);
        tampered[i] = tampered[i]! ^ 0x20;
        assert.equal(reasonOf(verifyDetached(tampered, doc)), 'el resumen no corresponde al mensaje');
      }
      assert.equal(verifyDetached(MESSAGE.subarray(0, MESSAGE.length - 1), doc).ok, false);
    }
  });

  it('fails with a substituted certificate or a tampered signature value', () => {
    const doc = signDetached(MESSAGE, rsa.signer);
    const otherCert = rsa2.certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const ownCert = /<ds:X509Certificate>([^<]+)</.exec(doc)![1]!;
    assert.equal(reasonOf(verifyDetached(MESSAGE, doc.replace(ownCert, otherCert))), 'valor de firma no válido');
    const ecCert = ec.certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    assert.equal(reasonOf(verifyDetached(MESSAGE, doc.replace(ownCert, ecCert))), 'certificado de firma no utilizable');
    assert.equal(reasonOf(verifyDetached(MESSAGE, doc.replace(ownCert, 'AAAA'))), 'certificado de firma no utilizable');
    const value = /<ds:SignatureValue>([^<]+)</.exec(doc)![1]!;
    const flipped = Buffer.from(value, 'base64');
    flipped[10] = flipped[10]! ^ 0x01;
    assert.equal(reasonOf(verifyDetached(MESSAGE, doc.replace(value, flipped.toString('base64')))), 'valor de firma no válido');
  });

  it('refuses a DER-encoded ECDSA value (XML-DSig requires raw r||s)', () => {
    const doc = signDetached(MESSAGE, ec.signer);
    const der = ec.signer.sign(Buffer.from(signedInfoOf(doc))).toString('base64');
    const value = /<ds:SignatureValue>([^<]+)</.exec(doc)![1]!;
    assert.equal(reasonOf(verifyDetached(MESSAGE, doc.replace(value, der))), 'valor de firma no válido');
  });

  it('refuses unknown or weak algorithms', () => {
    const doc = signDetached(MESSAGE, rsa.signer);
    const sha1 = doc.replace(SIGNATURE_METHODS['rsa-sha256'], 'http://www.w3.org/2000/09/xmldsig#rsa-sha1');
    assert.equal(reasonOf(verifyDetached(MESSAGE, sha1)), 'algoritmo de firma no admitido');
    const c14n = doc.replace('http://www.w3.org/2001/10/xml-exc-c14n#', 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315');
    assert.equal(reasonOf(verifyDetached(MESSAGE, c14n)), 'algoritmo de firma no admitido');
    const digest = doc.replace('http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2000/09/xmldsig#sha1');
    assert.equal(reasonOf(verifyDetached(MESSAGE, digest)), 'algoritmo de firma no admitido');
    // ECDSA method claimed with an RSA certificate
    const cross = doc.replace(SIGNATURE_METHODS['rsa-sha256'], SIGNATURE_METHODS['ecdsa-sha256']);
    assert.equal(verifyDetached(MESSAGE, cross).ok, false);
  });

  it('refuses a SignedInfo that is not byte-for-byte canonical', () => {
    const doc = signDetached(MESSAGE, rsa.signer);
    const variants = [
      doc.replace('<ds:SignatureMethod', ' <ds:SignatureMethod'), // whitespace between children
      doc.replace('<ds:Reference URI="message.xml">', '<ds:Reference  URI="message.xml">'), // whitespace in a tag
      doc.replace('></ds:CanonicalizationMethod>', '/>'), // empty-element form
      doc.replace(/<ds:SignedInfo xmlns:ds="[^"]+">/, '<ds:SignedInfo>'), // namespace left to the parent
      doc.replace(/<ds:CanonicalizationMethod Algorithm="([^"]+)">/, "<ds:CanonicalizationMethod Algorithm='$1'>"), // quote style
      doc.replace(/<ds:Reference URI="message.xml">/, '<ds:Reference Id="r" URI="message.xml">'), // extra attribute
    ];
    for (const v of variants) {
      assert.notEqual(v, doc);
      assert.equal(reasonOf(verifyDetached(MESSAGE, v)), 'SignedInfo no está en forma canónica', v.slice(0, 250));
    }
  });

  it('refuses reordered or extra elements', () => {
    const doc = signDetached(MESSAGE, rsa.signer);
    const c14n = /<ds:CanonicalizationMethod[^>]*><\/ds:CanonicalizationMethod>/.exec(doc)![0];
    const method = /<ds:SignatureMethod[^>]*><\/ds:SignatureMethod>/.exec(doc)![0];
    const reordered = doc.replace(c14n + method, method + c14n);
    assert.equal(reasonOf(verifyDetached(MESSAGE, reordered)), 'estructura de firma no admitida');
    const twoRefs = doc.replace(/(<ds:Reference[\s\S]*<\/ds:Reference>)/, '$1$1');
    assert.equal(reasonOf(verifyDetached(MESSAGE, twoRefs)), 'estructura de firma no admitida');
    const transforms = doc.replace('<ds:DigestMethod', '<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"></ds:Transform></ds:Transforms><ds:DigestMethod');
    assert.equal(reasonOf(verifyDetached(MESSAGE, transforms)), 'estructura de firma no admitida');
    const object = doc.replace('</ds:Signature>', '<ds:Object>x</ds:Object></ds:Signature>');
    assert.equal(reasonOf(verifyDetached(MESSAGE, object)), 'estructura de firma no admitida');
    const otherNs = doc.replace(/xmlns:ds="http:\/\/www.w3.org\/2000\/09\/xmldsig#"/g, 'xmlns:ds="urn:otro"');
    assert.equal(reasonOf(verifyDetached(MESSAGE, otherNs)), 'estructura de firma no admitida');
  });

  it('refuses oversized, malformed and DTD-carrying documents', () => {
    const doc = signDetached(MESSAGE, rsa.signer);
    const big = doc.replace('</ds:Signature>', `<!--${'x'.repeat(65 * 1024)}--></ds:Signature>`);
    assert.equal(reasonOf(verifyDetached(MESSAGE, big)), 'documento de firma no válido');
    assert.equal(reasonOf(verifyDetached(MESSAGE, doc.slice(0, -5))), 'documento de firma no válido');
    assert.equal(reasonOf(verifyDetached(MESSAGE, `<!DOCTYPE x [<!ENTITY e "y">]>${doc}`)), 'documento de firma no válido');
    assert.equal(reasonOf(verifyDetached(MESSAGE, '')), 'documento de firma no válido');
    assert.equal(reasonOf(verifyDetached(MESSAGE, Buffer.from([0xff, 0xfe, 0x3c]))), 'documento de firma no válido');
  });

  it('createSigner refuses a key that does not match the certificate, and garbage', () => {
    const check = (fn: () => unknown): void => {
      assert.throws(fn, (e: unknown) => e instanceof MiisError && e.code === 'Config.InvalidCertificate');
    };
    check(() => createSigner(rsa2.keys.privateKeyPem, rsa.certPem));
    check(() => createSigner(ec.keys.privateKeyPem, rsa.certPem));
    check(() => createSigner('basura', rsa.certPem));
    check(() => createSigner(rsa.keys.privateKeyPem, 'basura'));
  });

  it('RSA signatures are deterministic; ECDSA ones are randomised but all verify', () => {
    assert.equal(signDetached(MESSAGE, rsa.signer), signDetached(MESSAGE, rsa.signer));
    const a = signDetached(MESSAGE, ec.signer);
    const b = signDetached(MESSAGE, ec.signer);
    assert.notEqual(a, b);
    assert.equal(verifyDetached(MESSAGE, a).ok && verifyDetached(MESSAGE, b).ok, true);
  });

  it('verifies a 100 KB message and an empty one', () => {
    const large = crypto.randomBytes(100 * 1024);
    for (const m of [rsa, ec]) {
      assert.equal(verifyDetached(large, signDetached(large, m.signer)).ok, true);
      assert.equal(verifyDetached(Buffer.alloc(0), signDetached(Buffer.alloc(0), m.signer)).ok, true);
    }
  });

  it('the fixed-position reading of our own documents and the parsing path agree, findings included', () => {
    // whitespace between Signature's children is allowed but leaves the exact shape: the parsing path
    const parsed = (doc: string): string => doc.replace('<ds:KeyInfo>', '\n<ds:KeyInfo>');
    const other = signDetached(Buffer.from('otro'), ec.signer);
    const otherValue = /<ds:SignatureValue>([^<]*)</.exec(other)![1]!;
    const otherCert = /<ds:X509Certificate>([^<]*)</.exec(signDetached(MESSAGE, rsa2.signer))![1]!;
    for (const m of [rsa, ec]) {
      const doc = signDetached(MESSAGE, m.signer);
      const value = /<ds:SignatureValue>([^<]*)</.exec(doc)![1]!;
      const cert = /<ds:X509Certificate>([^<]*)</.exec(doc)![1]!;
      const variants: [string, Buffer, string][] = [
        ['own', MESSAGE, doc],
        ['message changed', Buffer.from('x'), doc],
        ['digest given for another message', MESSAGE, doc],
        ['value of another message', MESSAGE, doc.replace(value, m === ec ? otherValue : value.slice(0, -4) + 'AAA=')],
        ['empty value', MESSAGE, doc.replace(value, '')],
        ['certificate of another key', MESSAGE, doc.replace(cert, otherCert)],
        ['certificate not base64', MESSAGE, doc.replace(cert, cert.slice(0, 40))],
        ['digest not 32 bytes', MESSAGE, doc.replace(/<ds:DigestValue>[^<]*</, `<ds:DigestValue>${'A'.repeat(44)}<`)],
      ];
      for (const [what, msg, d] of variants) {
        const digest = what === 'digest given for another message' ? crypto.createHash('sha256').update('x').digest() : undefined;
        const fast = verifyDetached(msg, d, undefined, digest);
        const slow = verifyDetached(msg, parsed(d), undefined, digest);
        assert.deepEqual(fast, slow, what);
        assert.deepEqual(verifyDetached(msg, Buffer.from(d), undefined, digest), fast, `${what} (bytes)`);
        assert.equal(fast.ok, what === 'own', what);
      }
    }
  });
});
