/**
 * Consumer side: an information system's SOAP request in, the provider's verified answer out.
 * readMessage → checkIsHeaders → checkClient → resolveProvider → checkClientReplay → signRequest (the client member's key) → logRequest → sendToProvider →
 * verifyResponse → logResponse → returnToClient.
 */
import { MiisError } from '../../core/errors.js';
import type { GlobalConfNode } from '../../core/global-conf-model.js';
import { formatClientId, formatMemberId, formatServiceId, providerOf, serviceKey, type MemberId } from '../../core/identifiers.js';
import { signDetached, verifyDetached } from '../../core/signature.js';
import { checkConsistency, readSoapMessage, type SoapMessage, type XRoadHeader } from '../../core/soap.js';
import { XROAD_NS } from '../../core/identifiers.js';
import type { XmlElement } from '../../core/xml.js';
import { nodesOf, pinsFor, type ConfView } from '../conf/global-conf-client.js';
import { requestNotSent, type HttpReply } from '../outbound/http-pools.js';
import { createScoreboard, sendWithFailover } from '../outbound/provider-failover.js';
import { memberSigning, type ExchangeFacts, type MemberSigning, type NodeContext } from './context.js';
import type { LogRecord } from '../evidence/message-log.js';
import { decodeSignedMessage, encodeSignedMessage } from './signed-message.js';
import { admitOnce, appendRequest } from './replay-guard.js';
import { checkSigningCert, confirmByOcsp, isRevoked } from '../certs/signing-cert.js';
import { answerListClientsSoap, isClientMetaservice, isProviderMetaservice } from './metaservices.js';

export interface ClientResult {
  readonly response: Buffer;
  readonly request: SoapMessage;
  /** The response is a SOAP Fault (sent to the IS with HTTP 500, as SOAP 1.1 requires). */
  readonly fault: boolean;
}

export function readMessage(ctx: NodeContext, raw: Buffer): SoapMessage {
  return readSoapMessage(raw, 'request', { maxBytes: ctx.limits.maxMessageBytes, maxDepth: 32, maxElements: 50_000 });
}

/** C0 controls (tab, CR and LF included), DEL and C1 controls: never part of an identifier or header value. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Headers only nodes add (the provider's requestHash); an IS that sends one is refused. */
const NODE_HEADERS: readonly { uri: string; local: string; label: string }[] = [{ uri: XROAD_NS, local: 'requestHash', label: 'xrd:requestHash' }];

function labelOf(el: XmlElement): string {
  return el.prefix === '' ? el.local : `${el.prefix}:${el.local}`;
}

/**
 * What the IS must not send, refused before anything is signed or forwarded: a header the nodes
 * add, and control characters in any header value (every leaf of the SOAP header, so identifiers,
 * id, userId, issue, convenio and finalidad included).
 */
export function checkIsHeaders(request: SoapMessage): void {
  const header = request.headerElement;
  if (header === undefined) return;
  for (const c of header.children) {
    const forbidden = NODE_HEADERS.find((h) => h.uri === c.uri && h.local === c.local);
    if (forbidden !== undefined) throw new MiisError('Client.ForbiddenHeader', forbidden.label);
  }
  const stack: XmlElement[] = [...header.children];
  while (stack.length > 0) {
    const el = stack.pop() as XmlElement;
    if (el.children.length === 0 ? CONTROL.test(el.text.trim()) : false) throw new MiisError('Client.ControlCharacter', labelOf(el));
    for (const attr of Object.values(el.attributes)) {
      if (CONTROL.test(attr.value)) throw new MiisError('Client.ControlCharacter', `${labelOf(el)} (atributo ${attr.local})`);
    }
    stack.push(...el.children);
  }
}

/**
 * The IS may act only as a subsystem registered on this node and published for it in the global
 * configuration; returns the key its requests are signed with (the owner's, or a hosted member's).
 * SOAP, REST (rest-client.ts) and lotes (batch-consumer.ts) all sign with what this returns.
 */
export function checkClient(ctx: NodeContext, view: ConfView, header: Pick<XRoadHeader, 'client'>): MemberSigning {
  const client = formatClientId(header.client);
  const s = ctx.settings;
  // the owner's subsystems, or a hosted member's on a shared node (it must have its signing key here)
  const signing = memberSigning(ctx, header.client);
  if (signing === undefined || !ctx.local().clients.includes(client)) {
    throw new MiisError('Server.ClientProxy.UnknownClient', client);
  }
  if (!nodesOf(view, client).some((n) => n.name === s.nodeName)) {
    throw new MiisError('Server.ClientProxy.UnknownClient', `${client} (no figura en la configuración global para el nodo ${s.nodeName})`);
  }
  return signing;
}

/**
 * Every node that hosts the provider's subsystem (several when the provider member runs more than
 * one node for it), in configuration order; nodes whose TLS certificate central revoked are left out.
 */
