/**
 * Safe XML reading for everything MIIS parses (SOAP messages, signatures, WSDL inputs).
 * - no DTD (a DOCTYPE is refused), hence no custom or external entities;
 * - only the five predefined entities and character references;
 * - size limit (bytes), depth limit and element-count limit;
 * - strict UTF-8 (invalid byte sequences are refused, never replaced).
 * The result is a small element tree with string offsets into the decoded text, so callers can
 * locate (never re-serialise) parts of the original message.
 */
import { MiisError } from './errors.js';

export interface XmlLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxElements: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxBytes: 10 * 1024 * 1024, maxDepth: 64, maxElements: 200_000 };

export interface XmlElement {
  readonly name: string;
  readonly prefix: string;
  readonly local: string;
  readonly uri: string;
  /** Attributes by qualified name; each keeps its namespace URI. */
  readonly attributes: Readonly<Record<string, { readonly uri: string; readonly local: string; readonly value: string }>>;
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
const NAME_START = 'A-Za-z_\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
/** A qualified name: NCName, optionally prefixed (sticky, to scan in place). */
const QNAME = new RegExp(`[${NAME_START}][${NAME_CHAR}]*(?::[${NAME_START}][${NAME_CHAR}]*)?`, 'y');
const WS = /[ \t\r\n]*/y;
const ILLEGAL_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const REFERENCE = /&([^;&<]{0,40});?/g;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** A namespace binding replaced by an element, restored when the element closes. */
interface Shadowed {
  readonly prefix: string;
  readonly uri: string | undefined;
}

interface Frame {
  readonly el: XmlElement;
  /** Bindings this element's declarations replaced (undefined when it declares none). */
  readonly shadowed: Shadowed[] | undefined;
  /** Direct text pieces; joined once when the element closes. */
  readonly text: string[];
}

/**
 * A small, strict, single-pass XML 1.0 + Namespaces reader for what MIIS exchanges (SOAP,
 * signatures). Several times faster than a general SAX parser on small messages, which matters
 * because every exchange parses about eight documents. It refuses what we never accept: DTDs,
 * processing instructions other than the XML declaration, undefined entities, unbound prefixes.
 */
export function parseXmlText(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlDocument {
  const where = (pos: number): string => {
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    return `${line}:${pos - before.lastIndexOf('\n')}`;
  };
  const invalid = (pos: number, what: string): MiisError => new MiisError('Client.InvalidXml', `${where(pos)}: ${what}`);
  if (ILLEGAL_CHAR.test(text)) throw invalid(text.search(ILLEGAL_CHAR), 'carácter no permitido en XML');

  const decode = (raw: string, at: number): string => {
    if (raw.indexOf('&') < 0) return raw;
    return raw.replace(REFERENCE, (whole, ref: string) => {
      if (!whole.endsWith(';')) throw invalid(at, `«&» sin referencia válida (use &amp;)`);
      if (ref.startsWith('#')) {
        const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : /^#\d+$/.test(ref) ? Number.parseInt(ref.slice(1), 10) : NaN;
        if (ref[1] === 'x' && !/^#x[0-9A-Fa-f]+$/.test(ref)) throw invalid(at, `referencia de carácter no válida «${whole}»`);
        const ok = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
        if (!ok) throw invalid(at, `referencia de carácter no válida «${whole}»`);
        return String.fromCodePoint(code);
      }
      const value = PREDEFINED[ref];
      if (value === undefined) throw new MiisError('Client.EntityNotAllowed', `${where(at)}: «&${ref};» no es una entidad predefinida`);
      return value;
    });
  };

  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const skipWs = (): void => {
    WS.lastIndex = pos;
    WS.test(text);
    pos = WS.lastIndex;
  };
  const readName = (): string => {
    QNAME.lastIndex = pos;
    const m = QNAME.exec(text);
    if (m === null) throw invalid(pos, 'se esperaba un nombre de elemento o atributo');
    pos = QNAME.lastIndex;
    return m[0];
  };

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

  const stack: Frame[] = [];
  let root: XmlElement | undefined;
  let count = 0;

  /** Markup that may appear anywhere: comments; refuses DTDs and processing instructions. */
  const skipMisc = (): boolean => {
    if (text.startsWith('<!--', pos)) {
      const end = text.indexOf('-->', pos + 4);
      if (end < 0) throw invalid(pos, 'comentario sin cerrar');
      if (text.slice(pos + 4, end).includes('--')) throw invalid(pos, '«--» dentro de un comentario');
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

  /** In-scope namespace bindings; each element undoes its own declarations when it closes. */
  const bindings = new Map<string, string>([['xml', XML_NS], ['xmlns', XMLNS_NS]]);
  const unbind = (shadowed: Shadowed[] | undefined): void => {
    if (shadowed === undefined) return;
    for (let i = shadowed.length - 1; i >= 0; i -= 1) {
      const s = shadowed[i] as Shadowed;
      if (s.uri === undefined) bindings.delete(s.prefix);
      else bindings.set(s.prefix, s.uri);
    }
  };
  const resolve = (qname: string, isAttribute: boolean, at: number): { prefix: string; local: string; uri: string } => {
    const colon = qname.indexOf(':');
    if (colon < 0) return { prefix: '', local: qname, uri: isAttribute ? '' : bindings.get('') ?? '' };
    const prefix = qname.slice(0, colon);
    const uri = bindings.get(prefix);
    if (uri === undefined) throw invalid(at, `prefijo de espacio de nombres no declarado: ${prefix}`);
    return { prefix, local: qname.slice(colon + 1), uri };
  };

  const openTag = (): void => {
    const start = pos;
    pos += 1;
    const name = readName();
    const raw: { name: string; value: string; at: number }[] = [];
    const rawNames = new Set<string>();
    for (;;) {
      const before = pos;
      skipWs();
      const c = text[pos];
      if (c === '>' || c === '/') break;
      if (c === undefined) throw invalid(start, `etiqueta <${name}> sin cerrar`);
      if (pos === before) throw invalid(pos, 'se esperaba un espacio entre atributos');
      const attrAt = pos;
      const attrName = readName();
      skipWs();
      if (text[pos] !== '=') throw invalid(pos, `se esperaba «=» tras el atributo ${attrName}`);
      pos += 1;
      skipWs();
      const quote = text[pos];
      if (quote !== '"' && quote !== "'") throw invalid(pos, `el valor del atributo ${attrName} debe ir entre comillas`);
      const end = text.indexOf(quote, pos + 1);
      if (end < 0) throw invalid(pos, `valor del atributo ${attrName} sin cerrar`);
      const value = text.slice(pos + 1, end);
      if (value.includes('<')) throw invalid(pos, `«<» no permitido en el valor del atributo ${attrName}`);
      if (rawNames.has(attrName)) throw invalid(attrAt, `atributo ${attrName} repetido`);
      rawNames.add(attrName);
      raw.push({ name: attrName, value: decode(value, pos).replace(/[\t\n\r]/g, ' '), at: attrAt });
      pos = end + 1;
    }
    const selfClosing = text[pos] === '/';
    if (selfClosing) {
      if (text[pos + 1] !== '>') throw invalid(pos, `se esperaba «/>» en <${name}>`);
      pos += 2;
    } else {
      pos += 1;
    }
    count += 1;
    if (count > limits.maxElements) throw new MiisError('Client.MessageTooLarge', `más de ${limits.maxElements} elementos`);
    if (stack.length + 1 > limits.maxDepth) throw new MiisError('Client.XmlTooDeep', `máximo ${limits.maxDepth} niveles`);
    let shadowed: Shadowed[] | undefined;
    for (const a of raw) {
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) {
        const prefix = a.name === 'xmlns' ? '' : a.name.slice(6);
        if (prefix === 'xmlns' || (prefix === 'xml' && a.value !== XML_NS)) throw invalid(a.at, `declaración de espacio de nombres no permitida: ${a.name}`);
        if (prefix !== '' && a.value === '') throw invalid(a.at, `el prefijo ${prefix} no puede declararse vacío`);
        (shadowed ??= []).push({ prefix, uri: bindings.get(prefix) });
        bindings.set(prefix, a.value);
      }
    }
    const attributes: Record<string, { uri: string; local: string; value: string }> = {};
    const seen = new Set<string>();
    for (const a of raw) {
      const r = a.name === 'xmlns' ? { uri: XMLNS_NS, local: 'xmlns' } : resolve(a.name, true, a.at);
      const key = `${r.uri}\u0000${r.local}`;
      if (seen.has(key)) throw invalid(a.at, `atributo ${a.name} repetido`);
      seen.add(key);
      const attr = { uri: r.uri, local: r.local, value: a.value };
      // an attribute may be called «__proto__»: define it, never assign it (that would set the prototype)
      if (a.name === '__proto__') Object.defineProperty(attributes, a.name, { value: attr, enumerable: true, writable: true, configurable: true });
      else attributes[a.name] = attr;
    }
    const n = resolve(name, false, start);
    const el: XmlElement = {
      name, prefix: n.prefix, local: n.local, uri: n.uri, attributes, children: [], text: '',
      start, contentStart: pos, contentEnd: pos, end: pos,
    };
    const parent = stack[stack.length - 1];
    if (parent === undefined) root = el;
    else parent.el.children.push(el);
    if (selfClosing) unbind(shadowed);
    else stack.push({ el, shadowed, text: [] });
  };

  const addText = (piece: string): void => {
    (stack[stack.length - 1] as Frame).text.push(piece);
  };

  const closeTag = (): void => {
    const start = pos;
    pos += 2;
    const name = readName();
    skipWs();
    if (text[pos] !== '>') throw invalid(pos, `se esperaba «>» en </${name}>`);
    pos += 1;
    const top = stack.pop();
    if (top === undefined || top.el.name !== name) throw invalid(start, `etiqueta de cierre </${name}> inesperada${top === undefined ? '' : ` (se esperaba </${top.el.name}>)`}`);
    top.el.contentEnd = start;
    top.el.end = pos;
    top.el.text = top.text.length === 1 ? top.text[0] as string : top.text.join('');
    unbind(top.shadowed);
  };

  // prolog
  for (;;) {
    skipWs();
    if (!skipMisc()) break;
  }
  if (text[pos] !== '<' || !QNAME.test((QNAME.lastIndex = pos + 1, text))) {
    throw new MiisError('Client.InvalidXml', pos >= text.length ? 'el documento no tiene elemento raíz' : `${where(pos)}: se esperaba el elemento raíz`);
  }
  openTag();
  // content
  while (stack.length > 0) {
    const lt = text.indexOf('<', pos);
    if (lt < 0) throw invalid(text.length, `falta cerrar <${stack[stack.length - 1]?.el.name ?? ''}>`);
    if (lt > pos) {
      const chunk = text.slice(pos, lt);
      if (chunk.includes(']]>')) throw invalid(pos, '«]]>» no permitido en el texto');
      addText(decode(chunk, pos));
      pos = lt;
    }
    if (text.startsWith('</', pos)) closeTag();
    else if (text.startsWith('<![CDATA[', pos)) {
      const end = text.indexOf(']]>', pos + 9);
      if (end < 0) throw invalid(pos, 'sección CDATA sin cerrar');
      addText(text.slice(pos + 9, end));
      pos = end + 3;
    } else if (!skipMisc()) {
      if (text.startsWith('<!', pos)) throw invalid(pos, 'declaración no permitida');
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
  for (const a of Object.values(el.attributes)) if (a.local === local && a.uri === uri) return a.value;
  return undefined;
}
