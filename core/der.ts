/**
 * A minimal DER codec for the few ASN.1 structures MIIS builds and reads by hand (RFC 3161
 * time-stamps, RFC 6960 OCSP). Encoding helpers return complete TLVs; `readDer` parses one TLV
 * (with its children when constructed) and keeps the exact bytes of every element, so signed
 * parts can be checked over the bytes that were actually received.
 */
import { MiisError } from './errors.js';

export interface DerNode {
  /** Identifier octet (single-byte tags only). */
  readonly tag: number;
  /** Content octets. */
  readonly value: Buffer;
  /** The whole TLV. */
  readonly raw: Buffer;
  /** Children, for constructed tags. */
  readonly children: readonly DerNode[];
}

const MAX_DEPTH = 24;

function lengthOctets(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...parts: readonly Buffer[]): Buffer {
  const value = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthOctets(value.length), value]);
}

export const seq = (...parts: readonly Buffer[]): Buffer => tlv(0x30, ...parts);
export const set = (...parts: readonly Buffer[]): Buffer => tlv(0x31, ...[...parts].sort(Buffer.compare));
export const octets = (b: Uint8Array): Buffer => tlv(0x04, Buffer.from(b));
/** DER encoding (tag, length, value) of an OBJECT IDENTIFIER. */
export function encodeOidDer(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new MiisError('Config.InvalidInput', `OID no válido: ${dotted}`);
  const values = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  const bytes: number[] = [];
  for (const v of values) {
    const chunk: number[] = [Number(v & 0x7fn)];
    for (let rest = v >> 7n; rest > 0n; rest >>= 7n) chunk.unshift(Number(rest & 0x7fn) | 0x80);
    bytes.push(...chunk);
  }
  if (bytes.length > 127) throw new MiisError('Config.InvalidInput', `OID demasiado largo: ${dotted}`);
  return Buffer.from([0x06, bytes.length, ...bytes]);
}

export const oid = (dotted: string): Buffer => encodeOidDer(dotted);
export const nullDer = (): Buffer => Buffer.from([0x05, 0x00]);
export const bool = (v: boolean): Buffer => Buffer.from([0x01, 0x01, v ? 0xff : 0x00]);
/** [n] EXPLICIT, constructed. */
export const explicit = (n: number, ...parts: readonly Buffer[]): Buffer => tlv(0xa0 | n, ...parts);
/** BIT STRING with no unused bits. */
export const bitString = (b: Uint8Array): Buffer => tlv(0x03, Buffer.from([0]), Buffer.from(b));
export const enumerated = (n: number): Buffer => tlv(0x0a, Buffer.from([n]));

/** INTEGER from a non-negative number, bigint or big-endian unsigned bytes. */
export function int(v: number | bigint | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof v === 'number' || typeof v === 'bigint') {
    let n = BigInt(v);
    const out: number[] = [];
    do {
      out.unshift(Number(n & 0xffn));
      n >>= 8n;
    } while (n > 0n);
    bytes = Buffer.from(out);
  } else {
    bytes = Buffer.from(v);
    while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.subarray(1);
  }
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

/** GeneralizedTime YYYYMMDDHHMMSS[.fff]Z (whole seconds unless millis are non-zero). */
export function generalizedTime(d: Date): Buffer {
  const iso = d.toISOString(); // 2024-01-02T03:04:05.678Z
  let text = iso.slice(0, 19).replace(/[-:T]/g, '');
  const ms = iso.slice(20, 23).replace(/0+$/, '');
  if (ms !== '') text += `.${ms}`;
  return tlv(0x18, Buffer.from(`${text}Z`, 'ascii'));
}

export function algorithmId(dotted: string, withNull = true): Buffer {
  return withNull ? seq(oid(dotted), nullDer()) : seq(oid(dotted));
}

function bad(reason: string): MiisError {
  return new MiisError('Config.InvalidInput', `estructura ASN.1 no válida: ${reason}`);
}

/** Parse exactly one DER element covering all of `buf`. */
export function readDer(buf: Uint8Array): DerNode {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const [node, end] = readAt(b, 0, 0);
  if (end !== b.length) throw bad('datos sobrantes');
  return node;
}

function readAt(b: Buffer, pos: number, depth: number): [DerNode, number] {
  if (depth > MAX_DEPTH) throw bad('anidamiento excesivo');
  if (pos + 2 > b.length) throw bad('truncado');
  const tag = b[pos]!;
  if ((tag & 0x1f) === 0x1f) throw bad('etiqueta multibyte');
  let len = b[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > b.length) throw bad('longitud');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
    p += n;
  }
  const end = p + len;
  if (end > b.length) throw bad('truncado');
  const value = b.subarray(p, end);
  const children: DerNode[] = [];
  if (tag & 0x20) {
    let q = p;
    while (q < end) {
      const [child, next] = readAt(b.subarray(0, end), q, depth + 1);
      children.push(child);
      q = next;
    }
  }
  return [{ tag, value, raw: b.subarray(pos, end), children }, end];
}

/** The child at `i`, checking its tag. */
export function child(node: DerNode, i: number, tag?: number): DerNode {
  const c = node.children[i];
  if (c === undefined || (tag !== undefined && c.tag !== tag)) throw bad(`se esperaba el elemento ${i}${tag === undefined ? '' : ` con etiqueta 0x${tag.toString(16)}`}`);
  return c;
}

export function readOid(node: DerNode): string {
  if (node.tag !== 0x06 || node.value.length === 0) throw bad('se esperaba un OID');
  const arcs: bigint[] = [];
  let v = 0n;
  for (const byte of node.value) {
    v = (v << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
    }
  }
  const first = arcs[0]!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].map(String).join('.');
}

export function readGeneralizedTime(node: DerNode): Date {
  if (node.tag !== 0x18) throw bad('se esperaba GeneralizedTime');
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{1,6})?Z$/.exec(node.value.toString('ascii'));
  if (m === null) throw bad('GeneralizedTime');
  const ms = m[7] === undefined ? 0 : Math.round(Number(`0${m[7]}`) * 1000);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, ms));
}

/** Unsigned big-endian bytes of an INTEGER, as lowercase hex without leading zero octets. */
export function readIntHex(node: DerNode): string {
  if (node.tag !== 0x02) throw bad('se esperaba INTEGER');
  let v = node.value;
  while (v.length > 1 && v[0] === 0) v = v.subarray(1);
  return v.toString('hex');
}
