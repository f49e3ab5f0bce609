/**
 * Provider side of the X-Road message protocol for REST (docs/rest.md): a signed REST request
 * from a peer node in, the backend's answer signed out. Same checks as SOAP (server-proxy.ts):
 * verifyPeerIsNode (listener, before the body) → readMessage → verifyPeer → verifySignature →
 * checkReplay → authorize (access right ∧ agreement ∧ purpose) → logRequest → callService
 * (`rest` adapter) → signResponse (the service member's key) → logResponse. getOpenAPI is answered by the node itself.
 */
import { readFileSync } from 'node:fs';
import { MiisError, toMiisError } from '../../core/errors.js';
import { formatClientId, providerOf } from '../../core/identifiers.js';
import { CONTROL_CHARS, decodeRestRequest, encodeRestResponse, restErrorBody, restRequestHash, type RestRequestHead } from '../../core/rest-message.js';
import { signDetached } from '../../core/signature.js';
import type { RestBackendReply } from '../adapters/rest.js';
import { parseStoredAdapterSettings } from '../adapters/settings.js';
import type { LocalService } from '../store/local-store.js';
import { exchangeRecord, noteFacts } from './client-proxy.js';
import { maxServiceTimeoutMs, type ExchangeFacts, type NodeContext } from './context.js';
import { GET_OPENAPI, encodeSignedRest, restXRoadHeader } from './rest-client.js';
import { restDataSubjectDnis } from './data-subjects.js';
import { authorize, checkReplay, decodeProviderMessage, logProviderRequest, providerSigning, verifyPeer, verifyPeerIsNode, verifyRequestSignature } from './server-proxy.js';

/** getOpenAPI?serviceCode=X: the OpenAPI file configured for the provider subsystem's REST service X. */
export function answerGetOpenApi(ctx: NodeContext, head: RestRequestHead): RestBackendReply {
  const subsystem = formatClientId(providerOf(head.service));
  if (!ctx.local().clients.includes(subsystem)) throw new MiisError('Server.ServerProxy.UnknownService', subsystem);
  const codes = new URLSearchParams(head.query).getAll('serviceCode');
  if (codes.length !== 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(codes[0] as string)) throw new MiisError('Client.InvalidRestRequest', 'getOpenAPI lleva un parámetro serviceCode');
  const key = `${subsystem}/${codes[0] as string}`;
  const service = ctx.local().services.get(key);
  let openapi: string | undefined;
  try {
    const s = parseStoredAdapterSettings(service?.adapter ?? null);
    openapi = s?.kind === 'rest' ? s.openapi : undefined;
  } catch {
    openapi = undefined;
  }
  if (service === undefined || openapi === undefined) throw new MiisError('Server.ServerProxy.UnknownService', `${key} (sin descripción OpenAPI)`);
  let body: Buffer;
  try {
    body = readFileSync(openapi);
  } catch (err) {
    throw new MiisError('Server.ServerProxy.ServiceFailed', `no se encuentra la descripción OpenAPI de ${key}`, { cause: err });
  }
  return { status: 200, contentType: /\.json$/i.test(openapi) ? 'application/json; charset=utf-8' : 'application/yaml; charset=utf-8', body };
}

async function callRestService(ctx: NodeContext, service: LocalService, head: RestRequestHead, body: Buffer): Promise<RestBackendReply> {
  if (ctx.adapters === undefined) throw new MiisError('Server.ServerProxy.ServiceFailed', 'el nodo no tiene adaptadores');
  let adapter;
  try {
    adapter = await ctx.adapters.get(service);
  } catch (err) {
    ctx.info(`adaptador de ${service.serviceKey}: ${(err as Error).message}`);
    throw new MiisError('Server.ServerProxy.ServiceFailed', 'el adaptador del servicio está mal configurado', { cause: err });
  }
  if (adapter.rest === undefined) throw new MiisError('Server.ServerProxy.UnknownService', `${service.serviceKey} (es un servicio SOAP: llámelo con un mensaje SOAP)`);
  const timeoutMs = Math.min(service.timeoutMs, maxServiceTimeoutMs(ctx.limits));
  return adapter.rest.call({ method: head.method, path: head.path, query: head.query, contentType: head.contentType, accept: head.accept, body }, timeoutMs);
}

export async function processRestProviderRequest(ctx: NodeContext, body: Buffer, contentType: string | undefined, peerSha256: string | undefined, facts?: ExchangeFacts): Promise<{ body: Buffer; contentType: string }> {
  const view = ctx.conf.current('Server.ServerProxy.OutdatedGlobalConf');
  verifyPeerIsNode(view, peerSha256);
  const signed = decodeProviderMessage(body, contentType);
  const request = decodeRestRequest(signed.message, 'Server.ServerProxy.InvalidMessage');
  const head = request.head;
  const header = restXRoadHeader(head);
  if (facts !== undefined) noteFacts(facts, header);
  ctx.evidence?.check('Server.ServerProxy.TimestampUnavailable');
  verifyPeer(view, header, peerSha256);
  const signerSha = await verifyRequestSignature(ctx, view, request.raw, signed.signature, head.client, 'solicitud REST');
  const replay = checkReplay(ctx, header);
  if (replay !== undefined) await replay;
  const meta = head.service.serviceCode === GET_OPENAPI;
  const access = meta ? undefined : authorize(ctx, view, header);
  if (access !== undefined && (access.agreement.maxIdsPerRequest !== undefined || (access.agreement.validations ?? []).length > 0)) {
    // the agreement's minimum validations read SOAP tramas: fail closed rather than skip them
    throw new MiisError('Server.ServerProxy.ValidationFailed', `el convenio ${access.agreement.id} fija validaciones de trama, que solo se aplican a mensajes SOAP; no admite llamadas REST`);
  }
  const subjects = access === undefined ? undefined : restDataSubjectDnis({ path: head.path, query: head.query, contentType: head.contentType, body: request.body });
  await logProviderRequest(ctx, { ...exchangeRecord(ctx, 'server', header, 'request', request.raw, signed.signature.toString('utf8'), signerSha), subjects });
  const signing = providerSigning(ctx, header);
  let reply: RestBackendReply;
  try {
    reply = access === undefined ? answerGetOpenApi(ctx, head) : await callRestService(ctx, access.service, head, request.body);
    if (reply.contentType !== undefined && CONTROL_CHARS.test(reply.contentType)) reply = { ...reply, contentType: undefined };
  } catch (err) {
    // the request is logged: so is the error this node answers with (same faultDetail)
    const e = toMiisError(err, 'Server.ServerProxy.InternalError');
    const errorBody = restErrorBody(e);
    try {
      await ctx.log.append(exchangeRecord(ctx, 'server', header, 'response', errorBody, signDetached(errorBody, signing.signer), signing.sha256, e.code));
    } catch {
      // the error still reaches the client (and the fault log) if the message log is unavailable
    }
    throw e;
  }
  const raw = encodeRestResponse({
    status: reply.status, client: head.client, service: head.service, id: head.id, requestId: head.requestId,
    requestHash: restRequestHash(request.raw), contentType: reply.contentType,
  }, reply.body);
  const signature = signDetached(raw, signing.signer);
  await ctx.log.append(exchangeRecord(ctx, 'server', header, 'response', raw, signature, signing.sha256, reply.status >= 400 ? `HTTP ${reply.status}` : undefined));
  return encodeSignedRest(raw, signature);
}
