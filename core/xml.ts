/**
 * Safe XML reading for everything MIIS parses (SOAP messages, signatures, WSDL inputs).
 * - no DTD (a DOCTYPE is refused), hence no custom or external entities;
 * - only the five predefined entities and character references;
 * - size limit (bytes), depth limit and element-count limit;
 * - strict UTF-8 (invalid byte sequences are refused, never replaced).
 * The result is a small element tree with string offsets into the decoded text, so callers can
 * locate (never re-serialise) parts of the original message.
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
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

export function parseXmlText(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlDocument {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;
  let failure: MiisError | undefined;

  const fail = (err: MiisError): void => {
    if (failure === undefined) failure = err;
    throw err;
  };

  parser.on('doctype', () => fail(new MiisError('Client.DtdNotAllowed')));
  parser.on('processinginstruction', (pi) => {
    fail(new MiisError('Client.InvalidXml', `instrucción de procesamiento «${pi.target}» no permitida`));
  });
  parser.on('opentag', (tag: SaxesTagNS) => {
    count += 1;
    if (count > limits.maxElements) fail(new MiisError('Client.MessageTooLarge', `más de ${limits.maxElements} elementos`));
    if (stack.length + 1 > limits.maxDepth) fail(new MiisError('Client.XmlTooDeep', `máximo ${limits.maxDepth} niveles`));
    const after = parser.position;
    const start = text.lastIndexOf('<', after - 1);
    const attributes: Record<string, { uri: string; local: string; value: string }> = {};
    for (const [qname, a] of Object.entries(tag.attributes)) attributes[qname] = { uri: a.uri, local: a.local, value: a.value };
    const el: XmlElement = {
      name: tag.name, prefix: tag.prefix, local: tag.local, uri: tag.uri, attributes,
      children: [], text: '', start, contentStart: after,
      contentEnd: after, end: after,
    };
    const parent = stack[stack.length - 1];
    if (parent === undefined) root = el;
    else parent.children.push(el);
    if (!tag.isSelfClosing) stack.push(el);
  });
  parser.on('closetag', (tag) => {
    if (tag.isSelfClosing) return;
    const el = stack.pop();
    if (el === undefined) return;
    el.end = parser.position;
    el.contentEnd = text.lastIndexOf('</', el.end - 1);
  });
  const onText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top !== undefined) top.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('error', (err) => {
    if (failure !== undefined) throw failure;
    const message = String(err.message);
    if (/entity/i.test(message)) throw new MiisError('Client.EntityNotAllowed', shortSaxError(message));
    throw new MiisError('Client.InvalidXml', shortSaxError(message));
  });

  try {
    parser.write(text).close();
  } catch (err) {
    if (failure !== undefined) throw failure;
    if (err instanceof MiisError) throw err;
    throw new MiisError('Client.InvalidXml', shortSaxError(String((err as Error).message)));
  }
  if (root === undefined) throw new MiisError('Client.InvalidXml', 'el documento no tiene elemento raíz');
  return { text, root };
}

function shortSaxError(message: string): string {
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
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
