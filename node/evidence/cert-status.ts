/**
 * Certificate lifecycle view of a node: for each of its certificates, days to expiry, a warning
 * under the configured threshold, and whether central revoked it (conf.revokedCerts). Pure: the
 * caller passes the PEMs, the configuration and the instant.
 */
import { certificateInfo } from '../../core/pki.js';
import type { GlobalConf } from '../../core/global-conf-model.js';

export interface CertStatusRow {
  /** `sign <member id>`: the signing certificate of a member this shared node hosts. */
  readonly role: 'sign' | 'auth' | 'sign-next' | 'sign-previous' | `sign ${string}`;
  readonly sha256: string;
  readonly serialHex: string;
  readonly notAfter: string;
  readonly daysLeft: number;
  readonly state: 'vigente' | 'por-vencer' | 'vencido' | 'revocado';
  readonly message: string;
}

const DAY_MS = 86_400_000;

export function certStatus(role: CertStatusRow['role'], pem: string, conf: GlobalConf | undefined, now: Date, warnDays: number, renew = 'rote la clave con «miis-node cert rotate»'): CertStatusRow {
  const info = certificateInfo(pem);
  const daysLeft = Math.floor((info.notAfter.getTime() - now.getTime()) / DAY_MS);
  const revoked = conf?.revokedCerts?.includes(info.sha256) === true;
  const state = revoked ? 'revocado' : info.notAfter.getTime() <= now.getTime() ? 'vencido' : daysLeft < warnDays ? 'por-vencer' : 'vigente';
  const message = {
    revocado: 'revocado por central: renueve el certificado de inmediato',
    vencido: `venció el ${info.notAfter.toISOString()}`,
    'por-vencer': `vence en ${daysLeft} días (umbral ${warnDays}): ${renew}`,
    vigente: `vigente, vence en ${daysLeft} días`,
  }[state];
  return { role, sha256: info.sha256, serialHex: info.serialNumberHex, notAfter: info.notAfter.toISOString(), daysLeft, state, message };
}
