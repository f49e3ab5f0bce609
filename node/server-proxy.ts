/**
 * Provider side: a signed request from a peer node in, a signed answer from the entity's backend out.
 * readMessage → verifyPeer → verifySignature → checkReplay → authorize → logRequest → callService →
 * signResponse → logResponse → reply.
 */
import { MiisError } from '../core/errors.js';
import { formatClientId, formatMemberId, formatServiceId, providerOf, serviceKey } from '../core/identifiers.js';
import { signDetached, verifyDetached } from '../core/signature.js';
import { addRequestHash, readSoapMessage, type SoapMessage, type XRoadHeader } from '../core/soap.js';
import type { NodeContext } from './context.js';
import type { ConfView } from './global-conf-client.js';
import type { LocalService, LocalSnapshot } from './local-store.js';
import type { LogRecord } from './message-log.js';
import { decodeSignedMessage, encodeSignedMessage, type SignedMessage } from './signed-message.js';
import { checkSigningCert } from './signing-cert.js';

export interface ProviderReplyOut {
  readonly body: Buffer;
  readonly contentType: string;
}

export function readMessage(ctx: NodeContext, body: Buffer, contentType: string | undefined): { signed: SignedMessage; request: SoapMessage } {
  const signed = decodeSignedMessage(body, contentType, 'Server.ServerProxy.InvalidMessage');
  try {
    const request = readSoapMessage(signed.message, 'request', { maxBytes: ctx.limits.maxMessageBytes, maxDepth: 32, maxElements: 50_000 });
    return { signed, request };
  } catch (err) {
    throw new MiisError('Server.ServerProxy.InvalidMessage', (err as Error).message, { cause: err });
  }
}

/** The TLS certificate of the connection must be the one registered for the node that hosts the client. */
export function verifyPeer(view: ConfView, header: XRoadHeader, peerSha256: string | undefined): void {
  const client = formatClientId(header.client);
  const node = view.nodeBySubsystem.get(client);
  if (node === undefined || peerSha256 === undefined || node.authCertSha256 !== peerSha256) {
    throw new MiisError('Server.ServerProxy.SslAuthenticationFailed', client);
  }
}

export function verifySignature(ctx: NodeContext, view: ConfView, request: SoapMessage, signature: Buffer): string {
  const verdict = verifyDetached(request.raw, signature);
  if (!verdict.ok) {
    ctx.info(`firma de solicitud rechazada: ${verdict.reason}`);
    throw new MiisError('Server.ServerProxy.InvalidSignatureValue');
  }
  const header = request.header as XRoadHeader;
  const cert = checkSigningCert(view.conf, verdict.certPem, verdict.certSha256, formatMemberId(header.client), ctx.now());
  if (!cert.ok) throw new MiisError('Server.ServerProxy.IncorrectCertificate', cert.reason);
  return verdict.certSha256;
}

export function checkReplay(ctx: NodeContext, header: XRoadHeader): void {
  if (!ctx.replay.accept(formatClientId(header.client), header.id, ctx.now().getTime())) {
    throw new MiisError('Server.ServerProxy.DuplicateMessage', header.id);
  }
}

/** Deny by default: the service must be local and the client (subsystem or its member) granted access. */
export function authorize(local: LocalSnapshot, header: XRoadHeader): LocalService {
  const key = serviceKey(header.service);
  const service = local.services.get(key);
  if (service === undefined || !local.clients.includes(formatClientId(providerOf(header.service)))) {
    throw new MiisError('Server.ServerProxy.UnknownService', formatServiceId(header.service));
  }
  const allowed = local.acl.get(key);
  const client = formatClientId(header.client);
  if (allowed === undefined || (!allowed.has(client) && !allowed.has(formatMemberId(header.client)))) {
    throw new MiisError('Server.ServerProxy.AccessDenied', client);
  }
  return service;
}

export async function callService(ctx: NodeContext, service: LocalService, request: SoapMessage): Promise<SoapMessage> {
  const reply = await ctx.backends.post(service.backendUrl, request.raw, { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' }, service.timeoutMs);
  if (reply.contentType?.includes('xml') !== true) {
    throw new MiisError('Server.ServerProxy.ServiceFailed', `HTTP ${reply.status} con tipo de contenido «${reply.contentType ?? ''}»`);
  }
  try {
    return readSoapMessage(reply.body, 'response', { maxBytes: ctx.limits.maxMessageBytes, maxDepth: 32, maxElements: 50_000 });
  } catch (err) {
    throw new MiisError('Server.ServerProxy.ServiceFailed', `respuesta no válida: ${(err as Error).message}`, { cause: err });
  }
}

export function signResponse(ctx: NodeContext, request: SoapMessage, response: SoapMessage): { raw: Buffer; signature: string } {
  const raw = addRequestHash(response, request.raw);
  return { raw, signature: signDetached(raw, ctx.signer) };
}

function logRecord(ctx: NodeContext, header: XRoadHeader, direction: 'request' | 'response', message: Buffer, signature: string, signerSha: string, fault?: string): LogRecord {
  return {
    side: 'server', direction, messageId: header.id, client: formatClientId(header.client), service: formatServiceId(header.service),
    userId: header.userId, convenio: header.convenio, finalidad: header.finalidad, at: ctx.now(), message, signature,
    signerCertSha256: signerSha, fault,
  };
}

export async function processProviderRequest(ctx: NodeContext, body: Buffer, contentType: string | undefined, peerSha256: string | undefined): Promise<ProviderReplyOut> {
  const { signed, request } = readMessage(ctx, body, contentType);
  const header = request.header as XRoadHeader;
  const view = ctx.conf.current('Server.ServerProxy.OutdatedGlobalConf');
  verifyPeer(view, header, peerSha256);
  const signerSha = verifySignature(ctx, view, request, signed.signature);
  checkReplay(ctx, header);
  const service = authorize(ctx.local(), header);
  await ctx.log.append(logRecord(ctx, header, 'request', request.raw, signed.signature.toString('utf8'), signerSha));
  const response = await callService(ctx, service, request);
  const out = signResponse(ctx, request, response);
  await ctx.log.append(logRecord(ctx, header, 'response', out.raw, out.signature, ctx.signerSha256, response.fault?.faultCode));
  return encodeSignedMessage(out.raw, out.signature) as { body: Buffer; contentType: string };
}
