/**
 * The small HTTP helpers node, central and the sandbox backends share: read a bounded request
 * body, and write a reply with its length (no body for HEAD).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBoundedBody } from './bounded-body.js';
import { MiisError, type FaultCode } from '../core/errors.js';

export type ReplyHeaders = Readonly<Record<string, string>>;

/** Read a request body up to `max` bytes; beyond it the rest is discarded and a MiisError thrown. */
export async function readBody(req: IncomingMessage, max: number, tooLarge: FaultCode): Promise<Buffer> {
  const r = await readBoundedBody(req, max);
  if (!r.ok) throw new MiisError(tooLarge, r.declared && Number.isFinite(r.size) ? `${r.size} bytes; máximo ${max}` : `más de ${max} bytes`);
  return r.body;
}

/** Write status, content type and length, then the body (omitted for HEAD). */
export function reply(res: ServerResponse, status: number, contentType: string, body: Buffer | string, headers: ReplyHeaders = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(bytes.length), ...headers });
  res.end(res.req?.method === 'HEAD' ? undefined : bytes);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: ReplyHeaders = {}): void {
  reply(res, status, 'application/json; charset=utf-8', JSON.stringify(value, null, 2), headers);
}

export function sendXml(res: ServerResponse, status: number, body: Buffer, close = false): void {
  reply(res, status, 'text/xml; charset=utf-8', body, close ? { connection: 'close' } : {});
}
