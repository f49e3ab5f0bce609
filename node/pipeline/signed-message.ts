/**
 * Wire format between nodes: the exact SOAP bytes and their detached signature travel together
 * as a two-part MIME multipart/related body (as X-Road does), so the receiver verifies the bytes it
 * received without any re-serialisation.
 */
import { randomBytes } from 'node:crypto';
import { MiisError, type FaultCode } from '../../core/errors.js';

export interface SignedMessage {
  readonly message: Buffer;
  readonly signature: Buffer;
}

const CRLF = '\r\n';

function makeBoundary(message: Buffer): string {
  for (;;) {
    const b = `miis-${randomBytes(12).toString('hex')}`;
    if (message.indexOf(b) < 0) return b;
  }
}

export function encodeSignedMessage(message: Buffer, signature: string): { body: Buffer; contentType: string } {
  const boundary = makeBoundary(message);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}${CRLF}Content-Type: text/xml; charset=UTF-8${CRLF}Content-ID: <message>${CRLF}${CRLF}`),
    message,
    Buffer.from(`${CRLF}--${boundary}${CRLF}Content-Type: application/xml; charset=UTF-8${CRLF}Content-ID: <signature>${CRLF}${CRLF}`),
    Buffer.from(signature, 'utf8'),
    Buffer.from(`${CRLF}--${boundary}--${CRLF}`),
  ]);
  return { body, contentType: `multipart/related; type="text/xml"; boundary=${boundary}` };
}

export function decodeSignedMessage(body: Buffer, contentType: string | undefined, code: FaultCode): SignedMessage {
  const m = /^multipart\/related;.*boundary="?([A-Za-z0-9'()+_,\-./:=?]{1,70})"?/i.exec(contentType ?? '');
  if (m === null) throw new MiisError(code, `tipo de contenido inesperado «${(contentType ?? '').slice(0, 80)}»`);
  const delimiter = Buffer.from(`--${m[1] as string}`);
  const parts: Buffer[] = [];
  let pos = body.indexOf(delimiter);
  if (pos !== 0) throw new MiisError(code, 'el cuerpo multipart no empieza con el delimitador');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break;
    if (body.subarray(pos, pos + 2).toString() !== CRLF) throw new MiisError(code, 'delimitador multipart mal formado');
    const headersEnd = body.indexOf(`${CRLF}${CRLF}`, pos);
    if (headersEnd < 0) throw new MiisError(code, 'parte multipart sin cabeceras');
    const next = body.indexOf(Buffer.concat([Buffer.from(CRLF), delimiter]), headersEnd + 4);
    if (next < 0) throw new MiisError(code, 'parte multipart sin cierre');
    parts.push(body.subarray(headersEnd + 4, next));
    if (parts.length > 2) throw new MiisError(code, 'se esperaban dos partes (mensaje y firma)');
    pos = next + 2;
  }
  if (parts.length !== 2) throw new MiisError(code, 'se esperaban dos partes (mensaje y firma)');
  return { message: parts[0] as Buffer, signature: parts[1] as Buffer };
}
