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
  try {
    return utf8.decode(bytes);
  } catch {
    throw new MiisError('Client.InvalidXml', 'el contenido no está codificado en UTF-8 válido');
  }
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
/** What makes an attribute value need more than a slice: «<» (refused), references, white space to normalise. */
const ATTRIBUTE_SPECIAL = /[<&\t\n\r]/;
/** Longest reference body read after «&» (`&#x10FFFF;` needs 8; longer ones are refused). */
const MAX_REFERENCE = 40;
type XmlAttribute = { readonly uri: string; readonly local: string; readonly value: string };

/** Children of an element without any (shared and frozen: the tree is read-only for callers). */
const NO_CHILDREN: XmlElement[] = Object.freeze([]) as unknown as XmlElement[];
/** Attributes of an element without any (shared likewise). */
const NO_ATTRIBUTES: Readonly<Record<string, XmlAttribute>> = Object.freeze({});

/**
 * An element of the tree. Its attributes are kept packed ([name, uri, value] per attribute) and the
 * `attributes` record is built on first use: most attributes of a message are never looked at, and
 * an object plus a dictionary entry per attribute were most of the cost of attribute-heavy input.
 */
class Element implements XmlElement {
  children: XmlElement[] = NO_CHILDREN;
  text = '';
  contentEnd: number;
  end: number;
  #packed: string[] | undefined;
  #attributes: Readonly<Record<string, XmlAttribute>> | undefined;

  constructor(
    readonly name: string,
    readonly prefix: string,
    readonly local: string,
    readonly uri: string,
    packed: string[] | undefined,
    readonly start: number,
    readonly contentStart: number,
  ) {
    this.contentEnd = contentStart;
    this.end = contentStart;
    this.#packed = packed;
  }

