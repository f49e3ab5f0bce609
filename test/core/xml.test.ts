import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiisError, type FaultCode } from '../../core/errors.js';
import { attrNs, decodeUtf8, DEFAULT_XML_LIMITS, parseXml, parseXmlText, type XmlElement, type XmlLimits } from '../../core/xml.js';

const LARGE: XmlLimits = { maxBytes: 8 * 1024 * 1024, maxDepth: 64, maxElements: 200_000 };

function rejectsWith(fn: () => unknown, code: FaultCode, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MiisError, String(err));
    assert.equal(err.code, code, err.message);
    if (detail !== undefined) assert.match(err.detail, detail);
    return true;
  });
}

describe('parseXml: namespaces, attributes and text', () => {
  it('restores the outer binding when an element that redeclares a prefix closes', () => {
    const doc = parseXmlText('<p:a xmlns:p="urn:1"><p:b xmlns:p="urn:2"><p:c/></p:b><p:d/><e xmlns="urn:3"><f/></e><g/></p:a>');
    const [b, d, e, g] = doc.root.children;
    assert.equal(doc.root.uri, 'urn:1');
    assert.equal(b?.uri, 'urn:2');
    assert.equal(b?.children[0]?.uri, 'urn:2');
    assert.equal(d?.uri, 'urn:1');
    assert.equal(e?.uri, 'urn:3');
    assert.equal(e?.children[0]?.uri, 'urn:3');
    assert.equal(g?.uri, '');
  });

  it('a self-closing element’s declarations do not leak to its siblings', () => {
    rejectsWith(() => parseXmlText('<r><q:a xmlns:q="urn:q"/><q:b/></r>'), 'Client.InvalidXml', /prefijo .* no declarado: q/);
    const doc = parseXmlText('<r xmlns="urn:r"><a xmlns="urn:a"/><b/></r>');
    assert.deepEqual(doc.root.children.map((c) => c.uri), ['urn:a', 'urn:r']);
  });

  it('refuses duplicate attributes, by raw name and by namespace + local name', () => {
    rejectsWith(() => parseXmlText('<r a="1" b="2" a="3"/>'), 'Client.InvalidXml', /atributo a repetido/);
    rejectsWith(() => parseXmlText('<r xmlns:p="urn:x" xmlns:q="urn:x" p:a="1" q:a="2"/>'), 'Client.InvalidXml', /atributo q:a repetido/);
    rejectsWith(() => parseXmlText('<r xmlns:p="urn:x" xmlns:q="urn:x" p:a="1" p:b="2" q:c="3" q:b="4"/>'), 'Client.InvalidXml', /atributo q:b repetido/);
    rejectsWith(() => parseXmlText('<r xmlns:p="urn:x" xmlns:q="urn:x"><e p:a="1" p:b="2"/><e p:c="1" q:d="2" q:c="3"/></r>'), 'Client.InvalidXml', /atributo q:c repetido/);
    assert.equal(parseXmlText('<r xmlns:p="urn:x" xmlns:q="urn:x" p:a="1" p:b="2" q:c="3"/>').root.attributes['q:c']?.uri, 'urn:x');
    rejectsWith(() => parseXmlText('<r xmlns:p="urn:p" xmlns:q="urn:q" p:a="1" q:b="2" p:c="3" z:d="4"/>'), 'Client.InvalidXml', /prefijo de espacio de nombres no declarado: z/);
    const pq = parseXmlText('<r xmlns:p="urn:p" xmlns:q="urn:q" xmlns:s="urn:s" p:a="1" q:b="2" p:c="3" s:d="4" q:e="5" p:f="6"/>').root.attributes;
    assert.deepEqual(['p:a', 'q:b', 'p:c', 's:d', 'q:e', 'p:f'].map((k) => pq[k]?.uri), ['urn:p', 'urn:q', 'urn:p', 'urn:s', 'urn:q', 'urn:p']);
    const doc = parseXmlText('<r xmlns:p="urn:x" xmlns:q="urn:y" p:a="1" q:a="2" a="3"/>');
    assert.equal(attrNs(doc.root, 'urn:x', 'a'), '1');
    assert.equal(attrNs(doc.root, 'urn:y', 'a'), '2');
    assert.equal(attrNs(doc.root, '', 'a'), '3');
  });

  it('finds a repeated name among many attributes, wherever it is, and only within one element', () => {
    const many = Array.from({ length: 20 }, (_, i) => ` a${i}="${i}"`).join('');
    rejectsWith(() => parseXmlText(`<r${many} a3="x"/>`), 'Client.InvalidXml', /atributo a3 repetido/);
    rejectsWith(() => parseXmlText(`<r${many} a19="x"/>`), 'Client.InvalidXml', /atributo a19 repetido/);
    rejectsWith(() => parseXmlText(`<r a0="x"${many}/>`), 'Client.InvalidXml', /atributo a0 repetido/);
    const doc = parseXmlText(`<r${many}><e${many}/><e${many}/></r>`);
    assert.deepEqual(doc.root.children.map((c) => Object.keys(c.attributes).length), [20, 20]);
  });

  it('two prefixes bound to one URI clash only on the same local name, in the same element', () => {
    const decl = 'xmlns:p="urn:x" xmlns:q="urn:x"';
    assert.equal(Object.keys(parseXmlText(`<r ${decl} p:a="1" q:b="2"/>`).root.attributes).length, 4);
    assert.ok(parseXmlText(`<r ${decl}><e p:a="1"/><e q:a="2"/></r>`));
    rejectsWith(() => parseXmlText(`<r ${decl}><e p:a="1"/><e p:b="1" q:b="2"/></r>`), 'Client.InvalidXml', /atributo q:b repetido/);
  });

  it('keeps an attribute called __proto__ as an ordinary attribute', () => {
    const doc = parseXmlText('<r __proto__="x" b="y"/>');
    assert.equal(Object.getPrototypeOf(doc.root.attributes), Object.prototype);
    assert.deepEqual(Object.keys(doc.root.attributes), ['__proto__', 'b']);
    assert.equal(attrNs(doc.root, '', '__proto__'), 'x');
    // the record is built once, on first use, and then kept
    assert.equal(doc.root.attributes, doc.root.attributes);
    assert.deepEqual(parseXmlText('<r/>').root.attributes, {});
  });

  it('joins text, references and CDATA pieces in document order', () => {
    const doc = parseXmlText('<r>a&amp;b<!-- c --><![CDATA[<d>]]>e&#x41;<x/>f</r>');
    assert.equal(doc.root.text, 'a&b<d>eAf');
    assert.equal(doc.root.children[0]?.text, '');
  });
});

