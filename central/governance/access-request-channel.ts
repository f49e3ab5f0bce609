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
 *
 * Answers (`miis-node access responder`, POST /solicitudes-acceso/respuestas) and listings
 * (`miis-node access list`, POST /solicitudes-acceso/consultas) pass the same checks with their own
 * reference URI, and are remembered for good in gov_signed_messages (digest; kind + member +
 * message id). An answer must come from the member that administers the requested component
 * (Config.NotAuthorized, HTTP 403); its signature stands for that entity's designated unit, whose
 * name is recorded as decision_unit with decided_by `nodo:<member>` and the answer's certificate.
 */
import { createHash } from 'node:crypto';
import { MiisError } from '../../core/errors.js';
import { readSignedAccessRequest } from '../../core/access-request-message.js';
import { formatMemberId, parseClientId } from '../../core/identifiers.js';
import { certificateInfo, verifyChain } from '../../core/pki.js';
import { verifyDetached } from '../../core/signature.js';
import {
  ACCESS_ANSWER_REFERENCE, ACCESS_LIST_REFERENCE, ACCESS_REQUEST_REFERENCE, readSignedAccessAnswer, readSignedAccessListQuery, type AccessListRow,
} from '../../core/access-request-message.js';
import type { RegistryStore } from '../registry/store.js';
import { SETTING } from '../registry/rules.js';
import { decideAccessRequest, fileAccessRequest, getAccessRequest, listAccessRequests, type AccessRequestRecord } from './access-requests.js';
import { citedProgram, linkProgram } from './programs.js';
import { requireComponent } from './catalogue.js';
import { limaDate } from '../../core/business-days.js';
import { calendarOf } from './util.js';

export const MAX_CLOCK_SKEW_MS = 10 * 60_000;

/**
 * What every signed message from a node must pass: a valid detached signature over the exact bytes
 * (with this message kind's reference), a 'sign' certificate this central issued and that chains to
 * the instance CA, naming `member` as subject serialNumber, and a creation time within ±10 minutes.
 * Returns the SHA-256 of the signing certificate.
 */
function verifySignedFromNode(store: RegistryStore, signed: { bytes: Buffer; signature: string; reference: string; member: string; createdAt: string; what: string }, now: Date): string {
  const verdict = verifyDetached(signed.bytes, signed.signature, signed.reference);
  if (!verdict.ok) throw new MiisError('Config.InvalidCertificate', `la firma de la ${signed.what} no es válida: ${verdict.reason}`);
  const caPem = store.getSetting(SETTING.caCertPem);
  if (caPem === undefined) throw new MiisError('Config.NotInitialized', 'el directorio central no tiene CA');
  const chain = verifyChain(verdict.certPem, [caPem], now);
  if (!chain.ok) throw new MiisError('Config.InvalidCertificate', chain.reason);
  const info = certificateInfo(verdict.certPem);
  if (info.profile !== 'sign') throw new MiisError('Config.InvalidCertificate', `la ${signed.what} debe firmarse con el certificado de firma (sign) del miembro`);
  if (info.subjectSerialNumber !== signed.member) throw new MiisError('Config.InvalidCertificate', `el certificado es de ${info.subjectSerialNumber ?? '(sin miembro)'}, no de ${signed.member}`);
  if (!store.listIssuedCerts().some((c) => c.sha256 === verdict.certSha256)) throw new MiisError('Config.InvalidCertificate', 'el certificado de firma no fue emitido por este directorio central');
  const created = Date.parse(signed.createdAt);
  if (!Number.isFinite(created) || Math.abs(created - now.getTime()) > MAX_CLOCK_SKEW_MS) {
    throw new MiisError('Config.InvalidInput', `la ${signed.what} tiene la fecha ${signed.createdAt}, fuera de ±10 minutos del reloj del directorio central (${now.toISOString()}); revise el reloj del nodo`);
  }
  return verdict.certSha256;
}

export function receiveSignedAccessRequest(store: RegistryStore, body: Buffer, now: Date): AccessRequestRecord {
  const { bytes, message, signature } = readSignedAccessRequest(body);
  const member = formatMemberId(parseClientId(message.client));
  const signerCertSha256 = verifySignedFromNode(store, { bytes, signature, reference: ACCESS_REQUEST_REFERENCE, member, createdAt: message.createdAt, what: 'solicitud' }, now);
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
    signerCertSha256,
  }, calendarOf(store), { actor: `nodo:${member}`, at: now });
  store.db.prepare('UPDATE gov_signed_access_requests SET access_request_id = ? WHERE digest = ?').run(record.id, digest);
  return record;
}

