/**
 * Provider side: a signed request from a peer node in, a signed answer from the entity's backend out.
 * verifyPeerIsNode (before the body is read) → readMessage → verifyPeer → verifySignature → checkReplay → authorize → checkTrama → logRequest →
 * callService → signResponse (the service member's key) → logResponse → reply. Metaservices skip authorize/checkTrama and are
 * answered by the node itself (node/pipeline/metaservices.ts).
 */
import { acceptedAuthCerts } from '../../core/global-conf-model.js';
import { MiisError, toMiisError } from '../../core/errors.js';
import type { GlobalConfAgreement } from '../../core/global-conf-model.js';
import { formatClientId, formatMemberId, serviceKey, type MemberId } from '../../core/identifiers.js';
import type { XmlElement } from '../../core/xml.js';
import { decideAccess } from './access-decision.js';
import type { ServiceAdapter } from '../adapters/index.js';
import { answerProviderMetaservice, isProviderMetaservice } from './metaservices.js';
import { WSDL_DIR } from '../store/paths.js';
import { createProxyAdapter } from '../adapters/proxy.js';
import { validateTrama } from './trama-validation.js';
import { dataSubjectDnis } from './data-subjects.js';
import { signDetached, verifyDetached } from '../../core/signature.js';
import { addRequestHash, faultFromError, readSoapMessage, type SoapMessage, type XRoadHeader } from '../../core/soap.js';
import { maxServiceTimeoutMs, memberSigning, type ExchangeFacts, type MemberSigning, type NodeContext } from './context.js';
import { exchangeRecord, noteFacts } from './client-proxy.js';
import { admitOnce, appendRequest } from './replay-guard.js';
import { nodesOf, type ConfView } from '../conf/global-conf-client.js';
import type { LocalService } from '../store/local-store.js';
import type { LogRecord } from '../evidence/message-log.js';
import { decodeSignedMessage, encodeSignedMessage, type SignedMessage } from './signed-message.js';
import { checkSigningCert, confirmByOcsp, isRevoked } from '../certs/signing-cert.js';
import { limaDate } from '../../core/iso-date.js';

