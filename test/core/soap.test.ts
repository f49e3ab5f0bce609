import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiisError, type FaultCode } from '../../core/errors.js';
import { ID_NS, XROAD_NS } from '../../core/identifiers.js';
import {
  MIIS_NS, REQUEST_HASH_ALGORITHM, SOAP_ENV_NS, addRequestHash, buildFault, checkConsistency, computeRequestHash, faultFromError,
  readSoapMessage, type SoapMessage,
} from '../../core/soap.js';

const NS = `xmlns:SOAP-ENV="${SOAP_ENV_NS}" xmlns:xrd="${XROAD_NS}" xmlns:id="${ID_NS}" xmlns:miis="${MIIS_NS}"`;
const CLIENT = '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client>';
const SERVICE = '<xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20295613620</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>';
const BODY = '<ren:consultarPersona xmlns:ren="urn:reniec"><dni>10117410</dni></ren:consultarPersona>';

interface Fields {
  client: string;
  service: string;
  id: string;
  userId: string;
  issue: string;
  protocolVersion: string;
  extra: string;
}

const DEFAULTS: Fields = {
  client: CLIENT, service: SERVICE, id: '<xrd:id>msg-1</xrd:id>', userId: '<xrd:userId>PE10117410</xrd:userId>', issue: '',
  protocolVersion: '<xrd:protocolVersion>4.0</xrd:protocolVersion>', extra: '<miis:convenio>CONV-1</miis:convenio><miis:finalidad>FOCALIZACION</miis:finalidad>',
};

function headerXml(over: Partial<Fields> = {}): string {
  const f = { ...DEFAULTS, ...over };
  return `<SOAP-ENV:Header>${f.client}${f.service}${f.id}${f.userId}${f.issue}${f.protocolVersion}${f.extra}</SOAP-ENV:Header>`;
}

function envelope(header: string, body = BODY): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope ${NS}>${header}<SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

const request = (over: Partial<Fields> = {}, body = BODY): Buffer => Buffer.from(envelope(headerXml(over), body), 'utf8');

function rejectsWith(fn: () => unknown, code: FaultCode, detail?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof MiisError, String(err));
    assert.equal(err.code, code, err.message);
    if (detail !== undefined) assert.match(err.detail, detail);
    return true;
  });
}

