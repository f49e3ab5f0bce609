/**
 * Safe XML reading for everything MIIS parses (SOAP messages, signatures, WSDL inputs).
 * - no DTD (a DOCTYPE is refused), hence no custom or external entities;
 * - only the five predefined entities and character references;
 * - limits on size (bytes), depth, element count, attributes per element, namespace declarations,
 *   name length, attribute value length and text per element, each refused with its own fault code;
 * - time linear in the input whatever its shape (no rescans, no copied scopes, no quadratic joins);
 * - strict UTF-8 (invalid byte sequences are refused, never replaced).
 * The result is a small element tree with string offsets into the decoded text, so callers can
 * locate (never re-serialise) parts of the original message.
 */
import { Buffer, isAscii, isUtf8, transcode } from 'node:buffer';
import { MiisError } from './errors.js';

export interface XmlLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxElements: number;
  /** Attributes on one element, namespace declarations included (default 256). */
  readonly maxAttributes?: number;
  /** Namespace declarations (`xmlns`, `xmlns:p`) on one element (default 64). */
  readonly maxNamespaceDeclarationsPerElement?: number;
  /** Namespace declarations in the whole document (default 10,000). */
  readonly maxNamespaceDeclarations?: number;
  /**
   * Attributes in the whole document, namespace declarations included (default 50,000, the order of
   * `maxElements`): a SOAP message never needs more, and a 2 MiB message made of attributes costs
   * several times the work per byte of one made of elements and text.
   */
  readonly maxAttributesInDocument?: number;
  /** Characters in an element or attribute name, prefix included (default 256). */
  readonly maxNameLength?: number;
  /** Characters in one attribute value, after decoding references (default 65,536). */
  readonly maxAttributeValueLength?: number;
  /**
   * Characters of direct text (text and CDATA, decoded) of one element. Default: `maxBytes`, so any
   * text that fits in an accepted message is accepted (a SOAP body may carry a large base64 value).
   */
  readonly maxTextLength?: number;
}

/** Defaults of the optional limits, sized for SOAP messages. */
export const XML_LIMIT_DEFAULTS = {
  maxAttributes: 256,
  maxNamespaceDeclarationsPerElement: 64,
  maxNamespaceDeclarations: 10_000,
  maxAttributesInDocument: 50_000,
  maxNameLength: 256,
  maxAttributeValueLength: 64 * 1024,
} as const;

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 10 * 1024 * 1024, maxDepth: 64, maxElements: 200_000, ...XML_LIMIT_DEFAULTS };

export interface XmlElement {
  readonly name: string;
  readonly prefix: string;
  readonly local: string;
  readonly uri: string;
  /** Attributes by qualified name; each keeps its namespace URI. Built on first use, then kept. */
  readonly attributes: Readonly<Record<string, { readonly uri: string; readonly local: string; readonly value: string }>>;
  /** Child elements in document order (a shared, frozen empty array when there are none: do not modify). */
  readonly children: XmlElement[];
  /** Concatenated direct text content (text and CDATA). */
  text: string;
  /** Offset of '<' of the start tag in the decoded text. */
  readonly start: number;
  /** Offset just after the start tag's '>'. */
  readonly contentStart: number;
  /** Offset of '<' of the end tag (equals `end` for a self-closing element). */
  contentEnd: number;
  /** Offset just after the end tag's '>'. */
  end: number;
}

