/**
 * Golden exchanges: every folder under test/fixtures/exchanges/ is one case (request.xml,
 * response.xml, case.json; format in that folder's README.md). One sandbox (central + the six
 * nodes, backends and registries, real mutual TLS on loopback) serves all of them: each request
 * goes byte for byte to the IS port of the node the case names, through the consumer node, the
 * provider node and the backend, and the answer is compared with the stored one. Adding a case is
 * adding a folder; this file lists the folder and needs no change.
 *
 * Compared: HTTP status; the SOAP Body (canonical text: whitespace between tags removed, the
 * placeholders {{uuid}} and {{any}} standing for variable text); for a success, the header echoes
 * client, service and xrd:id and carries the requestHash of the exact bytes sent; for a fault, the
 * faultcode, a UUID faultDetail that the originating node logged under the same code.
 *
 * GOLDEN_WRITE_ACTUAL=1 writes response.actual.xml next to a case whose response is missing or
 * differs, for review (never read by the runner; git ignores it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { FAULTS, type FaultCode } from '../../core/errors.js';
import { ID_NS, XROAD_NS, formatClientId, formatServiceId } from '../../core/identifiers.js';
import { REQUEST_HASH_ALGORITHM, SOAP_ENV_NS, computeRequestHash, readSoapMessage } from '../../core/soap.js';
import { attrNs, childNs, parseXml, parseXmlText, type XmlElement } from '../../core/xml.js';
import type { AgreementPlan } from '../../scripts/sandbox/provision.js';
import { JUNTOS_CLIENT, SERVICES, startSandbox, type RunningSandbox, SANDBOX_PORT_SPAN } from '../../scripts/sandbox/run.js';
import { sqliteLog } from '../helpers/node-log.js';
import { freeBasePort } from '../helpers/net.js';

/** dist/test/e2e/x.js → <worktree>/test/fixtures/exchanges (tsc does not copy fixtures). */
export const EXCHANGES_DIR = fileURLToPath(new URL('../../../test/fixtures/exchanges/', import.meta.url));

/** Sandbox size: the default of `npm start`, so every DNI in the cases also exists there. */
const PERSONS = 12_000;