const readRequest = (raw: Buffer | string): SoapMessage => readSoapMessage(Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'), 'request');
const readResponse = (raw: Buffer | string): SoapMessage => readSoapMessage(Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8'), 'response');

describe('readSoapMessage: X-Road 4.0 headers', () => {
  it('reads every header field, the payload and keeps the raw bytes', () => {
    const raw = request({ issue: '<xrd:issue>EXP-77</xrd:issue>' });
    const m = readRequest(raw);
    assert.equal(m.raw, raw);
    assert.deepEqual(m.header?.client, { instance: 'PE', memberClass: 'GOB', memberCode: '20511268401', subsystemCode: 'JUNTOS' });
    assert.deepEqual(m.header?.service, {
      instance: 'PE', memberClass: 'GOB', memberCode: '20295613620', subsystemCode: 'RUPN', serviceCode: 'consultarPersona', serviceVersion: 'v1',
    });
    assert.equal(m.header?.id, 'msg-1');
    assert.equal(m.header?.userId, 'PE10117410');
    assert.equal(m.header?.issue, 'EXP-77');
    assert.equal(m.header?.protocolVersion, '4.0');
    assert.equal(m.header?.convenio, 'CONV-1');
    assert.equal(m.header?.finalidad, 'FOCALIZACION');
    assert.equal(m.header?.requestHash, undefined);
    assert.equal(m.payload?.local, 'consultarPersona');
    assert.equal(m.fault, undefined);
  });

  it('optional fields may be absent', () => {
    const m = readRequest(request({ userId: '', extra: '' }));
    assert.equal(m.header?.userId, undefined);
    assert.equal(m.header?.issue, undefined);
    assert.equal(m.header?.convenio, undefined);
    assert.equal(m.header?.finalidad, undefined);
  });

  it('a MEMBER client has no subsystem; a MEMBER with a subsystem or a SUBSYSTEM without one is refused', () => {
    const member = '<xrd:client id:objectType="MEMBER"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode></xrd:client>';
    assert.deepEqual(readRequest(request({ client: member })).header?.client, { instance: 'PE', memberClass: 'GOB', memberCode: '20511268401', subsystemCode: undefined });
    rejectsWith(() => readRequest(request({ client: member.replace('</xrd:client>', '<id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client>') })),
      'Client.InvalidClientIdentifier', /MEMBER no lleva/);
    rejectsWith(() => readRequest(request({ client: CLIENT.replace('<id:subsystemCode>JUNTOS</id:subsystemCode>', '') })),
      'Client.InvalidClientIdentifier', /falta id:subsystemCode/);
  });

  it('refuses bad client identifiers', () => {
    rejectsWith(() => readRequest(request({ client: CLIENT.replace('SUBSYSTEM', 'SERVICE') })), 'Client.InvalidClientIdentifier', /MEMBER o SUBSYSTEM/);
    rejectsWith(() => readRequest(request({ client: CLIENT.replace(' id:objectType="SUBSYSTEM"', '') })), 'Client.InvalidClientIdentifier', /objectType/);
    rejectsWith(() => readRequest(request({ client: CLIENT.replace('<id:memberClass>GOB</id:memberClass>', '') })), 'Client.InvalidClientIdentifier', /falta id:memberClass/);
    rejectsWith(() => readRequest(request({ client: CLIENT.replace('JUNTOS', 'JUN TOS') })), 'Client.InvalidClientIdentifier', /subsystemCode «JUN TOS»/);
    rejectsWith(() => readRequest(request({ client: CLIENT.replace('JUNTOS', 'A/B') })), 'Client.InvalidClientIdentifier');
    rejectsWith(() => readRequest(request({ client: CLIENT.replace('<id:xRoadInstance>PE</id:xRoadInstance>', '<id:xRoadInstance>PE</id:xRoadInstance><id:xRoadInstance>PE</id:xRoadInstance>') })),
      'Client.InvalidClientIdentifier', /más de una vez/);
    // identifier parts must be in the identifiers namespace
    rejectsWith(() => readRequest(request({ client: CLIENT.replace('<id:memberCode>20511268401</id:memberCode>', '<xrd:memberCode>20511268401</xrd:memberCode>') })),
      'Client.InvalidClientIdentifier', /falta id:memberCode/);
  });

  it('refuses bad service identifiers; the version is optional', () => {
    assert.equal(readRequest(request({ service: SERVICE.replace('<id:serviceVersion>v1</id:serviceVersion>', '') })).header?.service.serviceVersion, undefined);
    rejectsWith(() => readRequest(request({ service: SERVICE.replace('"SERVICE"', '"SUBSYSTEM"') })), 'Client.InvalidServiceIdentifier', /SERVICE/);
    rejectsWith(() => readRequest(request({ service: SERVICE.replace('<id:serviceCode>consultarPersona</id:serviceCode>', '') })), 'Client.InvalidServiceIdentifier', /serviceCode/);
    rejectsWith(() => readRequest(request({ service: SERVICE.replace('<id:subsystemCode>RUPN</id:subsystemCode>', '') })), 'Client.InvalidServiceIdentifier', /subsystemCode/);
    rejectsWith(() => readRequest(request({ service: SERVICE.replace('v1', 'v 1') })), 'Client.InvalidServiceIdentifier', /serviceVersion/);
  });

  for (const [field, over] of [
    ['xrd:client', { client: '' }],
    ['xrd:service', { service: '' }],
    ['xrd:id', { id: '' }],
    ['xrd:protocolVersion', { protocolVersion: '' }],
  ] as const) {
    it(`a missing ${field} → Client.MissingHeaderField naming it`, () => {
      rejectsWith(() => readRequest(request(over)), 'Client.MissingHeaderField', new RegExp(`^${field}$`));
    });
  }

  for (const [field, over] of [
    ['xrd:client', { client: CLIENT + CLIENT }],
    ['xrd:service', { service: SERVICE + SERVICE }],
    ['xrd:id', { id: '<xrd:id>a</xrd:id><xrd:id>b</xrd:id>' }],
    ['xrd:userId', { userId: '<xrd:userId>a</xrd:userId><xrd:userId>a</xrd:userId>' }],
    ['xrd:protocolVersion', { protocolVersion: '<xrd:protocolVersion>4.0</xrd:protocolVersion><xrd:protocolVersion>4.0</xrd:protocolVersion>' }],
    ['miis:convenio', { extra: '<miis:convenio>a</miis:convenio><miis:convenio>b</miis:convenio>' }],
  ] as const) {
    it(`a duplicate ${field} → Client.InvalidHeaderField`, () => {
      rejectsWith(() => readRequest(request(over)), 'Client.InvalidHeaderField', new RegExp(`^${field} \\(aparece más de una vez\\)`));
    });
  }

  it('text fields must be 1 to 255 characters of plain text', () => {
    rejectsWith(() => readRequest(request({ id: '<xrd:id>   </xrd:id>' })), 'Client.InvalidHeaderField', /^xrd:id/);
    rejectsWith(() => readRequest(request({ id: `<xrd:id>${'a'.repeat(256)}</xrd:id>` })), 'Client.InvalidHeaderField', /^xrd:id/);
    assert.equal(readRequest(request({ id: `<xrd:id>${'a'.repeat(255)}</xrd:id>` })).header?.id.length, 255);
    rejectsWith(() => readRequest(request({ id: '<xrd:id>a<b/></xrd:id>' })), 'Client.InvalidHeaderField', /^xrd:id/);
    rejectsWith(() => readRequest(request({ userId: '<xrd:userId></xrd:userId>' })), 'Client.InvalidHeaderField', /^xrd:userId/);
    rejectsWith(() => readRequest(request({ extra: '<miis:finalidad/>' })), 'Client.InvalidHeaderField', /^miis:finalidad/);
    // escaped text is read decoded
    assert.equal(readRequest(request({ id: '<xrd:id>a&amp;b</xrd:id>' })).header?.id, 'a&b');
  });

  it('only protocol version 4.0 is accepted', () => {
    rejectsWith(() => readRequest(request({ protocolVersion: '<xrd:protocolVersion>3.1</xrd:protocolVersion>' })), 'Client.InvalidProtocolVersion', /3\.1/);
  });

  it('fields in another namespace are not X-Road fields', () => {
    rejectsWith(() => readRequest(request({ id: '<miis:id>x</miis:id>' })), 'Client.MissingHeaderField', /^xrd:id$/);
  });
});

describe('readSoapMessage: the SOAP envelope', () => {
  it('refuses what is not a SOAP 1.1 envelope', () => {
    rejectsWith(() => readRequest('<Envelope/>'), 'Client.InvalidSoap', /Envelope/);
    rejectsWith(() => readRequest(`<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body/></e:Envelope>`), 'Client.InvalidSoap');
    rejectsWith(() => readRequest(`<SOAP-ENV:Envelope ${NS}>${headerXml()}</SOAP-ENV:Envelope>`), 'Client.InvalidSoap', /falta el elemento Body/);
    rejectsWith(() => readRequest(`<SOAP-ENV:Envelope ${NS}><SOAP-ENV:Body>${BODY}</SOAP-ENV:Body>${headerXml()}</SOAP-ENV:Envelope>`), 'Client.InvalidSoap', /fuera de orden/);
    rejectsWith(() => readRequest(`<SOAP-ENV:Envelope ${NS}>${headerXml()}<SOAP-ENV:Body>${BODY}</SOAP-ENV:Body><SOAP-ENV:Body/></SOAP-ENV:Envelope>`), 'Client.InvalidSoap', /repetido/);
    rejectsWith(() => readRequest(`<SOAP-ENV:Envelope ${NS}>${headerXml()}<x/><SOAP-ENV:Body>${BODY}</SOAP-ENV:Body></SOAP-ENV:Envelope>`), 'Client.InvalidSoap', /inesperado/);
    rejectsWith(() => readRequest(envelope(headerXml(), '')), 'Client.InvalidSoap', /vacío/);
    rejectsWith(() => readRequest(envelope(headerXml(), BODY + BODY)), 'Client.InvalidSoap', /un solo elemento/);
    rejectsWith(() => readRequest(envelope(headerXml(), '<SOAP-ENV:Fault><faultcode>x</faultcode><faultstring>y</faultstring></SOAP-ENV:Fault>')), 'Client.InvalidSoap', /Fault/);
  });

  it('a request needs the X-Road header', () => {
    rejectsWith(() => readRequest(envelope('')), 'Client.MissingHeaderField', /SOAP-ENV:Header/);
    rejectsWith(() => readRequest(envelope('<SOAP-ENV:Header/>')), 'Client.MissingHeaderField', /^xrd:client$/);
    rejectsWith(() => readResponse(envelope('')), 'Client.MissingHeaderField');
  });

  it('passes on the parser’s XML faults', () => {
    rejectsWith(() => readRequest('<SOAP-ENV:Envelope'), 'Client.InvalidXml');
    rejectsWith(() => readRequest(`<!DOCTYPE x><SOAP-ENV:Envelope ${NS}/>`), 'Client.DtdNotAllowed');
    rejectsWith(() => readRequest(request({}, '<a>&ent;</a>')), 'Client.EntityNotAllowed');
    rejectsWith(() => readSoapMessage(request(), 'request', { maxBytes: 100, maxDepth: 32, maxElements: 1000 }), 'Client.MessageTooLarge');
    rejectsWith(() => readSoapMessage(request(), 'request', { maxBytes: 100_000, maxDepth: 3, maxElements: 1000 }), 'Client.XmlTooDeep');
  });

  it('reads a fault response, with or without a header', () => {
    const fault = '<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring> DNI no válido </faultstring><detail><faultDetail xmlns="urn:x">abc</faultDetail></detail></SOAP-ENV:Fault>';
    const bare = readResponse(envelope('', fault));
    assert.equal(bare.header, undefined);
    assert.deepEqual(bare.fault, { faultCode: 'SOAP-ENV:Client', faultString: 'DNI no válido', faultDetail: 'abc' });
    const echoed = readResponse(envelope(headerXml(), fault));
    assert.equal(echoed.header?.id, 'msg-1');
    assert.equal(echoed.fault?.faultCode, 'SOAP-ENV:Client');
    // a header holding only the requestHash is not an X-Road header
    const hashOnly = readResponse(envelope(`<SOAP-ENV:Header><xrd:requestHash algorithmId="${REQUEST_HASH_ALGORITHM}">x</xrd:requestHash></SOAP-ENV:Header>`, fault));
    assert.equal(hashOnly.header, undefined);
    assert.ok(hashOnly.headerElement !== undefined);
  });
});

describe('addRequestHash', () => {
  const req = readRequest(request());
  const expectedHash = computeRequestHash(req.raw);
  const hashXml = `<xrd:requestHash xmlns:xrd="${XROAD_NS}" algorithmId="${REQUEST_HASH_ALGORITHM}">${expectedHash}</xrd:requestHash>`;

  it('is the base64 SHA-512 of the exact request bytes', () => {
    assert.equal(Buffer.from(expectedHash, 'base64').length, 64);
    const other = Buffer.concat([req.raw, Buffer.from(' ')]);
    assert.notEqual(computeRequestHash(other), expectedHash);
  });

  it('inserts at the end of a header and keeps every other byte (non-ASCII, CRLF)', () => {
    const text = envelope(`\r\n<SOAP-ENV:Header>\r\n  ${CLIENT}${SERVICE}<xrd:id>msg-1</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion><miis:finalidad>Ñandú 🦙</miis:finalidad>\r\n</SOAP-ENV:Header>\r\n`,
      '<r:respuesta xmlns:r="urn:r"><nombre>MUÑOZ 🦙</nombre></r:respuesta>');
    const response = readResponse(text);
    const out = addRequestHash(response, req.raw).toString('utf8');
    const at = out.indexOf(hashXml);
    assert.ok(at > 0);
    assert.equal(out.slice(0, at) + out.slice(at + hashXml.length), text);
    assert.equal(out.slice(at - 2, at), '\r\n');
    assert.ok(out.startsWith('</SOAP-ENV:Header>\r\n<SOAP-ENV:Body>', at + hashXml.length));
    const reread = readResponse(out);
    assert.deepEqual(reread.header?.requestHash, { algorithmId: REQUEST_HASH_ALGORITHM, value: expectedHash });
    assert.equal(checkConsistency(req, reread), null);
  });

  const FAULT = '<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>x</faultstring></SOAP-ENV:Fault>';

  it('opens a self-closing header in place, keeping its attributes', () => {
    const text = envelope('<SOAP-ENV:Header xmlns:x="urn:x" />', FAULT);
    const out = addRequestHash(readResponse(text), req.raw).toString('utf8');
    assert.equal(out, text.replace('<SOAP-ENV:Header xmlns:x="urn:x" />', `<SOAP-ENV:Header xmlns:x="urn:x" >${hashXml}</SOAP-ENV:Header>`));
    assert.equal(readResponse(out).headerElement?.children[0]?.local, 'requestHash');
  });

  it('fills an empty non-self-closing header', () => {
    const text = envelope('<SOAP-ENV:Header></SOAP-ENV:Header>', FAULT);
    const out = addRequestHash(readResponse(text), req.raw).toString('utf8');
    assert.equal(out, text.replace('<SOAP-ENV:Header></SOAP-ENV:Header>', `<SOAP-ENV:Header>${hashXml}</SOAP-ENV:Header>`));
  });

  it('adds a header before the Body when there is none, with the envelope’s prefix (or none)', () => {
    const fault = '<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>x</faultstring></SOAP-ENV:Fault>';
    const text = envelope('', fault);
    const out = addRequestHash(readResponse(text), req.raw).toString('utf8');
    assert.equal(out, text.replace('<SOAP-ENV:Body>', `<SOAP-ENV:Header>${hashXml}</SOAP-ENV:Header><SOAP-ENV:Body>`));
    const reread = readResponse(out);
    assert.equal(reread.fault?.faultCode, 'SOAP-ENV:Server');
    // a fault without echoed headers is consistent when its requestHash matches
    assert.equal(checkConsistency(req, reread), null);

    const unprefixed = `<Envelope xmlns="${SOAP_ENV_NS}"><Body><Fault><faultcode>Server</faultcode><faultstring>x</faultstring></Fault></Body></Envelope>`;
    const out2 = addRequestHash(readResponse(unprefixed), req.raw).toString('utf8');
    assert.equal(out2, unprefixed.replace('<Body>', `<Header>${hashXml}</Header><Body>`));
    assert.equal(readResponse(out2).headerElement?.uri, SOAP_ENV_NS);
  });

  it('keeps a UTF-8 byte-order mark', () => {
    const text = envelope(headerXml(), '<r:ok xmlns:r="urn:r"/>');
    const raw = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    const out = addRequestHash(readResponse(raw), req.raw);
    const expected = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text.replace('</SOAP-ENV:Header>', `${hashXml}</SOAP-ENV:Header>`), 'utf8')]);
    assert.ok(out.equals(expected));
  });
});

