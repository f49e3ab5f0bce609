/**
 * Detached XML-DSig over the exact bytes of a message.
 *
 * The signature document is
 *   <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
 *     <ds:SignedInfo xmlns:ds="…"> exc-c14n, rsa-sha256 | ecdsa-sha256,
 *       one <ds:Reference URI="message.xml"> with the base64 SHA-256 of the raw message bytes
 *     </ds:SignedInfo>
 *     <ds:SignatureValue>…</ds:SignatureValue>
 *     <ds:KeyInfo><ds:X509Data><ds:X509Certificate>…</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
 *   </ds:Signature>
 * (no whitespace between elements). SignedInfo is written directly in its exclusive-c14n form,
 * so we sign exactly those bytes without a canonicaliser; verification rebuilds the canonical
 * SignedInfo from the parsed values and requires the document's SignedInfo to be byte-identical.
 * Any third party can check it with xmlsec1 (see certs/README.md):
 *   xmlsec1 --verify --pubkey-cert-pem cert.pem --enabled-key-data rsa \
 *     --url-map:message.xml message.xml signature.xml
 *
 * ECDSA SignatureValue is raw r||s (XML-DSig 1.1), RSA is PKCS#1 v1.5.
 */
import * as crypto from 'node:crypto';
import { MiisError } from './errors.js';
import { sha256, sha256Base64, sha256Hex } from './digest.js';
import { parseXml, attrNs, type XmlElement } from './xml.js';
import { derToPem, keyAlgorithmOf } from './pki.js';

export type SignatureAlgorithm = 'rsa-sha256' | 'ecdsa-sha256';

export interface Signer {
  readonly algorithm: SignatureAlgorithm;
  readonly certPem: string;
  /** Signature over SHA-256 of `data` in OpenSSL's form: PKCS#1 v1.5 (RSA) or DER (ECDSA). */
  sign(data: Uint8Array): Buffer;
}

export type VerifyResult =
  | { readonly ok: true; readonly certPem: string; readonly certSha256: string }
  | { readonly ok: false; readonly reason: string };

export const DS_NS = 'http://www.w3.org/2000/09/xmldsig#';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const SIGNATURE_METHODS: Readonly<Record<SignatureAlgorithm, string>> = {
  'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'ecdsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
};
const DEFAULT_REFERENCE_URI = 'message.xml';
/** Reference URIs we write are limited to characters that need no escaping in c14n. */
const SAFE_URI = /^[A-Za-z0-9._~:/?#\[\]@!$'()*+,;=%-]{1,200}$/;
const SIGNATURE_DOC_LIMITS = { maxBytes: 64 * 1024, maxDepth: 8, maxElements: 32 } as const;
const KEY_CACHE_LIMIT = 256;
const MAX_CACHED_CERT_B64 = 8 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

// --- signing ---------------------------------------------------------------------------------

export function createSigner(privateKeyPem: string, certPem: string): Signer {
  let key: crypto.KeyObject;
  let cert: crypto.X509Certificate;
  try {
    key = crypto.createPrivateKey(privateKeyPem);
  } catch {
    throw new MiisError('Config.InvalidCertificate', 'la clave privada de firma no se puede leer');
  }
  try {
    cert = new crypto.X509Certificate(certPem);
  } catch {
    throw new MiisError('Config.InvalidCertificate', 'el certificado de firma no se puede leer');
  }
  const spki = (k: crypto.KeyObject): Buffer => k.export({ type: 'spki', format: 'der' });
  if (!spki(crypto.createPublicKey(key)).equals(spki(cert.publicKey))) {
    throw new MiisError('Config.InvalidCertificate', 'la clave privada no corresponde al certificado de firma');
  }
  const algorithm = signatureAlgorithmOf(key);
  if (algorithm === undefined) {
    throw new MiisError('Config.InvalidCertificate', 'tipo de clave no admitido para firmar (use RSA de 2048 bits o más, o ECDSA P-256)');
  }
  const pem = derToPem(cert.raw);
  return Object.freeze({
    algorithm,
    certPem: pem,
    sign: (data: Uint8Array): Buffer => crypto.sign('sha256', data, key),
  });
}

/** The XML-DSig algorithm a key can be used with, or undefined when not admitted. */
export function signatureAlgorithmOf(key: crypto.KeyObject): SignatureAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return 'rsa-sha256';
  if (keyAlgorithmOf(key) === 'ecdsa-p256') return 'ecdsa-sha256';
  return undefined;
}

