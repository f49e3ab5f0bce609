/**
 * RFC 3161 time-stamps: request, token issuing (the TSA side) and token verification, over
 * SHA-256 only. Tokens are CMS SignedData with the TSTInfo as encapsulated content and the
 * signed attributes contentType, messageDigest and ESS signingCertificateV2 (RFC 5816), so
 * `openssl ts -verify -digest <hex> -in token.tsr -CAfile ca.pem -untrusted tsa.pem` accepts them.
 * Signing and verifying use node:crypto; ASN.1 is built and read with core/der.ts.
 */
import * as crypto from 'node:crypto';
import { MiisError } from './errors.js';
import { algorithmId, bool, child, explicit, generalizedTime, int, octets, oid, readDer, readGeneralizedTime, readIntHex, readOid, seq, set, tlv, type DerNode } from './der.js';
import { OID, TSA_POLICY_OID } from './oids.js';
import { certDer, verifyChain } from './pki.js';

export { OID, TSA_POLICY_OID };

const MAX_TOKEN_BYTES = 64 * 1024;

export interface TimeStampRequest {
  readonly digest: Buffer;
  readonly nonce?: bigint | undefined;
  readonly certReq: boolean;
}

/** DER TimeStampReq over a SHA-256 digest, asking for the TSA certificate in the token. */
export function createTimeStampRequest(digest: Uint8Array, nonce?: bigint): Buffer {
  if (digest.length !== 32) throw new MiisError('Config.InvalidInput', 'el resumen a sellar debe ser SHA-256 (32 bytes)');
  return seq(int(1), messageImprint(digest), ...(nonce === undefined ? [] : [int(nonce)]), bool(true));
}

function messageImprint(digest: Uint8Array): Buffer {
  return seq(algorithmId(OID.sha256), octets(digest));
}

/** Read a TimeStampReq (SHA-256 only). Throws MiisError('Config.InvalidInput') on anything else. */
export function readTimeStampRequest(der: Uint8Array): TimeStampRequest {
  const root = readDer(der);
  if (root.tag !== 0x30 || readIntHex(child(root, 0, 0x02)) !== '01') throw new MiisError('Config.InvalidInput', 'versión de solicitud de sello no admitida');
  const imprint = readImprint(child(root, 1, 0x30));
  let nonce: bigint | undefined;
  let certReq = false;
  for (const c of root.children.slice(2)) {
    if (c.tag === 0x02) nonce = BigInt(`0x${readIntHex(c)}`);
    else if (c.tag === 0x01) certReq = c.value[0] !== 0;
    else if (c.tag === 0x06) throw new MiisError('Config.InvalidInput', 'política de sello no admitida');
  }
  return { digest: imprint, nonce, certReq };
}

function readImprint(node: DerNode): Buffer {
  const alg = readOid(child(child(node, 0, 0x30), 0, 0x06));
  if (alg !== OID.sha256) throw new MiisError('Config.InvalidInput', 'algoritmo de resumen no admitido (use SHA-256)');
  const digest = child(node, 1, 0x04).value;
  if (digest.length !== 32) throw new MiisError('Config.InvalidInput', 'resumen SHA-256 de longitud incorrecta');
  return Buffer.from(digest);
}

export interface TsaMaterial {
  readonly certPem: string;
  readonly privateKeyPem: string;
}

/** Issuer Name and serial number INTEGER (raw TLVs) of a certificate. */
export function issuerAndSerial(certPemOrDer: string | Buffer): { issuer: Buffer; serial: Buffer } {
  const tbs = child(readDer(certDer(certPemOrDer)), 0, 0x30);
  const offset = tbs.children[0]?.tag === 0xa0 ? 1 : 0;
  return { serial: child(tbs, offset, 0x02).raw, issuer: child(tbs, offset + 2, 0x30).raw };
}

function signatureAlgorithmFor(key: crypto.KeyObject): Buffer {
  if (key.asymmetricKeyType === 'rsa') return algorithmId(OID.rsaSha256);
  if (key.asymmetricKeyType === 'ec') return algorithmId(OID.ecdsaSha256, false);
  throw new MiisError('Config.InvalidCertificate', 'clave de la TSA no admitida (use RSA o ECDSA P-256)');
}