/** Agreements the runner adds to the sandbox's own, for refusal cases (listed in the README). */
export const GOLDEN_AGREEMENTS: readonly AgreementPlan[] = [
  { id: 'CONV-900-VENCIDO', provider: 'PE/GOB/20295613620', clients: [JUNTOS_CLIENT], services: [SERVICES.consultarPersona], purposes: ['FOCALIZACION'], from: '2024-01-01', until: '2025-12-31' },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PLACEHOLDERS: Readonly<Record<string, string>> = { uuid: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', any: '[^<]*' };
const DEFAULT_CONTENT_TYPE = 'text/xml; charset=utf-8';

export interface GoldenCase {
  readonly description: string;
  /** Sandbox node whose IS port receives the request (juntos, pension65, …). */
  readonly node: string;
  /** Client and service the request claims in its header; null when it has none (malformed request). */
  readonly client: string | null;
  readonly service: string | null;
  readonly status: number;
  /** Expected faultcode, null for a success. */
  readonly faultCode: string | null;
  /** Node whose fault log must hold the faultDetail UUID (MIIS faults); absent for successes and service faults. */
  readonly faultOrigin?: string;
  readonly contentType?: string;
  /** Send the request this many times (default 1): all but the last must answer 200; the last is compared. */
  readonly sendTimes?: number;
}

const KEYS = new Set(['description', 'node', 'client', 'service', 'status', 'faultCode', 'faultOrigin', 'contentType', 'sendTimes']);

/** Read and check a case.json strictly (unknown keys are typos). */
export function parseCase(text: string): GoldenCase {
  const raw = JSON.parse(text) as Record<string, unknown>;
  assert.ok(typeof raw === 'object' && raw !== null && !Array.isArray(raw), 'case.json debe ser un objeto');
  for (const k of Object.keys(raw)) assert.ok(KEYS.has(k), `case.json: clave desconocida «${k}»`);
  const str = (k: string): void => assert.equal(typeof raw[k], 'string', `case.json: «${k}» debe ser texto`);
  const strOrNull = (k: string): void => assert.ok(raw[k] === null || typeof raw[k] === 'string', `case.json: «${k}» debe ser texto o null`);
  str('description');
  str('node');
  strOrNull('client');
  strOrNull('service');
  strOrNull('faultCode');
  assert.ok(Number.isInteger(raw.status), 'case.json: «status» debe ser un entero');
  if (raw.faultOrigin !== undefined) str('faultOrigin');
  if (raw.contentType !== undefined) str('contentType');
  if (raw.sendTimes !== undefined) assert.ok(Number.isInteger(raw.sendTimes) && (raw.sendTimes as number) >= 1, 'case.json: «sendTimes» debe ser un entero ≥ 1');
  if (raw.faultCode === null) assert.equal(raw.faultOrigin, undefined, 'case.json: «faultOrigin» solo para fallas');
  return raw as unknown as GoldenCase;
}

/** The case folders, sorted (a folder is a case when it holds a case.json). */
export function listCases(root = EXCHANGES_DIR): string[] {
  return readdirSync(root).filter((n) => statSync(join(root, n)).isDirectory() && existsSync(join(root, n, 'case.json'))).sort();
}

const canon = (xml: string): string => xml.replace(/>\s+</g, '><').trim();

function bodyOf(root: XmlElement): XmlElement {
  const body = childNs(root, SOAP_ENV_NS, 'Body');
  assert.ok(body !== undefined, 'el sobre no tiene Body');
  return body;
}

/** Canonical text of the Body's content. */
export function canonicalBody(xml: string): string {
  const doc = parseXmlText(xml);
  const body = bodyOf(doc.root);
  return canon(doc.text.slice(body.contentStart, body.contentEnd));
}

/** Does the actual canonical body match the expected one, placeholders standing for variable text? */
export function matchesExpected(actual: string, expected: string): boolean {
  const parts = expected.split(/\{\{(\w+)\}\}/);
  const re = parts.map((p, i) => {
    if (i % 2 === 0) return p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = PLACEHOLDERS[p];
    assert.ok(pattern !== undefined, `marcador desconocido {{${p}}} en response.xml`);
    return pattern;
  }).join('');
  return new RegExp(`^${re}$`).test(actual);
}

/** Client, service and id the request claims, read leniently (a refused request may be broken elsewhere). */
function claimed(raw: Buffer): { client: string | null; service: string | null; id: string | null } {
  const none = { client: null, service: null, id: null };
  let root: XmlElement;
  try {
    root = parseXml(raw).root;
  } catch {
    return none;
  }
  const header = childNs(root, SOAP_ENV_NS, 'Header');
  if (header === undefined) return none;
  const idText = (el: XmlElement | undefined, parts: readonly string[]): string | null => {
    if (el === undefined) return null;
    const values = parts.map((p) => childNs(el, ID_NS, p)?.text.trim()).filter((v): v is string => v !== undefined);
    return values.length === 0 ? null : values.join('/');
  };
  return {
    client: idText(childNs(header, XROAD_NS, 'client'), ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode']),
    service: idText(childNs(header, XROAD_NS, 'service'), ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion']),
    id: childNs(header, XROAD_NS, 'id')?.text.trim() ?? null,
  };
}

/** A minimal pretty printer for element-only XML (what the services answer), for response.actual.xml. */
function pretty(xml: string, depth: number): string {
  const tokens = canon(xml).match(/<[^>]+>|[^<]+/g) ?? [];
  const pad = (d: number): string => '  '.repeat(d);
  let out = '';
  let d = depth;
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i] as string;
    const next = tokens[i + 1];
    const after2 = tokens[i + 2];
    if (t.startsWith('</')) {
      d -= 1;
      out += `${pad(d)}${t}\n`;
    } else if (!t.startsWith('<') || t.endsWith('/>')) {
      out += `${pad(d)}${t}\n`;
    } else if (next !== undefined && !next.startsWith('<') && after2?.startsWith('</')) {
      out += `${pad(d)}${t}${next}${after2}\n`;
      i += 2;
    } else if (next?.startsWith('</')) {
      out += `${pad(d)}${t}${next}\n`;
      i += 1;
    } else {
      out += `${pad(d)}${t}\n`;
      d += 1;
    }
  }
  return out;
}

/** The response as a response.xml candidate: Envelope and Body only, faultDetail UUIDs as {{uuid}}. */
function asExpected(text: string): string {
  const doc = parseXmlText(text);
  const root = doc.root;
  const body = bodyOf(root);
  const start = doc.text.slice(root.start, root.contentStart);
  const inner = doc.text.slice(body.start, body.end).replace(/(<faultDetail\b[^>]*>)[0-9a-f-]{36}</g, '$1{{uuid}}<');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${start}\n${pretty(inner, 1)}</${root.name}>\n`;
}

describe('golden exchanges (test/fixtures/exchanges)', () => {
  const names = listCases();
  let dir: string;
  let sb: RunningSandbox;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miis-golden-'));
    const basePort = await freeBasePort(SANDBOX_PORT_SPAN);
    sb = await startSandbox({ dir, basePort, persons: PERSONS, extraAgreements: GOLDEN_AGREEMENTS });
  });
  after(async () => {
    await sb?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the case folders, each with a distinct xrd:id', () => {
    assert.ok(names.length > 0, `no hay casos en ${EXCHANGES_DIR}`);
    const seen = new Map<string, string>();
    for (const name of names) {
      const id = claimed(readFileSync(join(EXCHANGES_DIR, name, 'request.xml'))).id;
      if (id === null) continue;
      assert.ok(!seen.has(id), `${name} y ${seen.get(id)} usan el mismo xrd:id ${id}`);
      seen.set(id, name);
    }
  });

  for (const name of names) {
    const folder = join(EXCHANGES_DIR, name);
    let c: GoldenCase;
    try {
      c = parseCase(readFileSync(join(folder, 'case.json'), 'utf8'));
    } catch (err) {
      it(`${name}: case.json`, () => { throw err; });
      continue;
    }
    it(`${name}: ${c.description}`, async () => {
      const request = readFileSync(join(folder, 'request.xml'));
      const expectedPath = join(folder, 'response.xml');
      const claims = claimed(request);
      assert.equal(claims.client, c.client, 'case.json «client» no es el que dice request.xml');
      assert.equal(claims.service, c.service, 'case.json «service» no es el que dice request.xml');
      if (c.faultCode !== null && c.faultCode in FAULTS) {
        assert.equal(c.status, FAULTS[c.faultCode as FaultCode].http, `case.json «status» no es el de ${c.faultCode} en core/errors.ts`);
      }
      const node = sb.nodes.get(c.node);
      assert.ok(node !== undefined, `case.json «node»: no hay nodo ${c.node} en el sandbox`);

      let res = { status: 0, text: '' };
      const times = c.sendTimes ?? 1;
      for (let i = 1; i <= times; i += 1) {
        const r = await fetch(node.isUrl, { method: 'POST', headers: { 'content-type': c.contentType ?? DEFAULT_CONTENT_TYPE }, body: new Uint8Array(request) });
        res = { status: r.status, text: await r.text() };
        if (i < times) assert.equal(res.status, 200, `envío ${i} de ${times}: ${res.text}`);
      }

      const actualBody = canonicalBody(res.text);
      const expected = existsSync(expectedPath) ? readFileSync(expectedPath, 'utf8') : undefined;
      const same = expected !== undefined && matchesExpected(actualBody, canonicalBody(expected));
      if (!same && process.env.GOLDEN_WRITE_ACTUAL === '1') writeFileSync(join(folder, 'response.actual.xml'), asExpected(res.text));
      assert.ok(expected !== undefined, `falta ${expectedPath} (GOLDEN_WRITE_ACTUAL=1 escribe response.actual.xml para revisar)`);
      if (!same) assert.equal(actualBody, canonicalBody(expected), `el Body de la respuesta no es el de ${name}/response.xml`);
      assert.equal(res.status, c.status, res.text);

      const msg = readSoapMessage(Buffer.from(res.text, 'utf8'), 'response');
      const hashEl = msg.headerElement === undefined ? undefined : childNs(msg.headerElement, XROAD_NS, 'requestHash');
      if (c.faultCode === null) {
        assert.equal(msg.fault, undefined, res.text);
        const h = msg.header;
        assert.ok(h !== undefined, 'la respuesta no tiene cabecera X-Road');
        assert.equal(formatClientId(h.client), c.client);
        assert.equal(formatServiceId(h.service), c.service);
        assert.equal(h.id, claims.id);
        assert.ok(hashEl !== undefined, 'falta xrd:requestHash');
      } else {
        assert.ok(msg.fault !== undefined, `se esperaba la falla ${c.faultCode}: ${res.text}`);
        assert.equal(msg.fault.faultCode, c.faultCode, msg.fault.faultString);
        if (c.faultCode in FAULTS) {
          const [pre = ''] = FAULTS[c.faultCode as FaultCode].message.split('{detail}');
          assert.ok(msg.fault.faultString.startsWith(pre), `faultstring «${msg.fault.faultString}» no es el texto de ${c.faultCode}`);
          assert.match(msg.fault.faultDetail ?? '', UUID);
        }
        if (c.faultOrigin !== undefined) {
          const origin = sb.nodes.get(c.faultOrigin);
          assert.ok(origin !== undefined, `case.json «faultOrigin»: no hay nodo ${c.faultOrigin}`);
          const logged = sqliteLog(origin).faults(1000).find((f) => f.faultId === msg.fault?.faultDetail);
          assert.ok(logged !== undefined, `${msg.fault.faultDetail} no está en el registro de fallas de ${c.faultOrigin}`);
          assert.equal(logged.code, c.faultCode);
        }
      }
      // whenever the provider answered (a success or a service fault), the requestHash is that of the bytes sent
      if (hashEl !== undefined) {
        assert.equal(attrNs(hashEl, '', 'algorithmId'), REQUEST_HASH_ALGORITHM);
        assert.equal(hashEl.text.trim(), computeRequestHash(request));
      }
    });
  }
});

describe('golden exchange runner helpers', () => {
  it('placeholders stand for a UUID or text without tags, nothing else', () => {
    const expected = '<f><d>{{uuid}}</d><s>El convenio {{any}}</s></f>';
    assert.ok(matchesExpected('<f><d>ac6e4960-c009-452b-9aa2-6825f77efcdd</d><s>El convenio X venció</s></f>', expected));
    assert.ok(!matchesExpected('<f><d>no-es-uuid</d><s>El convenio X</s></f>', expected));
    assert.ok(!matchesExpected('<f><d>ac6e4960-c009-452b-9aa2-6825f77efcdd</d><s>El convenio <b>X</b></s></f>', expected));
    assert.ok(!matchesExpected('<a>x.y</a>', '<a>x{{uuid}}</a>'));
    assert.ok(!matchesExpected('<a>xzy</a>', '<a>x.y</a>'), 'the rest is literal, not a pattern');
    assert.throws(() => matchesExpected('<a/>', '<a>{{fecha}}</a>'), /marcador desconocido/);
  });

  it('the Body is compared without the whitespace between tags', () => {
    const env = (body: string): string => `<S:Envelope xmlns:S="${SOAP_ENV_NS}"><S:Header><h>1</h></S:Header><S:Body>${body}</S:Body></S:Envelope>`;
    assert.equal(canonicalBody(env('\n  <r>\n    <a>x y</a>\n  </r>\n')), '<r><a>x y</a></r>');
    assert.notEqual(canonicalBody(env('<r><a>x y</a></r>')), canonicalBody(env('<r><a>x  y</a></r>')));
  });

  it('case.json is read strictly', () => {
    const good = { description: 'd', node: 'juntos', client: null, service: null, status: 500, faultCode: 'Client.InvalidXml', faultOrigin: 'juntos' };
    assert.equal(parseCase(JSON.stringify(good)).faultOrigin, 'juntos');
    assert.throws(() => parseCase(JSON.stringify({ ...good, faultcode: 'x' })), /clave desconocida «faultcode»/);
    assert.throws(() => parseCase(JSON.stringify({ ...good, status: '500' })), /status/);
    assert.throws(() => parseCase(JSON.stringify({ ...good, faultCode: null })), /faultOrigin/);
    assert.throws(() => parseCase(JSON.stringify({ ...good, sendTimes: 0 })), /sendTimes/);
  });
});