export function signDetached(message: Uint8Array, signer: Signer, referenceUri: string = DEFAULT_REFERENCE_URI): string {
  if (!SAFE_URI.test(referenceUri)) throw new MiisError('Config.InvalidInput', `URI de referencia no admitido: «${referenceUri}»`);
  const digest = sha256Base64(message);
  const signedInfo = canonicalSignedInfo(SIGNATURE_METHODS[signer.algorithm], referenceUri, digest);
  let value = signer.sign(Buffer.from(signedInfo, 'utf8'));
  if (signer.algorithm === 'ecdsa-sha256') value = derToRawEcdsa(value, 32);
  return `<ds:Signature xmlns:ds="${DS_NS}">${signedInfo}<ds:SignatureValue>${value.toString('base64')}</ds:SignatureValue>`
    + `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${pemBody(signer.certPem)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`;
}

/** SignedInfo exactly as exclusive c14n renders it when it is the apex of the signed subset. */
function canonicalSignedInfo(signatureMethod: string, referenceUri: string, digestB64: string): string {
  return `<ds:SignedInfo xmlns:ds="${DS_NS}">`
    + `<ds:CanonicalizationMethod Algorithm="${EXC_C14N}"></ds:CanonicalizationMethod>`
    + `<ds:SignatureMethod Algorithm="${signatureMethod}"></ds:SignatureMethod>`
    + `<ds:Reference URI="${referenceUri}">`
    + `<ds:DigestMethod Algorithm="${SHA256}"></ds:DigestMethod>`
    + `<ds:DigestValue>${digestB64}</ds:DigestValue>`
    + '</ds:Reference></ds:SignedInfo>';
}

/** The last certificate read by pemBody (a node signs with one or a few certificates). */
let lastPem = '';
let lastBody = '';

function pemBody(pem: string): string {
  if (pem === lastPem) return lastBody;
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  if (m === null) throw new MiisError('Config.InvalidCertificate', 'el certificado de firma no está en PEM');
  lastBody = m[1]!.replace(/\s+/g, '');
  lastPem = pem;
  return lastBody;
}

/** DER ECDSA-Sig-Value → fixed-size r||s. */
function derToRawEcdsa(der: Buffer, size: number): Buffer {
  let pos = 0;
  const expect = (cond: boolean): void => {
    if (!cond) throw new MiisError('Config.InvalidCertificate', 'firma ECDSA con formato inesperado');
  };
  expect(der[pos++] === 0x30);
  let len = der[pos++]!;
  if (len === 0x81) len = der[pos++]!;
  expect(len === der.length - pos);
  const out = Buffer.alloc(size * 2);
  for (let i = 0; i < 2; i++) {
    expect(der[pos++] === 0x02);
    const n = der[pos++]!;
    let int = der.subarray(pos, pos + n);
    pos += n;
    while (int.length > size && int[0] === 0) int = int.subarray(1);
    expect(int.length <= size);
    int.copy(out, size * (i + 1) - int.length);
  }
  expect(pos === der.length);
  return out;
}

// --- verification ----------------------------------------------------------------------------

interface CachedKey {
  readonly key: crypto.KeyObject;
  readonly algorithm: SignatureAlgorithm;
  readonly certPem: string;
  readonly certSha256: string;
}

const keyCache = new Map<string, CachedKey>();

/** Public key of an embedded certificate; valid ones are cached (bounded, oldest evicted). */
function keyFromCertBase64(b64: string): CachedKey | null {
  const hit = keyCache.get(b64);
  if (hit !== undefined) return hit;
  let entry: CachedKey | null = null;
  if (BASE64.test(b64) && b64.length % 4 === 0 && b64.length > 0) {
    try {
      const der = Buffer.from(b64, 'base64');
      const cert = new crypto.X509Certificate(der);
      const algorithm = signatureAlgorithmOf(cert.publicKey);
      if (algorithm !== undefined) {
        entry = {
          key: cert.publicKey,
          algorithm,
          certPem: derToPem(der),
          certSha256: sha256Hex(der),
        };
      }
    } catch {
      entry = null;
    }
  }
  if (entry === null || b64.length > MAX_CACHED_CERT_B64) return entry;
  if (keyCache.size >= KEY_CACHE_LIMIT) {
    const oldest = keyCache.keys().next();
    if (oldest.done !== true) keyCache.delete(oldest.value);
  }
  keyCache.set(b64, entry);
  return entry;
}

const fail = (reason: string): VerifyResult => ({ ok: false, reason });

/** Failure reasons: deliberately vague for the peer, distinct enough for the log. */
const REASONS = {
  document: 'documento de firma no válido',
  structure: 'estructura de firma no admitida',
  algorithm: 'algoritmo de firma no admitido',
  reference: 'referencia de firma no corresponde',
  canonical: 'SignedInfo no está en forma canónica',
  digest: 'el resumen no corresponde al mensaje',
  certificate: 'certificado de firma no utilizable',
  value: 'valor de firma no válido',
} as const;