describe('parseXml: shapes that used to take quadratic time', () => {
  it('many elements each declaring a prefix, under 2,000 prefixes in scope, parse with the right URIs (default limits)', () => {
    // 32 nested levels declaring 64 prefixes each (the per-element limit), then 8,000 elements each declaring one
    let xml = '';
    for (let d = 0; d < 31; d += 1) {
      xml += `<n${d}`;
      for (let i = 0; i < 64; i += 1) xml += ` xmlns:p${d}_${i}="urn:p${d}_${i}"`;
      xml += '>';
    }
    for (let i = 0; i < 8_000; i += 1) xml += `<q:e xmlns:q="urn:q${i}" p${i % 31}_${i % 64}:a="${i}"/>`;
    for (let d = 30; d >= 0; d -= 1) xml += `</n${d}>`;
    let inner = parseXml(Buffer.from(xml), LARGE).root;
    while (inner.children.length === 1) inner = inner.children[0] as typeof inner;
    assert.equal(inner.children.length, 8_000);
    const last = inner.children[7_999];
    assert.equal(last?.uri, 'urn:q7999');
    assert.equal(attrNs(last as never, `urn:p${7_999 % 31}_${7_999 % 64}`, 'a'), '7999');
  });

  it('with the namespace limits lifted, 2,000 prefixes on one element and 20,000 prefixed elements still parse correctly', () => {
    let xml = '<r';
    for (let i = 0; i < 2_000; i += 1) xml += ` xmlns:p${i}="urn:p${i}"`;
    xml += '>';
    for (let i = 0; i < 20_000; i += 1) xml += `<q:e xmlns:q="urn:q${i}" p${i % 2_000}:a="${i}"/>`;
    xml += '</r>';
    const lifted: XmlLimits = { ...LARGE, maxAttributes: Infinity, maxNamespaceDeclarationsPerElement: Infinity, maxNamespaceDeclarations: Infinity };
    const doc = parseXml(Buffer.from(xml), lifted);
    assert.equal(doc.root.children.length, 20_000);
    const last = doc.root.children[19_999];
    assert.equal(last?.uri, 'urn:q19999');
    assert.equal(attrNs(last as never, 'urn:p1999', 'a'), '19999');
    assert.equal(attrNs(doc.root, 'http://www.w3.org/2000/xmlns/', 'p1999'), 'urn:p1999');
  });

  it('the reported request (40,000 attributes on one element, 420 KB) is refused by the attribute limit', () => {
    let xml = '<r';
    for (let i = 0; i < 40_000; i += 1) xml += ` a${i}="v"`;
    xml += '/>';
    assert.ok(xml.length > 400_000);
    rejectsWith(() => parseXml(Buffer.from(xml), LARGE), 'Client.XmlTooManyAttributes', /<r> en 1:1: más de 256/);
  });

  it('with the attribute limit lifted, 40,000 attributes on one element parse, duplicates still found at the end', () => {
    let xml = '<r';
    for (let i = 0; i < 40_000; i += 1) xml += ` a${i}="${i}"`;
    const lifted: XmlLimits = { ...LARGE, maxAttributes: Infinity };
    const doc = parseXml(Buffer.from(`${xml}/>`), lifted);
    assert.equal(Object.keys(doc.root.attributes).length, 40_000);
    assert.equal(attrNs(doc.root, '', 'a39999'), '39999');
    rejectsWith(() => parseXml(Buffer.from(`${xml} a17="x"/>`), lifted), 'Client.InvalidXml', /atributo a17 repetido/);
  });

  it('text split into many pieces is joined exactly once, completely', () => {
    const xml = `<r>${'ab<!---->'.repeat(100_000)}</r>`;
    assert.equal(parseXml(Buffer.from(xml), LARGE).root.text.length, 200_000);
  });
});