/** A granted TimeStampResp carrying a token for the request. Serial numbers come from the caller. */
export function issueTimeStampResponse(request: TimeStampRequest, tsa: TsaMaterial, opts: { now: Date; serial: bigint }): Buffer {
  const key = crypto.createPrivateKey(tsa.privateKeyPem);
  const der = certDer(tsa.certPem);
  const tstInfo = seq(
    int(1), oid(TSA_POLICY_OID), messageImprint(request.digest), int(opts.serial), generalizedTime(opts.now),
    ...(request.nonce === undefined ? [] : [int(request.nonce)]),
  );
  const essCertIdV2 = seq(octets(crypto.createHash('sha256').update(der).digest())); // hashAlgorithm DEFAULT sha256
  const attrs = [
    seq(oid(OID.contentType), set(oid(OID.tstInfo))),
    seq(oid(OID.messageDigest), set(octets(crypto.createHash('sha256').update(tstInfo).digest()))),
    seq(oid(OID.signingCertificateV2), set(seq(seq(essCertIdV2)))),
  ];
  const sortedAttrs = [...attrs].sort(Buffer.compare);
  const signedAttrsSet = tlv(0x31, ...sortedAttrs);
  const signature = crypto.sign('sha256', signedAttrsSet, key);
  const { issuer, serial } = issuerAndSerial(der);
  const signerInfo = seq(
    int(1), seq(issuer, serial), algorithmId(OID.sha256),
    tlv(0xa0, ...sortedAttrs),
    signatureAlgorithmFor(key), octets(signature),
  );
  const signedData = seq(
    int(3), set(algorithmId(OID.sha256)),
    seq(oid(OID.tstInfo), explicit(0, octets(tstInfo))),
    ...(request.certReq ? [tlv(0xa0, der)] : []),
    set(signerInfo),
  );
  const token = seq(oid(OID.signedData), explicit(0, signedData));
  return seq(seq(int(0)), token);
}

/** A rejection TimeStampResp (status 2, with a failInfo bit). */
export function rejectionResponse(failBit: number): Buffer {
  const bits = Buffer.alloc(4);
  bits[Math.floor(failBit / 8)] = 0x80 >> failBit % 8;
  const used = Math.floor(failBit / 8) + 1;
  return seq(seq(int(2), tlv(0x03, Buffer.from([7 - (failBit % 8)]), bits.subarray(0, used))));
}

export interface TokenInfo {
  readonly genTime: Date;
  readonly serialHex: string;
  readonly digest: Buffer;
  readonly policy: string;
  /** PEM of the TSA certificate that signed the token (from the token or the one given). */
  readonly tsaCertDer: Buffer;
}

export type TokenVerdict = ({ readonly ok: true } & TokenInfo) | { readonly ok: false; readonly reason: string };

/** The token (ContentInfo) of a TimeStampResp, refusing any status but granted. */
export function tokenFromResponse(respDer: Uint8Array): Buffer {
  if (respDer.length > MAX_TOKEN_BYTES) throw new MiisError('Config.InvalidInput', 'respuesta de sello demasiado grande');
  const resp = readDer(respDer);
  const status = readIntHex(child(child(resp, 0, 0x30), 0, 0x02));
  if (status !== '00' && status !== '01') throw new MiisError('Config.InvalidInput', `la TSA rechazó la solicitud (estado ${Number.parseInt(status, 16)})`);
  return Buffer.from(child(resp, 1, 0x30).raw);
}

/** A token or a full TimeStampResp: returns the token. */
function asToken(der: Uint8Array): DerNode {
  const root = readDer(der);
  if (root.children[0]?.tag === 0x06) return root;
  return readDer(tokenFromResponse(der));
}

/**
 * Verify a time-stamp token (or response) over `expectedDigest`: imprint, signature, ESS
 * certificate binding, TSA certificate chain to `trustedCaPems` at genTime and its
 * timeStamping usage. Never throws; says why it fails (Spanish).
 */
