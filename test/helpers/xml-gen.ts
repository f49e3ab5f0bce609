/**
 * Seeded generators of XML documents for the reader's differential and fuzz tests and for
 * `npm run bench:xml -- --fuzz N`. No dependency: a small PRNG (mulberry32) drives everything, so
 * a seed reproduces a document exactly.
 *
 * `generateDocument` builds a model tree (names, namespace URIs, attributes, text) and serialises
 * it with random but legal choices (quotes, references, CDATA, comments, EOL variants, white space
 * in tags), so the model is the expected parse. `mutate` breaks a document in small ways;
 * `tokenSoup` strings together XML fragments at random. `fuzzCase` picks one of these, with
 * limits that are sometimes tiny, and `invariantViolation` checks what any accepted document
 * must satisfy.
 */
import { XML_LIMIT_DEFAULTS, type XmlDocument, type XmlElement, type XmlLimits } from '../../core/xml.js';

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, chance: (p) => next() < p, pick: (items) => items[int(items.length)] as never };
}

export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';
export const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export interface ModelAttribute {
  readonly name: string;
  readonly uri: string;
  readonly local: string;
  readonly value: string;
}

export interface ModelElement {
  readonly name: string;
  readonly uri: string;
  readonly local: string;
  readonly attributes: ModelAttribute[];
  /** Text pieces and child elements in document order. */
  readonly content: (string | ModelElement)[];
}

export interface GeneratedDocument {
  readonly xml: string;
  readonly root: ModelElement;
}

/** What a parser's tree reduces to for comparison: attributes sorted by name, text joined. */
export interface Shape {
  readonly name: string;
  readonly uri: string;
  readonly local: string;
  readonly attributes: readonly (readonly [string, string, string, string])[];
  readonly text: string;
  readonly children: readonly Shape[];
}

export function shapeOfModel(el: ModelElement): Shape {
  return {
    name: el.name,
    uri: el.uri,
    local: el.local,
    attributes: el.attributes.map((a) => [a.name, a.uri, a.local, a.value] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1)),
    text: el.content.filter((c): c is string => typeof c === 'string').join(''),
    children: el.content.filter((c): c is ModelElement => typeof c !== 'string').map(shapeOfModel),
  };
}

const NAME_START = ['a', 'b', 'e', 'x', 'Z', '_', 'é', 'ñ', 'δ', 'ж', 'ア', '名', '\u00C0', '\u037F', '\u2C00', '\uFDF0', '\u{10000}', '\u{1D4D0}'];
const NAME_MORE = [...NAME_START, '0', '9', '-', '.', '\u00B7', '\u0301', '\u203F'];
const PREFIXES = ['a', 'p', 'ns1', 'soap', 'xrd', 'id', 'ñu', 'x-y', 'q.r'];
const URIS = ['urn:a', 'urn:b', 'http://example.com/ns', 'http://x-road.eu/xsd/xroad.xsd', 'urn:ñandú', 'urn:a&b', 'urn:<lt>', 'urn:"q"', 'urn:x#1'];
/** Characters for text and attribute values: markup characters, white space, non-ASCII, astral. */
const CHARS = ['a', 'b', 'z', ' ', ' ', '\t', '\n', '\r', '<', '>', '&', '"', "'", ']', ']]', '-', '?', '=', 'é', '€', '\u00A0', '😀', '\u{10FFFD}', '\u2028', '\u0085', ';', '#'];

function ncname(r: Rng): string {
  let n = r.pick(NAME_START);
  const extra = r.int(r.chance(0.1) ? 12 : 4);
  for (let i = 0; i < extra; i += 1) n += r.pick(NAME_MORE);
  // 'xml…' names are reserved; keep them out of generated names
  return /^xml/i.test(n) ? `_${n}` : n;
}

function randomText(r: Rng, max: number): string {
  let s = '';
  const n = r.int(max + 1);
  for (let i = 0; i < n; i += 1) s += r.pick(CHARS);
  return s;
}

