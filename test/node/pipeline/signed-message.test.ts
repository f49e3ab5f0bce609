import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiisError } from '../../../core/errors.js';
import { decodeSignedMessage, encodeSignedMessage } from '../../../node/pipeline/signed-message.js';

const CODE = 'Server.ServerProxy.InvalidMessage' as const;
const MESSAGE = Buffer.from('<?xml version="1.0"?>\r\n<e>ñ 🦙 --miis-0000\r\n--\r\n</e>\r\n', 'utf8');
const SIGNATURE = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">firma</ds:Signature>';

function rejects(body: Buffer | string, contentType: string | undefined, reason: RegExp): void {
  assert.throws(() => decodeSignedMessage(Buffer.isBuffer(body) ? body : Buffer.from(body), contentType, CODE), (err: unknown) => {
    assert.ok(err instanceof MiisError);
    assert.equal(err.code, CODE);
    assert.match(err.detail, reason);
    return true;
  });
}

describe('signed message (multipart/related)', () => {
  it('round-trips the exact message bytes and the signature', () => {
    const { body, contentType } = encodeSignedMessage(MESSAGE, SIGNATURE);
    assert.match(contentType, /^multipart\/related; type="text\/xml"; boundary=miis-[0-9a-f]{16}-[0-9a-z]{1,7}$/);
    const decoded = decodeSignedMessage(body, contentType, CODE);
    assert.ok(decoded.message.equals(MESSAGE));
    assert.equal(decoded.signature.toString('utf8'), SIGNATURE);
  });

  it('round-trips binary and empty messages', () => {
    const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const a = encodeSignedMessage(binary, 's');
    assert.ok(decodeSignedMessage(a.body, a.contentType, CODE).message.equals(binary));
    const b = encodeSignedMessage(Buffer.alloc(0), 's');
    assert.equal(decodeSignedMessage(b.body, b.contentType, CODE).message.length, 0);
  });

  it('uses a fresh boundary that does not occur in the message', () => {
    const first = encodeSignedMessage(MESSAGE, SIGNATURE).contentType;
    const second = encodeSignedMessage(MESSAGE, SIGNATURE).contentType;
    assert.notEqual(first, second);
    const boundary = /boundary=(\S+)$/.exec(first)?.[1] ?? '';
    assert.equal(MESSAGE.indexOf(boundary), -1);
  });

  it('skips a boundary the message contains', () => {
    const seen = /boundary=(miis-[0-9a-f]{16}-)([0-9a-z]+)$/.exec(encodeSignedMessage(MESSAGE, SIGNATURE).contentType);
    assert.ok(seen !== null);
    const next = `${seen[1] as string}${(parseInt(seen[2] as string, 36) + 1).toString(36)}`;
    const tricky = Buffer.from(`<e>--${next}\r\nContent-Type: text/xml</e>`, 'utf8');
    const { body, contentType } = encodeSignedMessage(tricky, SIGNATURE);
    const used = /boundary=(\S+)$/.exec(contentType)?.[1] ?? '';
    assert.notEqual(used, next);
    assert.equal(tricky.indexOf(used), -1);
    assert.ok(decodeSignedMessage(body, contentType, CODE).message.equals(tricky));
  });

  it('accepts a quoted boundary parameter', () => {
    const { body, contentType } = encodeSignedMessage(MESSAGE, SIGNATURE);
    const quoted = contentType.replace(/boundary=(\S+)$/, 'boundary="$1"');
    assert.ok(decodeSignedMessage(body, quoted, CODE).message.equals(MESSAGE));
  });

  it('refuses other content types and a missing boundary', () => {
    const { body } = encodeSignedMessage(MESSAGE, SIGNATURE);
    rejects(body, 'text/xml; charset=utf-8', /tipo de contenido inesperado/);
    rejects(body, undefined, /tipo de contenido inesperado/);
    rejects(body, 'multipart/related; type="text/xml"', /tipo de contenido inesperado/);
  });

  it('refuses malformed bodies', () => {
    const ct = 'multipart/related; boundary=b1';
    rejects('preámbulo\r\n--b1\r\nA: b\r\n\r\nm\r\n--b1\r\nA: b\r\n\r\ns\r\n--b1--\r\n', ct, /no empieza con el delimitador/);
    rejects('--b1\r\nA: b\r\n\r\nm\r\n--b1\r\nA: b\r\n\r\ns\r\n--b1', ct, /mal formado|sin cierre/);
    rejects('--b1\r\nA: b\r\n\r\nm\r\n--b1\r\nA: b\r\n\r\ns', ct, /sin cierre/);
    rejects('--b1\r\nA: b\r\n\r\nm\r\n--b1--\r\n', ct, /dos partes/);
    rejects('--b1\r\nA: b\r\n\r\nm\r\n--b1\r\nA: b\r\n\r\ns\r\n--b1\r\nA: b\r\n\r\nx\r\n--b1--\r\n', ct, /dos partes/);
    rejects('--b1\r\nsin cabeceras ni fin', ct, /sin cabeceras/);
    rejects('--b1XX\r\nA: b\r\n\r\nm\r\n--b1--', ct, /mal formado/);
    rejects('', ct, /no empieza con el delimitador/);
  });

  it('a well-formed hand-written body decodes', () => {
    const d = decodeSignedMessage(Buffer.from('--b1\r\nContent-Type: text/xml\r\n\r\n<m/>\r\n--b1\r\nContent-Type: application/xml\r\n\r\n<s/>\r\n--b1--\r\n'), 'multipart/related; boundary=b1', CODE);
    assert.equal(d.message.toString(), '<m/>');
    assert.equal(d.signature.toString(), '<s/>');
  });
});
