/**
 * RFC 6960 OCSP, the parts MIIS needs: reading requests and building signed basic responses
 * (central's responder, signed directly by the issuing CA), and building requests and checking
 * responses (nodes asking an external CA's responder). ASN.1 via core/der.ts, crypto via node:crypto.
 */
import * as crypto from 'node:crypto';
import { MiisError } from './errors.js';
import { algorithmId, bitString, child, enumerated, explicit, generalizedTime, octets, oid, readDer, readGeneralizedTime, readIntHex, readOid, seq, tlv, type DerNode } from './der.js';
import { certDer } from './pki.js';
import { OID } from './oids.js';

export type CertStatus =
  | { readonly status: 'good' }
  | { readonly status: 'revoked'; readonly revokedAt: Date; readonly reasonCode?: number | undefined }
  | { readonly status: 'unknown' };

export interface OcspCertId {
  readonly hashAlgorithm: 'sha1' | 'sha256';
  readonly issuerNameHash: Buffer;
  readonly issuerKeyHash: Buffer;
  readonly serialHex: string;
  /** The CertID TLV as received (echoed in the response). */
  readonly raw: Buffer;
}

export interface OcspRequestInfo {
  readonly certIds: readonly OcspCertId[];
  /** The whole nonce Extension TLV, echoed in the response. */
  readonly nonceExtension?: Buffer | undefined;
}

/** tbsCertificate children of a certificate, with the index offset of the optional version. */
function tbsOf(der: Buffer): { tbs: DerNode; o: number } {
  const tbs = child(readDer(der), 0, 0x30);
  return { tbs, o: tbs.children[0]?.tag === 0xa0 ? 1 : 0 };
}

/** Subject Name DER and public key bits of a certificate (what CertID hashes for the issuer). */
function issuerParts(issuerDer: Buffer): { name: Buffer; keyBits: Buffer } {
  const { tbs, o } = tbsOf(issuerDer);
  return { name: child(tbs, o + 4, 0x30).raw, keyBits: child(child(tbs, o + 5, 0x30), 1, 0x03).value.subarray(1) };
}

const hash = (alg: 'sha1' | 'sha256', data: Buffer): Buffer => crypto.createHash(alg).update(data).digest();

/** Does this CertID name a certificate issued by `issuerPem`? */
export function certIdMatchesIssuer(id: OcspCertId, issuerPem: string): boolean {
  const p = issuerParts(certDer(issuerPem));
  return hash(id.hashAlgorithm, p.name).equals(id.issuerNameHash) && hash(id.hashAlgorithm, p.keyBits).equals(id.issuerKeyHash);
}

export function readOcspRequest(der: Uint8Array): OcspRequestInfo {
  const tbs = child(readDer(der), 0, 0x30);
  let i = 0;
  while (tbs.children[i]?.tag === 0xa0 || tbs.children[i]?.tag === 0xa1) i += 1;
  const list = child(tbs, i, 0x30);
  const certIds = list.children.map((r) => {
    const c = child(r, 0, 0x30);
    const alg = readOid(child(child(c, 0, 0x30), 0, 0x06));
    if (alg !== OID.sha1 && alg !== OID.sha256) throw new MiisError('Config.InvalidInput', 'algoritmo de CertID no admitido');
    return {
      hashAlgorithm: alg === OID.sha1 ? 'sha1' as const : 'sha256' as const,
      issuerNameHash: Buffer.from(child(c, 1, 0x04).value), issuerKeyHash: Buffer.from(child(c, 2, 0x04).value),
      serialHex: readIntHex(child(c, 3, 0x02)), raw: Buffer.from(c.raw),
    };
  });
  if (certIds.length === 0 || certIds.length > 32) throw new MiisError('Config.InvalidInput', 'la solicitud OCSP debe consultar de 1 a 32 certificados');
  const extsWrap = tbs.children.find((c) => c.tag === 0xa2);
  const nonce = extsWrap === undefined ? undefined : child(extsWrap, 0, 0x30).children.find((e) => readOid(child(e, 0, 0x06)) === OID.ocspNonce);
  return { certIds, nonceExtension: nonce === undefined ? undefined : Buffer.from(nonce.raw) };
}

