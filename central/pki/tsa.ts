/**
 * Central's RFC 3161 time-stamping authority. Its certificate is issued by the instance CA with
 * extKeyUsage timeStamping (critical, the only usage) and key usage digitalSignature +
 * nonRepudiation, as RFC 3161 §2.3 requires. The key lives in <dir>/keys/tsa-key.pem (0600), the
 * certificate in <dir>/tsa.pem; both are created on first start when missing.
 * `answerTimeStampRequest` is the pure core of POST /tsa.
 */
import 'reflect-metadata';
import * as crypto from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { generateKeyPair, type CaMaterial } from '../../core/pki.js';
import { issueTimeStampResponse, OID, readTimeStampRequest, rejectionResponse, TSA_POLICY_OID, type TsaMaterial } from '../../core/tsp.js';

export const TSA_CERT_VALID_DAYS = 1825;
export const TSA_CONTENT_TYPE = 'application/timestamp-reply';

x509.cryptoProvider.set(crypto.webcrypto as Crypto);

async function webKeys(privateKeyPem: string): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; alg: Algorithm }> {
  const key = crypto.createPrivateKey(privateKeyPem);
  const rsa = key.asymmetricKeyType === 'rsa';
  const params = rsa ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: 'P-256' };
  const alg = rsa ? params : ({ name: 'ECDSA', hash: 'SHA-256' } as Algorithm);
  const subtle = crypto.webcrypto.subtle;
  const privateKey = await subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), params, false, ['sign']);
  const publicKey = await subtle.importKey('spki', crypto.createPublicKey(key).export({ type: 'spki', format: 'der' }), params, true, ['verify']);
  return { privateKey, publicKey, alg };
}

/** Issue a TSA certificate for `publicKeyPem` with the instance CA. */
export async function issueTsaCertificate(ca: CaMaterial, tsaKeys: { privateKeyPem: string; publicKeyPem: string }, opts: { now: Date; operatorName: string; instance: string }): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKeys = await webKeys(ca.privateKeyPem);
  const subjectKeys = await webKeys(tsaKeys.privateKeyPem);
  const notBefore = new Date(Math.floor(opts.now.getTime() / 1000) * 1000);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: crypto.randomBytes(16).toString('hex').replace(/^./, '4'),
    subject: `C=PE, O=${opts.operatorName.replace(/[,=+<>#;"\\]/g, ' ')}, CN=MIIS ${opts.instance} TSA`,
    issuer: caCert.subjectName,
    publicKey: subjectKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: caKeys.alg,
    notBefore,
    notAfter: new Date(notBefore.getTime() + TSA_CERT_VALID_DAYS * 86_400_000),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true),
      new x509.ExtendedKeyUsageExtension([OID.timeStamping], true),
      await x509.SubjectKeyIdentifierExtension.create(subjectKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return cert.toString('pem');
}

export function tsaPaths(dir: string): { key: string; cert: string } {
  return { key: join(dir, 'keys', 'tsa-key.pem'), cert: join(dir, 'tsa.pem') };
}

/** Load the TSA key and certificate, creating them with the CA on first use. */
export async function ensureTsaMaterial(dir: string, ca: CaMaterial, opts: { now: Date; operatorName: string; instance: string }): Promise<TsaMaterial> {
  const p = tsaPaths(dir);
  if (!existsSync(p.key) || !existsSync(p.cert)) {
    const keys = await generateKeyPair(crypto.createPrivateKey(ca.privateKeyPem).asymmetricKeyType === 'rsa' ? 'rsa-2048' : 'ecdsa-p256');
    const certPem = await issueTsaCertificate(ca, keys, opts);
    writeFileSync(p.key, keys.privateKeyPem, { mode: 0o600 });
    chmodSync(p.key, 0o600);
    writeFileSync(p.cert, certPem, { mode: 0o644 });
  }
  return { privateKeyPem: readFileSync(p.key, 'utf8'), certPem: readFileSync(p.cert, 'utf8') };
}

/** The DER TimeStampResp for a DER TimeStampReq: granted, or rejected with badDataFormat / badAlg. */
export function answerTimeStampRequest(body: Buffer, tsa: TsaMaterial, now: Date): Buffer {
  try {
    const request = readTimeStampRequest(body);
    const serial = BigInt(`0x${crypto.randomBytes(15).toString('hex')}`) + 1n;
    return issueTimeStampResponse(request, tsa, { now, serial });
  } catch (err) {
    const alg = err instanceof Error && /algoritmo/.test(err.message);
    return rejectionResponse(alg ? 0 : 5); // badAlg(0) | badDataFormat(5)
  }
}

export { TSA_POLICY_OID };
