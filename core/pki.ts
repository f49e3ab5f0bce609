/**
 * MIIS PKI: key pairs, CSRs, the instance CA and the three certificate profiles.
 *
 *   auth  TLS authentication of a node (mTLS between nodes): digitalSignature (+keyEncipherment
 *         for RSA), extKeyUsage serverAuth + clientAuth, SAN from the request.
 *   sign  a member's message-signing key: digitalSignature + nonRepudiation, no TLS EKU. The
 *         subject serialNumber attribute (2.5.4.5) names the member: INSTANCE/CLASS/CODE.
 *   conf  central's global-configuration signing key: digitalSignature + nonRepudiation.
 *
 * Every certificate MIIS issues also carries a certificate policy under the MIIS OID arc (a
 * UUID arc, ITU-T X.667: 2.25.<uuid>) naming its profile, so `sign` and `conf` certificates,
 * which share key usages, cannot be confused. Certificates from an external CA (e.g. RENIEC's
 * ECEP) have no MIIS policy; their profile is inferred from key usages.
 *
 * Generation (CA, CSR, issuing) uses @peculiar/x509 on WebCrypto and is not hot: it is loaded
 * (with reflect-metadata, ~18 MB of RSS) on the first call of an async generation function, so
 * a node that only serves never loads it. Reading (`certificateInfo`, `verifyChain`,
 * `certSha256`) uses node:crypto and core/cert-read.ts and caches parsed results by the
 * certificate's SHA-256, so hot-path callers pay the ASN.1 parsing once.
 */
import * as crypto from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { readCertificate, type CertFields } from './cert-read.js';
import { encodeOidDer } from './der.js';
import { MiisError } from './errors.js';
import { MIIS_OID_ARC, OID, PROFILE_POLICY_OIDS } from './oids.js';

let x509Module: Promise<typeof X509> | undefined;
/** @peculiar/x509 on node's WebCrypto, loaded once on first use (generation only). */
function loadX509(): Promise<typeof X509> {
  x509Module ??= (async () => {
    await import('reflect-metadata'); // @peculiar/x509 (tsyringe) needs the Reflect metadata API loaded first
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(crypto.webcrypto as Crypto);
    return m;
  })();
  return x509Module;
}

export type KeyAlgorithm = 'rsa-2048' | 'ecdsa-p256';
export const KEY_ALGORITHMS = ['rsa-2048', 'ecdsa-p256'] as const satisfies readonly KeyAlgorithm[];

export interface KeyPairPem {
  /** PKCS#8 PEM. */
  readonly privateKeyPem: string;
  /** SPKI PEM. */
  readonly publicKeyPem: string;
}

export interface CertSubject {
  readonly organization: string;
  readonly commonName: string;
  /** Subject serialNumber attribute (2.5.4.5); for signing certificates the member id. */
  readonly serialNumber?: string;
  /** ISO 3166 country code; default 'PE'. */
  readonly country?: string;
}

export type CertProfile = 'auth' | 'sign' | 'conf';
export const CERT_PROFILES = ['auth', 'sign', 'conf'] as const satisfies readonly CertProfile[];

export interface CaMaterial {
  readonly certPem: string;
  readonly privateKeyPem: string;
}

export interface CertInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly commonName?: string;
  readonly organization?: string;
  /** Subject serialNumber attribute; for member signing certificates INSTANCE/CLASS/CODE. */
  readonly subjectSerialNumber?: string;
  readonly serialNumberHex: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Lowercase hex SHA-256 of the DER. */
  readonly sha256: string;
  readonly profile: CertProfile | 'ca' | 'other';
  readonly keyAlgorithm: KeyAlgorithm | 'other';
}