export function verifyTimeStampToken(tokenOrResp: Uint8Array, expectedDigest: Uint8Array, trustedCaPems: readonly string[], tsaCertPem?: string): TokenVerdict {
  try {
    const token = asToken(tokenOrResp);
    if (token.tag !== 0x30 || token.children.length !== 2 || readOid(child(token, 0, 0x06)) !== OID.signedData) return { ok: false, reason: 'el sello no es CMS SignedData' };
    const sd = child(child(token, 1, 0xa0), 0, 0x30);
    if (readIntHex(child(sd, 0, 0x02)) !== '03' || !child(sd, 1, 0x31).raw.equals(set(algorithmId(OID.sha256)))) return { ok: false, reason: 'estructura SignedData no admitida' };
    const encap = child(sd, 2, 0x30);
    if (readOid(child(encap, 0, 0x06)) !== OID.tstInfo) return { ok: false, reason: 'el sello no contiene TSTInfo' };
    const tstBytes = child(child(encap, 1, 0xa0), 0, 0x04).value;
    const tst = readDer(tstBytes);
    if (tst.tag !== 0x30 || readIntHex(child(tst, 0, 0x02)) !== '01') return { ok: false, reason: 'versión de TSTInfo no admitida' };
    const digest = readImprint(child(tst, 2, 0x30));
    const serialHex = readIntHex(child(tst, 3, 0x02));
    const genTime = readGeneralizedTime(child(tst, 4, 0x18));
    const policy = readOid(child(tst, 1, 0x06));
    if (!digest.equals(Buffer.from(expectedDigest))) return { ok: false, reason: 'el sello de tiempo corresponde a otro resumen' };
    const certs = sd.children.find((c) => c.tag === 0xa0);
    const signerInfos = sd.children[sd.children.length - 1]!;
    if (signerInfos.tag !== 0x31 || signerInfos.children.length !== 1) return { ok: false, reason: 'el sello debe tener exactamente un firmante' };
    const si = child(signerInfos, 0, 0x30);
    const sid = child(si, 1, 0x30);
    if (si.children.length !== 6 || readIntHex(child(si, 0, 0x02)) !== '01' || !child(si, 2, 0x30).raw.equals(algorithmId(OID.sha256))) return { ok: false, reason: 'estructura SignerInfo no admitida' };
    const sigAlg = readOid(child(child(si, 4, 0x30), 0, 0x06));
    if (sigAlg !== OID.ecdsaSha256 && sigAlg !== OID.rsaSha256 && sigAlg !== OID.rsaEncryption) return { ok: false, reason: 'algoritmo de firma del sello no admitido' };
    let signerDer: Buffer | undefined = tsaCertPem === undefined ? undefined : certDer(tsaCertPem);
    if (signerDer === undefined && certs !== undefined) {
      for (const c of certs.children) {
        const ids = issuerAndSerial(Buffer.from(c.raw));
        if (Buffer.concat([ids.issuer, ids.serial]).equals(sid.value)) signerDer = Buffer.from(c.raw);
      }
    }
    if (signerDer === undefined) return { ok: false, reason: 'no se encuentra el certificado de la TSA' };
    const ids = issuerAndSerial(signerDer);
    if (!Buffer.concat([ids.issuer, ids.serial]).equals(sid.value)) return { ok: false, reason: 'el certificado de la TSA no es el firmante del sello' };
    const attrsNode = child(si, 3, 0xa0);
    const attrs = new Map<string, DerNode>();
    for (const a of attrsNode.children) attrs.set(readOid(child(a, 0, 0x06)), child(child(a, 1, 0x31), 0));
    const md = attrs.get(OID.messageDigest);
    if (md === undefined || !md.value.equals(crypto.createHash('sha256').update(tstBytes).digest())) return { ok: false, reason: 'el resumen firmado no corresponde al TSTInfo' };
    const ess = attrs.get(OID.signingCertificateV2);
    const essHash = ess === undefined ? undefined : child(child(child(ess, 0, 0x30), 0, 0x30), 0).value;
    if (essHash === undefined || !essHash.equals(crypto.createHash('sha256').update(signerDer).digest())) return { ok: false, reason: 'el atributo signingCertificateV2 no corresponde al certificado de la TSA' };
    const signed = Buffer.concat([Buffer.from([0x31]), attrsNode.raw.subarray(1)]);
    const cert = new crypto.X509Certificate(signerDer);
    const sigValue = child(si, 5, 0x04).value;
    if (!crypto.verify('sha256', signed, cert.publicKey, sigValue)) return { ok: false, reason: 'la firma del sello de tiempo no es válida' };
    if (!hasTimeStampingUsage(signerDer)) return { ok: false, reason: 'el certificado de la TSA no tiene el uso extendido timeStamping (crítico)' };
    const chain = verifyChain(cert.toString(), trustedCaPems, genTime);
    if (!chain.ok) return { ok: false, reason: `certificado de la TSA: ${chain.reason}` };
    return { ok: true, genTime, serialHex, digest, policy, tsaCertDer: signerDer };
  } catch (err) {
    return { ok: false, reason: `sello de tiempo ilegible: ${err instanceof Error ? err.message : String(err)}` };
  }
}

const EKU_OID = OID.extKeyUsage;

/** extKeyUsage present, critical and exactly timeStamping (what RFC 3161 §2.3 requires). */
export function hasTimeStampingUsage(certDerBytes: Buffer): boolean {
  const tbs = child(readDer(certDerBytes), 0, 0x30);
  const extsWrap = tbs.children.find((c) => c.tag === 0xa3);
  if (extsWrap === undefined) return false;
  for (const ext of child(extsWrap, 0, 0x30).children) {
    if (readOid(child(ext, 0, 0x06)) !== EKU_OID) continue;
    const critical = ext.children.length === 3 && ext.children[1]!.tag === 0x01 && ext.children[1]!.value[0] !== 0;
    const usages = readDer(ext.children[ext.children.length - 1]!.value).children.map(readOid);
    return critical && usages.length === 1 && usages[0] === OID.timeStamping;
  }
  return false;
}