describe('parseXml: limits beyond size, depth and element count', () => {
  const attrs = (n: number, prefix = 'a'): string => Array.from({ length: n }, (_, i) => ` ${prefix}${i}="v"`).join('');
  const decls = (n: number): string => Array.from({ length: n }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join('');
  const SOAP_LIKE: XmlLimits = { maxBytes: 2 * 1024 * 1024, maxDepth: 32, maxElements: 50_000 };

  it('attributes per element: 256 by default, configurable', () => {
    assert.equal(Object.keys(parseXmlText(`<r${attrs(256)}/>`).root.attributes).length, 256);
    rejectsWith(() => parseXmlText(`<r>\n <e${attrs(257)}/></r>`), 'Client.XmlTooManyAttributes', /^<e> en 2:2: más de 256$/);
    rejectsWith(() => parseXmlText(`<r${attrs(4)}/>`, { ...SOAP_LIKE, maxAttributes: 3 }), 'Client.XmlTooManyAttributes', /más de 3/);
    // the limit applies to the three-field limits the node passes, too
    rejectsWith(() => parseXmlText(`<r${attrs(300)}/>`, SOAP_LIKE), 'Client.XmlTooManyAttributes');
  });

  it('namespace declarations per element: 64 by default, counted before the attribute limit', () => {
    const doc = parseXmlText(`<r${decls(64)}/>`);
    assert.equal(Object.keys(doc.root.attributes).length, 64);
    rejectsWith(() => parseXmlText(`<r${decls(65)}/>`), 'Client.XmlTooManyNamespaceDeclarations', /^<r> en 1:1: más de 64$/);
    rejectsWith(() => parseXmlText(`<r xmlns="urn:d"${decls(2)}/>`, { ...SOAP_LIKE, maxNamespaceDeclarationsPerElement: 2 }), 'Client.XmlTooManyNamespaceDeclarations');
  });

  it('namespace declarations per document: 10,000 by default, configurable', () => {
    const each = (n: number): string => `<r>${'<e xmlns="urn:e"/>'.repeat(n)}</r>`;
    assert.equal(parseXmlText(each(10_000)).root.children.length, 10_000);
    rejectsWith(() => parseXmlText(each(10_001)), 'Client.XmlTooManyNamespaceDeclarationsInDocument', /más de 10000; la declaración 10001 está en 1:/);
    const small: XmlLimits = { ...SOAP_LIKE, maxNamespaceDeclarations: 3 };
    assert.ok(parseXmlText(`<r xmlns:a="urn:a"><b xmlns:b="urn:b"/><c xmlns:c="urn:c"/></r>`, small));
    rejectsWith(() => parseXmlText(`<r xmlns:a="urn:a"><b xmlns:b="urn:b"/><c xmlns:c="urn:c" xmlns="urn:d"/></r>`, small), 'Client.XmlTooManyNamespaceDeclarationsInDocument', /más de 3/);
  });

  it('attributes per document: 50,000 by default (xmlns included), configurable', () => {
    const each = (n: number): string => `<r>${'<e a="1" b="2"/>'.repeat(n / 2)}</r>`;
    assert.equal(parseXmlText(each(50_000)).root.children.length, 25_000);
    rejectsWith(() => parseXmlText(`<r x="0">${'<e a="1" b="2"/>'.repeat(25_000)}</r>`), 'Client.XmlTooManyAttributesInDocument', /más de 50000; el atributo 50001 está en 1:/);
    const small: XmlLimits = { ...SOAP_LIKE, maxAttributesInDocument: 3 };
    assert.ok(parseXmlText(`<r xmlns="urn:r" a="1"><b c="2"/></r>`, small));
    rejectsWith(() => parseXmlText(`<r xmlns="urn:r" a="1"><b c="2" d="3"/></r>`, small), 'Client.XmlTooManyAttributesInDocument', /más de 3/);
  });

  it('names: 256 characters by default, prefix included, for elements and attributes', () => {
    const n256 = `p:${'x'.repeat(254)}`;
    assert.equal(parseXmlText(`<${n256} xmlns:p="urn:p"/>`).root.local.length, 254);
    assert.equal(Object.keys(parseXmlText(`<r ${'a'.repeat(256)}="v"/>`).root.attributes)[0]?.length, 256);
    rejectsWith(() => parseXmlText(`<${n256}x xmlns:p="urn:p"/>`), 'Client.XmlNameTooLong', /^1:2: «p:x{30}…» tiene 257 caracteres; máximo 256$/);
    rejectsWith(() => parseXmlText(`<r ${'a'.repeat(257)}="v"/>`), 'Client.XmlNameTooLong', /tiene 257 caracteres/);
    rejectsWith(() => parseXmlText(`<r></${'r'.repeat(5_000)}>`), 'Client.XmlNameTooLong', /tiene 5000 caracteres/);
    rejectsWith(() => parseXmlText(`<${'x'.repeat(20)}/>`, { ...SOAP_LIKE, maxNameLength: 19 }), 'Client.XmlNameTooLong', /máximo 19/);
  });

  it('attribute values: 64 KiB by default, measured after decoding references', () => {
    assert.equal(attrNs(parseXmlText(`<r a="${'v'.repeat(65_536)}"/>`).root, '', 'a')?.length, 65_536);
    assert.equal(attrNs(parseXmlText(`<r a="${'&amp;'.repeat(65_536)}"/>`).root, '', 'a')?.length, 65_536);
    rejectsWith(() => parseXmlText(`<r a="${'v'.repeat(65_537)}"/>`), 'Client.XmlAttributeValueTooLong', /^a en 1:4: 65537 caracteres; máximo 65536$/);
    rejectsWith(() => parseXmlText(`<r a="${'&#x41;'.repeat(65_537)}"/>`), 'Client.XmlAttributeValueTooLong');
    rejectsWith(() => parseXmlText('<r a="12345"/>', { ...SOAP_LIKE, maxAttributeValueLength: 4 }), 'Client.XmlAttributeValueTooLong', /máximo 4/);
  });

  it('text per element: counted over text, references and CDATA; by default any text the message size allows', () => {
    const small: XmlLimits = { ...SOAP_LIKE, maxTextLength: 10 };
    assert.equal(parseXmlText('<r>ab&amp;<![CDATA[cd]]><!-- x -->efgh<e>0123456789</e></r>', small).root.text, 'ab&cdefgh');
    rejectsWith(() => parseXmlText('<r>ab&amp;<![CDATA[cd]]><e/>efghij</r>', small), 'Client.XmlTextTooLong', /^<r> en 1:1: más de 10 caracteres \(en 1:29\)$/);
    rejectsWith(() => parseXmlText('<r><e>0123456789A</e></r>', small), 'Client.XmlTextTooLong', /^<e> en 1:4/);
    // a SOAP body with a 1.9 MiB base64 value, read with the node's three limits, is accepted
    const big = 'QUJD'.repeat(500_000);
    const doc = parseXml(Buffer.from(`<r><data>${big}</data></r>`), SOAP_LIKE);
    assert.equal(doc.root.children[0]?.text.length, 2_000_000);
  });

  it('every new limit is a MiisError with a Spanish message', () => {
    assert.throws(() => parseXmlText(`<r${attrs(257)}/>`), (err: unknown) => {
      assert.ok(err instanceof MiisError);
      assert.equal(err.message, 'Un elemento del XML tiene demasiados atributos (<r> en 1:1: más de 256); pase los datos como elementos hijos');
      return true;
    });
  });
});

describe('parseXml: XML 1.0 details found by the differential test against saxes', () => {
  it('normalises line ends in text and CDATA (CRLF and CR become LF); a reference to CR stays CR', () => {
    assert.equal(parseXmlText('<r>a\r\nb\rc\n<![CDATA[d\r\ne]]>&#13;</r>').root.text, 'a\nb\nc\nd\ne\r');
  });

  it('normalises literal white space in attribute values to spaces, after line ends; references stay', () => {
    const doc = parseXmlText('<r a="x\r\ny\tz\nw\r" b="&#10;&#9;&#13;"/>');
    assert.equal(attrNs(doc.root, '', 'a'), 'x y z w ');
    assert.equal(attrNs(doc.root, '', 'b'), '\n\t\r');
  });

  it('refuses a comment ending in «-» («--->»)', () => {
    rejectsWith(() => parseXmlText('<r><!-- a ---></r>'), 'Client.InvalidXml', /«--» dentro de un comentario/);
    rejectsWith(() => parseXmlText('<r><!----->'), 'Client.InvalidXml');
    assert.equal(parseXmlText('<r><!----><!-- - --></r>').root.text, '');
  });

  it('accepts names with characters beyond U+FFFF', () => {
    const doc = parseXmlText('<p:𝓐x xmlns:p="urn:p" 𐀀="1"/>');
    assert.equal(doc.root.local, '𝓐x');
    assert.equal(attrNs(doc.root, '', '𐀀'), '1');
  });

  it('enforces the reserved namespace bindings', () => {
    for (const decl of ['xmlns:xmlns="urn:x"', 'xmlns:p="http://www.w3.org/2000/xmlns/"', 'xmlns="http://www.w3.org/2000/xmlns/"',
      'xmlns:p="http://www.w3.org/XML/1998/namespace"', 'xmlns="http://www.w3.org/XML/1998/namespace"', 'xmlns:xml="urn:x"']) {
      rejectsWith(() => parseXmlText(`<r ${decl}/>`), 'Client.InvalidXml', /declaración de espacio de nombres no permitida/);
    }
    assert.ok(parseXmlText('<r xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:lang="es"/>'));
    rejectsWith(() => parseXmlText('<xmlns:r/>'), 'Client.InvalidXml', /prefijo xmlns/);
  });
});

describe('parseXml: the tree made on first use', () => {
  const xml = '<r xmlns="urn:r" xmlns:p="urn:p" a="1" p:b="x&amp;y" c="l1\r\nl2"><p:e p:k="v">t1<!--c-->t2<f/>t3</p:e><g>plain</g><h>a&lt;b</h><i/>\r\n</r>';

  it('gives the same elements, text and attributes however often it is walked', () => {
    const root = parseXmlText(xml).root;
    assert.equal(root.children, root.children, 'children are made once');
    const [e, g, h, i] = root.children;
    assert.deepEqual(root.children.map((c) => [c.name, c.prefix, c.local, c.uri]), [['p:e', 'p', 'e', 'urn:p'], ['g', '', 'g', 'urn:r'], ['h', '', 'h', 'urn:r'], ['i', '', 'i', 'urn:r']]);
    assert.equal(e?.text, 't1t2t3');
    assert.equal(g?.text, 'plain');
    assert.equal(xml.slice(g?.contentStart, g?.contentEnd), 'plain');
    assert.equal(h?.text, 'a<b');
    assert.equal(i?.text, '');
    assert.equal(root.text, '\n');
    assert.equal(e?.children[0]?.name, 'f');
    assert.equal(i?.children.length, 0);
  });

  it('reads attributes by namespace and local name, and as a record', () => {
    const root = parseXmlText(xml).root;
    assert.equal(attrNs(root, '', 'a'), '1');
    assert.equal(attrNs(root, 'urn:p', 'b'), 'x&y');
    assert.equal(attrNs(root, '', 'b'), undefined);
    assert.equal(attrNs(root, '', 'c'), 'l1 l2');
    assert.equal(attrNs(root, 'http://www.w3.org/2000/xmlns/', 'p'), 'urn:p');
    assert.equal(attrNs(root, '', 'p:b'), undefined);
    assert.deepEqual(root.attributes['p:b'], { uri: 'urn:p', local: 'b', value: 'x&y' });
    assert.equal(attrNs(root, 'urn:p', 'b'), 'x&y', 'still found once the record is built');
    assert.equal(attrNs(root.children[0] as XmlElement, 'urn:p', 'k'), 'v');
  });

  it('finds attribute names and values again however they are written (spaces around «=», either quote, «>» and «/» in values)', () => {
    const doc = '<r a = \'x>"/\'\tb\n=\r\n"y\'&gt;" xmlns:p = "urn:p" p:c=\'\'><e d="1" k="&gt;>" /></r >';
    const root = parseXmlText(doc).root;
    assert.deepEqual(root.attributes, {
      a: { uri: '', local: 'a', value: 'x>"/' },
      b: { uri: '', local: 'b', value: "y'>" },
      'xmlns:p': { uri: 'http://www.w3.org/2000/xmlns/', local: 'p', value: 'urn:p' },
      'p:c': { uri: 'urn:p', local: 'c', value: '' },
    });
    assert.equal(attrNs(root, '', 'b'), "y'>");
    assert.equal(attrNs(root, 'urn:p', 'c'), '');
    const e = root.children[0] as XmlElement;
    assert.deepEqual([e.start, e.contentStart, e.contentEnd, e.end].map((o) => doc.slice(o, o + 2)), ['<e', '</', '</', '</']);
    assert.equal(doc.slice(root.contentStart, root.contentEnd), '<e d="1" k="&gt;>" />');
    assert.equal(doc.slice(root.contentEnd, root.end), '</r >');
    assert.equal(attrNs(e, '', 'd'), '1');
    assert.equal(attrNs(e, '', 'k'), '>>');
    assert.equal(doc.slice(root.start, root.contentStart).endsWith("p:c=''>"), true);
    // all values plain and no prefix but xmlns: the attributes are read again from the start tag
    const plainDoc = '<s\ta = \'x>"/\' xmlns="urn:s"\nxmlns:t = "urn:t" b="y"\r\n/>';
    const s = parseXmlText(plainDoc).root;
    assert.deepEqual(s.attributes, {
      a: { uri: '', local: 'a', value: 'x>"/' },
      xmlns: { uri: 'http://www.w3.org/2000/xmlns/', local: 'xmlns', value: 'urn:s' },
      'xmlns:t': { uri: 'http://www.w3.org/2000/xmlns/', local: 't', value: 'urn:t' },
      b: { uri: '', local: 'b', value: 'y' },
    });
    assert.deepEqual([attrNs(s, '', 'b'), attrNs(s, 'http://www.w3.org/2000/xmlns/', 't'), attrNs(s, '', 'xmlns'), s.contentStart, s.end], ['y', 'urn:t', undefined, plainDoc.length, plainDoc.length]);
    const t = parseXmlText('<t a="1" xmlnsx="2"><u/></t>').root;
    assert.deepEqual([t.attributes.xmlnsx?.uri, attrNs(t, '', 'xmlnsx'), t.contentStart, t.children[0]?.name], ['', '2', 20, 'u']);
  });

  it('reads trees larger than one chunk of rows and of attributes (elements and attributes in the thousands)', () => {
    const n = 5_000;
    const parts = ['<r xmlns:p="urn:p">'];
    for (let i = 0; i < n; i += 1) parts.push(i % 2 === 0 ? `<e i="${i}" p:j="&#${65 + (i % 26)};" k='${i}'>t${i}</e>` : `<p:f i="${i}"/>`);
    parts.push(`<big${Array.from({ length: 3_000 }, (_, i) => ` a${i}="${i}"`).join('')}/>`);
    parts.push('</r>');
    const doc = parts.join('');
    const root = parseXmlText(doc, { ...DEFAULT_XML_LIMITS, maxAttributes: Infinity }).root;
    assert.equal(root.children.length, n + 1);
    for (let i = 0; i < n; i += 1) {
      const c = root.children[i] as XmlElement;
      assert.equal(attrNs(c, '', 'i'), String(i));
      if (i % 2 === 0) {
        assert.equal(c.name, 'e');
        assert.equal(c.text, `t${i}`);
        assert.equal(doc.slice(c.contentEnd, c.end), '</e>');
        assert.deepEqual(c.attributes['p:j'], { uri: 'urn:p', local: 'j', value: String.fromCharCode(65 + (i % 26)) });
        assert.equal(attrNs(c, '', 'k'), String(i));
      } else {
        assert.deepEqual([c.uri, c.local, c.contentEnd, c.end, c.text], ['urn:p', 'f', c.contentStart, c.contentStart, '']);
      }
    }
    const big = root.children[n] as XmlElement;
    assert.equal(Object.keys(big.attributes).length, 3_000);
    assert.equal(attrNs(big, '', 'a2999'), '2999');
    assert.equal(big.attributes.a1234?.value, '1234');
  });

  it('keeps each tree whole after later parses (one reader serves every parse, a failed one included)', () => {
    const snapshot = (el: XmlElement): unknown => ({
      name: el.name, uri: el.uri, text: el.text, attributes: { ...el.attributes },
      offsets: [el.start, el.contentStart, el.contentEnd, el.end], children: el.children.map(snapshot),
    });
    const expected = snapshot(parseXmlText(xml).root);
    const untouched = parseXmlText(xml).root;
    const halfRead = parseXmlText(xml).root;
    assert.equal(halfRead.children[0]?.name, 'p:e');
    // later documents: other names, prefixes and URIs, more than one chunk of rows, decoded values,
    // non-ASCII text, and faults thrown midway through an element, an attribute and a text
    const others = ['<q:z xmlns:q="urn:q" w="&#x263A;"><q:y>ñandú &amp; cía</q:y></q:z>', `<m>${'<n o="1" p="x&lt;"/>'.repeat(3_000)}</m>`];
    for (const other of others) parseXmlText(other, LARGE).root.children.map((c) => [c.text, c.attributes]);
    for (const bad of ['<a xmlns:s="urn:s"><s:b c="1" c="2"/></a>', '<a><b>t&bogus;</b></a>', '<a b="&#0;"/>', '<a><b></a>']) {
      assert.throws(() => parseXmlText(bad), MiisError);
    }
    assert.deepEqual(snapshot(untouched), expected);
    assert.deepEqual(snapshot(halfRead), expected);
    assert.equal(attrNs(untouched, 'urn:p', 'b'), 'x&y');
  });

  it('lets a caller replace an element text', () => {
    const root = parseXmlText(xml).root;
    const g = root.children[1] as XmlElement;
    g.text = 'otro';
    assert.equal(g.text, 'otro');
  });
});

describe('decodeUtf8: one-byte read of Latin-1 text, strict everywhere', () => {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const samples = [
    'MUÑOZ QUISPE, MARÍA DEL CARMEN ¿¡ü ÿ',
    'AV. JAVIER PRADO 1234 ?', // a «?» in the input is not a replacement
    'ÑANDÚ Ж', // one character above U+00FF: strict decoder
    'llama 🦙 y ñ', // astral character
    '\uFEFF<r>ñ</r>', // BOM dropped, as the strict decoder does
    'ascii only',
  ];
  for (const text of samples) {
    it(`gives the strict decoder's string for ${JSON.stringify(text)}`, () => {
      const bytes = Buffer.from(text, 'utf8');
      assert.equal(decodeUtf8(bytes), strict.decode(bytes));
    });
  }

  it('reads Latin-1 text as a one-byte string whose characters are the code points', () => {
    const out = decodeUtf8(Buffer.from('Ñ¿é', 'utf8'));
    assert.deepEqual([...out].map((c) => c.codePointAt(0)), [0xd1, 0xbf, 0xe9]);
  });

  const invalid: [string, number[]][] = [
    ['overlong «/»', [0x3c, 0x72, 0xc0, 0xaf, 0x3e]],
    ['overlong «Ñ» (3 bytes)', [0xe0, 0x83, 0x91]],
    ['lone continuation byte', [0x41, 0x91, 0x41]],
    ['truncated 2-byte sequence at the end', [0x41, 0xc3]],
    ['encoded surrogate', [0xed, 0xa0, 0x80]],
    ['beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['Latin-1 byte that is not UTF-8 (ñ as 0xF1)', [0x61, 0xf1, 0x61]],
  ];
  for (const [name, bytes] of invalid) {
    it(`refuses ${name} with Client.InvalidXml`, () => {
      rejectsWith(() => decodeUtf8(Uint8Array.from(bytes)), 'Client.InvalidXml', /UTF-8/);
    });
  }

  it('decodes a slice of a larger buffer from its own offset', () => {
    const whole = Buffer.from('xxÑyy', 'utf8');
    assert.equal(decodeUtf8(whole.subarray(2, 4)), 'Ñ');
  });
});