export function resolveProvider(view: ConfView, header: XRoadHeader): readonly GlobalConfNode[] {
  const service = formatServiceId(header.service);
  // metaservices (listMethods, allowedMethods, getWsdl) are addressed to any provider subsystem
  if (!isProviderMetaservice(header.service) && !view.services.has(service) && !view.services.has(serviceKey(header.service))) {
    throw new MiisError('Server.ClientProxy.UnknownService', service);
  }
  const nodes = nodesOf(view, formatClientId(providerOf(header.service)));
  if (nodes.length === 0) throw new MiisError('Server.ClientProxy.UnknownService', `${service} (ningún nodo lo atiende)`);
  const usable = nodes.filter((n) => !isRevoked(view.conf, n.authCertSha256));
  if (usable.length === 0) throw new MiisError('Server.ClientProxy.SslAuthenticationFailed', `${nodes.map((n) => n.name).join(', ')}: certificado TLS revocado`);
  return usable;
}

/**
 * The IS must not reuse a message id within the replay window (remembered across restarts), checked
 * before anything is signed or sent; when the message log is the memory (SQLite), by the request's
 * append instead (`logClientRequest`), before anything is sent.
 */
export function checkClientReplay(ctx: NodeContext, header: XRoadHeader): void | Promise<void> {
  if (ctx.clientReplay === undefined) return;
  return admitOnce(ctx.clientReplay, formatClientId(header.client), header.id, ctx.now().getTime(), 'Server.ClientProxy.DuplicateMessage', 'Server.ClientProxy.MessageLogUnavailable');
}

/** Append the consumer's request record, with the replay check when the log is the memory (Server.ClientProxy.DuplicateMessage). */
export function logClientRequest(ctx: NodeContext, record: LogRecord): Promise<void> {
  return appendRequest(ctx.log, ctx.clientReplay, record, 'Server.ClientProxy.DuplicateMessage');
}

/** Signed with the key of the client's member (the owner's, or a hosted member's on a shared node), as checkClient returned it. */
export function signRequest(request: SoapMessage, signing: MemberSigning): string {
  return signDetached(request.raw, signing.signer);
}

function logRecord(ctx: NodeContext, m: SoapMessage, header: XRoadHeader, direction: 'request' | 'response', signature: string, signerSha: string): LogRecord {
  return exchangeRecord(ctx, 'client', header, direction, m.raw, signature, signerSha, m.fault?.faultCode);
}

/** The message log record of one signed message (SOAP or REST, either side), described by its X-Road header. */
export function exchangeRecord(ctx: NodeContext, side: 'client' | 'server', header: XRoadHeader, direction: 'request' | 'response', message: Buffer, signature: string, signerSha: string, fault?: string): LogRecord {
  return {
    side, direction, messageId: header.id, client: formatClientId(header.client), service: formatServiceId(header.service),
    userId: header.userId, convenio: header.convenio, finalidad: header.finalidad, at: ctx.now(), message, signature,
    signerCertSha256: signerSha, fault,
  };
}

export interface ProviderReply {
  /** A signed response, or a node-level fault from the provider node (unsigned, passed through). */
  readonly kind: 'signed' | 'fault';
  readonly message: Buffer;
  readonly signature?: Buffer;
}

/** Used when the context brings no scoreboard of its own (tests that build a NodeContext by hand). */
const sharedScoreboard = createScoreboard();

/**
 * POST a signed body to one of the provider's nodes (node/outbound/provider-failover.ts): the next
 * node is tried only when the previous one failed before the request left this node. The SOAP,
 * REST (`path` /miis/v1/rest) and batch (/miis/v1/lote) consumers all send through here.
 */
export async function sendToProviderNodes(ctx: NodeContext, view: ConfView, providers: readonly GlobalConfNode[], body: Buffer, contentType: string, path?: string): Promise<HttpReply> {
  const tls = { keyPem: ctx.auth.keyPem, certPem: ctx.auth.certPem, caPems: view.conf.trustedCas };
  const { reply } = await sendWithFailover(providers, {
    scoreboard: ctx.providerScores ?? sharedScoreboard,
    nowMs: () => ctx.now().getTime(),
    attempt: (node) => ctx.peers.send(node.address, pinsFor(view, node), tls, body, contentType, ctx.limits.peerTimeoutMs, path),
    notSent: requestNotSent,
    info: ctx.info,
  });
  return reply;
}