/**
 * Verify a detached signature over `message`. `messageDigest` (SHA-256 of `message`) may be given
 * when the caller already computed it. Every call checks the message digest and the signature
 * value with node:crypto; documents in exactly the shape signDetached writes take a fixed-position
 * reading (no XML parse), any other document is parsed and checked element by element, with the
 * same result for documents both paths read.
 */
export function verifyDetached(message: Uint8Array, signatureXml: Uint8Array | string, referenceUri: string = DEFAULT_REFERENCE_URI, messageDigest?: Buffer): VerifyResult {
  const fast = ownShape(signatureXml, referenceUri);
  if (fast !== undefined) return checkValues(message, messageDigest, fast);
  const bytes = typeof signatureXml === 'string' ? Buffer.from(signatureXml, 'utf8') : signatureXml;
  let root: XmlElement;
  let text: string;
  try {
    const doc = parseXml(bytes, SIGNATURE_DOC_LIMITS);
    root = doc.root;
    text = doc.text;
  } catch {
    return fail(REASONS.document);
  }
  if (root.uri !== DS_NS || root.local !== 'Signature') return fail(REASONS.structure);
  const parts = dsChildren(root, ['SignedInfo', 'SignatureValue', 'KeyInfo']);
  if (parts === undefined) return fail(REASONS.structure);
  const [signedInfo, signatureValue, keyInfo] = parts;

  const si = dsChildren(signedInfo, ['CanonicalizationMethod', 'SignatureMethod', 'Reference']);
  if (si === undefined) return fail(REASONS.structure);
  const [c14nMethod, signatureMethod, reference] = si;
  const ref = dsChildren(reference, ['DigestMethod', 'DigestValue']);
  if (ref === undefined) return fail(REASONS.structure);
  const [digestMethod, digestValue] = ref;

  const algorithm = algorithmOfMethod(attrNs(signatureMethod, '', 'Algorithm'));
  if (algorithm === undefined
    || attrNs(c14nMethod, '', 'Algorithm') !== EXC_C14N
    || attrNs(digestMethod, '', 'Algorithm') !== SHA256) return fail(REASONS.algorithm);
  if (attrNs(reference, '', 'URI') !== referenceUri || !SAFE_URI.test(referenceUri)) return fail(REASONS.reference);

  const digestB64 = digestValue.text;
  if (!BASE64.test(digestB64) || digestB64.length !== 44) return fail(REASONS.canonical);
  const expected = canonicalSignedInfo(SIGNATURE_METHODS[algorithm], referenceUri, digestB64);
  const actual = text.slice(signedInfo.start, signedInfo.end);
  if (actual !== expected) return fail(REASONS.canonical);

  const x509Data = dsChildren(keyInfo, ['X509Data']);
  const certEl = x509Data === undefined ? undefined : dsChildren(x509Data[0], ['X509Certificate']);
  if (certEl === undefined) {
    // the digest is checked before the structure of KeyInfo, as it always was
    if (!digestMatches(message, messageDigest, digestB64)) return fail(REASONS.digest);
    return fail(REASONS.structure);
  }
  return checkValues(message, messageDigest, { algorithm, signedInfo: actual, digestB64, sigB64: signatureValue.text.replace(/\s+/g, ''), certB64: certEl[0].text.replace(/\s+/g, '') });
}

/** What verification needs from a signature document, read either way. */
interface SignatureParts {
  readonly algorithm: SignatureAlgorithm;
  /** The canonical SignedInfo text (what was signed). */
  readonly signedInfo: string;
  readonly digestB64: string;
  readonly sigB64: string;
  readonly certB64: string;
}

/** Digest of the message, embedded certificate, signature value: the checks every path makes. */
function checkValues(message: Uint8Array, messageDigest: Buffer | undefined, p: SignatureParts): VerifyResult {
  if (!digestMatches(message, messageDigest, p.digestB64)) return fail(REASONS.digest);
  const cached = keyFromCertBase64(p.certB64);
  if (cached === null || cached.algorithm !== p.algorithm) return fail(REASONS.certificate);
  const sigB64 = p.sigB64;
  if (!BASE64.test(sigB64) || sigB64.length % 4 !== 0) return fail(REASONS.value);
  const sig = Buffer.from(sigB64, 'base64');
  if (p.algorithm === 'ecdsa-sha256' && sig.length !== 64) return fail(REASONS.value);
  const key = p.algorithm === 'ecdsa-sha256' ? { key: cached.key, dsaEncoding: 'ieee-p1363' as const } : cached.key;
  let ok = false;
  try {
    ok = crypto.verify('sha256', Buffer.from(p.signedInfo, 'latin1'), key, sig);
  } catch {
    ok = false;
  }
  if (!ok) return fail(REASONS.value);
  return { ok: true, certPem: cached.certPem, certSha256: cached.certSha256 };
}