describe('checkConsistency', () => {
  const req = readRequest(request());
  const respond = (over: Partial<Fields> = {}): SoapMessage => {
    const response = readResponse(envelope(headerXml(over), '<r:ok xmlns:r="urn:r"/>'));
    return readResponse(addRequestHash(response, req.raw));
  };

  it('accepts a response that echoes the headers and carries the right requestHash', () => {
    assert.equal(checkConsistency(req, respond()), null);
    // MIIS headers are not part of the echo check
    assert.equal(checkConsistency(req, respond({ extra: '' })), null);
  });

  for (const [field, over] of [
    ['xrd:client', { client: CLIENT.replace('JUNTOS', 'OTRO') }],
    ['xrd:service', { service: SERVICE.replace('v1', 'v2') }],
    ['xrd:service', { service: SERVICE.replace('consultarPersona', 'consultarHogar') }],
    ['xrd:id', { id: '<xrd:id>msg-2</xrd:id>' }],
    ['xrd:userId', { userId: '' }],
    ['xrd:userId', { userId: '<xrd:userId>PE99999999</xrd:userId>' }],
  ] as const) {
    it(`detects a different ${field} (${JSON.stringify(over).slice(0, 60)})`, () => {
      assert.deepEqual(checkConsistency(req, respond(over)), { field });
    });
  }

  it('detects a different protocol version', () => {
    const r = respond();
    const other: SoapMessage = { ...r, header: { ...(r.header as NonNullable<SoapMessage['header']>), protocolVersion: '4.1' } };
    assert.deepEqual(checkConsistency(req, other), { field: 'xrd:protocolVersion' });
  });

  it('requires the requestHash, with the SHA-512 algorithm, over these request bytes', () => {
    const noHash = readResponse(envelope(headerXml(), '<r:ok xmlns:r="urn:r"/>'));
    assert.deepEqual(checkConsistency(req, noHash), { field: 'xrd:requestHash (falta)' });
    const forOther = readResponse(addRequestHash(noHash, Buffer.concat([req.raw, Buffer.from('\n')])));
    assert.deepEqual(checkConsistency(req, forOther), { field: 'xrd:requestHash' });
    const wrongAlg = readResponse(addRequestHash(noHash, req.raw).toString('utf8').replace(REQUEST_HASH_ALGORITHM, 'http://www.w3.org/2001/04/xmlenc#sha256'));
    assert.deepEqual(checkConsistency(req, wrongAlg), { field: 'xrd:requestHash' });
  });

  it('a response without a header is inconsistent unless it is a fault with the right requestHash', () => {
    const fault = '<SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>x</faultstring></SOAP-ENV:Fault>';
    const bareFault = readResponse(envelope('', fault));
    assert.deepEqual(checkConsistency(req, bareFault), { field: 'respuesta sin cabecera' });
    const emptyHeaderFault = readResponse(envelope('<SOAP-ENV:Header/>', fault));
    assert.deepEqual(checkConsistency(req, emptyHeaderFault), { field: 'xrd:requestHash (falta)' });
    const hashedForOther = readResponse(addRequestHash(bareFault, Buffer.from('otra solicitud')));
    assert.deepEqual(checkConsistency(req, hashedForOther), { field: 'xrd:requestHash' });
    const reqWithoutHeader: SoapMessage = { ...req, header: undefined };
    assert.deepEqual(checkConsistency(reqWithoutHeader, respond()), { field: 'solicitud sin cabecera' });
  });
});

