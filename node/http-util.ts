/** Small helpers shared by the node's HTTP servers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MiisError, type FaultCode } from '../core/errors.js';

/** Read a request body up to `max` bytes; beyond it the rest is discarded and a MiisError thrown. */
export function readBody(req: IncomingMessage, max: number, tooLarge: FaultCode): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > max) {
      req.resume();
      reject(new MiisError(tooLarge, `${declared} bytes; máximo ${max}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > max) {
        failed = true;
        chunks.length = 0;
        reject(new MiisError(tooLarge, `más de ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
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