function digestMatches(message: Uint8Array, messageDigest: Buffer | undefined, digestB64: string): boolean {
  const digest = messageDigest ?? sha256(message);
  const claimed = Buffer.from(digestB64, 'base64');
  return claimed.length === digest.length && crypto.timingSafeEqual(digest, claimed);
}

// Fixed-position reading of the exact document signDetached writes.
const SIG_OPEN = `<ds:Signature xmlns:ds="${DS_NS}">`;
const DIGEST_TO_VALUE = '</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>';
const VALUE_TO_CERT = '</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>';
const SIG_CLOSE = '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>';
const SIGNED_INFO_CLOSE = '</ds:DigestValue></ds:Reference></ds:SignedInfo>';
const headCache = new Map<string, readonly (readonly [SignatureAlgorithm, string])[]>();

/** SignedInfo up to the digest value, per algorithm, for a reference URI. */
function signedInfoHeads(referenceUri: string): readonly (readonly [SignatureAlgorithm, string])[] {
  let heads = headCache.get(referenceUri);
  if (heads === undefined) {
    heads = (Object.keys(SIGNATURE_METHODS) as SignatureAlgorithm[]).map((alg) => {
      const si = canonicalSignedInfo(SIGNATURE_METHODS[alg], referenceUri, '');
      return [alg, si.slice(0, si.length - SIGNED_INFO_CLOSE.length)] as const;
    });
    if (headCache.size < 16) headCache.set(referenceUri, heads);
  }
  return heads;
}

/**
 * The parts of a document that is byte for byte `<ds:Signature …>` + canonical SignedInfo +
 * SignatureValue + KeyInfo/X509Data/X509Certificate with base64 text and nothing else (what
 * signDetached writes); undefined for any other document, which then takes the parsing path.
 * Such a document parses to exactly these parts, so both paths give the same result.
 */
function ownShape(signatureXml: Uint8Array | string, referenceUri: string): SignatureParts | undefined {
  if (signatureXml.length > SIGNATURE_DOC_LIMITS.maxBytes || !SAFE_URI.test(referenceUri)) return undefined;
  const text = typeof signatureXml === 'string' ? signatureXml : Buffer.from(signatureXml.buffer, signatureXml.byteOffset, signatureXml.byteLength).toString('latin1');
  if (!text.startsWith(SIG_OPEN) || !text.endsWith(SIG_CLOSE)) return undefined;
  const siStart = SIG_OPEN.length;
  for (const [algorithm, head] of signedInfoHeads(referenceUri)) {
    if (!text.startsWith(head, siStart)) continue;
    const d = siStart + head.length;
    const digestB64 = text.slice(d, d + 44);
    if (!text.startsWith(DIGEST_TO_VALUE, d + 44) || !BASE64.test(digestB64)) return undefined;
    const v = d + 44 + DIGEST_TO_VALUE.length;
    const c = text.indexOf(VALUE_TO_CERT, v);
    if (c < 0 || c + VALUE_TO_CERT.length > text.length - SIG_CLOSE.length) return undefined;
    const sigB64 = text.slice(v, c);
    const certB64 = text.slice(c + VALUE_TO_CERT.length, text.length - SIG_CLOSE.length);
    if (!BASE64.test(sigB64) || !BASE64.test(certB64)) return undefined;
    return { algorithm, signedInfo: text.slice(siStart, d + 44 + SIGNED_INFO_CLOSE.length), digestB64, sigB64, certB64 };
  }
  return undefined;
}

function algorithmOfMethod(uri: string | undefined): SignatureAlgorithm | undefined {
  for (const [alg, method] of Object.entries(SIGNATURE_METHODS)) if (method === uri) return alg as SignatureAlgorithm;
  return undefined;
}

/**
 * The element's children when they are exactly the named ds elements in order, with only
 * whitespace text between them; otherwise undefined.
 */
function dsChildren<const N extends readonly string[]>(el: XmlElement, names: N): { [K in keyof N]: XmlElement } | undefined {
  if (el.children.length !== names.length || el.text.trim() !== '') return undefined;
  for (let i = 0; i < names.length; i++) {
    const c = el.children[i]!;
    if (c.uri !== DS_NS || c.local !== names[i]) return undefined;
  }
  return el.children as unknown as { [K in keyof N]: XmlElement };
}
