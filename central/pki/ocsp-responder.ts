/**
 * Central's OCSP responder (RFC 6960) for the instance CA: `good` for a certificate the CA issued
 * and did not revoke, `revoked` (with time and reason) for one in central/pki/revocation.ts,
 * `unknown` for anything else. Responses are signed by the CA key and valid for validityMs.
 */
import { buildOcspResponse, certIdMatchesIssuer, ocspErrorResponse, readOcspRequest, type CertStatus, type OcspCertId } from '../../core/ocsp.js';
import type { CaMaterial } from '../../core/pki.js';
import { findIssuedCert, REVOCATION_REASONS, revocationBySerial } from './revocation.js';
import type { RegistryStore } from '../registry/store.js';

export const OCSP_CONTENT_TYPE = 'application/ocsp-response';
export const DEFAULT_OCSP_VALIDITY_MS = 60 * 60_000;

export function certStatusFor(store: RegistryStore, ca: CaMaterial, id: OcspCertId): CertStatus {
  if (!certIdMatchesIssuer(id, ca.certPem)) return { status: 'unknown' };
  const revoked = revocationBySerial(store, id.serialHex);
  if (revoked !== undefined) return { status: 'revoked', revokedAt: new Date(revoked.revokedAt), reasonCode: REVOCATION_REASONS[revoked.reason] };
  return findIssuedCert(store, id.serialHex) === undefined ? { status: 'unknown' } : { status: 'good' };
}

/** The DER OCSPResponse for a DER OCSPRequest (malformedRequest for anything unreadable). */
export function answerOcspRequest(body: Buffer, store: RegistryStore, ca: CaMaterial, now: Date, validityMs = DEFAULT_OCSP_VALIDITY_MS): Buffer {
  let request;
  try {
    request = readOcspRequest(body);
  } catch {
    return ocspErrorResponse(1);
  }
  return buildOcspResponse(request, (id) => certStatusFor(store, ca, id), ca, { now, validityMs });
}
