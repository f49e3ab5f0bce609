/**
 * Attack suite, family «xml-shapes»: hostile XML sent by an information system to its own node
 * (Juntos's IS endpoint). Each case: exact fault code and HTTP status, the fault UUID in Juntos's
 * fault log, nothing logged, nothing reached RENIEC's backend; then a normal exchange still works.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { personaRequest, postSoap, startInstance } from '../e2e/fixture.js';
import { Target, directions, newId } from './helpers.js';
import { sqliteLog } from '../helpers/node-log.js';

const JUNTOS_CLIENT_XML = '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client>';
const OTHER_CLIENT_XML = JUNTOS_CLIENT_XML.replace('JUNTOS</id:subsystemCode>', 'OTRO</id:subsystemCode>');

describe('attack: xml-shapes', () => {
  let t: Target;
  let dni: string;
  before(async () => {
    const inst = await startInstance();
    t = new Target(inst);
    dni = inst.dni;
  });
  after(async () => t?.inst.close());

  const req = (id: string, over: Parameters<typeof personaRequest>[1] = {}): string => personaRequest(dni, { id, ...over });

  it('XXE: a DOCTYPE with an external entity → Client.DtdNotAllowed', async () => {
    const id = newId('xxe');
    const body = req(id, { body: '<ren:consultarPersona><dni>&xxe;</dni></ren:consultarPersona>' }).replace('?>', '?><!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>');
    const f = await t.isFault(body, 'Client.DtdNotAllowed');
    assert.doesNotMatch(f.faultString, /root:/);
    t.nothingLogged(id);
    await t.good();
  });

  it('billion laughs: nested entity expansion in a DOCTYPE → Client.DtdNotAllowed', async () => {
    const id = newId('laughs');
    let dtd = '<!ENTITY l0 "lol">';
    for (let i = 1; i <= 9; i += 1) dtd += `<!ENTITY l${i} "${`&l${i - 1};`.repeat(10)}">`;
    const body = req(id, { body: '<ren:consultarPersona><dni>&l9;</dni></ren:consultarPersona>' }).replace('?>', `?><!DOCTYPE e [${dtd}]>`);
    await t.isFault(body, 'Client.DtdNotAllowed');
    t.nothingLogged(id);
    await t.good();
  });

  it('a DOCTYPE with no internal subset, before the envelope → Client.DtdNotAllowed', async () => {
    const id = newId('doctype-bare');
    await t.isFault(req(id).replace('?>', '?><!DOCTYPE SOAP-ENV:Envelope SYSTEM "http://127.0.0.1:1/x.dtd">'), 'Client.DtdNotAllowed');
    t.nothingLogged(id);
    await t.good();
  });

  it('an undeclared entity reference → Client.EntityNotAllowed', async () => {
    const id = newId('entity');
    await t.isFault(req(id, { body: '<ren:consultarPersona><dni>&passwd;</dni></ren:consultarPersona>' }), 'Client.EntityNotAllowed');
    t.nothingLogged(id);
    await t.good();
  });

  it('a processing instruction inside the body → Client.InvalidXml', async () => {
    const id = newId('pi');
    await t.isFault(req(id, { body: `<?xml-stylesheet href="http://127.0.0.1:1/x.xsl"?><ren:consultarPersona><dni>${dni}</dni></ren:consultarPersona>` }), 'Client.InvalidXml');
    t.nothingLogged(id);
    await t.good();
  });

  it('invalid UTF-8 bytes (a lone continuation byte, an overlong «<») → Client.InvalidXml', async () => {
    for (const bad of [Buffer.from([0x80]), Buffer.from([0xc0, 0xbc]), Buffer.from([0xed, 0xa0, 0x80])]) {
      const id = newId('utf8');
      const [head = '', tail = ''] = req(id).split('PE10117410');
      await t.isFault(Buffer.concat([Buffer.from(head), bad, Buffer.from(tail)]), 'Client.InvalidXml');
      t.nothingLogged(id);
    }
    await t.good();
  });

  it('a depth bomb (10 000 nested elements) → Client.XmlTooDeep', async () => {
    const id = newId('deep');
    await t.isFault(req(id, { body: `<ren:consultarPersona>${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}</ren:consultarPersona>` }), 'Client.XmlTooDeep');
    t.nothingLogged(id);
    await t.good();
  });

  it('an element-count bomb (60 000 empty elements, under the size limit) → Client.MessageTooLarge, HTTP 413', async () => {
    const id = newId('count');
    const body = req(id, { body: `<ren:consultarPersona><dni>${dni}</dni>${'<a/>'.repeat(60_000)}</ren:consultarPersona>` });
    assert.ok(Buffer.byteLength(body) < 2 * 1024 * 1024);
    const f = await t.isFault(body, 'Client.MessageTooLarge');
    assert.match(f.faultString, /elementos/);
    t.nothingLogged(id);
    await t.good();
  });

  it('an oversized message (3 MiB of text in the body) → Client.MessageTooLarge, HTTP 413', async () => {
    const id = newId('big');
    await t.isFault(req(id, { body: `<ren:consultarPersona><dni>${dni}</dni><x>${'A'.repeat(3 * 1024 * 1024)}</x></ren:consultarPersona>` }), 'Client.MessageTooLarge');
    t.nothingLogged(id);
    await t.good();
  });

  it('CDATA cannot smuggle a header: an xrd:client made of CDATA text → Client.InvalidClientIdentifier', async () => {
    const id = newId('cdata-header');
    await t.isFault(req(id, { client: `<xrd:client id:objectType="SUBSYSTEM"><![CDATA[${JUNTOS_CLIENT_XML}]]></xrd:client>` }), 'Client.InvalidClientIdentifier');
    t.nothingLogged(id);
    await t.good();
  });

  it('an unterminated CDATA section → Client.InvalidXml', async () => {
    const id = newId('cdata-open');
    await t.isFault(req(id, { body: `<ren:consultarPersona><dni><![CDATA[${dni}</dni></ren:consultarPersona>` }), 'Client.InvalidXml');
    t.nothingLogged(id);
    await t.good();
  });

  it('a UTF-8 byte-order mark before the declaration is accepted and the exchange is served', async () => {
    const id = newId('bom');
    const before = t.backendRequests;
    const res = await postSoap(t.inst.juntos.isUrl, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(req(id))]));
    assert.equal(res.status, 200, res.text);
    assert.equal(t.backendRequests, before + 1);
    assert.deepEqual(directions(t.inst.juntos, id), ['request', 'response']);
  });

  it('a UTF-16 byte-order mark (bytes not UTF-8) → Client.InvalidXml', async () => {
    const id = newId('utf16');
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(req(id).replace('UTF-8', 'UTF-16'), 'utf16le')]);
    await t.isFault(body, 'Client.InvalidXml');
    t.nothingLogged(id);
    await t.good();
  });

  it('a comment holding a spoofed xrd:client is ignored: the real client is the one used', async () => {
    const id = newId('comment');
    const before = t.backendRequests;
    const res = await postSoap(t.inst.juntos.isUrl, req(id, { client: `<!--${OTHER_CLIENT_XML}-->${JUNTOS_CLIENT_XML}` }));
    assert.equal(res.status, 200, res.text);
    assert.equal(t.backendRequests, before + 1);
    const rec = sqliteLog(t.inst.reniec).list({ messageId: id })[0];
    assert.equal(rec?.client, 'PE/GOB/20511268401/JUNTOS');
  });

  it('a header whose only xrd:client is inside a comment → Client.MissingHeaderField', async () => {
    const id = newId('comment-only');
    const f = await t.isFault(req(id, { client: `<!--${JUNTOS_CLIENT_XML}-->` }), 'Client.MissingHeaderField');
    assert.match(f.faultString, /xrd:client/);
    t.nothingLogged(id);
    await t.good();
  });

  it('two xrd:client headers (the second a different subsystem) → Client.InvalidHeaderField', async () => {
    const id = newId('two-clients');
    const f = await t.isFault(req(id, { client: `${JUNTOS_CLIENT_XML}${OTHER_CLIENT_XML}` }), 'Client.InvalidHeaderField');
    assert.match(f.faultString, /xrd:client/);
    t.nothingLogged(id);
    await t.good();
  });

  it('two xrd:id headers → Client.InvalidHeaderField', async () => {
    const id = newId('two-ids');
    await t.isFault(req(id, { extraHeader: '<xrd:id>otro-id</xrd:id>' }), 'Client.InvalidHeaderField');
    t.nothingLogged(id);
    await t.good();
  });

  it('an envelope without Body → Client.InvalidSoap', async () => {
    const id = newId('no-body');
    await t.isFault(req(id).replace(/<SOAP-ENV:Body>[\s\S]*<\/SOAP-ENV:Body>/, ''), 'Client.InvalidSoap');
    t.nothingLogged(id);
    await t.good();
  });

  it('two Body elements → Client.InvalidSoap', async () => {
    const id = newId('two-bodies');
    await t.isFault(req(id).replace('</SOAP-ENV:Envelope>', '<SOAP-ENV:Body><x/></SOAP-ENV:Body></SOAP-ENV:Envelope>'), 'Client.InvalidSoap');
    t.nothingLogged(id);
    await t.good();
  });

  it('a SOAP 1.2 envelope (namespace 2003/05) → Client.InvalidSoap', async () => {
    const id = newId('soap12');
    await t.isFault(req(id).replace('http://schemas.xmlsoap.org/soap/envelope/', 'http://www.w3.org/2003/05/soap-envelope'), 'Client.InvalidSoap');
    t.nothingLogged(id);
    await t.good();
  });

  it('SOAP 1.2 content type application/soap+xml → Client.InvalidContentType, HTTP 415', async () => {
    const id = newId('ct12');
    await t.isFault(req(id), 'Client.InvalidContentType', { contentType: 'application/soap+xml; charset=utf-8' });
    t.nothingLogged(id);
    await t.good();
  });

  it('content type text/html and multipart/related on the IS port → Client.InvalidContentType', async () => {
    for (const ct of ['text/html', 'multipart/related; boundary=x']) {
      const id = newId('ct');
      await t.isFault(req(id), 'Client.InvalidContentType', { contentType: ct });
      t.nothingLogged(id);
    }
    await t.good();
  });

  it('a NUL byte in a header value → Client.InvalidXml', async () => {
    const id = newId('nul');
    await t.isFault(req(id).replace('PE10117410', 'PE1011\u00007410'), 'Client.InvalidXml');
    t.nothingLogged(id);
    await t.good();
  });

  it('an unbound namespace prefix → Client.InvalidXml', async () => {
    const id = newId('unbound');
    await t.isFault(req(id, { body: `<nada:consultarPersona><dni>${dni}</dni></nada:consultarPersona>` }), 'Client.InvalidXml');
    t.nothingLogged(id);
    await t.good();
  });

  it('content after the root element (a second envelope) → Client.InvalidXml', async () => {
    const id = newId('two-roots');
    const one = req(id);
    await t.isFault(`${one}${one.replace(/^<\?xml[^>]*\?>/, '')}`, 'Client.InvalidXml');
    t.nothingLogged(id);
    await t.good();
  });

  it('an empty body and a truncated message → Client.InvalidXml', async () => {
    await t.isFault('', 'Client.InvalidXml');
    const id = newId('truncated');
    const full = req(id);
    await t.isFault(full.slice(0, full.length - 30), 'Client.InvalidXml');
    t.nothingLogged(id);
    await t.good();
  });

  it('the root is not an Envelope (an XML-RPC call) → Client.InvalidSoap', async () => {
    await t.isFault('<?xml version="1.0"?><methodCall><methodName>consultarPersona</methodName></methodCall>', 'Client.InvalidSoap');
    await t.good();
  });
});