function statusDer(s: CertStatus): Buffer {
  if (s.status === 'good') return Buffer.from([0x80, 0x00]);
  if (s.status === 'unknown') return Buffer.from([0x82, 0x00]);
  return tlv(0xa1, generalizedTime(s.revokedAt), ...(s.reasonCode === undefined ? [] : [explicit(0, enumerated(s.reasonCode))]));
}

function signatureAlgorithm(key: crypto.KeyObject): Buffer {
  return key.asymmetricKeyType === 'rsa' ? algorithmId(OID.rsaSha256) : algorithmId(OID.ecdsaSha256, false);
}

/** A successful OCSP response signed by `signer` (the issuing CA itself), valid for `validityMs`. */
export function buildOcspResponse(
  request: OcspRequestInfo,
  statusOf: (id: OcspCertId) => CertStatus,
  signer: { certPem: string; privateKeyPem: string },
  opts: { now: Date; validityMs: number },
): Buffer {
  const key = crypto.createPrivateKey(signer.privateKeyPem);
  const der = certDer(signer.certPem);
  const subject = child(tbsOf(der).tbs, tbsOf(der).o + 4, 0x30).raw;
  const next = new Date(opts.now.getTime() + opts.validityMs);
  const singles = request.certIds.map((id) => seq(id.raw, statusDer(statusOf(id)), generalizedTime(opts.now), explicit(0, generalizedTime(next))));
  const tbs = seq(
    explicit(1, subject), generalizedTime(opts.now), seq(...singles),
    ...(request.nonceExtension === undefined ? [] : [explicit(1, seq(request.nonceExtension))]),
  );
  const basic = seq(tbs, signatureAlgorithm(key), bitString(crypto.sign('sha256', tbs, key)), explicit(0, seq(der)));
  return seq(enumerated(0), explicit(0, seq(oid(OID.ocspBasic), octets(basic))));
}

/** An error OCSP response (1 malformedRequest, 2 internalError, 6 unauthorized). */
export function ocspErrorResponse(status: 1 | 2 | 6): Buffer {
  return seq(enumerated(status));
}

/** DER OCSPRequest for one certificate (SHA-1 CertID, as responders expect), with a nonce. */
export function createOcspRequest(certPem: string, issuerPem: string, nonce: Buffer): Buffer {
  const p = issuerParts(certDer(issuerPem));
  const { tbs, o } = tbsOf(certDer(certPem));
  const certId = seq(algorithmId(OID.sha1), octets(hash('sha1', p.name)), octets(hash('sha1', p.keyBits)), child(tbs, o, 0x02).raw);
  const nonceExt = seq(oid(OID.ocspNonce), octets(octets(nonce)));
  return seq(seq(seq(seq(certId)), explicit(2, seq(nonceExt))));
}

export type OcspVerdict =
  | { readonly ok: true; readonly status: CertStatus; readonly thisUpdate: Date; readonly nextUpdate?: Date | undefined }
  | { readonly ok: false; readonly reason: string };

/**
 * Check a response for `certPem` issued by `issuerPem`: signed by the issuer or by a responder
 * certificate the issuer delegated (extKeyUsage OCSPSigning), matching CertID, fresh (thisUpdate
 * no older than `maxAgeMs`, nextUpdate not passed), nonce echoed when given.
 */