describe('buildFault', () => {
  it('escapes markup in code, text and id and reads back to the same strings', () => {
    const raw = buildFault('Client.<x>&"\'', 'El valor «<b>» & \'c\' "d" no es válido', 'id-<&>');
    const text = raw.toString('utf8');
    assert.ok(!text.includes('<b>'));
    assert.match(text, /&lt;b&gt;/);
    assert.match(text, /&amp;/);
    const m = readResponse(raw);
    assert.equal(m.header, undefined);
    assert.deepEqual(m.fault, { faultCode: 'Client.<x>&"\'', faultString: 'El valor «<b>» & \'c\' "d" no es válido', faultDetail: 'id-<&>' });
    assert.equal(m.payload?.uri, SOAP_ENV_NS);
    assert.equal(m.payload?.children.find((c) => c.local === 'detail')?.children[0]?.uri, XROAD_NS);
  });

  it('faultFromError carries the code, the Spanish message and the error’s fault id', () => {
    const err = new MiisError('Client.InvalidHeaderField', 'xrd:id <vacío>');
    const m = readResponse(faultFromError(err));
    assert.equal(m.fault?.faultCode, 'Client.InvalidHeaderField');
    assert.equal(m.fault?.faultString, 'La cabecera xrd:id <vacío> no es válida');
    assert.equal(m.fault?.faultDetail, err.faultId);
  });
});