  get attributes(): Readonly<Record<string, XmlAttribute>> {
    if (this.#attributes !== undefined) return this.#attributes;
    const packed = this.#packed;
    if (packed === undefined) return (this.#attributes = NO_ATTRIBUTES);
    const attributes: Record<string, XmlAttribute> = {};
    for (let i = 0; i < packed.length; i += 3) {
      const name = packed[i] as string;
      const attr = { uri: packed[i + 1] as string, local: name.slice(name.indexOf(':') + 1), value: packed[i + 2] as string };
      // an attribute may be called «__proto__»: define it, never assign it (that would set the prototype)
      if (name === '__proto__') Object.defineProperty(attributes, name, { value: attr, enumerable: true, writable: true, configurable: true });
      else attributes[name] = attr;
    }
    return (this.#attributes = attributes);
  }

  /** The value of the attribute with this namespace URI and local name, without building the record. */
  attributeValue(uri: string, local: string): string | undefined {
    const packed = this.#packed;
    if (packed === undefined) return undefined;
    for (let i = 0; i < packed.length; i += 3) {
      if (packed[i + 1] !== uri) continue;
      const name = packed[i] as string;
      const colon = name.indexOf(':');
      if (name.length - colon - 1 === local.length && name.endsWith(local)) return packed[i + 2];
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

/** A namespace binding replaced by an element, restored when the element closes. */
interface Shadowed {
  readonly prefix: string;
  readonly uri: string | undefined;
}

/** Slots of the per-document cache of recently read names (a power of two). */
const NAME_CACHE_SIZE = 256;

/** Up to this many attributes, a repeated name is found by scanning; beyond it, with a hash map. */
const SCAN_ATTRIBUTES = 16;

/**
 * A small, strict, single-pass XML 1.0 + Namespaces reader for what MIIS exchanges (SOAP,
 * signatures). Several times faster than a general SAX parser on small messages, which matters
 * because every exchange parses about eight documents. It refuses what we never accept: DTDs,
 * processing instructions other than the XML declaration, undefined entities, unbound prefixes.
 * Every step is linear in what it reads, so the whole parse is linear in the input.
 */
export function parseXmlText(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlDocument {
  const maxAttributes = limits.maxAttributes ?? XML_LIMIT_DEFAULTS.maxAttributes;
  const maxNsPerElement = limits.maxNamespaceDeclarationsPerElement ?? XML_LIMIT_DEFAULTS.maxNamespaceDeclarationsPerElement;
  const maxNs = limits.maxNamespaceDeclarations ?? XML_LIMIT_DEFAULTS.maxNamespaceDeclarations;
  const maxNameLength = limits.maxNameLength ?? XML_LIMIT_DEFAULTS.maxNameLength;
  const maxValueLength = limits.maxAttributeValueLength ?? XML_LIMIT_DEFAULTS.maxAttributeValueLength;
  const maxTextLength = limits.maxTextLength ?? limits.maxBytes;

  /** «line:column» of an offset (only computed for an error). */
  const where = (at: number): string => {
    let line = 1;
    let lineStart = 0;
    for (let nl = text.indexOf('\n'); nl >= 0 && nl < at; nl = text.indexOf('\n', nl + 1)) {
      line += 1;
      lineStart = nl + 1;
    }
    return `${line}:${at - lineStart + 1}`;
  };
  const invalid = (at: number, what: string): MiisError => new MiisError('Client.InvalidXml', `${where(at)}: ${what}`);
  const throwInvalid = (at: number, what: string): never => {
    throw invalid(at, what);
  };
  if (ILLEGAL_CHAR.test(text)) throw invalid(text.search(ILLEGAL_CHAR), 'carácter no permitido en XML');

  /** The character the reference body raw[from, to) (between «&» and «;») stands for; read in place. */
  const reference = (raw: string, from: number, to: number, at: number): string => {
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
      throw new MiisError('Client.EntityNotAllowed', `${where(at)}: «&${raw.slice(from, to)};» no es una entidad predefinida`);
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
    if (!ok) throw invalid(at, `referencia de carácter no válida «&${raw.slice(from, to)};»`);
    return String.fromCodePoint(code);
  };
  /**
   * Replace references by their characters, in one pass. The result is built by appending, which
   * V8 keeps as a rope (constant time per append) and flattens once, linearly.
   */
  const decode = (raw: string, at: number): string => {
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
      if (raw.charCodeAt(end) !== 0x3b) throw invalid(at, '«&» sin referencia válida (use &amp;)');
      out += amp > from ? raw.slice(from, amp) + reference(raw, amp + 1, end, at) : reference(raw, amp + 1, end, at);
      from = end + 1;
      amp = raw.indexOf('&', from);
    }
    return out + raw.slice(from);
  };

  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const skipWs = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) return;
      pos += 1;
    }
  };
  const nameCache: (string | undefined)[] = new Array<string | undefined>(NAME_CACHE_SIZE).fill(undefined);
  /** Prefix and local part of each prefixed element name seen (keys are mostly the cached name strings). */
  const prefixOf = new Map<string, string>();
  const localOf = new Map<string, string>();
  /** A qualified name at `pos`: an NCName, optionally «:» and another. */
  const readName = (): string => {
    const start = pos;
    let end = ncnameEnd(text, start);
    if (end === start) throw invalid(start, 'se esperaba un nombre de elemento o atributo');
    if (text.charCodeAt(end) === 0x3a /* : */) {
      const localEnd = ncnameEnd(text, end + 1);
      if (localEnd > end + 1) end = localEnd;
    }
    const length = end - start;
    if (length > maxNameLength) throw nameTooLong(start, text.slice(start, end));
    pos = end;
    // names repeat: reuse the string read last time for this slot when it is the same name (compared in place)
    const slot = (text.charCodeAt(start) * 31 + text.charCodeAt(end - 1) * 7 + length) & (NAME_CACHE_SIZE - 1);
    const cached = nameCache[slot];
    if (cached !== undefined && cached.length === length && text.startsWith(cached, start)) return cached;
    const name = text.slice(start, end);
    nameCache[slot] = name;
    return name;
  };
  const nameTooLong = (at: number, name: string): MiisError =>
    new MiisError('Client.XmlNameTooLong', `${where(at)}: «${name.slice(0, 32)}…» tiene ${name.length} caracteres; máximo ${maxNameLength}`);

  if (text.startsWith('<?xml', pos) && /[ \t\r\n?]/.test(text[pos + 5] ?? '')) {
    const end = text.indexOf('?>', pos);
    if (end < 0) throw invalid(pos, 'declaración XML sin cerrar');
    const decl = text.slice(pos + 5, end);
    if (!/^\s+version\s*=\s*(["'])1\.[0-9]+\1(\s+encoding\s*=\s*(["'])[A-Za-z][A-Za-z0-9._-]*\3)?(\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*$/.test(decl)) {
      throw invalid(pos, 'declaración XML mal formada');
    }
    const enc = /encoding\s*=\s*["']([^"']+)/.exec(decl)?.[1];
    if (enc !== undefined && !/^utf-?8$/i.test(enc)) throw invalid(pos, `codificación «${enc}» no admitida; use UTF-8`);
    pos = end + 2;
  }

  // the open elements, as parallel stacks (no object per open element): the element, the bindings its
  // declarations replaced, and its direct text so far (first piece, later pieces joined once at the end, length)
  const open: Element[] = [];
  const openShadowed: (Shadowed[] | undefined)[] = [];
  const openText: string[] = [];
  const openMore: (string[] | undefined)[] = [];
  const openLength: number[] = [];
  let depth = 0;
  let root: XmlElement | undefined;
  let count = 0;
  let nsDeclarations = 0;

  /** Markup that may appear anywhere: comments; refuses DTDs and processing instructions. */
  const skipMisc = (): boolean => {
    if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos + 4);
      if (end < 0) throw invalid(pos, 'comentario sin cerrar');
      // «--» inside, or a «-» just before «-->» (the search for «--» cannot pass `end`, which starts one)
      if (text.indexOf('--', pos + 4) < end || (end > pos + 4 && text.charCodeAt(end - 1) === 0x2d)) throw invalid(pos, '«--» dentro de un comentario');
      pos = end + 3;
      return true;
    }
    if (text.startsWith('<!DOCTYPE', pos) || text.startsWith('<!ENTITY', pos)) throw new MiisError('Client.DtdNotAllowed');
    if (text.startsWith('<?', pos)) {
      const target = /^<\?([^\s?]*)/.exec(text.slice(pos, pos + 64))?.[1] ?? '';
      throw new MiisError('Client.InvalidXml', `${where(pos)}: instrucción de procesamiento «${target}» no permitida`);
    }
    return false;
  };

  /**
   * In-scope namespace bindings; each element undoes its own declarations when it closes. An
   * unbound prefix maps to undefined rather than being deleted: V8 rehashes a large Map on
   * delete/re-add cycles, which made one declaration per element cost time in the map's size.
   */
  const bindings = new Map<string, string | undefined>([['xml', XML_NS], ['xmlns', XMLNS_NS]]);
  const unbind = (shadowed: Shadowed[] | undefined): void => {
    if (shadowed === undefined) return;
    for (let i = shadowed.length - 1; i >= 0; i -= 1) {
      const s = shadowed[i] as Shadowed;
      bindings.set(s.prefix, s.uri);
    }
  };
  const uriOf = (prefix: string, at: number): string => {
    const uri = bindings.get(prefix);
    if (uri === undefined) throw invalid(at, `prefijo de espacio de nombres no declarado: ${prefix}`);
    return uri;
  };

  // the current start tag's attributes, reused from one element to the next
  const names: string[] = [];
  const values: string[] = [];
  const offsets: number[] = [];
  /**
   * For elements with many attributes: attribute name → serial number of the last element that had
   * it. One map for the whole document (a Set per element cost more to build than to use).
   */
  const lastSeenIn = new Map<string, number>();
  let serial = 0;
  /** Namespace URI → serial of the last element with a prefixed attribute in it, and that attribute's prefix. */
  const uriSeenIn = new Map<string, number>();
  const uriFirstPrefix = new Map<string, string>();

  const openTag = (): void => {
    const start = pos;
    pos += 1;
    const name = readName();
    let n = 0;
    serial += 1;
    let declarations = 0;
    let prefixed = 0;
    for (;;) {
      const before = pos;
      skipWs();
      const c = text.charCodeAt(pos);
      if (c === 0x3e /* > */ || c === 0x2f /* / */) break;
      if (Number.isNaN(c)) throw invalid(start, `etiqueta <${name}> sin cerrar`);
      if (pos === before) throw invalid(pos, 'se esperaba un espacio entre atributos');
      const attrAt = pos;
      const attrName = readName();
      skipWs();
      if (text.charCodeAt(pos) !== 0x3d /* = */) throw invalid(pos, `se esperaba «=» tras el atributo ${attrName}`);
      pos += 1;
      skipWs();
      const quote = text[pos];
      if (quote !== '"' && quote !== "'") throw invalid(pos, `el valor del atributo ${attrName} debe ir entre comillas`);
      const end = text.indexOf(quote, pos + 1);
      if (end < 0) throw invalid(pos, `valor del atributo ${attrName} sin cerrar`);
      // a repeated name: scan while the tag is short, then use the map (linear either way)
      if (n >= SCAN_ATTRIBUTES) {
        if (lastSeenIn.get(attrName) === serial) throw invalid(attrAt, `atributo ${attrName} repetido`);
        lastSeenIn.set(attrName, serial);
      } else {
        for (let i = 0; i < n; i += 1) if (names[i] === attrName) throw invalid(attrAt, `atributo ${attrName} repetido`);
        if (n + 1 === SCAN_ATTRIBUTES) {
          for (let i = 0; i < n; i += 1) lastSeenIn.set(names[i] as string, serial);
          lastSeenIn.set(attrName, serial);
        }
      }
      if (n === maxAttributes) {
        throw new MiisError('Client.XmlTooManyAttributes', `<${name}> en ${where(start)}: más de ${maxAttributes}`);
      }
      if (attrName.startsWith('xmlns') && (attrName.length === 5 || attrName.charCodeAt(5) === 0x3a /* : */)) {
        declarations += 1;
        nsDeclarations += 1;
        if (declarations > maxNsPerElement) {
          throw new MiisError('Client.XmlTooManyNamespaceDeclarations', `<${name}> en ${where(start)}: más de ${maxNsPerElement}`);
        }
        if (nsDeclarations > maxNs) {
          throw new MiisError('Client.XmlTooManyNamespaceDeclarationsInDocument', `más de ${maxNs}; la declaración ${nsDeclarations} está en ${where(attrAt)}`);
        }
      } else if (attrName.includes(':')) {
        prefixed += 1;
      }
      let value = text.slice(pos + 1, end);
      if (ATTRIBUTE_SPECIAL.test(value)) {
        if (value.includes('<')) throw invalid(pos, `«<» no permitido en el valor del atributo ${attrName}`);
        // XML 1.0 §2.11 and §3.3.3: literal line ends and tabs become spaces; references to them stay
        value = decode(normaliseAttributeSpace(value), pos);
      }
      if (value.length > maxValueLength) {
        throw new MiisError('Client.XmlAttributeValueTooLong', `${attrName} en ${where(attrAt)}: ${value.length} caracteres; máximo ${maxValueLength}`);
      }
      names[n] = attrName;
      values[n] = value;
      offsets[n] = attrAt;
      n += 1;
      pos = end + 1;
    }
    const selfClosing = text.charCodeAt(pos) === 0x2f /* / */;
    if (selfClosing) {
      if (text.charCodeAt(pos + 1) !== 0x3e) throw invalid(pos, `se esperaba «/>» en <${name}>`);
      pos += 2;
    } else {
      pos += 1;
    }
    count += 1;
    if (count > limits.maxElements) throw new MiisError('Client.MessageTooLarge', `más de ${limits.maxElements} elementos`);
    if (depth + 1 > limits.maxDepth) throw new MiisError('Client.XmlTooDeep', `máximo ${limits.maxDepth} niveles`);

    let shadowed: Shadowed[] | undefined;
    if (declarations > 0) {
      shadowed = [];
      for (let i = 0; i < n; i += 1) {
        const a = names[i] as string;
        if (!a.startsWith('xmlns') || (a.length !== 5 && a.charCodeAt(5) !== 0x3a)) continue;
        const prefix = a.length === 5 ? '' : a.slice(6);
        const uri = values[i] as string;
        // Namespaces in XML §3: «xmlns» is never declared, «xml» only to its own URI, and no other prefix (nor the default) to either
        if (prefix === 'xmlns' || uri === XMLNS_NS || (prefix === 'xml') !== (uri === XML_NS)) throw invalid(offsets[i] as number, `declaración de espacio de nombres no permitida: ${a}`);
        if (prefix !== '' && uri === '') throw invalid(offsets[i] as number, `el prefijo ${prefix} no puede declararse vacío`);
        shadowed.push({ prefix, uri: bindings.get(prefix) });
        bindings.set(prefix, uri);
      }
    }

    // attributes packed as [name, uri, value] each; the record callers see is built on first use
    const packed = n === 0 ? undefined : new Array<string>(3 * n);
    // Two prefixed attributes name the same attribute ({uri}local) only if two different prefixes of
    // this element are bound to one URI: watch for that (URI → first prefix, stamped with the element's
    // serial), and only then compare expanded names.
    let sharedUri = false;
    for (let i = 0; i < n; i += 1) {
      const a = names[i] as string;
      const colon = a.indexOf(':');
      let uri: string;
      if (colon < 0) {
        uri = a === 'xmlns' ? XMLNS_NS : '';
      } else {
        const prefix = a.slice(0, colon);
        uri = uriOf(prefix, offsets[i] as number);
        if (prefixed > 1 && uri !== XMLNS_NS && !sharedUri) {
          if (uriSeenIn.get(uri) !== serial) {
            uriSeenIn.set(uri, serial);
            uriFirstPrefix.set(uri, prefix);
          } else if (uriFirstPrefix.get(uri) !== prefix) {
            sharedUri = true;
          }
        }
      }
      (packed as string[])[3 * i] = a;
      (packed as string[])[3 * i + 1] = uri;
      (packed as string[])[3 * i + 2] = values[i] as string;
    }
    if (sharedUri) {
      const expanded = new Set<string>();
      for (let i = 0; i < n; i += 1) {
        const a = names[i] as string;
        const colon = a.indexOf(':');
        const uri = (packed as string[])[3 * i + 1] as string;
        if (colon < 0 || uri === XMLNS_NS) continue;
        const key = `${uri}\u0000${a.slice(colon + 1)}`;
        if (expanded.has(key)) throw invalid(offsets[i] as number, `atributo ${a} repetido`);
        expanded.add(key);
      }
    }
    let prefix = '';
    let local = name;
    if (name.includes(':')) {
      const known = prefixOf.get(name);
      if (known !== undefined) {
        prefix = known;
        local = localOf.get(name) as string;
      } else {
        const colon = name.indexOf(':');
        prefix = name.slice(0, colon);
        local = name.slice(colon + 1);
        prefixOf.set(name, prefix);
        localOf.set(name, local);
      }
    }
    const el = new Element(
      name,
      prefix,
      local,
      prefix === '' ? bindings.get('') ?? '' : prefix === 'xmlns' ? throwInvalid(start, 'un elemento no puede usar el prefijo xmlns') : uriOf(prefix, start),
      packed,
      start,
      pos,
    );
    const parent = depth === 0 ? undefined : open[depth - 1] as Element;
    if (parent === undefined) root = el;
    else if (parent.children === NO_CHILDREN) parent.children = [el];
    else parent.children.push(el);
    if (selfClosing) {
      unbind(shadowed);
    } else {
      open[depth] = el;
      openShadowed[depth] = shadowed;
      openText[depth] = '';
      openMore[depth] = undefined;
      openLength[depth] = 0;
      depth += 1;
    }
  };

  const addText = (piece: string, at: number): void => {
    const top = depth - 1;
    const length = (openLength[top] as number) + piece.length;
    if (length > maxTextLength) {
      const el = open[top] as XmlElement;
      throw new MiisError('Client.XmlTextTooLong', `<${el.name}> en ${where(el.start)}: más de ${maxTextLength} caracteres (en ${where(at)})`);
    }
    openLength[top] = length;
    if (length === piece.length) openText[top] = piece;
    else if (openMore[top] === undefined) openMore[top] = [piece];
    else (openMore[top] as string[]).push(piece);
  };

  const closeTag = (): void => {
    const start = pos;
    pos += 2;
    // the expected name followed by «>» or white space is taken as is; anything else is read (and reported) in full
    const expected = depth === 0 ? '' : (open[depth - 1] as XmlElement).name;
    const after = text.charCodeAt(pos + expected.length);
    let name: string;
    if (expected !== '' && text.startsWith(expected, pos) && (after === 0x3e || after === 0x20 || after === 0x0a || after === 0x09 || after === 0x0d)) {
      name = expected;
      pos += expected.length;
    } else {
      name = readName();
    }
    skipWs();
    if (text.charCodeAt(pos) !== 0x3e) throw invalid(pos, `se esperaba «>» en </${name}>`);
    pos += 1;
    if (depth === 0 || expected !== name) throw invalid(start, `etiqueta de cierre </${name}> inesperada${depth === 0 ? '' : ` (se esperaba </${expected}>)`}`);
    depth -= 1;
    const el = open[depth] as XmlElement;
    el.contentEnd = start;
    el.end = pos;
    const more = openMore[depth];
    el.text = more === undefined ? openText[depth] as string : (openText[depth] as string) + more.join('');
    openMore[depth] = undefined;
    unbind(openShadowed[depth]);
  };

  // prolog
  for (;;) {
    skipWs();
    if (!skipMisc()) break;
  }
  if (text[pos] !== '<' || ncnameEnd(text, pos + 1) === pos + 1) {
    throw new MiisError('Client.InvalidXml', pos >= text.length ? 'el documento no tiene elemento raíz' : `${where(pos)}: se esperaba el elemento raíz`);
  }
  openTag();
  // content
  while (depth > 0) {
    const lt = text.indexOf('<', pos);
    if (lt < 0) throw invalid(text.length, `falta cerrar <${(open[depth - 1] as XmlElement).name}>`);
    if (lt > pos) {
      const chunk = text.slice(pos, lt);
      if (chunk.includes(']]>')) throw invalid(pos, '«]]>» no permitido en el texto');
      addText(decode(normaliseLineEnds(chunk), pos), pos);
      pos = lt;
    }
    const next = text.charCodeAt(pos + 1);
    if (next === 0x2f /* / */) closeTag();
    else if (next === 0x21 /* ! */ && text.startsWith('<![CDATA[', pos)) {
      const end = text.indexOf(']]>', pos + 9);
      if (end < 0) throw invalid(pos, 'sección CDATA sin cerrar');
      const data = text.slice(pos + 9, end);
      addText(normaliseLineEnds(data), pos);
      pos = end + 3;
    } else if ((next === 0x21 || next === 0x3f /* ? */) && skipMisc()) {
      // comment skipped
    } else {
      if (next === 0x21) throw invalid(pos, 'declaración no permitida');
      openTag();
    }
  }
  // after the root: only white space and comments
  for (;;) {
    skipWs();
    if (pos >= text.length) break;
    if (!skipMisc()) throw invalid(pos, 'solo puede haber un elemento raíz');
  }
  return { text, root: root as XmlElement };
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
