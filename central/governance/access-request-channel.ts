/**
 * Central's side of `miis-node access request` (directive 7.2 from the IPF's node): the request
 * is signed with the member's signing key (the same key that signs its messages) and verified
 * here against the instance CA, so any transport will do (plain HTTP to central included).
 * Checks: detached XML-DSig valid; certificate chains to the instance CA, is a 'sign' certificate
 * this central issued, and names the client's member as subject serialNumber; created within
 * ±10 minutes of central's clock. Then the request is recorded (channel 'nodo'), which refuses
 * duplicates like any other.
 *
 * Replays: every signed request that passes those checks is remembered for good (table
 * gov_signed_access_requests: SHA-256 of the signed bytes, and the member's requestId), whatever
 * its outcome. The same signed body, or another one reusing the member's requestId, is refused
 * (Config.Duplicate, HTTP 409) — so a denied request cannot be re-filed by replaying it within the
 * ±10-minute window.
 */
import { createHash } from 'node:crypto';
import { MiisError } from '../../core/errors.js';
import { readSignedAccessRequest } from '../../core/access-request-message.js';
import { formatMemberId, parseClientId } from '../../core/identifiers.js';
import { certificateInfo, verifyChain } from '../../core/pki.js';
import { verifyDetached } from '../../core/signature.js';
import { ACCESS_REQUEST_REFERENCE } from '../../core/access-request-message.js';
import type { RegistryStore } from '../registry/store.js';
import { SETTING } from '../registry/rules.js';
import { fileAccessRequest, type AccessRequestRecord } from './access-requests.js';
import { limaDate } from '../../core/business-days.js';
import { calendarOf } from './util.js';

export const MAX_CLOCK_SKEW_MS = 10 * 60_000;

export function receiveSignedAccessRequest(store: RegistryStore, body: Buffer, now: Date): AccessRequestRecord {
  const { bytes, message, signature } = readSignedAccessRequest(body);
  const verdict = verifyDetached(bytes, signature, ACCESS_REQUEST_REFERENCE);
  if (!verdict.ok) throw new MiisError('Config.InvalidCertificate', `la firma de la solicitud no es válida: ${verdict.reason}`);
  const caPem = store.getSetting(SETTING.caCertPem);
  if (caPem === undefined) throw new MiisError('Config.NotInitialized', 'el directorio central no tiene CA');
  const chain = verifyChain(verdict.certPem, [caPem], now);
  if (!chain.ok) throw new MiisError('Config.InvalidCertificate', chain.reason);
  const info = certificateInfo(verdict.certPem);
  const member = formatMemberId(parseClientId(message.client));
  if (info.profile !== 'sign') throw new MiisError('Config.InvalidCertificate', 'la solicitud debe firmarse con el certificado de firma (sign) del miembro');
  if (info.subjectSerialNumber !== member) throw new MiisError('Config.InvalidCertificate', `el certificado es de ${info.subjectSerialNumber ?? '(sin miembro)'}, no de ${member}`);
  if (!store.listIssuedCerts().some((c) => c.sha256 === verdict.certSha256)) throw new MiisError('Config.InvalidCertificate', 'el certificado de firma no fue emitido por este directorio central');
  const created = Date.parse(message.createdAt);
  if (!Number.isFinite(created) || Math.abs(created - now.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new MiisError('Config.InvalidInput', `la solicitud tiene la fecha ${message.createdAt}, fuera de ±10 minutos del reloj del directorio central (${now.toISOString()}); revise el reloj del nodo`);
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  const seen = store.db
    .prepare('SELECT request_id, access_request_id, received_at FROM gov_signed_access_requests WHERE digest = ? OR (member_id = ? AND request_id = ?)')
    .get(digest, member, message.requestId) as { request_id: string; access_request_id: string | null; received_at: string } | undefined;
  if (seen !== undefined) {
    throw new MiisError('Config.Duplicate', `la solicitud firmada ${seen.request_id} de ${member}, recibida el ${seen.received_at}${seen.access_request_id === null ? '' : ` (${seen.access_request_id})`}; una solicitud firmada no se acepta dos veces (posible repetición): envíe una nueva con «miis-node access request»`);
  }
  store.db
    .prepare('INSERT INTO gov_signed_access_requests (digest, member_id, request_id, access_request_id, received_at) VALUES (?, ?, ?, NULL, ?)')
    .run(digest, member, message.requestId, now.toISOString());
  const record = fileAccessRequest(store, {
    client: message.client,
    component: message.component,
    service: message.service,
    purpose: message.purpose,
    purposeDetail: message.purposeDetail,
    legalBasis: message.legalBasis,
    filedAt: limaDate(now),
    channel: 'nodo',
    signerCertSha256: verdict.certSha256,
  }, calendarOf(store), { actor: `nodo:${member}`, at: now });
  store.db.prepare('UPDATE gov_signed_access_requests SET access_request_id = ? WHERE digest = ?').run(record.id, digest);
  return record;
}