/** One character as a decimal or hexadecimal character reference. */
function charRef(r: Rng, ch: string): string {
  const cp = ch.codePointAt(0) as number;
  return r.chance(0.5) ? `&#${cp};` : `&#x${cp.toString(16)};`;
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = { '<': '&lt;', '&': '&amp;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Serialise text content so that it parses back to `s` (line ends and references at random). */
function serialiseText(r: Rng, s: string): string {
  let out = '';
  for (const ch of s) {
    if (ch === '\r') out += charRef(r, ch); // a literal CR would become LF
    else if (ch === '\n') out += out.endsWith('\r') ? '\r' : r.pick(['\n', '\n', '\r\n', '\r']); // a CR then LF would be one line end
    else if (ch === '<' || ch === '&') out += r.chance(0.7) ? TEXT_ESCAPES[ch] : charRef(r, ch);
    else if (ch === '>') out += out.endsWith(']]') || r.chance(0.3) ? '&gt;' : '>';
    else if (r.chance(0.05)) out += charRef(r, ch);
    else if ((ch === '"' || ch === "'") && r.chance(0.2)) out += TEXT_ESCAPES[ch];
    else out += ch;
  }
  return out;
}

/** Serialise an attribute value in the given quote so that it parses (normalised) back to `s`. */
function serialiseValue(r: Rng, s: string, quote: string): string {
  let out = '';
  for (const ch of s) {
    if (ch === '\t' || ch === '\n' || ch === '\r') out += charRef(r, ch); // literal ones become spaces
    else if (ch === ' ') out += out.endsWith('\r') ? ' ' : r.pick([' ', ' ', '\t', '\n', '\r\n', '\r']); // a CR then LF would be one space
    else if (ch === '<' || ch === '&' || ch === quote) out += r.chance(0.7) ? TEXT_ESCAPES[ch] : charRef(r, ch);
    else if (r.chance(0.05)) out += charRef(r, ch);
    else out += ch;
  }
  return out;
}

function ws(r: Rng, p: number): string {
  return r.chance(p) ? r.pick([' ', '  ', '\n', '\t', '\r\n ']) : '';
}

function comment(r: Rng): string {
  let c = randomText(r, 6).replace(/-/g, '');
  if (c.includes('\r')) c = c.replace(/\r/g, '');
  return `<!--${c}-->`;
}

interface GenOptions {
  readonly maxDepth: number;
  readonly maxChildren: number;
  readonly maxAttributes: number;
}

const DEFAULT_OPTIONS: GenOptions = { maxDepth: 3, maxChildren: 3, maxAttributes: 3 };

/** A well-formed, namespace-well-formed document in the subset MIIS reads (no DTD, no PI). */
export function generateDocument(r: Rng, options: Partial<GenOptions> = {}): GeneratedDocument {
  const o = { ...DEFAULT_OPTIONS, ...options };
  const scope = new Map<string, string>([['xml', XML_NS]]);

  const element = (depth: number): { xml: string; model: ModelElement } => {
    const attributes: ModelAttribute[] = [];
    const raw: string[] = [];
    const shadowed: [string, string | undefined][] = [];
    const declare = (prefix: string, uri: string): void => {
      if (attributes.some((a) => a.name === (prefix === '' ? 'xmlns' : `xmlns:${prefix}`))) return;
      shadowed.push([prefix, scope.get(prefix)]);
      scope.set(prefix, uri);
      attributes.push(prefix === '' ? { name: 'xmlns', uri: XMLNS_NS, local: 'xmlns', value: uri } : { name: `xmlns:${prefix}`, uri: XMLNS_NS, local: prefix, value: uri });
    };
    if (r.chance(0.25)) declare('', r.chance(0.15) ? '' : r.pick(URIS));
    for (let i = r.int(3); i > 0; i -= 1) if (r.chance(0.4)) declare(r.pick(PREFIXES), r.pick(URIS));
    const prefixes = [...scope.keys()].filter((p) => p !== '' && p !== 'xml' && scope.get(p) !== undefined);
    // element name: prefixed with an in-scope prefix, or not (then in the default namespace)
    let name: string;
    let uri: string;
    const local = ncname(r);
    if (prefixes.length > 0 && r.chance(0.5)) {
      const p = r.pick(prefixes);
      name = `${p}:${local}`;
      uri = scope.get(p) as string;
    } else {
      name = local;
      uri = scope.get('') ?? '';
    }
    const expanded = new Set<string>();
    for (let i = r.int(o.maxAttributes + 1); i > 0; i -= 1) {
      const aLocal = ncname(r);
      let a: ModelAttribute;
      if (r.chance(0.05)) a = { name: 'xml:lang', uri: XML_NS, local: 'lang', value: r.pick(['es', 'es-PE', '']) };
      else if (prefixes.length > 0 && r.chance(0.4)) {
        const p = r.pick(prefixes);
        a = { name: `${p}:${aLocal}`, uri: scope.get(p) as string, local: aLocal, value: randomText(r, 8) };
      } else a = { name: aLocal, uri: '', local: aLocal, value: randomText(r, 8) };
      const key = `${a.uri} ${a.local}`;
      if (expanded.has(key) || attributes.some((b) => b.name === a.name)) continue;
      expanded.add(key);
      attributes.push(a);
    }
    for (const a of attributes) {
      const quote = r.chance(0.7) ? '"' : "'";
      raw.push(`${ws(r, 0.2)}${a.name}${ws(r, 0.1)}=${ws(r, 0.1)}${quote}${serialiseValue(r, a.value, quote)}${quote}`);
    }
    const content: (string | ModelElement)[] = [];
    let body = '';
    const children = depth >= o.maxDepth ? 0 : r.int(o.maxChildren + 1);
    const selfClosing = children === 0 && r.chance(0.4);
    if (!selfClosing) {
      for (let i = 0; i <= children; i += 1) {
        if (r.chance(0.6)) {
          const t = randomText(r, 10);
          if (t !== '') {
            if (r.chance(0.15) && !t.includes(']]>') && !t.includes('\r')) body += `<![CDATA[${t.replace(/\n/g, () => r.pick(['\n', '\r\n']))}]]>`;
            else body += serialiseText(r, t);
            content.push(t);
          }
        }
        if (r.chance(0.1)) body += comment(r);
        if (i < children) {
          const child = element(depth + 1);
          body += child.xml;
          content.push(child.model);
        }
      }
    }
    for (let i = shadowed.length - 1; i >= 0; i -= 1) {
      const [p, old] = shadowed[i] as [string, string | undefined];
      if (old === undefined) scope.delete(p);
      else scope.set(p, old);
    }
    const head = `<${name}${raw.map((a) => ` ${a}`).join('')}${ws(r, 0.2)}`;
    const xml = selfClosing ? `${head}/>` : `${head}>${body}</${name}${ws(r, 0.1)}>`;
    return { xml, model: { name, uri, local: name.includes(':') ? name.slice(name.indexOf(':') + 1) : name, attributes, content } };
  };

  let xml = '';
  if (r.chance(0.5)) {
    const q = r.chance(0.5) ? '"' : "'";
    xml += `<?xml version=${q}1.0${q}${r.chance(0.5) ? ` encoding=${q}${r.pick(['UTF-8', 'utf-8', 'utf8'])}${q}` : ''}${r.chance(0.3) ? ` standalone=${q}${r.pick(['yes', 'no'])}${q}` : ''}${ws(r, 0.3)}?>`;
  }
  for (let i = r.int(3); i > 0; i -= 1) xml += ws(r, 0.5) + (r.chance(0.5) ? comment(r) : '');
  xml += ws(r, 0.3);
  const root = element(0);
  xml += root.xml;
  for (let i = r.int(3); i > 0; i -= 1) xml += ws(r, 0.5) + (r.chance(0.5) ? comment(r) : '');
  return { xml, root: root.model };
}

/** Fragments that tend to break a document, or to reach the reader's rarer paths. */
const BREAKERS = [
  '<', '>', '&', '&amp', '&nbsp;', '&#0;', '&#xD800;', '&#x110000;', '&#65', '&#x;', ']]>', '"', "'", '=', '/', ':', '::',
  '</x>', '<x>', '<x/>', '<!--', '-->', '--', '<![CDATA[', '<?pi x?>', '<?xml version="1.0"?>', '<!DOCTYPE r>', '<!ENTITY e "x">',
  '\u0001', '\u000B', '\uFFFE', '\uFFFF', '\r', '\u0000', ' xmlns:p=""', ' xmlns:xmlns="u"', ' xmlns:xml="u"', ' a="1" a="2"',
  ' u:a="1"', 'u:', ' xmlns="http://www.w3.org/2000/xmlns/"', ' xmlns:p="http://www.w3.org/XML/1998/namespace"', '<!x>', '<!-- - -->', '---',
];

/** Break a document in one to three places (insert, delete, replace, truncate, swap). */
export function mutate(r: Rng, xml: string): string {
  let s = xml;
  for (let n = 1 + r.int(3); n > 0; n -= 1) {
    const at = r.int(s.length + 1);
    switch (r.int(6)) {
      case 0: s = s.slice(0, at) + r.pick(BREAKERS) + s.slice(at); break;
      case 1: s = s.slice(0, at) + s.slice(at + 1 + r.int(4)); break;
      case 2: s = s.slice(0, at) + r.pick(BREAKERS) + s.slice(at + 1); break;
      case 3: s = s.slice(0, at); break;
      case 4: { const other = r.int(s.length + 1); s = s.slice(0, at) + s.slice(other, other + 1 + r.int(8)) + s.slice(at); break; }
      default: s = s.replace(/<\/([^>\s]+)/, (_m, n: string) => `</${n}x`); break;
    }
  }
  return s;
}

const SOUP = [
  '<a', '<p:a', '<b', '>', '/>', '</a>', '</p:a>', '</b>', ' x="1"', " y='2'", ' xmlns:p="urn:p"', ' xmlns="urn:d"', ' p:z="3"',
  'text', ' ', '\n', '&amp;', '&lt;', '&#x41;', '&#65;', '&bad;', '<![CDATA[', ']]>', '<!--', '-->', '<?', '?>', 'é', '😀', '\uD83D',
  '<!DOCTYPE', '=', '"', "'", '&', ':', '<?xml version="1.0"?>',
];

/** A string of XML fragments at random: rarely well-formed, often nearly so. */
export function tokenSoup(r: Rng, maxTokens = 40): string {
  let s = '';
  for (let n = r.int(maxTokens + 1); n > 0; n -= 1) s += r.pick(SOUP);
  return s;
}

/** Random bytes, often invalid UTF-8, sometimes wrapped in a root element. */
export function randomBytes(r: Rng, maxLength = 64): Uint8Array {
  const body = new Uint8Array(r.int(maxLength + 1));
  for (let i = 0; i < body.length; i += 1) body[i] = r.chance(0.5) ? 0x20 + r.int(0x5f) : r.int(256);
  if (!r.chance(0.5)) return body;
  const head = new TextEncoder().encode('<r>');
  const tail = new TextEncoder().encode('</r>');
  const out = new Uint8Array(head.length + body.length + tail.length);
  out.set(head, 0);
  out.set(body, head.length);
  out.set(tail, head.length + body.length);
  return out;
}

export interface FuzzCase {
  readonly kind: 'generated' | 'mutated' | 'soup' | 'bytes';
  readonly bytes: Uint8Array;
  readonly limits: XmlLimits;
}

const ROOMY: XmlLimits = { maxBytes: 1024 * 1024, maxDepth: 64, maxElements: 200_000, ...XML_LIMIT_DEFAULTS };

/** Limits small enough for generated documents to cross them now and then. */
function tinyLimits(r: Rng): XmlLimits {
  const small = (values: readonly number[]): number => r.pick(values);
  return {
    maxBytes: small([200, 2_000, 100_000]),
    maxDepth: small([1, 2, 3, 64]),
    maxElements: small([1, 3, 10, 200_000]),
    maxAttributes: small([0, 1, 2, 256]),
    maxNamespaceDeclarationsPerElement: small([0, 1, 64]),
    maxNamespaceDeclarations: small([0, 1, 2, 10_000]),
    maxNameLength: small([1, 3, 6, 256]),
    maxAttributeValueLength: small([0, 2, 6, 65_536]),
    maxTextLength: small([0, 3, 12, 100_000]),
  };
}

/** One fuzz input for a seed: a generated, mutated, soup or random-bytes document, and its limits. */
export function fuzzCase(seed: number): FuzzCase {
  const r = rng(seed);
  const limits = r.chance(0.4) ? tinyLimits(r) : ROOMY;
  const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
  switch (r.int(6)) {
    case 0: return { kind: 'generated', bytes: utf8(generateDocument(r).xml), limits };
    case 1: case 2: case 3: return { kind: 'mutated', bytes: utf8(mutate(r, generateDocument(r).xml)), limits };
    case 4: return { kind: 'soup', bytes: utf8(tokenSoup(r)), limits };
    default: return { kind: 'bytes', bytes: randomBytes(r), limits };
  }
}

/** What is wrong with an accepted document, given the limits it was read with (undefined: nothing). */
export function invariantViolation(doc: XmlDocument, limits: XmlLimits): string | undefined {
  const text = doc.text;
  const maxAttributes = limits.maxAttributes ?? XML_LIMIT_DEFAULTS.maxAttributes;
  const maxName = limits.maxNameLength ?? XML_LIMIT_DEFAULTS.maxNameLength;
  const maxValue = limits.maxAttributeValueLength ?? XML_LIMIT_DEFAULTS.maxAttributeValueLength;
  const maxText = limits.maxTextLength ?? limits.maxBytes;
  const maxPerElement = limits.maxNamespaceDeclarationsPerElement ?? XML_LIMIT_DEFAULTS.maxNamespaceDeclarationsPerElement;
  const maxNs = limits.maxNamespaceDeclarations ?? XML_LIMIT_DEFAULTS.maxNamespaceDeclarations;
  let elements = 0;
  let declarations = 0;
  const visit = (el: XmlElement, depth: number, from: number, to: number): string | undefined => {
    elements += 1;
    const at = `<${el.name}> @${el.start}`;
    if (depth > limits.maxDepth) return `${at}: depth ${depth} > ${limits.maxDepth}`;
    if (el.name.length > maxName) return `${at}: name longer than ${maxName}`;
    if (el.text.length > maxText) return `${at}: text longer than ${maxText}`;
    const attrs = Object.entries(el.attributes);
    if (attrs.length > maxAttributes) return `${at}: ${attrs.length} attributes > ${maxAttributes}`;
    const nsHere = attrs.filter(([n]) => n === 'xmlns' || n.startsWith('xmlns:')).length;
    declarations += nsHere;
    if (nsHere > maxPerElement) return `${at}: ${nsHere} declarations > ${maxPerElement}`;
    for (const [n, a] of attrs) {
      if (n.length > maxName) return `${at}: attribute name longer than ${maxName}`;
      if (a.value.length > maxValue) return `${at}: attribute ${n} longer than ${maxValue}`;
      if (n.includes(':') && a.uri === '') return `${at}: prefixed attribute ${n} without a namespace`;
    }
    if (el.prefix !== '' && el.uri === '') return `${at}: prefixed element without a namespace`;
    if (el.name !== (el.prefix === '' ? el.local : `${el.prefix}:${el.local}`)) return `${at}: name, prefix and local disagree`;
    if (!(from <= el.start && el.start < el.contentStart && el.contentStart <= el.contentEnd && el.contentEnd <= el.end && el.end <= to)) {
      return `${at}: offsets out of order (${from} ${el.start} ${el.contentStart} ${el.contentEnd} ${el.end} ${to})`;
    }
    if (!text.startsWith(`<${el.name}`, el.start) || text[el.contentStart - 1] !== '>') return `${at}: start tag offsets`;
    if (el.contentEnd === el.end) {
      if (el.contentStart !== el.end || text[el.end - 2] !== '/') return `${at}: self-closing offsets`;
    } else {
      const endTag = text.slice(el.contentEnd, el.end);
      if (!endTag.startsWith(`</${el.name}`) || !/^[ \t\r\n]*>$/.test(endTag.slice(el.name.length + 2))) return `${at}: end tag offsets`;
    }
    let next = el.contentStart;
    for (const c of el.children) {
      const problem = visit(c, depth + 1, next, el.contentEnd);
      if (problem !== undefined) return problem;
      next = c.end;
    }
    return undefined;
  };
  const problem = visit(doc.root, 1, 0, text.length);
  if (problem !== undefined) return problem;
  if (elements > limits.maxElements) return `${elements} elements > ${limits.maxElements}`;
  if (declarations > maxNs) return `${declarations} namespace declarations > ${maxNs}`;
  return undefined;
}