/** Remember a signed answer or listing for good; a second body with the same digest or message id is a replay. */
function rememberSigned(store: RegistryStore, kind: 'respuesta' | 'consulta', bytes: Buffer, member: string, messageId: string, ref: string | null, now: Date): void {
  const digest = createHash('sha256').update(bytes).digest('hex');
  const seen = store.db
    .prepare('SELECT message_id, received_at FROM gov_signed_messages WHERE digest = ? OR (kind = ? AND member_id = ? AND message_id = ?)')
    .get(digest, kind, member, messageId) as { message_id: string; received_at: string } | undefined;
  if (seen !== undefined) {
    throw new MiisError('Config.Duplicate', `la ${kind} firmada ${seen.message_id} de ${member}, recibida el ${seen.received_at}; un mensaje firmado no se acepta dos veces (posible repetición)`);
  }
  store.db.prepare('INSERT INTO gov_signed_messages (digest, kind, member_id, message_id, ref, received_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run(digest, kind, member, messageId, ref, now.toISOString());
}

function memberIdOf(text: string): string {
  const id = parseClientId(text.trim());
  if (id.subsystemCode !== undefined) throw new MiisError('Config.InvalidInput', `el firmante debe ser un miembro (INSTANCIA/CLASE/CÓDIGO), no el subsistema ${text}`);
  return formatMemberId(id);
}

/**
 * The administering entity's designated unit answers from its node: grant ('aprobar') or deny
 * ('denegar', with a reason). Checked like a signed request, then remembered, then decided.
 */
export function receiveSignedAccessAnswer(store: RegistryStore, body: Buffer, now: Date): AccessRequestRecord {
  const { bytes, message, signature } = readSignedAccessAnswer(body);
  const member = memberIdOf(message.member);
  const certSha256 = verifySignedFromNode(store, { bytes, signature, reference: ACCESS_ANSWER_REFERENCE, member, createdAt: message.createdAt, what: 'respuesta' }, now);
  const ctx = { actor: `nodo:${member}`, at: now };
  // remembered whatever the outcome (outside the decision's transaction), like signed requests
  rememberSigned(store, 'respuesta', bytes, member, message.answerId, message.requestId.trim().toUpperCase(), now);
  return store.transaction(() => {
    const request = getAccessRequest(store, message.requestId);
    if (request === undefined) throw new MiisError('Config.NotFound', `la solicitud de acceso ${message.requestId}; vea «miis-node access list --recibidas»`);
    // refuse a non-provider before anything else about the request is looked at
    if (parseClientId(member).memberCode !== requireComponent(store, request.componentCode).entityRuc) {
      throw new MiisError('Config.NotAuthorized', `${member} no administra el componente ${request.componentCode}: solo la unidad designada de la entidad administradora responde la solicitud ${request.id}`);
    }
    const grant = message.decision === 'aprobar';
    const decided = decideAccessRequest(store, {
      id: request.id, grant, reason: message.reason, decidedAt: limaDate(now), agreementId: message.agreementId, validUntil: message.validUntil,
      byNode: { member, certSha256 },
    }, ctx);
    // the agreement a grant registers serves the programme the request cited (RPS), as with «miis-central access grant»
    const program = citedProgram(store, 'solicitud-acceso', decided.id);
    if (program !== undefined && decided.agreementId !== null && citedProgram(store, 'convenio', decided.agreementId) === undefined) linkProgram(store, 'convenio', decided.agreementId, program, ctx);
    return decided;
  });
}

export function accessListRow(r: AccessRequestRecord): AccessListRow {
  return {
    id: r.id, estado: r.status, cliente: r.clientId, componente: r.componentCode, servicio: r.serviceId, finalidad: r.purpose,
    presentada: r.filedAt, vence: r.dueAt, respondida: r.decidedAt, respondidaPor: r.decidedBy, unidad: r.decisionUnit,
    motivo: r.revokedOn === null ? r.reason : r.revokeReason, convenio: r.agreementId, revocada: r.revokedOn,
  };
}

/**
 * A member asks, from its node, for its access requests: as 'solicitante' those its subsystems
 * filed; as 'proveedor' those addressed to components its entity administers (what its designated
 * unit has to answer). Nothing about other members' requests is returned.
 */
export function receiveSignedAccessListQuery(store: RegistryStore, body: Buffer, now: Date): AccessListRow[] {
  const { bytes, message, signature } = readSignedAccessListQuery(body);
  const member = memberIdOf(message.member);
  verifySignedFromNode(store, { bytes, signature, reference: ACCESS_LIST_REFERENCE, member, createdAt: message.createdAt, what: 'consulta' }, now);
  rememberSigned(store, 'consulta', bytes, member, message.queryId, null, now);
  const ruc = parseClientId(member).memberCode;
  // one catalogue look-up per component, not per request
  const entityOf = new Map<string, string>();
  const administers = (code: string): boolean => {
    let entity = entityOf.get(code);
    if (entity === undefined) entityOf.set(code, (entity = requireComponent(store, code).entityRuc));
    return entity === ruc;
  };
  const rows = listAccessRequests(store).filter((r) => message.role === 'solicitante'
    ? formatMemberId(parseClientId(r.clientId)) === member
    : administers(r.componentCode));
  return rows.map(accessListRow);
}
