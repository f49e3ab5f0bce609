/**
 * Is this signing certificate acceptable for this member right now? Chain to a CA trusted by the
 * global configuration, signing profile (digitalSignature + nonRepudiation), subject serialNumber
 * naming the member, not revoked by central (conf.revokedCerts). Results are cached per
 * certificate and configuration serial, so a revocation takes effect with the next configuration.
 */
import { certificateInfo, verifyChain } from '../core/pki.js';
import type { GlobalConf } from '../core/global-conf-model.js';

export type CertDecision = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const cache = new Map<string, { decision: CertDecision; notAfterMs: number }>();
const CACHE_LIMIT = 1024;

export function checkSigningCert(conf: GlobalConf, certPem: string, certSha256: string, member: string, now: Date): CertDecision {
  const key = `${certSha256}|${conf.serial}|${member}`;
  const hit = cache.get(key);
  if (hit !== undefined && now.getTime() <= hit.notAfterMs) return hit.decision;
  const decision = decideSigningCert(conf, certPem, member, now);
  if (decision.ok) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(key, { decision, notAfterMs: certificateInfo(certPem).notAfter.getTime() });
  }
  return decision;
}

/** Has central revoked this certificate (SHA-256 listed in the global configuration)? */
export function isRevoked(conf: GlobalConf, certSha256: string | undefined): boolean {
  return certSha256 !== undefined && conf.revokedCerts !== undefined && conf.revokedCerts.includes(certSha256);
}

function decideSigningCert(conf: GlobalConf, certPem: string, member: string, now: Date): CertDecision {
  if (conf.revokedCerts !== undefined && conf.revokedCerts.length > 0 && isRevoked(conf, certificateInfo(certPem).sha256)) {
    return { ok: false, reason: 'el certificado fue revocado por central' };
  }
  const chain = verifyChain(certPem, conf.trustedCas, now);
  if (!chain.ok) return chain;
  const info = certificateInfo(certPem);
  if (info.profile !== 'sign') return { ok: false, reason: 'el certificado no es de firma (digitalSignature + nonRepudiation)' };
  if (info.subjectSerialNumber !== member) return { ok: false, reason: `el certificado pertenece a ${info.subjectSerialNumber ?? '(sin miembro)'}, no a ${member}` };
  return { ok: true };
}