/** Send the signed SOAP request to one of the provider's nodes. */
export async function sendToProvider(ctx: NodeContext, view: ConfView, providers: readonly GlobalConfNode[], request: SoapMessage, signature: string): Promise<ProviderReply> {
  const { body, contentType } = encodeSignedMessage(request.raw, signature);
  const reply = await sendToProviderNodes(ctx, view, providers, body, contentType);
  if (reply.body.length > ctx.limits.maxMessageBytes * 2) throw new MiisError('Server.ClientProxy.InvalidResponse', 'respuesta demasiado grande');
  if (reply.contentType?.startsWith('multipart/related') === true) {
    const signed = decodeSignedMessage(reply.body, reply.contentType, 'Server.ClientProxy.InvalidResponse');
    return { kind: 'signed', message: signed.message, signature: signed.signature };
  }
  if (reply.contentType?.startsWith('text/xml') === true) {
    // an unsigned reply is only acceptable as the provider node's own SOAP fault
    let fault: SoapMessage;
    try {
      fault = readSoapMessage(reply.body, 'response', { maxBytes: ctx.limits.maxMessageBytes, maxDepth: 32, maxElements: 50_000 });
    } catch (err) {
      throw new MiisError('Server.ClientProxy.InvalidResponse', (err as Error).message, { cause: err });
    }
    if (fault.fault === undefined) throw new MiisError('Server.ClientProxy.InvalidResponse', `HTTP ${reply.status}: respuesta sin firma que no es una falla SOAP`);
    return { kind: 'fault', message: reply.body };
  }
  throw new MiisError('Server.ClientProxy.InvalidResponse', `HTTP ${reply.status}, tipo «${reply.contentType ?? ''}»`);
}

export async function verifyResponse(ctx: NodeContext, view: ConfView, request: SoapMessage, reply: ProviderReply & { signature: Buffer }): Promise<{ response: SoapMessage; signerSha: string }> {
  let response: SoapMessage;
  try {
    response = readSoapMessage(reply.message, 'response', { maxBytes: ctx.limits.maxMessageBytes, maxDepth: 32, maxElements: 50_000 });
  } catch (err) {
    throw new MiisError('Server.ClientProxy.InvalidResponse', (err as Error).message, { cause: err });
  }
  const signerSha = await verifyResponseSignature(ctx, view, reply.message, reply.signature, (request.header as XRoadHeader).service, 'respuesta');
  const inconsistency = checkConsistency(request, response);
  if (inconsistency !== null) throw new MiisError('Server.ClientProxy.InconsistentResponse', inconsistency.field);
  return { response, signerSha };
}

/**
 * The detached signature over a response's exact bytes, by a valid signing certificate of the
 * service's member (SOAP here, REST in rest-client.ts); returns the certificate's SHA-256.
 * `what` names the message in the node's log line when the signature is refused.
 */
export async function verifyResponseSignature(ctx: NodeContext, view: ConfView, raw: Buffer, signature: Buffer, provider: MemberId, what: string): Promise<string> {
  const verdict = verifyDetached(raw, signature);
  if (!verdict.ok) {
    ctx.info(`firma de ${what} rechazada: ${verdict.reason}`);
    throw new MiisError('Server.ClientProxy.InvalidSignatureValue');
  }
  const cert = checkSigningCert(view.conf, verdict.certPem, verdict.certSha256, formatMemberId(provider), ctx.now());
  if (!cert.ok) throw new MiisError('Server.ClientProxy.IncorrectCertificate', cert.reason);
  // external-CA certificate (conf.externalCas): its revocation is checked by OCSP (node/certs/ocsp-checker.ts)
  if (cert.ocsp !== undefined) await confirmByOcsp(ctx.ocsp, cert.ocsp, 'Server.ClientProxy.IncorrectCertificate');
  return verdict.certSha256;
}

/** Message id, client and service of a read message, for the fault log. */
export function noteFacts(facts: ExchangeFacts, header: XRoadHeader | undefined): void {
  if (header === undefined) return;
  facts.messageId = header.id;
  facts.client = formatClientId(header.client);
  facts.service = formatServiceId(header.service);
}

/** Handle one IS request end to end. Throws MiisError; the caller turns it into a SOAP fault. */
export async function processClientRequest(ctx: NodeContext, raw: Buffer, facts?: ExchangeFacts): Promise<ClientResult> {
  const request = readMessage(ctx, raw);
  checkIsHeaders(request);
  const header = request.header as XRoadHeader;
  if (facts !== undefined) noteFacts(facts, header);
  const view = ctx.conf.current();
  const signing = checkClient(ctx, view, header);
  ctx.evidence?.check('Server.ClientProxy.TimestampUnavailable');
  if (isClientMetaservice(header.service)) return { response: answerListClientsSoap(view, request), request, fault: false };
  const providers = resolveProvider(view, header);
  const replay = checkClientReplay(ctx, header);
  if (replay !== undefined) await replay;
  const signature = signRequest(request, signing);
  await logClientRequest(ctx, logRecord(ctx, request, header, 'request', signature, signing.sha256));
  const reply = await sendToProvider(ctx, view, providers, request, signature);
  if (reply.kind === 'fault' || reply.signature === undefined) return { response: reply.message, request, fault: true };
  const { response, signerSha } = await verifyResponse(ctx, view, request, { ...reply, signature: reply.signature });
  await ctx.log.append(logRecord(ctx, response, header, 'response', reply.signature.toString('utf8'), signerSha));
  return { response: response.raw, request, fault: response.fault !== undefined };
}
