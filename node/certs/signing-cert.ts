/**
 * Is this signing certificate acceptable for this member right now? Chain to a CA trusted by the
 * global configuration, signing profile (digitalSignature + nonRepudiation), not revoked by
 * central (conf.revokedCerts), and naming the member: for the instance CA the subject
 * serialNumber IS the member id; for an external CA (conf.externalCas) only its mapping rules
 * (core/member-mapping.ts) say which member a certificate belongs to, and an accepted decision
 * carries the OCSP target the caller must still check (node/certs/ocsp-checker.ts). Results are cached
 * per certificate and configuration serial, so a revocation takes effect with the next configuration.
 */
import { MiisError, type FaultCode } from '../../core/errors.js';
import { membersFromCert } from '../../core/member-mapping.js';
import { certificateInfo, nodeCertificate, verifyChain } from '../../core/pki.js';
import type { GlobalConf, GlobalConfExternalCa } from '../../core/global-conf-model.js';
import type { CertDecision, OcspChecker, OcspTarget } from './ocsp-checker.js';

export type { CertDecision, OcspTarget };

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
  const owner = memberOfSigningCert(conf, certPem);
  if (!owner.ok) return owner;
  if (owner.member !== member) return { ok: false, reason: `el certificado pertenece a ${owner.member}${owner.external === undefined ? '' : ` (según las reglas de la CA externa ${owner.external.ca.name})`}, no a ${member}` };
  if (owner.external === undefined) return { ok: true };
  const { ca, caPem } = owner.external;
  return { ok: true, ocsp: { certPem, certSha256: info.sha256, issuerPem: caPem, url: ca.ocspUrl ?? aiaOcspUrl(certPem), caName: ca.name } };
}

/** The external CA (of conf.externalCas) that issued this certificate, if any. */
export function externalIssuerOf(conf: GlobalConf, certPem: string): { ca: GlobalConfExternalCa; caPem: string } | undefined {
  if (conf.externalCas === undefined || conf.externalCas.length === 0) return undefined;
  const leaf = nodeCertificate(certPem);
  for (const ca of conf.externalCas) {
    const caPem = conf.trustedCas.find((pem) => certificateInfo(pem).sha256 === ca.certSha256);
    if (caPem === undefined) continue;
    const issuer = nodeCertificate(caPem);
    if (leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey)) return { ca, caPem };
  }
  return undefined;
}

/**
 * The member a signing certificate belongs to: for an external CA, what its mapping rules give
 * (none or several distinct members: refused); otherwise the subject serialNumber.
 */
export function memberOfSigningCert(conf: GlobalConf | undefined, certPem: string):
  { readonly ok: true; readonly member: string; readonly external?: { ca: GlobalConfExternalCa; caPem: string } } | { readonly ok: false; readonly reason: string } {
  const external = conf === undefined ? undefined : externalIssuerOf(conf, certPem);
  if (external === undefined) {
    const serial = certificateInfo(certPem).subjectSerialNumber;
    return serial === undefined ? { ok: false, reason: 'el certificado no indica miembro (serialNumber del sujeto)' } : { ok: true, member: serial };
  }
  const members = membersFromCert(certPem, external.ca.memberMapping);
  if (members.length === 0) return { ok: false, reason: `ninguna regla de correspondencia de la CA externa ${external.ca.name} asigna este certificado a un miembro` };
  if (members.length > 1) return { ok: false, reason: `las reglas de la CA externa ${external.ca.name} asignan este certificado a varios miembros (${members.join(', ')})` };
  return { ok: true, member: members[0]!, external };
}

/** The OCSP URL in a certificate's Authority Information Access extension. */
export function aiaOcspUrl(certPem: string): string | undefined {
  const aia = nodeCertificate(certPem).infoAccess;
  return aia === undefined ? undefined : /OCSP - URI:(\S+)/.exec(aia)?.[1];
}

/** The OCSP step of an accepted external-CA certificate: throws `code` when it is refused (no checker: refused). */
export async function confirmByOcsp(checker: OcspChecker | undefined, target: OcspTarget, code: FaultCode): Promise<void> {
  if (checker === undefined) throw new MiisError(code, 'este nodo no comprueba OCSP: no acepta certificados de CA externas');
  const decision = await checker.check(target);
  if (!decision.ok) throw new MiisError(code, decision.reason);
}