export interface XmlDocument {
  readonly text: string;
  readonly root: XmlElement;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8(bytes: Uint8Array): string {
  // pure ASCII (most messages): every byte is its character, so the much cheaper one-byte read gives
  // the same string; anything else goes through the strict decoder (BOM dropped, invalid refused)
  if (isAscii(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  // a small document: the strict decoder costs less than the Latin-1 conversion's fixed cost
  if (bytes.byteLength <= SMALL_DECODE) return strictDecode(bytes);
  if (!isUtf8(bytes)) throw invalidUtf8();
  return latin1Text(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) ?? strictDecode(bytes);
}

/** Non-ASCII documents up to this many bytes go straight to the strict decoder (see latin1Text). */
const SMALL_DECODE = 16 * 1024;

/**
 * The text of valid UTF-8 whose characters are all below U+0100 (Spanish names and addresses: á, é,
 * ñ, Ñ, ü, ¿, ¡), read as a one-byte string: about a sixth of the strict decoder's cost on such a
 * document, and half the memory. ICU's UTF-8 → Latin-1 conversion puts one «?» in place of any
 * character it cannot map, which always takes fewer bytes than the UTF-8 it replaces (2 to 4), so
 * the result is exact if and only if its UTF-8 length equals the input's. Undefined when it is not
 * (or when this Node has no ICU converter): the caller then uses the strict decoder.
 */
function latin1Text(view: Buffer): string | undefined {
  let text: string;
  try {
    text = transcode(view, 'utf8', 'latin1').toString('latin1');
  } catch {
    return undefined;
  }
  return Buffer.byteLength(text, 'utf8') === view.byteLength ? text : undefined;
}

function strictDecode(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidUtf8();
  }
}

function invalidUtf8(): MiisError {
  return new MiisError('Client.InvalidXml', 'el contenido no está codificado en UTF-8 válido');
}

/** Parse XML bytes within limits. Throws MiisError with a Client.* code. */
export function parseXml(bytes: Uint8Array, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlDocument {
  if (bytes.length > limits.maxBytes) {
    throw new MiisError('Client.MessageTooLarge', `${bytes.length} bytes; máximo ${limits.maxBytes}`);
  }
  return parseXmlText(decodeUtf8(bytes), limits);
}

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const ILLEGAL_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
/** Longest reference body read after «&» (`&#x10FFFF;` needs 8; longer ones are refused). */
const MAX_REFERENCE = 40;
type XmlAttribute = { readonly uri: string; readonly local: string; readonly value: string };

/** Children of an element without any (shared and frozen: the tree is read-only for callers). */
const NO_CHILDREN: XmlElement[] = Object.freeze([]) as unknown as XmlElement[];
/** Attributes of an element without any (shared likewise). */
const NO_ATTRIBUTES: Readonly<Record<string, XmlAttribute>> = Object.freeze({});

/** An element name, with its parts (one object per name in the name cache, see nameQNames). */
interface QName {
  readonly name: string;
  readonly prefix: string;
  readonly local: string;
}

// The parse writes the tree as rows of numbers (one row per element, in document order) and makes
// no object per element: a 2 MiB message may hold 200,000 elements, and the garbage collector copies
// every object that survives, which was most of the cost of such documents. Elements are made from
// their rows when a caller first reaches them (the root, then each element's children).
// Rows and attributes are written to fixed-size chunks rather than one growing array: on this kind
// of machine touching fresh memory (page faults) costs more than anything else the parse does, and a
// growing array touches every row twice (the copy) plus the abandoned smaller arrays. Rows are kept
// small for the same reason: anything that can be found again cheaply on first use is not stored
// (the start tag's «>» is the first one after its last attribute value, the end tag's «<» the last
// «<» before the element's end; an attribute's name ends at «=» or white space, its value starts
// after the first quote after its name and ends at the next such quote).
const ROW = 7;
/** Rows per chunk (2^ROW_CHUNK_BITS; the first chunk is smaller when the document cannot fill one). */
const ROW_CHUNK_BITS = 10;
const ROW_CHUNK = 1 << ROW_CHUNK_BITS;
const ROW_CHUNK_MASK = ROW_CHUNK - 1;
const R_START = 0;
/** Offset just after the end tag's «>» (just after the start tag's for a self-closing element). */
const R_END = 1;
/**
 * Index just past the element's last descendant. Rows are in document order, so an element's first
 * child (if any) is the next row and each child's next sibling starts where the child's subtree ends.
 */
const R_SUBTREE_END = 2;
const R_NAME = 3;
const R_URI = 4;
/** -1: no text; -2: the whole content, one plain run of the document; ≥ 0: index in `texts`. */
const R_TEXT = 5;
/**
 * Index k of the element's first attribute in the attribute table (its last is just before the next
 * element's first), or -1 - k when the element's attributes are not in the table: all of them have a
 * plain value and no prefix other than xmlns, so all there is to know is read again from the start tag.
 */
const R_ATTRS = 6;
// An attribute in the attribute table: where its name starts in the text, and A_X: ≥ 0 for a plain
// value (a range of the text), the number of the binding of its namespace URI; -1 - k for a decoded
// value, decoded value k (see DECODED).
const ATTR = 2;
const ATTR_CHUNK_BITS = 11;
const ATTR_CHUNK = 1 << ATTR_CHUNK_BITS;
const ATTR_CHUNK_MASK = ATTR_CHUNK - 1;
const A_NAME = 0;
const A_X = 1;
/**
 * Decoded attribute values, in chunks of DECODED_CHUNK (small arrays: a large one would be grown
 * by copying into fresh memory), each value followed by the number of the binding of its URI.
 */
const DECODED_CHUNK_BITS = 9;
const DECODED_CHUNK_MASK = (1 << DECODED_CHUNK_BITS) - 1;
const TEXT_NONE = -1;
const TEXT_CONTENT = -2;

/** A parsed document in rows (see ROW). */
interface Tree {
  readonly src: string;
  /** Row chunks (see ROW_CHUNK). */
  readonly rows: readonly Int32Array[];
  readonly names: readonly QName[];
  /** Namespace URIs by binding number, in chunks (see STRING_CHUNK_BITS). */
  readonly uris: readonly (readonly string[])[];
  /** Texts that are not the whole content as one plain run, in chunks (see STRING_CHUNK_BITS). */
  readonly texts: readonly (readonly string[])[];
  /** Number of elements (rows). */
  readonly count: number;
  /** Attribute chunks (ATTR_CHUNK attributes of ATTR numbers each, see A_*). */
  readonly attrTable: readonly Int32Array[];
  readonly attrTotal: number;
  /** Attribute values that are not a plain range of the document, and their URIs' bindings (see DECODED_CHUNK_BITS). */
  readonly decoded: readonly (readonly (string | number)[])[];
}

/** Number `field` of row `index`. */
function rowField(tree: Tree, index: number, field: number): number {
  return (tree.rows[index >> ROW_CHUNK_BITS] as Int32Array)[(index & ROW_CHUNK_MASK) * ROW + field] as number;
}

/** Number `field` of attribute `k`. */
function attrField(tree: Tree, k: number, field: number): number {
  return (tree.attrTable[k >> ATTR_CHUNK_BITS] as Int32Array)[(k & ATTR_CHUNK_MASK) * ATTR + field] as number;
}

/** End of the attribute name starting at src[start]: names hold neither «=» nor white space. */
function attrNameEnd(src: string, start: number): number {
  let i = start;
  for (;;) {
    const c = src.charCodeAt(i);
    if (c === 0x3d || c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d) return i;
    i += 1;
  }
}

/** Where the value of the attribute named at src[nameStart] starts: after the first quote after the name. */
function attrValueStart(src: string, nameStart: number): number {
  for (let i = attrNameEnd(src, nameStart); ; i += 1) {
    const c = src.charCodeAt(i);
    if (c === 0x22 || c === 0x27) return i + 1;
  }
}

/** Where the value starting at src[valueStart] ends: at the next quote like the one before it. */
function attrValueEnd(src: string, valueStart: number): number {
  return src.indexOf(src.charCodeAt(valueStart - 1) === 0x22 ? '"' : "'", valueStart);
}

/** Namespace URIs and texts in chunks of 2^STRING_CHUNK_BITS (small arrays, as DECODED_CHUNK_BITS). */
const STRING_CHUNK_BITS = 10;
const STRING_CHUNK_MASK = (1 << STRING_CHUNK_BITS) - 1;

/** String `id` of chunks of 2^STRING_CHUNK_BITS (namespace URI `id` of `uris`, text `id` of `texts`). */
function stringAt(chunks: readonly (readonly string[])[], id: number): string {
  return (chunks[id >> STRING_CHUNK_BITS] as string[])[id & STRING_CHUNK_MASK] as string;
}

/** Decoded value d (field 0) or the binding of its URI (field 1). */
function decodedField(decoded: readonly (readonly (string | number)[])[], d: number, field: number): string | number {
  return (decoded[d >> DECODED_CHUNK_BITS] as (string | number)[])[2 * (d & DECODED_CHUNK_MASK) + field] as string | number;
}

/** The value of attribute `k`. */
function attrValue(tree: Tree, k: number): string {
  const x = attrField(tree, k, A_X);
  if (x < 0) return decodedField(tree.decoded, -1 - x, 0) as string;
  const src = tree.src;
  const start = attrValueStart(src, attrField(tree, k, A_NAME));
  return src.slice(start, attrValueEnd(src, start));
}

/** Where the attribute table run of an element starts, from its R_ATTRS. */
function attrRunStart(x: number): number {
  return x < 0 ? -1 - x : x;
}

/**
 * Read a start tag at src[start] again (a well-formed one: the parse has checked it): where its name
 * starts for each attribute (pushed to `names` when given), and where the tag ends (just after «>»).
 */
function scanStartTag(src: string, start: number, names: number[] | undefined): number {
  let i = start + 1;
  for (let c = src.charCodeAt(i); c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d && c !== 0x2f && c !== 0x3e; c = src.charCodeAt(i)) i += 1;
  for (;;) {
    let c = src.charCodeAt(i);
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = src.charCodeAt((i += 1));
    if (c === 0x3e) return i + 1;
    if (c === 0x2f) return i + 2;
    names?.push(i);
    i = attrValueEnd(src, attrValueStart(src, i)) + 1;
  }
}

/**
 * An element's attribute, as a handle: h ≥ 0 is attribute h of the table; h < 0 one read again from
 * the start tag, whose name starts at src[-1 - h] (plain value, no prefix or xmlns).
 */
function handleNameStart(tree: Tree, h: number): number {
  return h >= 0 ? attrField(tree, h, A_NAME) : -1 - h;
}

function handleValue(tree: Tree, h: number): string {
  if (h >= 0) return attrValue(tree, h);
  const src = tree.src;
  const start = attrValueStart(src, -1 - h);
  return src.slice(start, attrValueEnd(src, start));
}

function handleUri(tree: Tree, h: number): string {
  if (h >= 0) return attrUri(tree, h);
  const src = tree.src;
  const start = -1 - h;
  // «xmlns» or «xmlns:p»: xmlns's own URI; any other name of such a start tag has no namespace
  return src.startsWith('xmlns', start) && (attrNameEnd(src, start) === start + 5 || src.charCodeAt(start + 5) === 0x3a) ? XMLNS_NS : '';
}

/** The namespace URI of attribute `k`. */
function attrUri(tree: Tree, k: number): string {
  const x = attrField(tree, k, A_X);
  return stringAt(tree.uris, x < 0 ? decodedField(tree.decoded, -1 - x, 1) as number : x);
}

/**
 * An element of the tree, made from its row when first reached. Its attributes stay in the
 * document's attribute table and the `attributes` record is built on first use (most attributes of
 * a message are never looked at); the text of an element whose content is one plain run is sliced
 * from the document on first use.
 */
class Element implements XmlElement {
  readonly name: string;
  readonly prefix: string;
  readonly local: string;
  readonly uri: string;
  readonly start: number;
  end: number;
  #tree: Tree;
  #row: number;
  /** contentStart and contentEnd, -1 until first asked for (finding them takes a search). */
  #contentStart = -1;
  #contentEnd = -1;
  #children: XmlElement[] | undefined;
  #text: string | undefined;
  #attributes: Readonly<Record<string, XmlAttribute>> | undefined;

  constructor(tree: Tree, index: number) {
    const rows = tree.rows[index >> ROW_CHUNK_BITS] as Int32Array;
    const row = (index & ROW_CHUNK_MASK) * ROW;
    const q = tree.names[rows[row + R_NAME] as number] as QName;
    this.name = q.name;
    this.prefix = q.prefix;
    this.local = q.local;
    this.uri = stringAt(tree.uris, rows[row + R_URI] as number);
    this.start = rows[row + R_START] as number;
    this.end = rows[row + R_END] as number;
    this.#tree = tree;
    this.#row = index;
  }

  get contentStart(): number {
    if (this.#contentStart >= 0) return this.#contentStart;
    // the start tag's «>» is the first after its last attribute value (or its name)
    const tree = this.#tree;
    const src = tree.src;
    if (this.#field(R_ATTRS) < 0) return (this.#contentStart = scanStartTag(src, this.start, undefined));
    const [first, end] = this.#attributeRun();
    let from = this.start + 1;
    if (end > first) from = attrValueEnd(src, attrValueStart(src, attrField(tree, end - 1, A_NAME))) + 1;
    return (this.#contentStart = src.indexOf('>', from) + 1);
  }

  get contentEnd(): number {
    if (this.#contentEnd >= 0) return this.#contentEnd;
    // no «<» inside an end tag: its «<» is the last one before the element's end (a self-closing
    // element's content starts and ends at its end)
    const end = this.end;
    return (this.#contentEnd = end === this.contentStart ? end : this.#tree.src.lastIndexOf('<', end - 1));
  }

  set contentEnd(value: number) {
    this.#contentEnd = value;
  }

  /** Number `field` of the element's row. */
  #field(field: number): number {
    const index = this.#row;
    return (this.#tree.rows[index >> ROW_CHUNK_BITS] as Int32Array)[(index & ROW_CHUNK_MASK) * ROW + field] as number;
  }

  get children(): XmlElement[] {
    if (this.#children !== undefined) return this.#children;
    const tree = this.#tree;
    const end = this.#field(R_SUBTREE_END);
    let k = this.#row + 1;
    if (k >= end) return (this.#children = NO_CHILDREN);
    const children: XmlElement[] = [];
    for (; k < end; k = rowField(tree, k, R_SUBTREE_END)) children.push(new Element(tree, k));
    return (this.#children = children);
  }

  get text(): string {
    if (this.#text !== undefined) return this.#text;
    const t = this.#field(R_TEXT);
    return (this.#text = t === TEXT_NONE ? '' : t === TEXT_CONTENT ? this.#tree.src.slice(this.contentStart, this.contentEnd) : stringAt(this.#tree.texts, t));
  }

  set text(value: string) {
    this.#text = value;
  }

  /** The element's attributes: [first, end) in the attribute table. */
  #attributeRun(): [number, number] {
    const tree = this.#tree;
    const next = this.#row + 1;
    return [attrRunStart(this.#field(R_ATTRS)), next < tree.count ? attrRunStart(rowField(tree, next, R_ATTRS)) : tree.attrTotal];
  }

  /** The element's attributes as handles (see handleNameStart). */
  #attributeHandles(): number[] {
    const handles: number[] = [];
    if (this.#field(R_ATTRS) < 0) {
      scanStartTag(this.#tree.src, this.start, handles);
      for (let i = 0; i < handles.length; i += 1) handles[i] = -1 - (handles[i] as number);
    } else {
      const [first, end] = this.#attributeRun();
      for (let k = first; k < end; k += 1) handles.push(k);
    }
    return handles;
  }

  get attributes(): Readonly<Record<string, XmlAttribute>> {
    if (this.#attributes !== undefined) return this.#attributes;
    const handles = this.#attributeHandles();
    if (handles.length === 0) return (this.#attributes = NO_ATTRIBUTES);
    const tree = this.#tree;
    const src = tree.src;
    const attributes: Record<string, XmlAttribute> = {};
    for (const h of handles) {
      const nameStart = handleNameStart(tree, h);
      const name = src.slice(nameStart, attrNameEnd(src, nameStart));
      const attr = { uri: handleUri(tree, h), local: name.slice(name.indexOf(':') + 1), value: handleValue(tree, h) };
      // an attribute may be called «__proto__»: define it, never assign it (that would set the prototype)
      if (name === '__proto__') Object.defineProperty(attributes, name, { value: attr, enumerable: true, writable: true, configurable: true });
      else attributes[name] = attr;
    }
    return (this.#attributes = attributes);
  }

  /** The value of the attribute with this namespace URI and local name, without building the record. */
  attributeValue(uri: string, local: string): string | undefined {
    if (local.includes(':')) return undefined;
    const tree = this.#tree;
    const src = tree.src;
    for (const h of this.#attributeHandles()) {
      const nameStart = handleNameStart(tree, h);
      const localStart = attrNameEnd(src, nameStart) - local.length;
      // the name is the local name, or a prefix, «:» and the local name
      if (localStart < nameStart || (localStart > nameStart && src.charCodeAt(localStart - 1) !== 0x3a)) continue;
      if (!src.startsWith(local, localStart) || handleUri(tree, h) !== uri) continue;
      return handleValue(tree, h);
    }
    return undefined;
  }
}

/**
 * Is this code point a NameStartChar of XML 1.0 (5th edition) other than «:»? Checked by hand: a
 * `u`-flag pattern with these ranges costs tens of milliseconds to compile the first time a
 * non-ASCII name shows up.
 */
function isNameStart(c: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
  return (c >= 0xc0 && c <= 0xd6) || (c >= 0xd8 && c <= 0xf6) || (c >= 0xf8 && c <= 0x2ff) || (c >= 0x370 && c <= 0x37d)
    || (c >= 0x37f && c <= 0x1fff) || c === 0x200c || c === 0x200d || (c >= 0x2070 && c <= 0x218f) || (c >= 0x2c00 && c <= 0x2fef)
    || (c >= 0x3001 && c <= 0xd7ff) || (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xfffd) || (c >= 0x10000 && c <= 0xeffff);
}

/** Is this code point a NameChar of XML 1.0 other than «:»? */
function isNameChar(c: number): boolean {
  if (c < 0x80) return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e;
  return isNameStart(c) || c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040;
}

/** The code point at s[i] (a surrogate pair read as one; a lone surrogate as itself, which no name contains). */
function codePointAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff) return c;
  const d = s.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff ? (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000 : c;
}

/** End of the NCName starting at s[from], or `from` when none starts there. */
function ncnameEnd(s: string, from: number): number {
  const first = codePointAt(s, from);
  if (!isNameStart(first)) return from;
  let i = from + (first > 0xffff ? 2 : 1);
  for (;;) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      // ASCII: the common case, without the code point step
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e) i += 1;
      else return i;
    } else {
      const cp = codePointAt(s, i);
      if (!isNameChar(cp)) return i;
      i += cp > 0xffff ? 2 : 1;
    }
  }
}

/** Literal line ends to LF (XML 1.0 §2.11). */
function normaliseLineEnds(s: string): string {
  if (!s.includes('\r')) return s;
  const crlf = s.split('\r\n').join('\n');
  return crlf.includes('\r') ? crlf.split('\r').join('\n') : crlf;
}

/** Literal line ends and tabs of an attribute value to spaces (XML 1.0 §2.11, §3.3.3). */
function normaliseAttributeSpace(s: string): string {
  let out = s.includes('\r\n') ? s.split('\r\n').join(' ') : s;
  if (out.includes('\n')) out = out.split('\n').join(' ');
  if (out.includes('\r')) out = out.split('\r').join(' ');
  if (out.includes('\t')) out = out.split('\t').join(' ');
  return out;
}

/**
 * Slots of the cache of recently read names (a power of two). Kept between documents (a name of an
 * earlier document is as good as a new slice of this one), with each name's kind (NAME_*) and prefix.
 */
const NAME_CACHE_SIZE = 4096;
const NAME_PLAIN = 0;
/** «xmlns» or «xmlns:…»: a namespace declaration when it names an attribute. */
const NAME_XMLNS = 1;
/** Any other prefixed name. */
const NAME_PREFIXED = 2;
const nameCache: (string | undefined)[] = new Array<string | undefined>(NAME_CACHE_SIZE).fill(undefined);
const nameKinds = new Int8Array(NAME_CACHE_SIZE);
const namePrefixes: string[] = new Array<string>(NAME_CACHE_SIZE).fill('');
// An element name's parts are kept with it in its slot, and its number in the document being read
// (its index in the tree's `names`) is found from the slot too, while the slot's stamp is that of the
// document: no map of names per document. A slot taken by another name loses both; when one that had
// a number in the document is lost, the document falls back to a map (see Reader.qnameIndex).
const nameQNames: (QName | undefined)[] = new Array<QName | undefined>(NAME_CACHE_SIZE).fill(undefined);
const nameDocStamps = new Int32Array(NAME_CACHE_SIZE);
const nameDocIds = new Int32Array(NAME_CACHE_SIZE);
let docStamp = 0;

// The current start tag's attributes, kept between documents (a start tag may hold tens of
// thousands; fresh arrays for them cost more than reading them): names, prefixes, and S numbers each.
const S = 5;
/** Where a plain value starts (just after its quote), or -1 - k for a decoded value, decoded[k]. */
const S_FROM = 0;
/** Where the value ends (its closing quote). */
const S_END = 1;
/** Where the name starts. */
const S_AT = 2;
const S_HASH = 3;
const S_KIND = 4;
/** Attributes of one start tag beyond which the scratch arrays are not kept for the next document. */
const SCRATCH_KEPT = 65_536;

// The first chunk of rows and of attributes of every document is written to scratch chunks kept
// between documents (no fresh memory per parse). When the document needs a second chunk, the first
// is copied to fresh memory of its own; when it does not (every message of a few kilobytes), the used
// part is copied at the end into a view of a shared slab: a fresh typed array of more than 64 bytes
// costs about a microsecond (an ArrayBuffer with its own backing store, tracked by the garbage
// collector), several times what the rest of the fixed cost of a small parse is, while a view costs
// tens of nanoseconds. A slab holds only rows and attributes actually written, and is released when
// the last tree with a view of it is.
const scratchRows = new Int32Array(ROW * ROW_CHUNK);
const scratchAttrs = new Int32Array(ATTR * ATTR_CHUNK);
const SLAB_BYTES = 64 * 1024;
/** Copies larger than this get their own array rather than a slab view. */
const SLAB_TAKE = 8 * 1024;
let slab = new ArrayBuffer(0);
let slabAt = 0;
const NO_NUMBERS = new Int32Array(0);

/** The first `length` numbers of `from`, in a slab view (small) or an array of their own. */
function keep(from: Int32Array, length: number): Int32Array {
  if (length === 0) return NO_NUMBERS;
  const bytes = 4 * length;
  let kept: Int32Array;
  if (bytes > SLAB_TAKE) {
    kept = new Int32Array(length);
  } else {
    if (slabAt + bytes > slab.byteLength) {
      slab = new ArrayBuffer(SLAB_BYTES);
      slabAt = 0;
    }
    kept = new Int32Array(slab, slabAt, length);
    slabAt += bytes;
  }
  if (length > 64) kept.set(from.subarray(0, length));
  else for (let i = 0; i < length; i += 1) kept[i] = from[i] as number;
  return kept;
}

/** The text after «<?xml» of the last declaration accepted (a copy: a slice would keep its whole document). */
let lastDeclaration = '';

/** Check the text after «<?xml» of a declaration starting at `at`; remember it when accepted. */
function checkDeclaration(decl: string, at: number, invalid: (at: number, what: string) => MiisError): void {
  if (!/^\s+version\s*=\s*(["'])1\.[0-9]+\1(\s+encoding\s*=\s*(["'])[A-Za-z][A-Za-z0-9._-]*\3)?(\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*$/.test(decl)) {
    throw invalid(at, 'declaración XML mal formada');
  }
  const enc = /encoding\s*=\s*["']([^"']+)/.exec(decl)?.[1];
  if (enc !== undefined && !/^utf-?8$/i.test(enc)) throw invalid(at, `codificación «${enc}» no admitida; use UTF-8`);
  // (the pattern admits ASCII only, so a Latin-1 round trip is an exact, flat copy)
  if (decl.length <= 256) lastDeclaration = Buffer.from(decl, 'latin1').toString('latin1');
}

/** Code units of the text buffer kept between documents (larger ones are dropped after their document). */
const SHARED_BUFFER_UNITS = 1 << 20;

/** Decoded strings up to this long are looked up in `shortCache` before a new one is made. */
const SHORT_STRING = 32;
const SHORT_CACHE_SIZE = 1024;
/** Recently made short decoded strings (text and attribute values), kept between documents. */
const shortCache: (string | undefined)[] = new Array<string | undefined>(SHORT_CACHE_SIZE).fill(undefined);

/** Characters read one by one before a plain stretch of text or of an attribute value is searched instead. */
const PROBE = 32;

/** What makes an attribute value need more than a slice: «<» (refused), references, white space to normalise. */
const ATTRIBUTE_SPECIAL = /[<&\t\n\r]/;

/** Up to this many attributes, a repeated name is found by scanning; beyond it, with a hash map. */
const SCAN_ATTRIBUTES = 16;

/** White space (S of XML 1.0) from text[pos] on: where it ends. */
function skipWsFrom(text: string, pos: number): number {
  for (;;) {
    const c = text.charCodeAt(pos);
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return pos;
    pos += 1;
  }
}

/** Whether text[at, at + s.length) is s (compared unit by unit: names are short, and this stays inline). */
function sameChars(text: string, at: number, s: string): boolean {
  for (let i = 0; i < s.length; i += 1) if (text.charCodeAt(at + i) !== s.charCodeAt(i)) return false;
  return true;
}

/** «line:column» of an offset of `text` (only computed for an error). */
function whereIn(text: string, at: number): string {
  let line = 1;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl >= 0 && nl < at; nl = text.indexOf('\n', nl + 1)) {
    line += 1;
    lineStart = nl + 1;
  }
  return `${line}:${at - lineStart + 1}`;
}

/**
 * The state of one parse, and the steps that read it. One reader (module level, see `reader`) serves
 * every parse: its steps are made once (no ~30 closures and their shared context per document: V8
 * kept `pos` and `text` in that context, not in registers) and its state lives in the fields of one
 * object of a stable shape, copied to locals in the loops that read it. A parse
 * never starts another (nothing it calls parses), so sharing is safe; everything the tree keeps (the
 * text, rows, names, URIs, texts, attributes) is a fresh array per document, handed to the tree at the
 * end, never read back from the reader. Fields that may hold a large document are dropped after each
 * parse (see release).
 */
class Reader {
  text = '';
  pos = 0;
  maxAttributes = 0;
  maxNsPerElement = 0;
  maxNs = 0;
  maxAttributesInDocument = 0;
  maxNameLength = 0;
  maxValueLength = 0;
  maxTextLength = 0;
  maxElements = 0;
  maxDepth = 0;

  // Characters of decoded text and attribute values that are not one plain slice of the document are
  // copied here (UTF-16 code units) and turned into a string once. The open elements use it as a
  // stack: an element's text sits above its parent's and is removed when the element closes.
  buf = new Uint16Array(16 * 1024);
  bufBytes = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  bufTop = 0;

  /** Hash, kind (NAME_*) and prefix of the name readName last read, and its slot of the name cache. */
  nameHash = 0;
  nameKind = NAME_PLAIN;
  namePrefix = '';
  nameSlot = 0;
  stampNow = 0;
  /** Whether a name with a number in this document lost its slot (numbers then come from `qnames`). */
  qnameLost = false;
  qnames: Map<string, number> | undefined = undefined;

  // The tree, as rows (see ROW) in chunks, and what rows point to; the first chunks are scratch ones
  // (see scratchRows). All fresh per document: the tree keeps them.
  mostRows = 0;
  rows = scratchRows;
  rowChunks: Int32Array[] = [];
  qnameList: QName[] = [];
  /** Namespace URIs by binding number: no namespace, xml, xmlns, then one per declaration in document order. */
  uriChunk: string[] = [];
  uriChunks: string[][] = [];
  uriTotal = 0;
  texts: string[][] = [];
  textChunk: string[] = [];
  textTotal = 0;
  /** Attributes of all elements, in document order (an element's run ends where the next element's starts). */
  mostAttributes = 0;
  attrTable = scratchAttrs;
  attrChunks: Int32Array[] = [];
  /** Where the next attribute goes in `attrTable`, the last chunk. */
  attrAt = 0;
  attrTotal = 0;
  decodedChunks: (string | number)[][] = [];
  decodedChunk: (string | number)[] = [];
  decodedTotal = 0;

  // The open elements, as parallel stacks (kept between documents): the element's index, its name,
  // where its namespace bindings start on the shadow stack, and its direct text so far: either one
  // plain run text[textStart, textEnd) of the document (textStart -1: none yet), or, from the second
  // piece on, the characters above textBase in `buf`; textLength counts them for the limit.
  open: number[] = [];
  openName: string[] = [];
  openShadow: number[] = [];
  /** Where the open element's content starts (just after its start tag). */
  openContent: number[] = [];
  textStart: number[] = [];
  textEnd: number[] = [];
  textBase: number[] = [];
  textLength: number[] = [];
  depth = 0;
  count = 0;
  nsDeclarations = 0;
  attributesInDocument = 0;

  /**
   * In-scope namespace bindings; each element undoes its own declarations when it closes (the
   * replaced bindings wait on a shadow stack). A prefix maps to the number of its binding in
   * `uriChunks`, so elements keep a number rather than look their URI up. An unbound prefix maps to
   * undefined rather than being deleted: V8 rehashes a large Map on delete/re-add cycles, which made
   * one declaration per element cost time in the map's size. Cleared for each document.
   */
  bindings = new Map<string, number | undefined>();
  /** The binding of the default namespace (bindings.get('') ?? 0, kept at hand for unprefixed elements). */
  defaultBinding = 0;
  shadowPrefix: string[] = [];
  shadowUri: (number | undefined)[] = [];
  shadowTop = 0;

  // The current start tag's attributes, kept between documents (a start tag may hold tens of
  // thousands; fresh arrays for them cost more than reading them): names, prefixes, and S numbers each.
  names: string[] = [];
  prefixes: string[] = [];
  numbers = new Int32Array(S * 64);
  /**
   * For elements with many attributes, an open-addressing table of their names (attribute index + 1
   * by name hash), valid where its stamp is the current one: no clearing between elements, and
   * resized (restamped) as an element's attributes grow, so each lookup is constant time.
   */
  seenSlots = new Int32Array(64);
  seenStamps = new Int32Array(64);
  stamp = 0;
  serial = 0;
  /** Namespace URI → serial of the last element with a prefixed attribute in it, and that attribute's prefix (made when first needed). */
  uriSeenIn: Map<string, number> | undefined = undefined;
  uriFirstPrefix: Map<string, string> | undefined = undefined;
  /** Binding number → serial of the last element with a prefixed attribute using it (made when first needed). */
  bindingSerials = NO_NUMBERS;

  // Where the next «<», «&», CR and «]]>» are (text.length: none), found by the string search and
  // kept while ahead of the reader, so long plain text is skipped at search speed and no part of the
  // document is searched twice for the same thing.
  nextLt = -1;
  nextAmp = -1;
  nextCr = -1;
  nextCdataEnd = -1;

  /** Drop scratch arrays grown past SCRATCH_KEPT (a tag with limits lifted may have had millions). */
  trimScratch(): void {
    if (this.names.length > SCRATCH_KEPT) {
      this.names = [];
      this.prefixes = [];
      this.numbers = new Int32Array(S * 64);
    }
    if (this.seenSlots.length > 4 * SCRATCH_KEPT) {
      this.seenSlots = new Int32Array(64);
      this.seenStamps = new Int32Array(64);
      this.stamp = 0;
    }
    if (this.buf.length > SHARED_BUFFER_UNITS) {
      this.buf = new Uint16Array(16 * 1024);
      this.bufBytes = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    if (this.shadowPrefix.length > SCRATCH_KEPT) {
      this.shadowPrefix = [];
      this.shadowUri = [];
    }
    if (this.open.length > SCRATCH_KEPT) {
      this.open = [];
      this.openName = [];
      this.openShadow = [];
      this.openContent = [];
      this.textStart = [];
      this.textEnd = [];
      this.textBase = [];
      this.textLength = [];
    }
  }

  /** Forget the document (after its parse, whatever the outcome): the reader keeps nothing of it. */
  release(): void {
    this.text = '';
    this.rows = scratchRows;
    this.rowChunks = NONE;
    this.qnameList = NONE;
    this.qnames = undefined;
    this.uriChunk = NONE;
    this.uriChunks = NONE;
    this.texts = NONE;
    this.textChunk = NONE;
    this.attrTable = scratchAttrs;
    this.attrChunks = NONE;
    this.decodedChunks = NONE;
    this.decodedChunk = NONE;
    this.uriSeenIn = undefined;
    this.uriFirstPrefix = undefined;
    this.bindingSerials = NO_NUMBERS;
    this.trimScratch();
  }

  where(at: number): string {
    return whereIn(this.text, at);
  }

  invalid(at: number, what: string): MiisError {
    return new MiisError('Client.InvalidXml', `${whereIn(this.text, at)}: ${what}`);
  }

  throwInvalid(at: number, what: string): never {
    throw this.invalid(at, what);
  }

  /** The character the reference body raw[from, to) (between «&» and «;») stands for; read in place. */
  reference(raw: string, from: number, to: number, at: number): string {
    const length = to - from;
    const first = raw.charCodeAt(from);
    if (first !== 0x23 /* # */) {
      if (length === 2 && raw.charCodeAt(from + 1) === 0x74 /* t */) {
        if (first === 0x6c /* l */) return '<';
        if (first === 0x67 /* g */) return '>';
      } else if (length === 3 && raw.startsWith('amp', from)) {
        return '&';
      } else if (length === 4) {
        if (raw.startsWith('quot', from)) return '"';
        if (raw.startsWith('apos', from)) return "'";
      }
      throw new MiisError('Client.EntityNotAllowed', `${this.where(at)}: «&${raw.slice(from, to)};» no es una entidad predefinida`);
    }
    const hex = raw.charCodeAt(from + 1) === 0x78 /* x */;
    const digitsFrom = from + (hex ? 2 : 1);
    let code = to > digitsFrom ? 0 : NaN;
    for (let i = digitsFrom; i < to; i += 1) {
      const c = raw.charCodeAt(i);
      const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : hex && c >= 0x61 && c <= 0x66 ? c - 0x57 : hex && c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (digit < 0) {
        code = NaN;
        break;
      }
      code = Math.min(code * (hex ? 16 : 10) + digit, 0x110000);
    }
    const ok = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    if (!ok) throw this.invalid(at, `referencia de carácter no válida «&${raw.slice(from, to)};»`);
    return String.fromCodePoint(code);
  }

  /**
   * Replace references by their characters, in one pass. The result is built by appending, which
   * V8 keeps as a rope (constant time per append) and flattens once, linearly.
   */
  decode(raw: string, at: number): string {
    let amp = raw.indexOf('&');
    if (amp < 0) return raw;
    let out = '';
    let from = 0;
    while (amp >= 0) {
      let end = amp + 1;
      const stop = Math.min(raw.length, amp + 1 + MAX_REFERENCE);
      while (end < stop) {
        const c = raw.charCodeAt(end);
        if (c === 0x3b /* ; */ || c === 0x26 /* & */ || c === 0x3c /* < */) break;
        end += 1;
      }
      if (raw.charCodeAt(end) !== 0x3b) throw this.invalid(at, '«&» sin referencia válida (use &amp;)');
      out += amp > from ? raw.slice(from, amp) + this.reference(raw, amp + 1, end, at) : this.reference(raw, amp + 1, end, at);
      from = end + 1;
      amp = raw.indexOf('&', from);
    }
    return out + raw.slice(from);
  }

  reserve(units: number): void {
    if (this.bufTop + units <= this.buf.length) return;
    const grown = new Uint16Array(Math.max(2 * this.buf.length, this.bufTop + units + 1024));
    grown.set(this.buf.subarray(0, this.bufTop));
    this.buf = grown;
    this.bufBytes = Buffer.from(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  copyRange(from: number, to: number): void {
    this.reserve(to - from);
    const buf = this.buf;
    const text = this.text;
    let o = this.bufTop;
    for (let i = from; i < to; i += 1) buf[o++] = text.charCodeAt(i);
    this.bufTop = o;
  }

  bufString(from: number, to: number): string {
    const length = to - from;
    if (length > SHORT_STRING) return this.bufBytes.toString('utf16le', 2 * from, 2 * to);
    // short decoded strings repeat (the same value on every element): reuse the one made last time
    // for this slot when it has the same characters, so repeats make no new string
    const buf = this.buf;
    let h = length;
    for (let i = from; i < to; i += 1) h = (Math.imul(h, 31) + (buf[i] as number)) | 0;
    const slot = (h ^ (h >>> 12)) & (SHORT_CACHE_SIZE - 1);
    const cached = shortCache[slot];
    if (cached !== undefined && cached.length === length) {
      let i = 0;
      while (i < length && cached.charCodeAt(i) === buf[from + i]) i += 1;
      if (i === length) return cached;
    }
    let s = '';
    if (length > 12) s = this.bufBytes.toString('utf16le', 2 * from, 2 * to);
    else for (let i = from; i < to; i += 1) s += String.fromCharCode(buf[i] as number);
    shortCache[slot] = s;
    return s;
  }

  /** A qualified name at `pos`: an NCName, optionally «:» and another; moves `pos` past it. */
  readName(): string {
    const text = this.text;
    const start = this.pos;
    // an ASCII name (the common case) is scanned and hashed in one pass; any other goes the long way
    let end = start;
    let h = 0;
    let c = text.charCodeAt(start);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f) {
      // (a name past the limit goes the long way too, which refuses it)
      const limit = start + this.maxNameLength;
      let colon = false;
      for (;;) {
        h = (Math.imul(h, 31) + c) | 0;
        c = text.charCodeAt((end += 1));
        if (end > limit) {
          end = -1;
          break;
        }
        if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e) continue;
        if (c < 0x80 && (c !== 0x3a || colon)) break;
        if (c === 0x3a) {
          // «:» and a local part, or the name ends before it
          const d = text.charCodeAt(end + 1);
          if ((d >= 0x61 && d <= 0x7a) || (d >= 0x41 && d <= 0x5a) || d === 0x5f) {
            colon = true;
            continue;
          }
          if (d < 0x80 || d !== d) break;
        }
        end = -1;
        break;
      }
    } else {
      end = -1;
    }
    if (end < 0) {
      end = ncnameEnd(text, start);
      if (end === start) throw this.invalid(start, 'se esperaba un nombre de elemento o atributo');
      if (text.charCodeAt(end) === 0x3a /* : */) {
        const localEnd = ncnameEnd(text, end + 1);
        if (localEnd > end + 1) end = localEnd;
      }
      if (end - start > this.maxNameLength) throw this.nameTooLong(start, text.slice(start, end));
      h = 0;
      for (let i = start; i < end; i += 1) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
    }
    const length = end - start;
    this.pos = end;
    // names repeat: reuse the string read last time for this slot when it is the same name (compared in place)
    h ^= h >>> 12;
    this.nameHash = h;
    const slot = h & (NAME_CACHE_SIZE - 1);
    this.nameSlot = slot;
    const cached = nameCache[slot];
    if (cached !== undefined && cached.length === length && sameChars(text, start, cached)) {
      this.nameKind = nameKinds[slot] as number;
      this.namePrefix = namePrefixes[slot] as string;
      return cached;
    }
    const name = text.slice(start, end);
    const colon = name.indexOf(':');
    const prefix = colon < 0 ? '' : name.slice(0, colon);
    const kind = name.startsWith('xmlns') && (length === 5 || colon === 5) ? NAME_XMLNS : colon < 0 ? NAME_PLAIN : NAME_PREFIXED;
    this.namePrefix = prefix;
    this.nameKind = kind;
    nameCache[slot] = name;
    nameKinds[slot] = kind;
    namePrefixes[slot] = prefix;
    nameQNames[slot] = undefined;
    if (nameDocStamps[slot] === this.stampNow) this.qnameLost = true;
    nameDocStamps[slot] = 0;
    return name;
  }

  nameTooLong(at: number, name: string): MiisError {
    return new MiisError('Client.XmlNameTooLong', `${this.where(at)}: «${name.slice(0, 32)}…» tiene ${name.length} caracteres; máximo ${this.maxNameLength}`);
  }

  /** Keep a text; returns its number. */
  addText(s: string): number {
    if ((this.textTotal & STRING_CHUNK_MASK) === 0) {
      this.textChunk = [];
      this.texts.push(this.textChunk);
    }
    this.textChunk.push(s);
    return this.textTotal++;
  }

  /** Markup that may appear anywhere: comments; refuses DTDs and processing instructions. */
  skipMisc(): boolean {
    const text = this.text;
    const pos = this.pos;
    if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos + 4);
      if (end < 0) throw this.invalid(pos, 'comentario sin cerrar');
      // «--» inside, or a «-» just before «-->» (the search for «--» cannot pass `end`, which starts one)
      if (text.indexOf('--', pos + 4) < end || (end > pos + 4 && text.charCodeAt(end - 1) === 0x2d)) throw this.invalid(pos, '«--» dentro de un comentario');
      this.pos = end + 3;
      return true;
    }
    if (text.startsWith('<!DOCTYPE', pos) || text.startsWith('<!ENTITY', pos)) throw new MiisError('Client.DtdNotAllowed');
    if (text.startsWith('<?', pos)) {
      const target = /^<\?([^\s?]*)/.exec(text.slice(pos, pos + 64))?.[1] ?? '';
      throw new MiisError('Client.InvalidXml', `${this.where(pos)}: instrucción de procesamiento «${target}» no permitida`);
    }
    return false;
  }

  unbindTo(base: number): void {
    while (this.shadowTop > base) {
      this.shadowTop -= 1;
      const prefix = this.shadowPrefix[this.shadowTop] as string;
      const uri = this.shadowUri[this.shadowTop];
      this.bindings.set(prefix, uri);
      if (prefix === '') this.defaultBinding = uri ?? 0;
    }
  }

  uriIdOf(prefix: string, at: number): number {
    const id = this.bindings.get(prefix);
    if (id === undefined) throw this.invalid(at, `prefijo de espacio de nombres no declarado: ${prefix}`);
    return id;
  }

  /**
   * Number in `qnameList` of element name `name`, read in name cache slot `slot` (which may since
   * hold another name); adds the name when new. A map of names is made only once a name with a
   * number has lost its slot (see nameDocStamps).
   */
  qnameIndex(name: string, slot: number): number {
    const inSlot = nameCache[slot] === name;
    const qnameList = this.qnameList;
    if (this.qnameLost && this.qnames === undefined) {
      this.qnames = new Map();
      for (let i = 0; i < qnameList.length; i += 1) this.qnames.set((qnameList[i] as QName).name, i);
    }
    let id = this.qnames?.get(name);
    if (id === undefined) {
      let q = inSlot ? nameQNames[slot] : undefined;
      if (q === undefined) {
        const colon = name.indexOf(':');
        q = { name, prefix: colon < 0 ? '' : name.slice(0, colon), local: colon < 0 ? name : name.slice(colon + 1) };
        if (inSlot) nameQNames[slot] = q;
      }
      id = qnameList.length;
      qnameList.push(q);
      this.qnames?.set(name, id);
    }
    if (inSlot) {
      nameDocStamps[slot] = this.stampNow;
      nameDocIds[slot] = id;
    }
    return id;
  }

  /** Put attribute i in the table; true when an earlier attribute of the element has its name. */
  seen(i: number): boolean {
    const seenSlots = this.seenSlots;
    const seenStamps = this.seenStamps;
    const stamp = this.stamp;
    const names = this.names;
    const mask = seenSlots.length - 1;
    const attrName = names[i] as string;
    for (let slot = (this.numbers[S * i + S_HASH] as number) & mask; ; slot = (slot + 1) & mask) {
      if (seenStamps[slot] !== stamp) {
        seenStamps[slot] = stamp;
        seenSlots[slot] = i + 1;
        return false;
      }
      if (names[(seenSlots[slot] as number) - 1] === attrName) return true;
    }
  }

  /** A fresh table (at least four slots per attribute) holding the first n attributes, known distinct. */
  restamp(n: number): void {
    if (4 * n > this.seenSlots.length || this.stamp === 0x7fffffff) {
      if (4 * n > this.seenSlots.length) this.seenSlots = new Int32Array(2 * this.seenSlots.length);
      this.seenStamps = new Int32Array(this.seenSlots.length);
      this.stamp = 0;
    }
    this.stamp += 1;
    for (let i = 0; i < n; i += 1) this.seen(i);
  }

  /** The serial stamped for this binding before, and the current serial stamped now. */
  bindingSeenIn(id: number): number {
    if (id >= this.bindingSerials.length) {
      const grown = new Int32Array(Math.max(64, 2 * id));
      grown.set(this.bindingSerials);
      this.bindingSerials = grown;
    }
    const before = this.bindingSerials[id] as number;
    this.bindingSerials[id] = this.serial;
    return before;
  }

  /**
   * The code point of the reference body text[from, to) (between «&» and «;»), or -1 when it is not
   * one we accept (the caller then replays the chunk through `decode` for the exact fault).
   */
  referenceCode(from: number, to: number): number {
    const text = this.text;
    const length = to - from;
    const first = text.charCodeAt(from);
    if (first !== 0x23 /* # */) {
      if (length === 2 && text.charCodeAt(from + 1) === 0x74 /* t */) {
        if (first === 0x6c /* l */) return 0x3c;
        if (first === 0x67 /* g */) return 0x3e;
      } else if (length === 3 && first === 0x61 && text.charCodeAt(from + 1) === 0x6d && text.charCodeAt(from + 2) === 0x70) {
        return 0x26;
      } else if (length === 4) {
        if (text.startsWith('quot', from)) return 0x22;
        if (text.startsWith('apos', from)) return 0x27;
      }
      return -1;
    }
    const hex = text.charCodeAt(from + 1) === 0x78 /* x */;
    const digitsFrom = from + (hex ? 2 : 1);
    if (to <= digitsFrom) return -1;
    let code = 0;
    for (let i = digitsFrom; i < to; i += 1) {
      const c = text.charCodeAt(i);
      const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : hex && c >= 0x61 && c <= 0x66 ? c - 0x57 : hex && c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (digit < 0) return -1;
      code = Math.min(code * (hex ? 16 : 10) + digit, 0x110000);
    }
    const ok = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
    return ok ? code : -1;
  }

  /** End («;») of the reference whose «&» is at text[amp], looking no further than `limit`; -1 when there is none. */
  referenceEnd(amp: number, limit: number): number {
    const text = this.text;
    let end = amp + 1;
    const stop = Math.min(limit, amp + 1 + MAX_REFERENCE);
    while (end < stop) {
      const c = text.charCodeAt(end);
      if (c === 0x3b /* ; */ || c === 0x26 /* & */ || c === 0x3c /* < */) break;
      end += 1;
    }
    return end < limit && text.charCodeAt(end) === 0x3b ? end : -1;
  }

  /**
   * An attribute value text[from, end) that needs more than a slice (`special` is its first «<», «&»,
   * tab or line end): line ends and tabs become spaces (XML 1.0 §2.11, §3.3.3; a CRLF is one line end),
   * references their characters. On anything wrong, the value is replayed through the plain
   * normalise-then-decode steps, which throw the fault they always threw.
   */
  replayValue(from: number, end: number, at: number, attrName: string): never {
    const raw = this.text.slice(from, end);
    if (raw.includes('<')) throw this.invalid(at, `«<» no permitido en el valor del atributo ${attrName}`);
    this.decode(normaliseAttributeSpace(raw), at);
    throw this.invalid(at, `valor del atributo ${attrName} no válido`);
  }

  specialValue(from: number, special: number, end: number, at: number, attrName: string): string {
    this.reserve(end - from);
    const text = this.text;
    const buf = this.buf;
    const base = this.bufTop;
    let o = base;
    for (let i = from; i < special; i += 1) buf[o++] = text.charCodeAt(i);
    for (let i = special; i < end;) {
      const c = text.charCodeAt(i);
      if (c === 0x26 /* & */) {
        const semi = this.referenceEnd(i, end);
        const code = semi < 0 ? -1 : this.referenceCode(i + 1, semi);
        if (code < 0) return this.replayValue(from, end, at, attrName);
        if (code > 0xffff) {
          buf[o++] = 0xd800 + ((code - 0x10000) >> 10);
          buf[o++] = 0xdc00 + ((code - 0x10000) & 0x3ff);
        } else {
          buf[o++] = code;
        }
        i = semi + 1;
      } else if (c === 0x3c /* < */) {
        return this.replayValue(from, end, at, attrName);
      } else if (c === 0x09 || c === 0x0a || c === 0x0d) {
        buf[o++] = 0x20;
        i += c === 0x0d && text.charCodeAt(i + 1) === 0x0a && i + 1 < end ? 2 : 1;
      } else {
        buf[o++] = c;
        i += 1;
      }
    }
    return this.bufString(base, o);
  }

  /** The start tag at `pos`: its attributes, namespace declarations and row; `pos` moves past it. */
  openTag(): void {
    const text = this.text;
    const start = this.pos;
    this.pos = start + 1;
    const name = this.readName();
    const slot = this.nameSlot;
    let pos = this.pos;
    const names = this.names;
    const prefixes = this.prefixes;
    let numbers = this.numbers;
    let n = 0;
    this.serial += 1;
    let declarations = 0;
    let prefixed = 0;
    let decodedValues = 0;
    for (;;) {
      const before = pos;
      pos = skipWsFrom(text, pos);
      const c = text.charCodeAt(pos);
      if (c === 0x3e /* > */ || c === 0x2f /* / */) break;
      if (Number.isNaN(c)) throw this.invalid(start, `etiqueta <${name}> sin cerrar`);
      if (pos === before) throw this.invalid(pos, 'se esperaba un espacio entre atributos');
      const attrAt = pos;
      this.pos = pos;
      const attrName = this.readName();
      pos = this.pos;
      const attrHash = this.nameHash;
      const attrKind = this.nameKind;
      const attrPrefix = this.namePrefix;
      pos = skipWsFrom(text, pos);
      if (text.charCodeAt(pos) !== 0x3d /* = */) throw this.invalid(pos, `se esperaba «=» tras el atributo ${attrName}`);
      pos = skipWsFrom(text, pos + 1);
      const quote = text.charCodeAt(pos);
      if (quote !== 0x22 && quote !== 0x27) throw this.invalid(pos, `el valor del atributo ${attrName} debe ir entre comillas`);
      const end = text.indexOf(quote === 0x22 ? '"' : "'", pos + 1);
      if (end < 0) throw this.invalid(pos, `valor del atributo ${attrName} sin cerrar`);
      // a repeated name: scan while the tag is short, then use the table (linear either way)
      if (S * (n + 1) > numbers.length) {
        const grown = new Int32Array(2 * numbers.length);
        grown.set(numbers);
        numbers = this.numbers = grown;
      }
      const at = S * n;
      if (n >= SCAN_ATTRIBUTES) {
        if (n === SCAN_ATTRIBUTES || 4 * (n + 1) > this.seenSlots.length) this.restamp(n);
        names[n] = attrName;
        numbers[at + S_HASH] = attrHash;
        if (this.seen(n)) throw this.invalid(attrAt, `atributo ${attrName} repetido`);
      } else {
        for (let i = 0; i < n; i += 1) if (names[i] === attrName) throw this.invalid(attrAt, `atributo ${attrName} repetido`);
      }
      if (n === this.maxAttributes) {
        throw new MiisError('Client.XmlTooManyAttributes', `<${name}> en ${this.where(start)}: más de ${this.maxAttributes}`);
      }
      this.attributesInDocument += 1;
      if (this.attributesInDocument > this.maxAttributesInDocument) {
        throw new MiisError('Client.XmlTooManyAttributesInDocument', `más de ${this.maxAttributesInDocument}; el atributo ${this.attributesInDocument} está en ${this.where(attrAt)}`);
      }
      if (attrKind === NAME_XMLNS) {
        declarations += 1;
        this.nsDeclarations += 1;
        if (declarations > this.maxNsPerElement) {
          throw new MiisError('Client.XmlTooManyNamespaceDeclarations', `<${name}> en ${this.where(start)}: más de ${this.maxNsPerElement}`);
        }
        if (this.nsDeclarations > this.maxNs) {
          throw new MiisError('Client.XmlTooManyNamespaceDeclarationsInDocument', `más de ${this.maxNs}; la declaración ${this.nsDeclarations} está en ${this.where(attrAt)}`);
        }
      } else if (attrKind === NAME_PREFIXED) {
        prefixed += 1;
      }
      // the value: a slice of the document unless it holds «<», a reference, a tab or a line end
      const from = pos + 1;
      let special = from;
      while (special < end) {
        const v = text.charCodeAt(special);
        if (v <= 0x3c && (v === 0x26 || v === 0x3c || v === 0x0a || v === 0x0d || v === 0x09)) break;
        special += 1;
        if (special === from + PROBE) {
          // a long value: search the rest
          const k = text.slice(special, end).search(ATTRIBUTE_SPECIAL);
          special = k < 0 ? end : special + k;
          break;
        }
      }
      // a plain value stays a range of the document; only a decoded one becomes a string now
      const decoded = special === end ? undefined : this.specialValue(from, special, end, pos, attrName);
      if (decoded !== undefined) decodedValues += 1;
      const valueLength = decoded === undefined ? end - from : decoded.length;
      if (valueLength > this.maxValueLength) {
        throw new MiisError('Client.XmlAttributeValueTooLong', `${attrName} en ${this.where(attrAt)}: ${valueLength} caracteres; máximo ${this.maxValueLength}`);
      }
      names[n] = attrName;
      prefixes[n] = attrPrefix;
      numbers[at + S_HASH] = attrHash;
      numbers[at + S_KIND] = attrKind;
      if (decoded === undefined) {
        numbers[at + S_FROM] = from;
      } else {
        if ((this.decodedTotal & DECODED_CHUNK_MASK) === 0) {
          this.decodedChunk = [];
          this.decodedChunks.push(this.decodedChunk);
        }
        this.decodedChunk.push(decoded, 0);
        numbers[at + S_FROM] = -1 - this.decodedTotal;
        this.decodedTotal += 1;
      }
      numbers[at + S_END] = end;
      numbers[at + S_AT] = attrAt;
      n += 1;
      pos = end + 1;
    }
    const selfClosing = text.charCodeAt(pos) === 0x2f /* / */;
    if (selfClosing) {
      if (text.charCodeAt(pos + 1) !== 0x3e) throw this.invalid(pos, `se esperaba «/>» en <${name}>`);
      pos += 2;
    } else {
      pos += 1;
    }
    this.pos = pos;
    const count = (this.count += 1);
    if (count > this.maxElements) throw new MiisError('Client.MessageTooLarge', `más de ${this.maxElements} elementos`);
    if (this.depth + 1 > this.maxDepth) throw new MiisError('Client.XmlTooDeep', `máximo ${this.maxDepth} niveles`);

    const shadowBase = this.shadowTop;
    if (declarations > 0) {
      const bindings = this.bindings;
      for (let i = 0; i < n; i += 1) {
        const at = S * i;
        if (numbers[at + S_KIND] !== NAME_XMLNS) continue;
        const a = names[i] as string;
        const prefix = a.length === 5 ? '' : a.slice(6);
        const from = numbers[at + S_FROM] as number;
        const uri = from < 0 ? decodedField(this.decodedChunks, -1 - from, 0) as string : text.slice(from, numbers[at + S_END] as number);
        // Namespaces in XML §3: «xmlns» is never declared, «xml» only to its own URI, and no other prefix (nor the default) to either
        if (prefix === 'xmlns' || uri === XMLNS_NS || (prefix === 'xml') !== (uri === XML_NS)) throw this.invalid(numbers[at + S_AT] as number, `declaración de espacio de nombres no permitida: ${a}`);
        if (prefix !== '' && uri === '') throw this.invalid(numbers[at + S_AT] as number, `el prefijo ${prefix} no puede declararse vacío`);
        this.shadowPrefix[this.shadowTop] = prefix;
        this.shadowUri[this.shadowTop] = bindings.get(prefix);
        this.shadowTop += 1;
        if ((this.uriTotal & STRING_CHUNK_MASK) === 0) {
          this.uriChunk = [];
          this.uriChunks.push(this.uriChunk);
        }
        bindings.set(prefix, this.uriTotal);
        if (prefix === '') this.defaultBinding = this.uriTotal;
        this.uriChunk.push(uri);
        this.uriTotal += 1;
      }
    }

    // the attributes go to the document's attribute table (see ATTR): where the name starts and the
    // number of the binding of the namespace URI (a decoded value by its number), the URI being:
    // unprefixed, no namespace or xmlns's own; prefixed declarations (xmlns:p) are
    // xmlns's too; other prefixed ones are looked up in order. Two prefixed attributes name the same
    // attribute ({uri}local) only if two different prefixes of this element are bound to one URI:
    // watch for that (URI → first prefix, stamped with the element's serial), and only then compare
    // expanded names.
    // An element whose attributes all have plain values and no prefix (or xmlns) keeps none of them:
    // they are read again from its start tag when asked for (R_ATTRS).
    const firstAttr = this.attrTotal;
    const inTable = prefixed > 0 || decodedValues > 0;
    if (inTable) this.tableAttributes(n, prefixed);
    const qid = nameDocStamps[slot] === this.stampNow && nameCache[slot] === name ? nameDocIds[slot] as number : this.qnameIndex(name, slot);
    const prefix = (this.qnameList[qid] as QName).prefix;
    const uriId = prefix === '' ? this.defaultBinding : prefix === 'xmlns' ? this.throwInvalid(start, 'un elemento no puede usar el prefijo xmlns') : this.uriIdOf(prefix, start);
    // the element's row, linked to its parent's last child
    const index = count - 1;
    const row = (index & ROW_CHUNK_MASK) * ROW;
    let rows = this.rows;
    if (row === 0 && index > 0) {
      if (this.rowChunks.length === 1) this.rowChunks[0] = keep(scratchRows, ROW * ROW_CHUNK);
      rows = this.rows = new Int32Array(ROW * Math.min(this.mostRows - index, ROW_CHUNK));
      this.rowChunks.push(rows);
    }
    rows[row + R_START] = start;
    rows[row + R_END] = pos;
    rows[row + R_SUBTREE_END] = count;
    rows[row + R_NAME] = qid;
    rows[row + R_URI] = uriId;
    rows[row + R_TEXT] = TEXT_NONE;
    rows[row + R_ATTRS] = inTable || n === 0 ? firstAttr : -1 - firstAttr;
    if (selfClosing) {
      this.unbindTo(shadowBase);
    } else {
      const depth = this.depth;
      this.open[depth] = index;
      this.openName[depth] = name;
      this.openShadow[depth] = shadowBase;
      this.openContent[depth] = pos;
      this.textStart[depth] = -1;
      this.textEnd[depth] = 0;
      this.textBase[depth] = -1;
      this.textLength[depth] = 0;
      this.depth = depth + 1;
    }
  }

  /** Write the n attributes of the current start tag to the attribute table (see openTag). */
  tableAttributes(n: number, prefixed: number): void {
    const names = this.names;
    const prefixes = this.prefixes;
    const numbers = this.numbers;
    let attrTable = this.attrTable;
    let attrAt = this.attrAt;
    const serial = this.serial;
    let sharedUri = false;
    // the last two prefixes looked up on this tag (their bindings cannot change while it is read)
    let lastPrefix = '';
    let lastId = -1;
    let otherPrefix = '';
    let otherId = -1;
    for (let i = 0; i < n; i += 1) {
      if (attrAt === attrTable.length) {
        // the scratch chunk is full: it becomes the document's own (see scratchRows)
        if (this.attrChunks.length === 1) this.attrChunks[0] = keep(scratchAttrs, ATTR * ATTR_CHUNK);
        attrTable = this.attrTable = new Int32Array(ATTR * Math.min(this.mostAttributes - this.attrTotal - i, ATTR_CHUNK));
        this.attrChunks.push(attrTable);
        attrAt = 0;
      }
      const at = S * i;
      attrTable[attrAt + A_NAME] = numbers[at + S_AT] as number;
      const from = numbers[at + S_FROM] as number;
      const kind = numbers[at + S_KIND];
      let uriId = 0;
      if (kind === NAME_XMLNS) {
        uriId = 2;
      } else if (kind === NAME_PREFIXED) {
        const prefix = prefixes[i] as string;
        if (lastId >= 0 && prefix === lastPrefix) {
          uriId = lastId;
        } else if (otherId >= 0 && prefix === otherPrefix) {
          uriId = otherId;
          otherPrefix = lastPrefix;
          otherId = lastId;
          lastPrefix = prefix;
          lastId = uriId;
        } else {
          uriId = this.uriIdOf(prefix, numbers[at + S_AT] as number);
          otherPrefix = lastPrefix;
          otherId = lastId;
          lastPrefix = prefix;
          lastId = uriId;
        }
        // a binding already met on this element has been checked (same prefix, same URI)
        if (prefixed > 1 && !sharedUri && this.bindingSeenIn(uriId) !== serial) {
          const uri = stringAt(this.uriChunks, uriId);
          const uriSeenIn = (this.uriSeenIn ??= new Map());
          const uriFirstPrefix = (this.uriFirstPrefix ??= new Map());
          if (uri === XMLNS_NS) {
            // xmlns's own URI is never compared
          } else if (uriSeenIn.get(uri) !== serial) {
            uriSeenIn.set(uri, serial);
            uriFirstPrefix.set(uri, prefix);
          } else if (uriFirstPrefix.get(uri) !== prefix) {
            sharedUri = true;
          }
        }
      }
      if (from < 0) {
        attrTable[attrAt + A_X] = from;
        const d = -1 - from;
        (this.decodedChunks[d >> DECODED_CHUNK_BITS] as (string | number)[])[2 * (d & DECODED_CHUNK_MASK) + 1] = uriId;
      } else {
        attrTable[attrAt + A_X] = uriId;
      }
      numbers[at + S_HASH] = uriId;
      attrAt += ATTR;
    }
    this.attrAt = attrAt;
    this.attrTotal += n;
    if (sharedUri) {
      const expanded = new Set<string>();
      for (let i = 0; i < n; i += 1) {
        const a = names[i] as string;
        const colon = a.indexOf(':');
        // (the hash is no longer needed: the table loop left the URI's binding there)
        const uri = stringAt(this.uriChunks, numbers[S * i + S_HASH] as number);
        if (colon < 0 || uri === XMLNS_NS) continue;
        const key = `${uri}\u0000${a.slice(colon + 1)}`;
        if (expanded.has(key)) throw this.invalid(numbers[S * i + S_AT] as number, `atributo ${a} repetido`);
        expanded.add(key);
      }
    }
  }

  /**
   * A text chunk (character data between two pieces of markup, starting at `chunk`) went wrong:
   * replay it through the plain steps, which throw the fault the chunk has always produced (an
   * unclosed element first, then «]]>», then references), or return when the chunk itself is fine.
   */
  replayChunk(chunk: number): void {
    const text = this.text;
    const lt = text.indexOf('<', chunk);
    if (lt < 0) throw this.invalid(text.length, `falta cerrar <${this.openName[this.depth - 1] as string}>`);
    const raw = text.slice(chunk, lt);
    if (raw.includes(']]>')) throw this.invalid(chunk, '«]]>» no permitido en el texto');
    this.decode(normaliseLineEnds(raw), chunk);
  }

  /** As replayChunk, for a chunk known to be wrong. */
  chunkFault(chunk: number): never {
    this.replayChunk(chunk);
    throw this.invalid(chunk, '«&» sin referencia válida (use &amp;)');
  }

  /** Count `units` more characters of direct text of the open element; `chunk` ≥ 0: of the text chunk starting there. */
  countText(units: number, at: number, chunk: boolean): number {
    const top = this.depth - 1;
    const length = (this.textLength[top] as number) + units;
    if (length > this.maxTextLength) {
      if (chunk) this.replayChunk(at);
      const index = this.open[top] as number;
      const elementStart = (this.rowChunks[index >> ROW_CHUNK_BITS] as Int32Array)[(index & ROW_CHUNK_MASK) * ROW + R_START] as number;
      throw new MiisError('Client.XmlTextTooLong', `<${this.openName[top] as string}> en ${this.where(elementStart)}: más de ${this.maxTextLength} caracteres (en ${this.where(at)})`);
    }
    this.textLength[top] = length;
    return top;
  }

  /** Move the open element's text to `buf` (from its second piece on); returns nothing, sets textBase. */
  toBuffer(top: number): void {
    this.textBase[top] = this.bufTop;
    const s = this.textStart[top] as number;
    if (s >= 0) this.copyRange(s, this.textEnd[top] as number);
  }

  /** Direct text text[from, to) of the open element, as it stands in the document. */
  addRange(from: number, to: number, at: number, chunk: boolean): void {
    const top = this.countText(to - from, at, chunk);
    if ((this.textBase[top] as number) < 0) {
      if ((this.textStart[top] as number) < 0) {
        this.textStart[top] = from;
        this.textEnd[top] = to;
        return;
      }
      this.toBuffer(top);
    }
    this.copyRange(from, to);
  }

  /** One character (a code point) of direct text of the open element. */
  addCode(code: number, at: number, chunk: boolean): void {
    const top = this.countText(code > 0xffff ? 2 : 1, at, chunk);
    if ((this.textBase[top] as number) < 0) this.toBuffer(top);
    this.reserve(2);
    const buf = this.buf;
    if (code > 0xffff) {
      buf[this.bufTop++] = 0xd800 + ((code - 0x10000) >> 10);
      buf[this.bufTop++] = 0xdc00 + ((code - 0x10000) & 0x3ff);
    } else {
      buf[this.bufTop++] = code;
    }
  }

  /** The end tag at `pos`; `pos` moves past it. */
  closeTag(): void {
    const text = this.text;
    const start = this.pos;
    let pos = start + 2;
    const depth = this.depth;
    // the expected name followed by «>» or white space is taken as is; anything else is read (and reported) in full
    const expected = depth === 0 ? '' : this.openName[depth - 1] as string;
    const after = text.charCodeAt(pos + expected.length);
    let name: string;
    if (expected !== '' && (after === 0x3e || after === 0x20 || after === 0x0a || after === 0x09 || after === 0x0d) && sameChars(text, pos, expected)) {
      name = expected;
      pos += expected.length;
    } else {
      this.pos = pos;
      name = this.readName();
      pos = this.pos;
    }
    pos = skipWsFrom(text, pos);
    if (text.charCodeAt(pos) !== 0x3e) throw this.invalid(pos, `se esperaba «>» en </${name}>`);
    pos += 1;
    this.pos = pos;
    if (depth === 0 || expected !== name) throw this.invalid(start, `etiqueta de cierre </${name}> inesperada${depth === 0 ? '' : ` (se esperaba </${expected}>)`}`);
    const top = depth - 1;
    this.depth = top;
    const index = this.open[top] as number;
    const chunk = this.rowChunks[index >> ROW_CHUNK_BITS] as Int32Array;
    const row = (index & ROW_CHUNK_MASK) * ROW;
    chunk[row + R_END] = pos;
    chunk[row + R_SUBTREE_END] = this.count;
    const base = this.textBase[top] as number;
    if (base >= 0) {
      chunk[row + R_TEXT] = this.addText(this.bufString(base, this.bufTop));
      this.bufTop = base;
    } else {
      const s = this.textStart[top] as number;
      if (s >= 0) {
        const e = this.textEnd[top] as number;
        if (s === this.openContent[top] && e === start) {
          chunk[row + R_TEXT] = TEXT_CONTENT;
        } else {
          chunk[row + R_TEXT] = this.addText(text.slice(s, e));
        }
      }
    }
    this.unbindTo(this.openShadow[top] as number);
  }

  crFrom(at: number): number {
    if (this.nextCr < at) {
      const cr = this.text.indexOf('\r', at);
      this.nextCr = cr < 0 ? this.text.length : cr;
    }
    return this.nextCr;
  }

  /** The first «<», «&», CR or «]]>» at or after `at`. */
  plainEnd(at: number): number {
    const text = this.text;
    if (this.nextLt < at) {
      const lt = text.indexOf('<', at);
      this.nextLt = lt < 0 ? text.length : lt;
    }
    if (this.nextAmp < at) {
      const amp = text.indexOf('&', at);
      this.nextAmp = amp < 0 ? text.length : amp;
    }
    if (this.nextCdataEnd < at) {
      const e = text.indexOf(']]>', at);
      this.nextCdataEnd = e < 0 ? text.length : e;
    }
    return Math.min(this.nextLt, this.nextAmp, this.crFrom(at), this.nextCdataEnd);
  }

  /** Parse `text` (see parseXmlText). */
  parse(text: string, limits: XmlLimits): XmlDocument {
    this.maxAttributes = limits.maxAttributes ?? XML_LIMIT_DEFAULTS.maxAttributes;
    this.maxNsPerElement = limits.maxNamespaceDeclarationsPerElement ?? XML_LIMIT_DEFAULTS.maxNamespaceDeclarationsPerElement;
    this.maxNs = limits.maxNamespaceDeclarations ?? XML_LIMIT_DEFAULTS.maxNamespaceDeclarations;
    this.maxAttributesInDocument = limits.maxAttributesInDocument ?? XML_LIMIT_DEFAULTS.maxAttributesInDocument;
    this.maxNameLength = limits.maxNameLength ?? XML_LIMIT_DEFAULTS.maxNameLength;
    this.maxValueLength = limits.maxAttributeValueLength ?? XML_LIMIT_DEFAULTS.maxAttributeValueLength;
    this.maxTextLength = limits.maxTextLength ?? limits.maxBytes;
    this.maxElements = limits.maxElements;
    this.maxDepth = limits.maxDepth;
    this.text = text;
    if (ILLEGAL_CHAR.test(text)) throw this.invalid(text.search(ILLEGAL_CHAR), 'carácter no permitido en XML');
    this.bufTop = 0;
    let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
    if (docStamp === 0x7fffffff) {
      nameDocStamps.fill(0);
      docStamp = 0;
    }
    docStamp += 1;
    this.stampNow = docStamp;
    this.qnameLost = false;
    this.qnames = undefined;

    const afterXml = text.charCodeAt(pos + 5);
    if (text.startsWith('<?xml', pos) && (afterXml === 0x20 || afterXml === 0x09 || afterXml === 0x0d || afterXml === 0x0a || afterXml === 0x3f)) {
      const end = text.indexOf('?>', pos);
      if (end < 0) throw this.invalid(pos, 'declaración XML sin cerrar');
      // messages of one sender repeat one declaration: the last accepted one is not checked again
      if (end !== pos + 5 + lastDeclaration.length || !text.startsWith(lastDeclaration, pos + 5)) checkDeclaration(text.slice(pos + 5, end), pos, (at, what) => this.invalid(at, what));
      pos = end + 2;
    }

    // An element takes at least 4 characters («<a/>»), an attribute at least 5 (« a=''»).
    this.mostRows = Math.min(limits.maxElements, Math.floor(text.length / 4)) + 1;
    this.rows = scratchRows;
    this.rowChunks = [scratchRows];
    this.qnameList = [];
    this.uriChunk = ['', XML_NS, XMLNS_NS];
    this.uriChunks = [this.uriChunk];
    this.uriTotal = 3;
    this.texts = [];
    this.textChunk = NONE;
    this.textTotal = 0;
    this.mostAttributes = Math.floor(text.length / 5) + 1;
    this.attrTable = scratchAttrs;
    this.attrChunks = [scratchAttrs];
    this.attrAt = 0;
    this.attrTotal = 0;
    this.decodedChunks = [];
    this.decodedChunk = NONE;
    this.decodedTotal = 0;
    this.depth = 0;
    this.count = 0;
    this.nsDeclarations = 0;
    this.attributesInDocument = 0;
    const bindings = this.bindings;
    bindings.clear();
    bindings.set('xml', 1);
    bindings.set('xmlns', 2);
    this.defaultBinding = 0;
    this.shadowTop = 0;
    this.serial = 0;
    this.uriSeenIn = undefined;
    this.uriFirstPrefix = undefined;
    this.bindingSerials = NO_NUMBERS;
    this.nextLt = -1;
    this.nextAmp = -1;
    this.nextCr = -1;
    this.nextCdataEnd = -1;

    // prolog
    for (;;) {
      pos = skipWsFrom(text, pos);
      this.pos = pos;
      if (!this.skipMisc()) break;
      pos = this.pos;
    }
    if (text[pos] !== '<' || ncnameEnd(text, pos + 1) === pos + 1) {
      throw new MiisError('Client.InvalidXml', pos >= text.length ? 'el documento no tiene elemento raíz' : `${this.where(pos)}: se esperaba el elemento raíz`);
    }
    this.openTag();
    pos = this.pos;

    // content
    while (this.depth > 0) {
      // character data up to the next markup, in plain runs split by references and line ends; read
      // character by character, and after PROBE plain ones, skipped by search to the next special one
      const chunk = pos;
      let run = pos;
      let probe = pos + PROBE;
      let c = text.charCodeAt(pos);
      for (;;) {
        if (c > 0x5d /* ] */ || (c !== 0x3c /* < */ && c !== 0x26 /* & */ && c !== 0x0d && c !== 0x5d && c === c)) {
          pos += 1;
          if (pos === probe) pos = this.plainEnd(pos);
          c = text.charCodeAt(pos);
          continue;
        }
        if (c === 0x3c || c !== c) break;
        if (c === 0x5d) {
          if (text.charCodeAt(pos + 1) === 0x5d && text.charCodeAt(pos + 2) === 0x3e) this.chunkFault(chunk);
          pos += 1;
        } else if (c === 0x0d) {
          if (pos > run) this.addRange(run, pos, chunk, true);
          pos += 1;
          // CRLF: the LF starts the next run; a lone CR is an LF
          if (text.charCodeAt(pos) !== 0x0a) this.addCode(0x0a, chunk, true);
          run = pos;
        } else {
          if (pos > run) this.addRange(run, pos, chunk, true);
          const semi = this.referenceEnd(pos, text.length);
          const code = semi < 0 ? -1 : this.referenceCode(pos + 1, semi);
          if (code < 0) this.chunkFault(chunk);
          this.addCode(code, chunk, true);
          pos = semi + 1;
          run = pos;
        }
        probe = pos + PROBE;
        c = text.charCodeAt(pos);
      }
      if (c !== c) this.chunkFault(chunk);
      if (pos > run) this.addRange(run, pos, chunk, true);
      const next = text.charCodeAt(pos + 1);
      this.pos = pos;
      if (next === 0x2f /* / */) this.closeTag();
      else if (next === 0x21 /* ! */ && text.startsWith('<![CDATA[', pos)) {
        const end = text.indexOf(']]>', pos + 9);
        if (end < 0) throw this.invalid(pos, 'sección CDATA sin cerrar');
        // the data as it stands, line ends normalised
        let from = pos + 9;
        for (let i = this.crFrom(from); i < end; i = this.crFrom(i + 1)) {
          if (i > from) this.addRange(from, i, pos, false);
          if (i + 1 < end && text.charCodeAt(i + 1) === 0x0a) {
            from = i + 1;
          } else {
            this.addCode(0x0a, pos, false);
            from = i + 1;
          }
        }
        if (end > from) this.addRange(from, end, pos, false);
        this.pos = end + 3;
      } else if ((next === 0x21 || next === 0x3f /* ? */) && this.skipMisc()) {
        // comment skipped
      } else {
        if (next === 0x21) throw this.invalid(pos, 'declaración no permitida');
        this.openTag();
      }
      pos = this.pos;
    }
    // after the root: only white space and comments
    for (;;) {
      pos = skipWsFrom(text, pos);
      if (pos >= text.length) break;
      this.pos = pos;
      if (!this.skipMisc()) throw this.invalid(pos, 'solo puede haber un elemento raíz');
      pos = this.pos;
    }
    const count = this.count;
    const rowChunks = this.rowChunks;
    const attrChunks = this.attrChunks;
    if (rowChunks.length === 1) rowChunks[0] = keep(scratchRows, ROW * count);
    if (attrChunks.length === 1) attrChunks[0] = keep(scratchAttrs, ATTR * this.attrTotal);
    const tree: Tree = { src: text, rows: rowChunks, count, names: this.qnameList, uris: this.uriChunks, texts: this.texts, attrTable: attrChunks, attrTotal: this.attrTotal, decoded: this.decodedChunks };
    return { text, root: new Element(tree, 0) };
  }
}

/** What the reader holds between documents in place of a document's arrays (never written: each parse sets fresh ones first). */
const NONE: never[] = [];

/** The reader of every parse (see Reader). */
const reader = new Reader();

/**
 * A small, strict, single-pass XML 1.0 + Namespaces reader for what MIIS exchanges (SOAP,
 * signatures). Several times faster than a general SAX parser on small messages, which matters
 * because every exchange parses about eight documents. It refuses what we never accept: DTDs,
 * processing instructions other than the XML declaration, undefined entities, unbound prefixes.
 * Every step is linear in what it reads, so the whole parse is linear in the input.
 */
export function parseXmlText(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlDocument {
  try {
    return reader.parse(text, limits);
  } finally {
    reader.release();
  }
}

/** First child element with the given namespace and local name. */
export function childNs(el: XmlElement, uri: string, local: string): XmlElement | undefined {
  for (const c of el.children) if (c.local === local && c.uri === uri) return c;
  return undefined;
}

export function childrenNs(el: XmlElement, uri: string, local: string): XmlElement[] {
  return el.children.filter((c) => c.local === local && c.uri === uri);
}

/** Attribute value by namespace URI and local name ('' for no namespace). */
export function attrNs(el: XmlElement, uri: string, local: string): string | undefined {
  if (el instanceof Element) return el.attributeValue(uri, local);
  for (const a of Object.values(el.attributes)) if (a.local === local && a.uri === uri) return a.value;
  return undefined;
}
