/**
 * Reading a request body with a size limit, shared by every HTTP server of MIIS (node, central,
 * the sandbox backends). It stops keeping data as soon as the limit is passed (a declared
 * content-length over it is refused before anything is read) and drains the rest, so one
 * oversized request costs no memory and leaves the server serving others. Each server turns
 * "too large" into its own answer (SOAP fault, JSON error).
 */
import type { IncomingMessage } from 'node:http';

export type BoundedBody =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly reason: 'too-large'; readonly size: number; /** the content-length said so, nothing was read */ readonly declared: boolean };

export function readBoundedBody(req: IncomingMessage, maxBytes: number): Promise<BoundedBody> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (!Number.isFinite(declared) || declared > maxBytes) {
      req.resume();
      resolve({ ok: false, reason: 'too-large', size: declared, declared: true });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > maxBytes) {
        settled = true;
        chunks.length = 0;
        resolve({ ok: false, reason: 'too-large', size, declared: false });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      resolve({ ok: true, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    });
    req.on('error', (err) => {
      if (settled) return;
      settled = true;
      reject(err);
    });
  });
}
