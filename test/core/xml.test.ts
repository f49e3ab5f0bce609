import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiisError, type FaultCode } from '../../core/errors.js';
import { attrNs, parseXml, parseXmlText, type XmlLimits } from '../../core/xml.js';

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
    const doc = parseXmlText('<r xmlns:p="urn:x" xmlns:q="urn:y" p:a="1" q:a="2" a="3"/>');
    assert.equal(attrNs(doc.root, 'urn:x', 'a'), '1');
    assert.equal(attrNs(doc.root, 'urn:y', 'a'), '2');
    assert.equal(attrNs(doc.root, '', 'a'), '3');
  });

  it('keeps an attribute called __proto__ as an ordinary attribute', () => {
    const doc = parseXmlText('<r __proto__="x" b="y"/>');
    assert.equal(Object.getPrototypeOf(doc.root.attributes), Object.prototype);
    assert.deepEqual(Object.keys(doc.root.attributes), ['__proto__', 'b']);
    assert.equal(attrNs(doc.root, '', '__proto__'), 'x');
  });

  it('joins text, references and CDATA pieces in document order', () => {
    const doc = parseXmlText('<r>a&amp;b<!-- c --><![CDATA[<d>]]>e&#x41;<x/>f</r>');
    assert.equal(doc.root.text, 'a&b<d>eAf');
    assert.equal(doc.root.children[0]?.text, '');
  });
});

describe('parseXml: shapes that used to take quadratic time', () => {
  it('many elements each declaring a prefix, under many prefixes in scope, parse with the right URIs', () => {
    let xml = '<r';
    for (let i = 0; i < 2_000; i += 1) xml += ` xmlns:p${i}="urn:p${i}"`;
    xml += '>';
    for (let i = 0; i < 20_000; i += 1) xml += `<q:e xmlns:q="urn:q${i}" p${i % 2_000}:a="${i}"/>`;
    xml += '</r>';
    const doc = parseXml(Buffer.from(xml), LARGE);
    assert.equal(doc.root.children.length, 20_000);
    const last = doc.root.children[19_999];
    assert.equal(last?.uri, 'urn:q19999');
    assert.equal(attrNs(last as never, 'urn:p1999', 'a'), '19999');
  });

  it('text split into many pieces is joined exactly once, completely', () => {
    const xml = `<r>${'ab<!---->'.repeat(100_000)}</r>`;
    assert.equal(parseXml(Buffer.from(xml), LARGE).root.text.length, 200_000);
  });
});
