import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { childNs, parseXml, type XmlDocument, type XmlElement } from '../../core/xml.js';
import { generateSandboxData, indexSandboxData, isCseVigente } from '../../scripts/sandbox/data.js';
import {
  DEFAULT_MAX_REQUEST_BYTES, MIDIS_NS, RENIEC_NS, limaDay, startMidisBackend, startReniecBackend, type RunningBackend,
} from '../../scripts/sandbox/backends.js';

const SOAP_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const EXAMPLE_DNI = '97346816';

const data = generateSandboxData();
const index = indexSandboxData(data);
let clock = new Date('2026-11-26T15:00:00Z');
let reniec: RunningBackend;
let midis: RunningBackend;

before(async () => {
  reniec = await startReniecBackend({ data });
  midis = await startMidisBackend({ data, now: () => clock });
});

after(async () => {
  await reniec.close();
  await midis.close();
});

function example(name: string): string {
  return readFileSync(`${EXAMPLES}${name}.xml`, 'utf8');
}

/** An example request with its body's inner XML replaced. */
function withBody(name: string, inner: string): string {
  return example(name).replace(/(<(ren|mid):(consultar\w+)>)[\s\S]*?(<\/\2:\3>)/, `$1${inner}$4`);
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; raw: Buffer; type: string | null }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/xml; charset=utf-8', ...headers } });
  return { status: res.status, raw: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

function soapBody(doc: XmlDocument): XmlElement {
  assert.equal(doc.root.uri, SOAP_ENV);
  assert.equal(doc.root.local, 'Envelope');
  const body = childNs(doc.root, SOAP_ENV, 'Body');
  assert.ok(body !== undefined);
  return body.children[0]!;
}

function text(el: XmlElement, ns: string, local: string): string | undefined {
  return childNs(el, ns, local)?.text;
}

function readFault(raw: Buffer): { code: string; message: string } {
  const fault = soapBody(parseXml(raw));
  assert.equal(fault.local, 'Fault');
  return { code: childNs(fault, '', 'faultcode')!.text, message: childNs(fault, '', 'faultstring')!.text };
}

/** Exact bytes of the SOAP Header element of a message. */
function headerBytes(raw: Buffer): Buffer {
  const doc = parseXml(raw);
  const header = childNs(doc.root, SOAP_ENV, 'Header');
  assert.ok(header !== undefined, 'sin Header');
  return Buffer.from(doc.text.slice(header.start, header.end), 'utf8');
}

test('examples use a DNI present in the default data set, with household and CSE', () => {
  assert.ok(index.personByDni.has(EXAMPLE_DNI));
  const hogar = index.householdByDni.get(EXAMPLE_DNI);
  assert.ok(hogar !== undefined && index.cseByHousehold.has(hogar.codigoHogar));
  for (const name of ['consultarPersona', 'consultarHogar', 'consultarCSE']) {
    const doc = parseXml(Buffer.from(example(name)));
    const req = soapBody(doc);
    assert.equal(req.local, name);
    assert.equal(childNs(req, req.uri, 'dni')?.text, EXAMPLE_DNI);
  }
});

test('consultarPersona: found person, header echoed byte for byte', async () => {
  const request = example('consultarPersona');
  const res = await post(reniec.url, request);
  assert.equal(res.status, 200);
  assert.match(res.type ?? '', /^text\/xml/);
  assert.ok(headerBytes(res.raw).equals(headerBytes(Buffer.from(request))));
  const resp = soapBody(parseXml(res.raw));
  assert.equal(resp.uri, RENIEC_NS);
  assert.equal(resp.local, 'consultarPersonaResponse');
  assert.equal(text(resp, RENIEC_NS, 'encontrado'), 'true');
  const persona = childNs(resp, RENIEC_NS, 'persona')!;
  const expected = index.personByDni.get(EXAMPLE_DNI)!;
  for (const field of ['dni', 'prenombres', 'primerApellido', 'segundoApellido', 'fechaNacimiento', 'sexo', 'estadoCivil', 'ubigeo'] as const) {
    assert.equal(text(persona, RENIEC_NS, field), expected[field], field);
  }
  assert.equal(text(persona, RENIEC_NS, 'fallecido'), String(expected.fallecido));
});

test('consultarPersona: header with unusual prefixes and non-ASCII is echoed exactly', async () => {
  const request = example('consultarPersona')
    .replace('EXP-JUNTOS-2026-000123', 'Expediente Ñuñoa &amp; «año» 2026')
    .replaceAll('xrd:', 'x:').replace('xmlns:xrd=', 'xmlns:x=');
  const res = await post(reniec.url, request);
  assert.equal(res.status, 200);
  assert.ok(headerBytes(res.raw).equals(headerBytes(Buffer.from(request))));
  assert.ok(res.raw.includes(Buffer.from('Expediente Ñuñoa &amp; «año» 2026')));
});

test('consultarPersona: DNI with its check digit is found; every person of a sample answers', async () => {
  const p = data.persons[123]!;
  const res = await post(reniec.url, withBody('consultarPersona', `<ren:dni>${p.dni}-${p.checkDigit}</ren:dni>`));
  assert.equal(res.status, 200);
  const persona = childNs(soapBody(parseXml(res.raw)), RENIEC_NS, 'persona')!;
  assert.equal(text(persona, RENIEC_NS, 'dni'), p.dni);
  assert.equal(text(persona, RENIEC_NS, 'prenombres'), p.prenombres);
});

test('consultarPersona: unknown DNI → encontrado=false without persona', async () => {
  const res = await post(reniec.url, withBody('consultarPersona', '<ren:dni>10117410</ren:dni>'));
  assert.equal(res.status, 200);
  const resp = soapBody(parseXml(res.raw));
  assert.equal(text(resp, RENIEC_NS, 'encontrado'), 'false');
  assert.equal(childNs(resp, RENIEC_NS, 'persona'), undefined);
});

test('invalid input → SOAP 1.1 Client fault in Spanish', async () => {
  const cases: [string, RegExp][] = [
    [withBody('consultarPersona', '<ren:dni>12AB</ren:dni>'), /8 dígitos/],
    [withBody('consultarPersona', `<ren:dni>${EXAMPLE_DNI}-0</ren:dni>`), /verificación/],
    [withBody('consultarPersona', ''), /falta el elemento dni/],
    [example('consultarHogar'), /Operación no admitida/],
    ['esto no es XML', /XML bien formado/],
    ['<a xmlns="urn:x"/>', /sobre SOAP/],
    ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>', /DOCTYPE/],
  ];
  for (const [body, message] of cases) {
    const res = await post(reniec.url, body);
    assert.equal(res.status, 500, body);
    const fault = readFault(res.raw);
    assert.equal(fault.code, 'SOAP-ENV:Client');
    assert.match(fault.message, message);
  }
});

test('oversize requests → 413 fault (declared length and chunked)', async () => {
  const filler = `<!--${'x'.repeat(DEFAULT_MAX_REQUEST_BYTES)}-->`;
  const big = example('consultarPersona').replace('<SOAP-ENV:Body>', `<SOAP-ENV:Body>${filler}`);
  const res = await post(reniec.url, big);
  assert.equal(res.status, 413);
  assert.match(readFault(res.raw).message, /tamaño máximo/);

  const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(reniec.url, { method: 'POST', headers: { 'content-type': 'text/xml', 'transfer-encoding': 'chunked' } }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => { body += c; });
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    for (let i = 0; i < 10; i++) req.write(filler.slice(0, 10_000));
    req.end();
  });
  assert.equal(chunked.status, 413);
  assert.match(chunked.body, /faultstring/);
});

