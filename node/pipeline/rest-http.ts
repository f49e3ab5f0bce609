/**
 * HTTP glue of the REST protocol (docs/rest.md), called by node/listeners.ts: `/r1/…` on the IS
 * port and `POST /miis/v1/rest` on the node-to-node port. Every failure is answered as an X-Road
 * REST error (JSON `{type, message, detail}`, header `X-Road-Error`), after the listener's
 * `report` has put it in the fault log (and the fault budget).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiisError } from '../../core/errors.js';
import { readRestRequest, restErrorBody, restErrorStatus, type RestRequestHead } from '../../core/rest-message.js';
import { readBody, reply } from '../../runtime/http-reply.js';
import type { ExchangeFacts, NodeContext } from './context.js';
import { processRestClientRequest } from './rest-client.js';
import { processRestProviderRequest } from './rest-server.js';

export type ReportFault = (err: unknown, about: ExchangeFacts) => MiisError;

function sendRestError(res: ServerResponse, e: MiisError, close: boolean): void {
  reply(res, restErrorStatus(e.code), 'application/json; charset=utf-8', restErrorBody(e), { 'x-road-error': e.code, ...(close ? { connection: 'close' } : {}) });
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer): void {
  const noBody = res.req?.method === 'HEAD' || status === 204 || status === 304 || status < 200;
  res.writeHead(status, noBody ? headers : { ...headers, 'content-length': String(body.length) });
  res.end(noBody ? undefined : body);
}

/** The IS port: `METHOD /r1/{instance}/{class}/{member}/{subsystem}/{service}[/path][?query]`. */
export async function handleRestIs(ctx: NodeContext, req: IncomingMessage, res: ServerResponse, report: ReportFault): Promise<void> {
  const startedAt = performance.now();
  const facts: ExchangeFacts = {};
  let bodyRead = false;
  try {
    const head: RestRequestHead = readRestRequest(req.method ?? '', req.url ?? '', req.headers);
    const body = await readBody(req, ctx.limits.maxMessageBytes, 'Client.MessageTooLarge');
    bodyRead = true;
    const out = await processRestClientRequest(ctx, head, body, facts);
    ctx.metrics?.exchange({ side: 'client', startedAt, result: out.fault ? 'fault' : 'ok', ...(facts.service === undefined ? {} : { service: facts.service, client: facts.client }) });
    send(res, out.status, out.headers, out.body);
  } catch (err) {
    const e = report(err, facts);
    ctx.metrics?.exchange({ side: 'client', startedAt, result: 'error', service: facts.service, client: facts.client });
    // a body not read (refused on its headers, too large) is not drained: the connection is closed
    sendRestError(res, e, !bodyRead);
  }
}

/** The node-to-node port: `POST /miis/v1/rest` from a peer node whose certificate is `peerSha256`. */
export async function handleRestPeer(ctx: NodeContext, req: IncomingMessage, res: ServerResponse, peerSha256: string | undefined, checkPeer: () => void, report: ReportFault): Promise<void> {
  const startedAt = performance.now();
  const facts: ExchangeFacts = {};
  let bodyRead = false;
  try {
    checkPeer(); // an unknown peer is refused before its body is read
    const body = await readBody(req, ctx.limits.maxMessageBytes + 256 * 1024, 'Client.MessageTooLarge');
    bodyRead = true;
    const out = await processRestProviderRequest(ctx, body, req.headers['content-type'], peerSha256, facts);
    ctx.metrics?.exchange({ side: 'server', startedAt, result: 'ok' });
    res.writeHead(200, { 'content-type': out.contentType, 'content-length': String(out.body.length) });
    res.end(out.body);
  } catch (err) {
    const e = report(err, facts);
    ctx.metrics?.exchange({ side: 'server', startedAt, result: 'error', service: facts.service, client: facts.client });
    sendRestError(res, e, !bodyRead);
  }
}