export { MIIS_OID_ARC, PROFILE_POLICY_OIDS };

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IPv4 dotted quad or an IPv6 address (checked by the WHATWG URL parser: no I/O). */
export function isIpAddress(text: string): boolean {
  if (IPV4.test(text)) return true;
  if (!text.includes(':') || text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  try {
    return new URL(`http://[${text}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

const POLICY_OID_DER: Readonly<Record<CertProfile, Buffer>> = {
  auth: encodeOidDer(PROFILE_POLICY_OIDS.auth),
  sign: encodeOidDer(PROFILE_POLICY_OIDS.sign),
  conf: encodeOidDer(PROFILE_POLICY_OIDS.conf),
};

const OID_SERIAL_NUMBER = OID.serialNumber;
const MAX_CSR_PEM = 16 * 1024;
const MAX_CERT_PEM = 64 * 1024;
const DAY_MS = 86_400_000;
const CACHE_LIMIT = 2048;

// --- keys ------------------------------------------------------------------------------------

export async function generateKeyPair(alg: KeyAlgorithm): Promise<KeyPairPem> {
  const encoding = {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  } as const;
  const pair = await new Promise<{ publicKey: string; privateKey: string }>((resolve, reject) => {
    const done = (err: Error | null, publicKey: string, privateKey: string): void => {
      if (err) reject(err);
      else resolve({ publicKey, privateKey });
    };
    if (alg === 'rsa-2048') crypto.generateKeyPair('rsa', { modulusLength: 2048, ...encoding }, done);
    else if (alg === 'ecdsa-p256') crypto.generateKeyPair('ec', { namedCurve: 'prime256v1', ...encoding }, done);
    else reject(new MiisError('Config.InvalidInput', `algoritmo de clave no admitido: ${String(alg)}`));
  });
  return { privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}

/** Key algorithm of a node:crypto key (public or private). */
export function keyAlgorithmOf(key: crypto.KeyObject): KeyAlgorithm | 'other' {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && details?.modulusLength === 2048) return 'rsa-2048';
  if (key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1') return 'ecdsa-p256';
  return 'other';
}

interface WebKeyParams {
  readonly importParams: RsaHashedImportParams | EcKeyImportParams;
  readonly signingAlgorithm: Algorithm | EcdsaParams;
}

function webKeyParamsOf(key: crypto.KeyObject): WebKeyParams {
  if (key.asymmetricKeyType === 'rsa') {
    const rsa = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importParams: rsa, signingAlgorithm: rsa };
  }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { importParams: { name: 'ECDSA', namedCurve: 'P-256' }, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
  }
  throw new MiisError('Config.InvalidCertificate', 'tipo de clave no admitido (use RSA o ECDSA P-256)');
}

async function importWebKeyPair(keys: KeyPairPem): Promise<{ pair: CryptoKeyPair; signingAlgorithm: Algorithm }> {
  const privateKey = parsePrivateKey(keys.privateKeyPem);
  const params = webKeyParamsOf(privateKey);
  const subtle = crypto.webcrypto.subtle;
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const pair = {
    privateKey: await subtle.importKey('pkcs8', pkcs8, params.importParams, false, ['sign']),
    publicKey: await subtle.importKey('spki', spki, params.importParams, true, ['verify']),
  } as CryptoKeyPair;
  return { pair, signingAlgorithm: params.signingAlgorithm };
}

function parsePrivateKey(pem: string): crypto.KeyObject {
  try {
    return crypto.createPrivateKey(pem);
  } catch {
    throw new MiisError('Config.InvalidCertificate', 'la clave privada no se puede leer (se espera PEM PKCS#8)');
  }
}

// --- names -----------------------------------------------------------------------------------

function toJsonName(subject: CertSubject): X509.JsonNameParams {
  checkNamePart(subject.organization, 'organización');
  checkNamePart(subject.commonName, 'nombre común (CN)');
  const country = subject.country ?? 'PE';
  if (!/^[A-Z]{2}$/.test(country)) throw new MiisError('Config.InvalidInput', `código de país no válido: «${country}»`);
  const name: X509.JsonNameParams = [{ C: [{ printableString: country }] }, { O: [subject.organization] }];
  if (subject.serialNumber !== undefined) {
    if (!/^[A-Za-z0-9 '()+,\-./:=?]{1,64}$/.test(subject.serialNumber)) {
      throw new MiisError('Config.InvalidInput', `número de serie del sujeto no válido: «${subject.serialNumber}»`);
    }
    name.push({ [OID_SERIAL_NUMBER]: [{ printableString: subject.serialNumber }] });
  }
  name.push({ CN: [subject.commonName] });
  return name;
}

function checkNamePart(value: string, what: string): void {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 64 || /[\u0000-\u001f]/.test(value)) {
    throw new MiisError('Config.InvalidInput', `${what} no válido: debe tener de 1 a 64 caracteres imprimibles`);
  }
}

// --- CSR, CA, issuing ------------------------------------------------------------------------

export async function createCsr(keys: KeyPairPem, subject: CertSubject): Promise<string> {
  const x509 = await loadX509();
  const { pair, signingAlgorithm } = await importWebKeyPair(keys);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: toJsonName(subject) as X509.JsonName,
    keys: pair,
    signingAlgorithm,
  });
  return csr.toString('pem');
}

export async function createSelfSignedCa(keys: KeyPairPem, subject: CertSubject, opts: { now: Date; validDays: number }): Promise<string> {
  const x509 = await loadX509();
  const { pair, signingAlgorithm } = await importWebKeyPair(keys);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: toJsonName(subject) as X509.JsonName,
    keys: pair,
    signingAlgorithm,
    serialNumber: randomSerialHex(),
    ...validity(opts.now, opts.validDays),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(pair.publicKey),
    ],
  });
  return cert.toString('pem');
}

export async function issueCertificate(opts: {
  csrPem: string; profile: CertProfile; ca: CaMaterial; now: Date; validDays: number;
  serialNumberHex?: string; dnsNames?: readonly string[]; ipAddresses?: readonly string[];
}): Promise<string> {
  const x509 = await loadX509();
  const csr = await readVerifiedCsr(opts.csrPem);
  const caCert = new x509.X509Certificate(opts.ca.certPem);
  const caKey = parsePrivateKey(opts.ca.privateKeyPem);
  const caPublic = crypto.createPublicKey(caKey).export({ type: 'spki', format: 'der' });
  if (!Buffer.from(caCert.publicKey.rawData).equals(caPublic)) {
    throw new MiisError('Config.InvalidCertificate', 'la clave privada de la CA no corresponde a su certificado');
  }
  const { pair, signingAlgorithm } = await importWebKeyPair({
    privateKeyPem: opts.ca.privateKeyPem,
    publicKeyPem: crypto.createPublicKey(caKey).export({ type: 'spki', format: 'pem' }).toString(),
  });
  const subjectKey = crypto.createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  const serialNumber = opts.serialNumberHex ?? randomSerialHex();
  if (!/^[0-9a-fA-F]{2,40}$/.test(serialNumber)) throw new MiisError('Config.InvalidInput', `número de serie no válido: «${serialNumber}»`);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: csr.subjectName,
    issuer: caCert.subjectName,
    publicKey: csr.publicKey,
    signingKey: pair.privateKey,
    signingAlgorithm,
    ...validity(opts.now, opts.validDays),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...profileExtensions(x509, opts.profile, subjectKey.asymmetricKeyType === 'rsa', opts.dnsNames ?? [], opts.ipAddresses ?? []),
      new x509.CertificatePolicyExtension([PROFILE_POLICY_OIDS[opts.profile]], false),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return cert.toString('pem');
}

async function readVerifiedCsr(csrPem: string): Promise<X509.Pkcs10CertificateRequest> {
  if (typeof csrPem !== 'string' || csrPem.length > MAX_CSR_PEM) {
    throw new MiisError('Config.InvalidCertificate', `la solicitud (CSR) supera ${MAX_CSR_PEM} bytes`);
  }
  const x509 = await loadX509();
  let csr: X509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new MiisError('Config.InvalidCertificate', 'la solicitud (CSR) no es un PKCS#10 PEM legible');
  }
  let ok = false;
  try {
    ok = await csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) throw new MiisError('Config.InvalidCertificate', 'la firma de la solicitud (CSR) no es válida');
  const key = crypto.createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  const alg = keyAlgorithmOf(key);
  const rsaOk = key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  if (alg === 'other' && !rsaOk) throw new MiisError('Config.InvalidCertificate', 'la clave de la solicitud debe ser RSA de 2048 bits o más, o ECDSA P-256');
  return csr;
}

function profileExtensions(x509: typeof X509, profile: CertProfile, rsa: boolean, dnsNames: readonly string[], ipAddresses: readonly string[]): X509.Extension[] {
  const KU = x509.KeyUsageFlags;
  if (profile === 'auth') {
    for (const dns of dnsNames) {
      if (!/^(\*\.)?[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*$/.test(dns) || dns.length > 253) throw new MiisError('Config.InvalidInput', `nombre DNS no válido: «${dns}»`);
    }
    for (const ip of ipAddresses) if (!isIpAddress(ip)) throw new MiisError('Config.InvalidInput', `dirección IP no válida: «${ip}»`);
    const names: X509.JsonGeneralNames = [
      ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
    ];
    const exts: X509.Extension[] = [
      new x509.KeyUsagesExtension(rsa ? KU.digitalSignature | KU.keyEncipherment : KU.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
    ];
    if (names.length > 0) exts.push(new x509.SubjectAlternativeNameExtension(names, false));
    return exts;
  }
  if (profile === 'sign' || profile === 'conf') {
    return [new x509.KeyUsagesExtension(KU.digitalSignature | KU.nonRepudiation, true)];
  }
  throw new MiisError('Config.InvalidInput', `perfil de certificado no admitido: ${String(profile)}`);
}

function validity(now: Date, validDays: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(validDays) || validDays <= 0 || validDays > 36_500) {
    throw new MiisError('Config.InvalidInput', `vigencia no válida: ${validDays} días`);
  }
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + Math.round(validDays * DAY_MS)) };
}

function randomSerialHex(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01; // positive, and never a leading zero octet
  return bytes.toString('hex');
}

// --- reading certificates (hot path) ---------------------------------------------------------

/** DER bytes of a certificate given as PEM text, PEM bytes or DER bytes. */
export function certDer(certPemOrDer: string | Buffer): Buffer {
  if (typeof certPemOrDer !== 'string' && !isPemBytes(certPemOrDer)) {
    if (certPemOrDer.length === 0 || certPemOrDer.length > MAX_CERT_PEM) throw invalidCert('tamaño no válido');
    return certPemOrDer;
  }
  const text = typeof certPemOrDer === 'string' ? certPemOrDer : certPemOrDer.toString('latin1');
  if (text.length > MAX_CERT_PEM) throw invalidCert(`el PEM supera ${MAX_CERT_PEM} bytes`);
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(text);
  if (m === null) throw invalidCert('no contiene un bloque PEM CERTIFICATE');
  const b64 = m[1]!.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) throw invalidCert('base64 no válido');
  return Buffer.from(b64, 'base64');
}

function isPemBytes(buf: Buffer): boolean {
  return buf.subarray(0, 64).toString('latin1').includes('-----BEGIN');
}

/** Whether a certificate carries the public key of this private (or public) key; false for anything unreadable. */
export function certMatchesKey(certPem: string, keyPem: string): boolean {
  try {
    const spki = (k: crypto.KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
    return spki(crypto.createPublicKey(certPem)).equals(spki(crypto.createPublicKey(keyPem)));
  } catch {
    return false;
  }
}

export function certSha256(certPemOrDer: string | Buffer): string {
  return crypto.createHash('sha256').update(certDer(certPemOrDer)).digest('hex');
}

/** PEM text of a DER certificate. */
export function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

function invalidCert(reason: string): MiisError {
  return new MiisError('Config.InvalidCertificate', reason);
}

interface ParsedCert {
  readonly info: CertInfo;
  readonly node: crypto.X509Certificate;
  readonly isCa: boolean;
}

const parsedCache = new Map<string, ParsedCert>();

function remember<K, V>(map: Map<K, V>, key: K, value: V): V {
  if (map.size >= CACHE_LIMIT) {
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
  }
  map.set(key, value);
  return value;
}

/** Parsed certificates by PEM text: verifiers pass the same (cached) string again and again. */
const byPem = new Map<string, ParsedCert>();

function parseCert(certPemOrDer: string | Buffer): ParsedCert {
  if (typeof certPemOrDer === 'string') {
    const known = byPem.get(certPemOrDer);
    if (known !== undefined) return known;
    return remember(byPem, certPemOrDer, parseCertBytes(certPemOrDer));
  }
  return parseCertBytes(certPemOrDer);
}

function parseCertBytes(certPemOrDer: string | Buffer): ParsedCert {
  const der = certDer(certPemOrDer);
  const sha256 = crypto.createHash('sha256').update(der).digest('hex');
  const hit = parsedCache.get(sha256);
  if (hit !== undefined) return hit;
  let node: crypto.X509Certificate;
  let cert: CertFields;
  try {
    node = new crypto.X509Certificate(der);
    cert = readCertificate(der);
  } catch {
    throw invalidCert('no se puede leer el certificado X.509');
  }
  const isCa = cert.isCa;
  const first = (oid: string): string | undefined => cert.subjectAttributes.get(oid)?.[0];
  const info: CertInfo = Object.freeze({
    subject: cert.subject,
    issuer: cert.issuer,
    ...optionalField('commonName', first(OID_COMMON_NAME)),
    ...optionalField('organization', first(OID_ORGANIZATION)),
    ...optionalField('subjectSerialNumber', first(OID_SERIAL_NUMBER)),
    serialNumberHex: cert.serialNumberHex.toLowerCase(),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    sha256,
    profile: isCa ? 'ca' : profileOf(cert),
    keyAlgorithm: keyAlgorithmOf(node.publicKey),
  });
  return remember(parsedCache, sha256, { info, node, isCa });
}

/** Subject attribute values of a certificate by OID (cached parse). */
export function certSubjectValues(pem: string | Buffer, oid: string): readonly string[] {
  return parseCertFields(pem).subjectAttributes.get(oid) ?? [];
}

/** rfc822Name entries of a certificate's subject alternative name. */
export function certSanEmails(pem: string | Buffer): readonly string[] {
  return parseCertFields(pem).sanEmails;
}

const fieldsCache = new Map<string, CertFields>();
function parseCertFields(pem: string | Buffer): CertFields {
  const der = certDer(pem);
  const sha256 = crypto.createHash('sha256').update(der).digest('hex');
  return fieldsCache.get(sha256) ?? remember(fieldsCache, sha256, readCertificate(der));
}

function optionalField<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const KU_DIGITAL_SIGNATURE = 1;
const KU_NON_REPUDIATION = 2;
const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATION = '2.5.4.10';

function profileOf(cert: CertFields): CertProfile | 'other' {
  // policies are matched on their DER (the 2.25 arc is too large for most OID renderers)
  if (cert.policies !== undefined) {
    for (const profile of CERT_PROFILES) if (cert.policies.includes(POLICY_OID_DER[profile])) return profile;
  }
  if (cert.extKeyUsages.includes(EKU_SERVER_AUTH) || cert.extKeyUsages.includes(EKU_CLIENT_AUTH)) return 'auth';
  const signing = KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION;
  if ((cert.keyUsage & signing) === signing) return 'sign';
  return 'other';
}

export function certificateInfo(pem: string | Buffer): CertInfo {
  return parseCert(pem).info;
}

/** Node's X509Certificate for a certificate (cached). */
export function nodeCertificate(pem: string | Buffer): crypto.X509Certificate {
  return parseCert(pem).node;
}

const verifiedIssuance = new Map<string, true>();

export function verifyChain(certPem: string, trustedCaPems: readonly string[], now: Date): { ok: true } | { ok: false; reason: string } {
  let leaf: ParsedCert;
  try {
    leaf = parseCert(certPem);
  } catch {
    return { ok: false, reason: 'el certificado no se puede leer' };
  }
  if (!isValidAt(leaf.info, now)) return { ok: false, reason: 'el certificado está vencido o aún no es válido' };
  let issuerExpired = false;
  for (const caPem of trustedCaPems) {
    let ca: ParsedCert;
    try {
      ca = parseCert(caPem);
    } catch {
      continue;
    }
    if (!ca.isCa || !isIssuedBy(leaf, ca)) continue;
    if (!isValidAt(ca.info, now)) {
      issuerExpired = true;
      continue;
    }
    return { ok: true };
  }
  if (issuerExpired) return { ok: false, reason: 'la CA emisora está vencida o aún no es válida' };
  return { ok: false, reason: 'el certificado no fue emitido por una CA de confianza' };
}

function isValidAt(info: CertInfo, now: Date): boolean {
  const t = now.getTime();
  return info.notBefore.getTime() <= t && t <= info.notAfter.getTime();
}

function isIssuedBy(leaf: ParsedCert, ca: ParsedCert): boolean {
  const key = `${leaf.info.sha256}:${ca.info.sha256}`;
  if (verifiedIssuance.has(key)) return true;
  const ok = leaf.node.checkIssued(ca.node) && leaf.node.verify(ca.node.publicKey);
  if (ok) remember(verifiedIssuance, key, true);
  return ok;
}