test('only POST; GET gets 405', async () => {
  const res = await fetch(reniec.url);
  assert.equal(res.status, 405);
  assert.match(await res.text(), /Use POST/);
});

test('connections are kept alive', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const body = example('consultarPersona');
  const once = (): Promise<boolean> => new Promise((resolve, reject) => {
    const req = httpRequest(reniec.url, { method: 'POST', agent, headers: { 'content-type': 'text/xml' } }, (r) => {
      r.resume();
      r.on('end', () => resolve(req.reusedSocket));
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(await once(), false);
  assert.equal(await once(), true);
  assert.equal(await once(), true);
  agent.destroy();
});

test('consultarHogar by DNI and by code give the same household', async () => {
  const hogar = index.householdByDni.get(EXAMPLE_DNI)!;
  const byDni = await post(midis.url, example('consultarHogar'));
  const byCode = await post(midis.url, withBody('consultarHogar', `<mid:codigoHogar>${hogar.codigoHogar}</mid:codigoHogar>`));
  assert.equal(byDni.status, 200);
  assert.ok(headerBytes(byDni.raw).equals(headerBytes(Buffer.from(example('consultarHogar')))));
  const a = soapBody(parseXml(byDni.raw));
  const b = soapBody(parseXml(byCode.raw));
  assert.equal(a.local, 'consultarHogarResponse');
  assert.equal(a.uri, MIDIS_NS);
  for (const resp of [a, b]) {
    assert.equal(text(resp, MIDIS_NS, 'encontrado'), 'true');
    assert.equal(text(resp, MIDIS_NS, 'codigoHogar'), hogar.codigoHogar);
    assert.equal(text(resp, MIDIS_NS, 'ubigeo'), hogar.ubigeo);
    const miembros = childNs(resp, MIDIS_NS, 'miembros')!.children;
    assert.equal(miembros.length, hogar.miembros.length);
    miembros.forEach((m, i) => {
      const p = index.personByDni.get(hogar.miembros[i]!.dni)!;
      assert.equal(text(m, MIDIS_NS, 'dni'), p.dni);
      assert.equal(text(m, MIDIS_NS, 'nombres'), `${p.prenombres} ${p.primerApellido} ${p.segundoApellido}`);
      assert.equal(text(m, MIDIS_NS, 'parentesco'), hogar.miembros[i]!.parentesco);
    });
  }
});

test('consultarHogar: person outside the PGH or unknown code → encontrado=false; both keys → fault', async () => {
  const outside = data.persons.find((p) => !index.householdByDni.has(p.dni))!;
  for (const inner of [`<mid:dni>${outside.dni}</mid:dni>`, '<mid:codigoHogar>NO-EXISTE</mid:codigoHogar>', '<mid:dni>10117410</mid:dni>']) {
    const res = await post(midis.url, withBody('consultarHogar', inner));
    assert.equal(res.status, 200);
    const resp = soapBody(parseXml(res.raw));
    assert.equal(text(resp, MIDIS_NS, 'encontrado'), 'false');
    assert.equal(childNs(resp, MIDIS_NS, 'miembros'), undefined);
  }
  const both = await post(midis.url, withBody('consultarHogar', `<mid:dni>${EXAMPLE_DNI}</mid:dni><mid:codigoHogar>X</mid:codigoHogar>`));
  assert.equal(both.status, 500);
  assert.match(readFault(both.raw).message, /exactamente uno/);
  const neither = await post(midis.url, withBody('consultarHogar', ''));
  assert.match(readFault(neither.raw).message, /exactamente uno/);
});

test('consultarCSE: classification with vigente evaluated on the injected clock (Lima date)', async () => {
  const hogar = index.householdByDni.get(EXAMPLE_DNI)!;
  const cse = index.cseByHousehold.get(hogar.codigoHogar)!;
  const ask = async (): Promise<XmlElement> => soapBody(parseXml((await post(midis.url, example('consultarCSE'))).raw));

  clock = new Date(`${cse.fechaFin}T23:00:00Z`); // 18:00 in Lima on the last day
  let resp = await ask();
  assert.equal(limaDay(clock), cse.fechaFin);
  assert.equal(text(resp, MIDIS_NS, 'encontrado'), 'true');
  assert.equal(text(resp, MIDIS_NS, 'codigoHogar'), cse.codigoHogar);
  assert.equal(text(resp, MIDIS_NS, 'clasificacion'), cse.clasificacion);
  assert.equal(text(resp, MIDIS_NS, 'fechaInicio'), cse.fechaInicio);
  assert.equal(text(resp, MIDIS_NS, 'fechaFin'), cse.fechaFin);
  assert.equal(text(resp, MIDIS_NS, 'vigente'), 'true');

  const dayAfter = new Date(`${cse.fechaFin}T00:00:00Z`).getTime() + 86_400_000;
  clock = new Date(dayAfter + 6 * 3_600_000); // 01:00 the next day in Lima
  resp = await ask();
  assert.equal(text(resp, MIDIS_NS, 'vigente'), 'false');
  assert.equal(isCseVigente(cse, limaDay(clock)), false);
});

test('consultarCSE: household without CSE and unknown DNI → encontrado=false', async () => {
  const unclassified = data.households.find((h) => !index.cseByHousehold.has(h.codigoHogar))!;
  for (const dni of [unclassified.miembros[0]!.dni, '10117410']) {
    const res = await post(midis.url, withBody('consultarCSE', `<mid:dni>${dni}</mid:dni>`));
    const resp = soapBody(parseXml(res.raw));
    assert.equal(text(resp, MIDIS_NS, 'encontrado'), 'false');
    assert.equal(childNs(resp, MIDIS_NS, 'clasificacion'), undefined);
  }
});

test('many concurrent requests on few connections all answer correctly', async () => {
  const sample = data.persons.slice(0, 400);
  const results = await Promise.all(sample.map(async (p) => {
    const res = await post(reniec.url, withBody('consultarPersona', `<ren:dni>${p.dni}</ren:dni>`));
    return text(childNs(soapBody(parseXml(res.raw)), RENIEC_NS, 'persona')!, RENIEC_NS, 'primerApellido');
  }));
  assert.deepEqual(results, sample.map((p) => p.primerApellido));
});
