/**
 * Consumer side of the X-Road message protocol for REST (docs/rest.md): a request an IS sent to
 * `/r1/…` in, the provider's verified answer out. Same steps and checks as the SOAP pipeline
 * (client-proxy.ts), on the canonical REST form (core/rest-message.ts):
 * checkClient → resolveProvider → checkClientReplay → sign (the client member's key) → logRequest → sendToProvider
 * (`POST /miis/v1/rest`, same multipart and mutual TLS) → verifyResponse → logResponse.
 */
import { MiisError } from '../../core/errors.js';
import type { GlobalConfNode } from '../../core/global-conf-model.js';
import { formatClientId, formatServiceId, providerOf } from '../../core/identifiers.js';
import {
  decodeRestResponse, encodeRestRequest, readRestErrorBody, restRequestHash, type RestRequestHead,
} from '../../core/rest-message.js';
import { signDetached } from '../../core/signature.js';
import { PROTOCOL_VERSION, type XRoadHeader } from '../../core/soap.js';
import { isRevoked } from '../certs/signing-cert.js';
import { nodesOf, type ConfView } from '../conf/global-conf-client.js';
import { checkClient, checkClientReplay, exchangeRecord, logClientRequest, noteFacts, resolveProvider, sendToProviderNodes, verifyResponseSignature } from './client-proxy.js';
import type { ExchangeFacts, NodeContext } from './context.js';
import { decodeSignedMessage, encodeSignedMessage, type MessagePartType } from './signed-message.js';

/** Path of REST exchanges on the node-to-node port. */
export const REST_PEER_PATH = '/miis/v1/rest';
/** The REST metaservice that returns a service's OpenAPI description. */
export const GET_OPENAPI = 'getOpenAPI';
/** Content type of the message part of a signed REST message. */
export const REST_PART_TYPE = 'application/x-miis-rest';

export interface RestClientResult {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** A node error passed through from the provider's node. */
  readonly fault: boolean;
}

/**
 * The REST head seen as X-Road header fields, so the SOAP pipeline's checks (client, replay,
 * access rights, agreement and purpose) apply unchanged.
 */
export function restXRoadHeader(h: RestRequestHead): XRoadHeader {
  return {
    client: h.client, service: h.service, id: h.id, userId: h.userId, issue: h.issue, protocolVersion: PROTOCOL_VERSION,
    convenio: h.convenio, finalidad: h.finalidad,
  };
}

const REST_PART: MessagePartType = { partContentType: REST_PART_TYPE, type: REST_PART_TYPE };

/** Two-part multipart/related (message, signature), the part type saying it is a REST message. */
export function encodeSignedRest(message: Buffer, signature: string): { body: Buffer; contentType: string } {
  return encodeSignedMessage(message, signature, REST_PART);
}


/** getOpenAPI is addressed to a provider subsystem: every usable node hosting it. */
function subsystemNodes(view: ConfView, head: RestRequestHead): readonly GlobalConfNode[] {
  const subsystem = formatClientId(providerOf(head.service));
  const nodes = nodesOf(view, subsystem).filter((n) => !isRevoked(view.conf, n.authCertSha256));
  if (nodes.length === 0) throw new MiisError('Server.ClientProxy.UnknownService', `${formatServiceId(head.service)} (ningún nodo lo atiende)`);
  return nodes;
}

/** Handle one IS REST request end to end. Throws MiisError; the caller answers it as an X-Road REST error. */
export async function processRestClientRequest(ctx: NodeContext, head: RestRequestHead, body: Buffer, facts?: ExchangeFacts): Promise<RestClientResult> {
  const header = restXRoadHeader(head);
  if (facts !== undefined) noteFacts(facts, header);
  const view = ctx.conf.current();
  const signing = checkClient(ctx, view, header);
  ctx.evidence?.check('Server.ClientProxy.TimestampUnavailable');
  const providers = head.service.serviceCode === GET_OPENAPI ? subsystemNodes(view, head) : resolveProvider(view, header);
  const replay = checkClientReplay(ctx, header);
  if (replay !== undefined) await replay;
  const raw = encodeRestRequest(head, body);
  const signature = signDetached(raw, signing.signer);
  await logClientRequest(ctx, exchangeRecord(ctx, 'client', header, 'request', raw, signature, signing.sha256));
  const wire = encodeSignedRest(raw, signature);
  const reply = await sendToProviderNodes(ctx, view, providers, wire.body, wire.contentType, REST_PEER_PATH);
  if (reply.body.length > ctx.limits.maxMessageBytes * 2) throw new MiisError('Server.ClientProxy.InvalidResponse', 'respuesta demasiado grande');
  if (reply.contentType?.startsWith('application/json') === true) {
    // an unsigned reply is only acceptable as the provider node's own X-Road REST error
    const e = readRestErrorBody(reply.body);
    if (e === undefined || !e.type.startsWith('Server.ServerProxy.') && !e.type.startsWith('Client.')) {
      throw new MiisError('Server.ClientProxy.InvalidResponse', `HTTP ${reply.status}: respuesta sin firma que no es un error X-Road`);
    }
    return { status: reply.status >= 400 && reply.status < 600 ? reply.status : 500, headers: { 'content-type': 'application/json; charset=utf-8', 'x-road-error': e.type }, body: reply.body, fault: true };
  }
  if (reply.contentType?.startsWith('multipart/related') !== true) throw new MiisError('Server.ClientProxy.InvalidResponse', `HTTP ${reply.status}, tipo «${reply.contentType ?? ''}»`);
  const signed = decodeSignedMessage(reply.body, reply.contentType, 'Server.ClientProxy.InvalidResponse');
  const response = decodeRestResponse(signed.message, 'Server.ClientProxy.InvalidResponse');
  const signerSha = await verifyResponseSignature(ctx, view, signed.message, signed.signature, head.service, 'respuesta REST');
  const r = response.head;
  const mismatch = formatClientId(r.client) !== formatClientId(head.client) ? 'client'
    : formatServiceId(r.service) !== formatServiceId(head.service) ? 'service'
      : r.id !== head.id ? 'id' : r.requestId !== head.requestId ? 'request-id' : r.requestHash !== restRequestHash(raw) ? 'request-hash' : undefined;
  if (mismatch !== undefined) throw new MiisError('Server.ClientProxy.InconsistentResponse', mismatch);
  await ctx.log.append(exchangeRecord(ctx, 'client', header, 'response', signed.message, signed.signature.toString('utf8'), signerSha, r.status >= 400 ? `HTTP ${r.status}` : undefined));
  const headers: Record<string, string> = {
    'x-road-client': formatClientId(head.client), 'x-road-service': formatServiceId(head.service), 'x-road-id': head.id,
    'x-road-request-id': head.requestId, 'x-road-request-hash': r.requestHash,
  };
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  return { status: r.status, headers, body: response.body, fault: false };
}
