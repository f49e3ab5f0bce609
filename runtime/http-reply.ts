/** Small helpers shared by the node's HTTP servers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBoundedBody } from './bounded-body.js';
import { MiisError, type FaultCode } from '../core/errors.js';

/** Read a request body up to `max` bytes; beyond it the rest is discarded and a MiisError thrown. */
export async function readBody(req: IncomingMessage, max: number, tooLarge: FaultCode): Promise<Buffer> {
  const r = await readBoundedBody(req, max);
  if (!r.ok) throw new MiisError(tooLarge, r.declared && Number.isFinite(r.size) ? `${r.size} bytes; máximo ${max}` : `más de ${max} bytes`);
  return r.body;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value, null, 2));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
}

export function sendXml(res: ServerResponse, status: number, body: Buffer, close = false): void {
  const headers: Record<string, string | number> = { 'content-type': 'text/xml; charset=utf-8', 'content-length': body.length };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