export function verifyOcspResponse(der: Uint8Array, certPem: string, issuerPem: string, opts: { now: Date; maxAgeMs: number; nonce?: Buffer }): OcspVerdict {
  try {
    const resp = readDer(der);
    const status = child(resp, 0, 0x0a).value[0];
    if (status !== 0) return { ok: false, reason: `el respondedor OCSP devolvió el estado ${status ?? '?'}` };
    const bytes = child(child(resp, 1, 0xa0), 0, 0x30);
    if (readOid(child(bytes, 0, 0x06)) !== OID.ocspBasic) return { ok: false, reason: 'respuesta OCSP no básica' };
    const basic = readDer(child(bytes, 1, 0x04).value);
    const tbs = child(basic, 0, 0x30);
    const sig = child(basic, 2, 0x03).value.subarray(1);
    const issuer = new crypto.X509Certificate(certDer(issuerPem));
    let signerKey = issuer.publicKey;
    const certs = basic.children.find((c) => c.tag === 0xa0);
    if (!crypto.verify('sha256', tbs.raw, signerKey, sig)) {
      const delegated = certs === undefined ? [] : child(certs, 0, 0x30).children.map((c) => new crypto.X509Certificate(c.raw));
      const responder = delegated.find((c) => c.checkIssued(issuer) && c.verify(issuer.publicKey) && (c.keyUsage ?? []).includes(OID.ocspSigning));
      if (responder === undefined || !crypto.verify('sha256', tbs.raw, responder.publicKey, sig)) return { ok: false, reason: 'la firma de la respuesta OCSP no es válida' };
      signerKey = responder.publicKey;
    }
    let i = tbs.children[0]?.tag === 0xa0 ? 2 : 1;
    i += 1; // producedAt
    const singles = child(tbs, i, 0x30).children;
    // responseExtensions [1] come after the responses (responderID byName is also tagged [1])
    const nonceWrap = tbs.children.slice(i + 1).find((c) => c.tag === 0xa1);
    if (opts.nonce !== undefined && nonceWrap !== undefined) {
      const ext = child(nonceWrap, 0, 0x30).children.find((e) => readOid(child(e, 0, 0x06)) === OID.ocspNonce);
      if (ext !== undefined && !child(ext, ext.children.length - 1, 0x04).value.equals(octets(opts.nonce))) return { ok: false, reason: 'el nonce de la respuesta OCSP no corresponde' };
    }
    const serial = readIntHex(child(tbsOf(certDer(certPem)).tbs, tbsOf(certDer(certPem)).o, 0x02));
    for (const s of singles) {
      const idNode = child(s, 0, 0x30);
      const alg = readOid(child(child(idNode, 0, 0x30), 0, 0x06));
      const id: OcspCertId = {
        hashAlgorithm: alg === OID.sha256 ? 'sha256' : 'sha1', issuerNameHash: child(idNode, 1, 0x04).value, issuerKeyHash: child(idNode, 2, 0x04).value,
        serialHex: readIntHex(child(idNode, 3, 0x02)), raw: idNode.raw,
      };
      if (id.serialHex !== serial || !certIdMatchesIssuer(id, issuerPem)) continue;
      const st = child(s, 1);
      const thisUpdate = readGeneralizedTime(child(s, 2, 0x18));
      const nextWrap = s.children.find((c) => c.tag === 0xa0);
      const nextUpdate = nextWrap === undefined ? undefined : readGeneralizedTime(child(nextWrap, 0, 0x18));
      const t = opts.now.getTime();
      if (thisUpdate.getTime() > t + 5 * 60_000) return { ok: false, reason: 'la respuesta OCSP tiene fecha futura' };
      if (t - thisUpdate.getTime() > opts.maxAgeMs) return { ok: false, reason: 'la respuesta OCSP es demasiado antigua' };
      if (nextUpdate !== undefined && nextUpdate.getTime() < t) return { ok: false, reason: 'la respuesta OCSP está vencida (nextUpdate)' };
      let status: CertStatus;
      if (st.tag === 0x80) status = { status: 'good' };
      else if (st.tag === 0xa1) {
        const reason = st.children.find((c) => c.tag === 0xa0);
        status = { status: 'revoked', revokedAt: readGeneralizedTime(child(st, 0, 0x18)), reasonCode: reason === undefined ? undefined : child(reason, 0, 0x0a).value[0] };
      } else status = { status: 'unknown' };
      return { ok: true, status, thisUpdate, nextUpdate };
    }
    return { ok: false, reason: 'la respuesta OCSP no trata de este certificado' };
  } catch (err) {
    return { ok: false, reason: `respuesta OCSP ilegible: ${err instanceof Error ? err.message : String(err)}` };
  }
}
