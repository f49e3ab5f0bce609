/**
 * Wire format between nodes: the exact message bytes (SOAP, REST, lote) and their detached signature travel together
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

/**
 * Boundaries: a random prefix drawn once per process and a counter. Whatever the boundary, it is
 * checked against the message and the next one is taken when the message contains it, so the
 * receiver always finds exactly the two parts.
 */
const boundaryPrefix = `miis-${randomBytes(8).toString('hex')}-`;
let boundaryCounter = 0;

function makeBoundary(message: Buffer): string {
  for (;;) {
    boundaryCounter = (boundaryCounter + 1) % 0x1000000000;
    const b = boundaryPrefix + boundaryCounter.toString(36);
    if (message.indexOf(b, 0, 'latin1') < 0) return b;
  }
}

/** How the message part is labelled: its Content-Type and the multipart `type` parameter. */
export interface MessagePartType {
  readonly partContentType: string;
  readonly type: string;
}

export const SOAP_PART: MessagePartType = { partContentType: 'text/xml; charset=UTF-8', type: 'text/xml' };

/**
 * The multipart body in one buffer (headers and delimiters are ASCII; the signature is UTF-8).
 * The SOAP part type by default (lotes use it too); REST (rest-client.ts) passes its own.
 */
export function encodeSignedMessage(message: Buffer, signature: string, part: MessagePartType = SOAP_PART): { body: Buffer; contentType: string } {
  const boundary = makeBoundary(message);
  const head = `--${boundary}${CRLF}Content-Type: ${part.partContentType}${CRLF}Content-ID: <message>${CRLF}${CRLF}`;
  const middle = `${CRLF}--${boundary}${CRLF}Content-Type: application/xml; charset=UTF-8${CRLF}Content-ID: <signature>${CRLF}${CRLF}`;
  const tail = `${CRLF}--${boundary}--${CRLF}`;
  const sigBytes = Buffer.byteLength(signature, 'utf8');
  const body = Buffer.allocUnsafe(head.length + message.length + middle.length + sigBytes + tail.length);
  let at = body.write(head, 0, 'latin1');
  at += message.copy(body, at);
  at += body.write(middle, at, 'latin1');
  at += body.write(signature, at, 'utf8');
  body.write(tail, at, 'latin1');
  return { body, contentType: `multipart/related; type="${part.type}"; boundary=${boundary}` };
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