export interface ProviderReplyOut {
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * Largest signature part accepted from a peer. A detached XML signature with its certificate is
 * a few KiB; anything larger is refused before the message part is parsed.
 */
export const MAX_SIGNATURE_BYTES = 32 * 1024;

/** The multipart's two parts, with the signature part's size checked (no XML parsed yet). */
export function decodeProviderMessage(body: Buffer, contentType: string | undefined): SignedMessage {
  const signed = decodeSignedMessage(body, contentType, 'Server.ServerProxy.InvalidMessage');
  if (signed.signature.length > MAX_SIGNATURE_BYTES) {
    throw new MiisError('Server.ServerProxy.InvalidMessage', `la parte de firma tiene ${signed.signature.length} bytes; máximo ${MAX_SIGNATURE_BYTES}`);
  }
  return signed;
}

export function readMessage(ctx: NodeContext, body: Buffer, contentType: string | undefined): { signed: SignedMessage; request: SoapMessage } {
  const signed = decodeProviderMessage(body, contentType);
  try {
    const request = readSoapMessage(signed.message, 'request', { maxBytes: ctx.limits.maxMessageBytes, maxDepth: 32, maxElements: 50_000 });
    return { signed, request };
  } catch (err) {
    throw new MiisError('Server.ServerProxy.InvalidMessage', (err as Error).message, { cause: err });
  }
}

/**
 * Before any byte of the body is read: the TLS certificate of the connection must be the one of a
 * node in the global configuration (and not revoked). A certificate the CA issued to anything else
 * is refused here, so an unknown peer causes no parsing at all.
 */
export function verifyPeerIsNode(view: ConfView, peerSha256: string | undefined): void {
  if (peerSha256 === undefined || !view.conf.nodes.some((n) => acceptedAuthCerts(n).includes(peerSha256))) {
    throw new MiisError('Server.ServerProxy.SslAuthenticationFailed', '(ninguno: el certificado no es el de un nodo de la configuración global)');
  }
  if (isRevoked(view.conf, peerSha256)) throw new MiisError('Server.ServerProxy.SslAuthenticationFailed', '(certificado TLS revocado)');
}

/**
 * The TLS certificate of the connection must be one registered for a node that hosts the client
 * (any of the member's nodes for that subsystem; two certificates per node during a renewal overlap).
 */
export function verifyPeer(view: ConfView, header: XRoadHeader, peerSha256: string | undefined): void {
  const client = formatClientId(header.client);
  if (peerSha256 === undefined || !nodesOf(view, client).some((node) => acceptedAuthCerts(node).includes(peerSha256))) {
    throw new MiisError('Server.ServerProxy.SslAuthenticationFailed', client);
  }
  if (isRevoked(view.conf, peerSha256)) throw new MiisError('Server.ServerProxy.SslAuthenticationFailed', `${client} (certificado TLS revocado)`);
}

export async function verifySignature(ctx: NodeContext, view: ConfView, request: SoapMessage, signature: Buffer): Promise<string> {
  return verifyRequestSignature(ctx, view, request.raw, signature, (request.header as XRoadHeader).client, 'solicitud');
}

/**
 * The detached signature over a request's exact bytes, by a valid signing certificate of the
 * client's member (SOAP here, REST in rest-server.ts); returns the certificate's SHA-256.
 * `what` names the message in the node's log line when the signature is refused.
 */
export async function verifyRequestSignature(ctx: NodeContext, view: ConfView, raw: Buffer, signature: Buffer, client: MemberId, what: string): Promise<string> {
  const verdict = verifyDetached(raw, signature);
  if (!verdict.ok) {
    ctx.info(`firma de ${what} rechazada: ${verdict.reason}`);
    throw new MiisError('Server.ServerProxy.InvalidSignatureValue');
  }
  const cert = checkSigningCert(view.conf, verdict.certPem, verdict.certSha256, formatMemberId(client), ctx.now());
  if (!cert.ok) throw new MiisError('Server.ServerProxy.IncorrectCertificate', cert.reason);
  // external-CA certificate (conf.externalCas): its revocation is checked by OCSP (node/certs/ocsp-checker.ts)
  if (cert.ocsp !== undefined) await confirmByOcsp(ctx.ocsp, cert.ocsp, 'Server.ServerProxy.IncorrectCertificate');
  return verdict.certSha256;
}

/**
 * Synchronous with an in-memory memory (nothing to do when the message log is the memory: the
 * request's append checks it, `logProviderRequest`); a promise with the shared PostgreSQL one.
 */
export function checkReplay(ctx: NodeContext, header: XRoadHeader): void | Promise<void> {
  return admitOnce(ctx.replay, formatClientId(header.client), header.id, ctx.now().getTime(), 'Server.ServerProxy.DuplicateMessage', 'Server.ServerProxy.MessageLogUnavailable');
}

/**
 * Deny by default (node/pipeline/access-decision.ts): the service is local, the client (subsystem or its
 * member) has an access right (local ACL ∪ global configuration), and the request cites an agreement
 * in force that covers client and service, with a purpose the agreement allows.
 */
export function authorize(ctx: NodeContext, view: ConfView, header: XRoadHeader): { service: LocalService; agreement: GlobalConfAgreement } {
  const local = ctx.local();
  const decision = decideAccess({
    localServices: local.services, localClients: local.clients, acl: local.acl,
    accessRights: view.conf.accessRights ?? [], agreements: view.conf.agreements ?? [], today: limaDate(ctx.now()),
  }, header);
  if (!decision.allowed) throw new MiisError(decision.code, decision.detail);
  return { service: local.services.get(serviceKey(header.service)) as LocalService, agreement: decision.agreement };
}

function adapterKind(service: LocalService): string {
  try {
    return (JSON.parse(service.adapter ?? '{}') as { kind?: string }).kind ?? 'proxy';
  } catch {
    return 'proxy';
  }
}

/**
 * The agreement's maximum number of identifiers and minimum validations (node/pipeline/trama-validation.ts),
 * before any backend call. Adapters receive identifiers only in canonical form: the sql adapter
 * reads the parsed request, whose identifier values are replaced by their canonical form (it binds
 * those); the proxy adapter forwards the signed bytes unchanged, so a non-canonical spelling is
 * refused for it (never re-serialised).
 */
export function checkTrama(request: SoapMessage, agreement: GlobalConfAgreement, service?: LocalService): void {
  const verdict = validateTrama(request.payload as XmlElement, agreement);
  if (!verdict.ok) throw new MiisError(verdict.code, verdict.detail);
  if (verdict.rewrites.length === 0) return;
  const sql = service !== undefined && adapterKind(service) === 'sql';
  if (!sql) {
    const r = verdict.rewrites[0] as (typeof verdict.rewrites)[number];
    throw new MiisError('Server.ServerProxy.ValidationFailed', `campo «${r.field}»: «${r.element.text.slice(0, 40)}» no está en forma canónica; envíe ${r.canonical}`);
  }
  for (const r of verdict.rewrites) r.element.text = r.canonical;
}

/** Answer through the service's adapter (node/adapters/index.ts): proxy to the backend or the declarative sql adapter. */
export async function callService(ctx: NodeContext, service: LocalService, request: SoapMessage): Promise<SoapMessage> {
  if (ctx.adapters === undefined) return createProxyAdapter(service, undefined, { backends: ctx.backends, maxMessageBytes: ctx.limits.maxMessageBytes }).call(request);
  let adapter: ServiceAdapter;
  try {
    adapter = await ctx.adapters.get(service);
  } catch (err) {
    ctx.info(`adaptador de ${service.serviceKey}: ${(err as Error).message}`);
    throw new MiisError('Server.ServerProxy.ServiceFailed', 'el adaptador del servicio está mal configurado', { cause: err });
  }
  return adapter.call(request);
}

/**
 * The backend must give up before the client node does, so a silent backend is reported as this
 * node's ServiceTimeout and not as the client's Timeout blaming the provider's node.
 */
export function clampTimeout(ctx: NodeContext, service: LocalService): LocalService {
  const max = maxServiceTimeoutMs(ctx.limits);
  return service.timeoutMs < max ? service : { ...service, timeoutMs: max };
}

/**
 * Signed with the key of the service's member: the owner's, or a hosted member's on a shared node
 * (node/certs/hosted-members.ts); the owner's when this node does not sign for that member.
 * SOAP, REST (rest-server.ts) and lotes (batch-provider.ts) answers are all signed with it.
 */
export function providerSigning(ctx: NodeContext, header: Pick<XRoadHeader, 'service'>): MemberSigning {
  return memberSigning(ctx, header.service) ?? { signer: ctx.signer, sha256: ctx.signerSha256 };
}

export function signResponse(request: SoapMessage, response: SoapMessage, signing: MemberSigning): { raw: Buffer; signature: string } {
  const raw = addRequestHash(response, request.raw);
  return { raw, signature: signDetached(raw, signing.signer) };
}

/** Append the provider's request record, with the replay check when the log is the memory (Server.ServerProxy.DuplicateMessage). */
export function logProviderRequest(ctx: NodeContext, record: LogRecord): Promise<void> {
  return appendRequest(ctx.log, ctx.replay, record, 'Server.ServerProxy.DuplicateMessage');
}

function logRecord(ctx: NodeContext, header: XRoadHeader, direction: 'request' | 'response', message: Buffer, signature: string, signerSha: string, fault?: string): LogRecord {
  return exchangeRecord(ctx, 'server', header, direction, message, signature, signerSha, fault);
}

export async function processProviderRequest(ctx: NodeContext, body: Buffer, contentType: string | undefined, peerSha256: string | undefined, facts?: ExchangeFacts): Promise<ProviderReplyOut> {
  const view = ctx.conf.current('Server.ServerProxy.OutdatedGlobalConf');
  verifyPeerIsNode(view, peerSha256);
  const { signed, request } = readMessage(ctx, body, contentType);
  const header = request.header as XRoadHeader;
  if (facts !== undefined) noteFacts(facts, header);
  ctx.evidence?.check('Server.ServerProxy.TimestampUnavailable');
  verifyPeer(view, header, peerSha256);
  const signerSha = await verifySignature(ctx, view, request, signed.signature);
  const replay = checkReplay(ctx, header);
  if (replay !== undefined) await replay;
  // metaservices (listMethods, allowedMethods, getWsdl) are answered by this node and need no agreement
  const access = isProviderMetaservice(header.service) ? undefined : authorize(ctx, view, header);
  if (access !== undefined) checkTrama(request, access.agreement, access.service);
  // the persons the request concerns, indexed (as HMACs) with the record: "who consulted my data?"
  const subjects = access === undefined ? undefined : dataSubjectDnis(request.payload as XmlElement, access.agreement.validations);
  await logProviderRequest(ctx, { ...logRecord(ctx, header, 'request', request.raw, signed.signature.toString('utf8'), signerSha), subjects });
  const signing = providerSigning(ctx, header);
  let response: SoapMessage;
  try {
    response = access === undefined
      ? answerProviderMetaservice(ctx, view, request, ctx.wsdlDirs ?? [ctx.wsdlDir ?? WSDL_DIR])
      : await callService(ctx, clampTimeout(ctx, access.service), request);
  } catch (err) {
    // the request is logged: so is the fault this node answers with (same bytes, same faultDetail)
    const e = toMiisError(err, 'Server.ServerProxy.InternalError');
    const fault = faultFromError(e);
    try {
      await ctx.log.append(logRecord(ctx, header, 'response', fault, signDetached(fault, signing.signer), signing.sha256, e.code));
    } catch {
      // the fault still reaches the client (and the fault log) if the message log is unavailable
    }
    throw e;
  }
  const out = signResponse(request, response, signing);
  await ctx.log.append(logRecord(ctx, header, 'response', out.raw, out.signature, signing.sha256, response.fault?.faultCode));
  return encodeSignedMessage(out.raw, out.signature) as { body: Buffer; contentType: string };
}
