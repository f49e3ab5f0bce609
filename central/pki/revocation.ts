/**
 * Certificate revocation at central: a table of revoked certificates (its own, created on first
 * use in the registry database), published as `revokedCerts` (SHA-256 list) in the global
 * configuration and answered over OCSP (central/pki/ocsp-responder.ts). Certificates issued by the
 * instance CA are looked up by serial number or SHA-256; a certificate of an external CA can be
 * revoked by its SHA-256 or PEM.
 */
import { MiisError } from '../../core/errors.js';
import { certificateInfo } from '../../core/pki.js';
import type { ChangeContext, IssuedCertRecord, RegistryStore } from '../registry/store.js';

/** RFC 5280 CRLReason values MIIS accepts (name → code). */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface RevocationRecord {
  readonly sha256: string;
  readonly serialHex: string | null;
  readonly reason: RevocationReason;
  readonly revokedAt: string;
  readonly actor: string;
}

export function parseRevocationReason(text: string): RevocationReason {
  if (Object.prototype.hasOwnProperty.call(REVOCATION_REASONS, text)) return text as RevocationReason;
  throw new MiisError('Config.InvalidInput', `motivo no válido: «${text}». Use uno de: ${Object.keys(REVOCATION_REASONS).join(', ')}`);
}

/** The issued certificate a serial (hex) or SHA-256 names, if the instance CA issued it. */
export function findIssuedCert(store: RegistryStore, ref: string): IssuedCertRecord | undefined {
  const r = ref.trim().toLowerCase().replace(/:/g, '');
  return store.listIssuedCerts().find((c) => c.sha256 === r || c.serialHex.replace(/^0+/, '') === r.replace(/^0+/, ''));
}

/**
 * Revoke a certificate named by serial, SHA-256 or PEM. Idempotent refusal: revoking twice is
 * Config.Duplicate. The next global configuration lists it in revokedCerts.
 */
export function revokeCertificate(store: RegistryStore, ref: string, reason: RevocationReason, ctx: ChangeContext): RevocationRecord {
  let sha256: string;
  let serialHex: string | null = null;
  if (ref.includes('-----BEGIN')) {
    const info = certificateInfo(ref);
    sha256 = info.sha256;
    serialHex = info.serialNumberHex;
  } else {
    const issued = findIssuedCert(store, ref);
    if (issued !== undefined) {
      sha256 = issued.sha256;
      serialHex = issued.serialHex;
    } else if (/^[0-9a-f]{64}$/.test(ref.trim().toLowerCase())) {
      sha256 = ref.trim().toLowerCase();
    } else {
      throw new MiisError('Config.NotFound', `un certificado emitido con número de serie o SHA-256 «${ref}»`);
    }
  }
  const record: RevocationRecord = { sha256, serialHex, reason, revokedAt: ctx.at.toISOString(), actor: ctx.actor };
  store.transaction(() => {
    if (store.db.prepare('SELECT 1 FROM cert_revocations WHERE sha256 = ?').get(sha256) !== undefined) {
      throw new MiisError('Config.Duplicate', `la revocación del certificado ${sha256}`);
    }
    store.db.prepare('INSERT INTO cert_revocations (sha256, serial_hex, reason, revoked_at, actor) VALUES (?,?,?,?,?)')
      .run(sha256, serialHex, reason, record.revokedAt, ctx.actor);
    store.audit(ctx, 'cert.revoke', null, record);
  });
  return record;
}

export function listRevocations(store: RegistryStore): RevocationRecord[] {
  return (store.db.prepare('SELECT * FROM cert_revocations ORDER BY revoked_at, sha256').all() as Record<string, string | null>[]).map((r) => ({
    sha256: r.sha256!, serialHex: r.serial_hex ?? null, reason: r.reason as RevocationReason, revokedAt: r.revoked_at!, actor: r.actor!,
  }));
}

/** Sorted SHA-256 list for the global configuration. */
export function listRevokedSha256(store: RegistryStore): string[] {
  return listRevocations(store).map((r) => r.sha256).sort();
}

export function revocationBySerial(store: RegistryStore, serialHex: string): RevocationRecord | undefined {
  const s = serialHex.replace(/^0+/, '');
  return listRevocations(store).find((r) => r.serialHex !== null && r.serialHex.replace(/^0+/, '') === s);
}
