/**
 * Every object identifier MIIS uses, in one place: the algorithms and structures of X.509,
 * CMS (RFC 5652), time-stamping (RFC 3161), OCSP (RFC 6960), the subject fields an external
 * CA's certificates are mapped from, and MIIS's own arc for certificate and TSA policies.
 */

export const OID = {
  // digests and signatures
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsaSha256: '1.2.840.113549.1.1.11',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  // CMS and RFC 3161
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  // extensions and extended key usages
  extKeyUsage: '2.5.29.37',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  // OCSP
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  // subject attributes
  serialNumber: '2.5.4.5',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  organizationalUnit: '2.5.4.11',
  emailAddress: '1.2.840.113549.1.9.1',
} as const;

/** MIIS OID arc (UUID-based, X.667). */
export const MIIS_OID_ARC = '2.25.321865660995528312726413173579974888450';

/** The certificate policy each profile of the instance CA carries. */
export const PROFILE_POLICY_OIDS = {
  auth: `${MIIS_OID_ARC}.1.1`,
  sign: `${MIIS_OID_ARC}.1.2`,
  conf: `${MIIS_OID_ARC}.1.3`,
} as const;

/** The TSA policy MIIS time-stamps are issued under. */
export const TSA_POLICY_OID = `${MIIS_OID_ARC}.2.1`;
