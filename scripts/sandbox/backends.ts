/**
 * Sandbox backends: plain HTTP SOAP servers on loopback standing in for the entities' own
 * information systems, i.e. what a provider node calls.
 *   RENIEC (RUPN): consultarPersona, consultarPersonas (batch of 1 to 1,000 DNI),
 *                  reportarBrechaIdentificacion (writing: identification gaps, writes.ts)
 *   MIDIS (PGH):   consultarHogar, consultarCSE
 *   MIDIS (RNU):   registrarAfiliacionHogar (writing: household affiliation into the RNU database, writes.ts)
 * Contracts: wsdl/reniec.wsdl, wsdl/midis.wsdl, wsdl/afiliacion.wsdl.
 *
 * Each request is an X-Road 4.0 SOAP 1.1 message. As X-Road services do, the response copies
 * the request's SOAP Header element byte for byte (located with parseXml's offsets; nothing is
 * re-serialised) and answers in the Body with the `<operation>Response` element. Unknown keys
 * answer `encontrado=false`; malformed input answers a SOAP 1.1 Fault with a Spanish
 * faultstring. Responses come from string templates and Map lookups (the benchmark pushes
 * thousands of requests per second through these servers); connections are kept alive.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Database from 'better-sqlite3';
import type { AddressInfo } from 'node:net';
import { checkDni } from '../../core/peru-ids.js';
import { parseXml, type XmlDocument, type XmlElement, type XmlLimits } from '../../core/xml.js';
import { MiisError } from '../../core/errors.js';
import { readBoundedBody } from '../../runtime/bounded-body.js';
import { limaDate } from '../../core/business-days.js';
import { reply } from '../../runtime/http-reply.js';
import {
  indexSandboxData, isCseVigente,
  type Cse, type Hogar, type Persona, type SandboxData, type SandboxIndex,
} from './data.js';
import { AFILIACION_NS, createBrechaReport, createHogarAffiliation, InputError } from './writes.js';

export const RENIEC_NS = 'http://miis.midis.gob.pe/servicios/reniec';
export const MIDIS_NS = 'http://miis.midis.gob.pe/servicios/midis';
const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
const CONTENT_TYPE = 'text/xml; charset=utf-8';

/** Default request size limit; the requests these services take are a few KB at most. */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024;
/** DNI per consultarPersonas request (wsdl/reniec.wsdl: maxOccurs). */
export const MAX_BATCH_DNI = 1000;

export interface BackendOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  data: SandboxData;
  /** Requests larger than this get a fault with HTTP 413. Default DEFAULT_MAX_REQUEST_BYTES. */
  maxRequestBytes?: number;
  /** Clock for the CSE `vigente` flag (evaluated on the date in Lima, UTC−5) and the writing services. Default: system time. */
  now?: () => Date;
  /** RENIEC: SQLite file of reported identification gaps (created if missing); default: in memory. */
  brechasDb?: string;
  /** MIDIS: the RNU's SQLite file (registries.ts); without it registrarAfiliacionHogar is not offered. */
  rnuDb?: string;
}

export interface RunningBackend {
  /** e.g. http://127.0.0.1:40123/ */
  readonly url: string;
  /** HTTP requests received so far (any method, any outcome); tests check nothing reached the backend. */
  readonly requests: number;
  close(): Promise<void>;
}

export interface BackendReply {
  readonly status: number;
  readonly body: Buffer;
}

/** Answers the response element for a request element (and the SOAP Header, if any), or throws a BackendFault. */
type Operation = (request: XmlElement, header: XmlElement | undefined) => string;

const XROAD_NS = 'http://x-road.eu/xsd/xroad.xsd';
const IDENTIFIERS_NS = 'http://x-road.eu/xsd/identifiers';

/** The calling client INSTANCE/CLASS/CODE[/SUBSYSTEM] from the X-Road header (the node checked it). */
function clientOf(header: XmlElement | undefined): string {
  const client = header?.children.find((c) => c.local === 'client' && c.uri === XROAD_NS);
  const part = (local: string): string | undefined => client?.children.find((c) => c.local === local && c.uri === IDENTIFIERS_NS)?.text.trim();
  const parts = [part('xRoadInstance'), part('memberClass'), part('memberCode')];
  if (parts.some((p) => p === undefined || p.length === 0)) throw new BackendFault('Client', 'Solicitud no válida: falta el cliente X-Road (xrd:client) en la cabecera');
  const sub = part('subsystemCode');
  return [...parts, ...(sub === undefined || sub.length === 0 ? [] : [sub])].join('/');
}

function userIdOf(header: XmlElement | undefined): string | undefined {
  return header?.children.find((c) => c.local === 'userId' && c.uri === XROAD_NS)?.text.trim();
}

/** A fault the service itself answers (bad input): SOAP 1.1 faultcode and Spanish faultstring. */
class BackendFault extends Error {
  constructor(readonly faultcode: 'Client' | 'Server', message: string, readonly status = 500) {
    super(message);
  }
}

// --- Services (pure: bytes in, reply out) ---------------------------------------------------

/** RENIEC's service as a function of the raw request, for use over HTTP or in process. */
export function createReniecService(
  data: SandboxData,
  limits?: Partial<XmlLimits>,
  writes?: { brechas: Database.Database; now: () => Date },
): (raw: Uint8Array) => BackendReply {
  const personXml = new Map<string, string>();
  for (const p of data.persons) personXml.set(p.dni, renderPersona(p));
  const operations: Record<string, Operation> = {
    consultarPersona: (request) => {
      const dni = readDni(request, RENIEC_NS);
      const persona = personXml.get(dni);
      return persona === undefined
        ? `<consultarPersonaResponse xmlns="${RENIEC_NS}"><encontrado>false</encontrado></consultarPersonaResponse>`
        : `<consultarPersonaResponse xmlns="${RENIEC_NS}"><encontrado>true</encontrado>${persona}</consultarPersonaResponse>`;
    },
    consultarPersonas: (request) => {
      const dnis = readDnis(request, RENIEC_NS, MAX_BATCH_DNI);
      let out = `<consultarPersonasResponse xmlns="${RENIEC_NS}">`;
      for (const dni of dnis) {
        const persona = personXml.get(dni);
        out += persona === undefined
          ? `<resultado><dni>${dni}</dni><encontrado>false</encontrado></resultado>`
          : `<resultado><dni>${dni}</dni><encontrado>true</encontrado>${persona}</resultado>`;
      }
      return `${out}</consultarPersonasResponse>`;
    },
  };
  if (writes !== undefined) {
    const report = createBrechaReport(writes.brechas, RENIEC_NS);
    operations.reportarBrechaIdentificacion = (request, header) => report(request, clientOf(header), userIdOf(header), writes.now());
  }
  return createSoapService({ [RENIEC_NS]: operations }, limits);
}

/** A REST request the sandbox backend answers (method, path with query, body). */
export type RestService = (method: string, path: string, body: Buffer) => { status: number; body: Buffer } | undefined;

/**
 * RENIEC's REST persona service (X-Road REST, described by wsdl/reniec-personas.openapi.json):
 * `GET /personas/{dni}` → 200 JSON persona or 404; `POST /personas/consulta` with
 * `{"dnis": [...]}` (1 to 100) → 200 `{"resultados": [...]}`. Anything else: undefined (not REST).
 */
export function createReniecRestService(data: SandboxData): RestService {
  const byDni = new Map(data.persons.map((p) => [p.dni, p] as const));
  const json = (status: number, value: unknown): { status: number; body: Buffer } => ({ status, body: Buffer.from(JSON.stringify(value), 'utf8') });
  const persona = (p: Persona): Record<string, unknown> => ({
    dni: p.dni, prenombres: p.prenombres, primerApellido: p.primerApellido, segundoApellido: p.segundoApellido,
    fechaNacimiento: p.fechaNacimiento, sexo: p.sexo, estadoCivil: p.estadoCivil, ubigeo: p.ubigeo, fallecido: p.fallecido,
  });
  return (method, path, body) => {
    const get = /^\/personas\/([^/?]*)(\?.*)?$/.exec(path);
    if (method === 'GET' && get !== null) {
      const dni = checkDni(decodeURIComponent(get[1] as string));
      if (!dni.ok) return json(400, { error: `DNI no válido: ${dni.reason}` });
      const p = byDni.get(dni.value.dni);
      return p === undefined ? json(404, { error: 'No se encontró a la persona' }) : json(200, persona(p));
    }
    if (method === 'POST' && path === '/personas/consulta') {
      let dnis: unknown;
      try {
        dnis = (JSON.parse(body.toString('utf8')) as { dnis?: unknown }).dnis;
      } catch {
        return json(400, { error: 'El cuerpo no es JSON' });
      }
      if (!Array.isArray(dnis) || dnis.length === 0 || dnis.length > 100) return json(400, { error: 'Envíe {"dnis": [...]} con 1 a 100 DNI' });
      return json(200, { resultados: dnis.map((d) => {
        const c = checkDni(String(d));
        const p = c.ok ? byDni.get(c.value.dni) : undefined;
        return p === undefined ? { dni: String(d), encontrado: false } : { dni: p.dni, encontrado: true, persona: persona(p) };
      }) });
    }
    return undefined;
  };
}

/** MIDIS's service (consultarHogar, consultarCSE) as a function of the raw request. */
export function createMidisService(
  data: SandboxData,
  now: () => Date = () => new Date(),
  limits?: Partial<XmlLimits>,
  rnu?: Database.Database,
): (raw: Uint8Array) => BackendReply {
  const index = indexSandboxData(data);
  const householdXml = new Map<string, string>();
  for (const h of data.households) householdXml.set(h.codigoHogar, renderHogar(h, index));
  const notFoundHogar = `<consultarHogarResponse xmlns="${MIDIS_NS}"><encontrado>false</encontrado></consultarHogarResponse>`;
  const operations: Record<string, Operation> = {
    consultarHogar: (request) => {
      const hogar = findHogar(request, index);
      const xml = hogar === undefined ? undefined : householdXml.get(hogar.codigoHogar);
      return xml === undefined
        ? notFoundHogar
        : `<consultarHogarResponse xmlns="${MIDIS_NS}"><encontrado>true</encontrado>${xml}</consultarHogarResponse>`;
    },
    consultarCSE: (request) => {
      const dni = readDni(request, MIDIS_NS);
      const hogar = index.householdByDni.get(dni);
      const cse = hogar === undefined ? undefined : index.cseByHousehold.get(hogar.codigoHogar);
      return renderCse(cse, limaDay(now()));
    },
  };
  const services: Record<string, Record<string, Operation>> = { [MIDIS_NS]: operations };
  if (rnu !== undefined) {
    const affiliate = createHogarAffiliation(rnu, index);
    services[AFILIACION_NS] = { registrarAfiliacionHogar: (request, header) => affiliate(request, clientOf(header), now()) };
  }
  return createSoapService(services, limits);
}

/** Operations by namespace, then by request element name. */
function createSoapService(services: Record<string, Record<string, Operation>>, limits?: Partial<XmlLimits>): (raw: Uint8Array) => BackendReply {
  const xmlLimits: XmlLimits = { maxBytes: DEFAULT_MAX_REQUEST_BYTES, maxDepth: 32, maxElements: 2_000, ...limits };
  return (raw) => {
    try {
      const doc = parseXml(raw, xmlLimits);
      const { envelope, header, request } = readEnvelope(doc);
      const operations = Object.prototype.hasOwnProperty.call(services, request.uri) ? services[request.uri] : undefined;
      if (operations === undefined || !Object.prototype.hasOwnProperty.call(operations, request.local)) {
        throw new BackendFault('Client', `Operación no admitida por este servicio: {${request.uri}}${request.local}`);
      }
      const responseElement = operations[request.local]!(request, header);
      return { status: 200, body: Buffer.from(renderResponse(doc, envelope, header, responseElement), 'utf8') };
    } catch (err) {
      return replyFault(err);
    }
  };
}

function readEnvelope(doc: XmlDocument): { envelope: XmlElement; header: XmlElement | undefined; request: XmlElement } {
  const envelope = doc.root;
  if (envelope.local !== 'Envelope' || envelope.uri !== SOAP_ENV_NS) {
    throw new BackendFault('Client', 'El mensaje no es un sobre SOAP 1.1');
  }
  let header: XmlElement | undefined;
  let body: XmlElement | undefined;
  for (const child of envelope.children) {
    if (child.uri !== SOAP_ENV_NS) continue;
    if (child.local === 'Header' && header === undefined && body === undefined) header = child;
    else if (child.local === 'Body' && body === undefined) body = child;
  }
  if (body === undefined) throw new BackendFault('Client', 'El sobre SOAP no tiene Body');
  const request = body.children[0];
  if (request === undefined) throw new BackendFault('Client', 'El Body del mensaje está vacío');
  return { envelope, header, request };
}

/**
 * The response reuses the request's Envelope start tag (so every namespace prefix the copied
 * header relies on stays declared) and the Header element's exact text.
 */
function renderResponse(doc: XmlDocument, envelope: XmlElement, header: XmlElement | undefined, responseElement: string): string {
  const envelopeStart = doc.text.slice(envelope.start, envelope.contentStart);
  const headerText = header === undefined ? '' : doc.text.slice(header.start, header.end);
  const p = envelope.prefix === '' ? '' : `${envelope.prefix}:`;
  return `${XML_DECLARATION}${envelopeStart}${headerText}<${p}Body>${responseElement}</${p}Body></${envelope.name}>`;
}

function replyFault(err: unknown): BackendReply {
  let code: 'Client' | 'Server' = 'Server';
  let message = 'Error interno del servicio';
  let status = 500;
  if (err instanceof BackendFault) {
    code = err.faultcode;
    message = err.message;
    status = err.status;
  } else if (err instanceof InputError) {
    code = 'Client';
    message = err.message;
  } else if (err instanceof MiisError) {
    code = 'Client';
    message = err.message;
    status = err.code === 'Client.MessageTooLarge' ? 413 : 500;
  }
  return { status, body: Buffer.from(renderFault(code, message), 'utf8') };
}

export function renderFault(code: 'Client' | 'Server', message: string): string {
  return `${XML_DECLARATION}<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP_ENV_NS}"><SOAP-ENV:Body><SOAP-ENV:Fault>` +
    `<faultcode>SOAP-ENV:${code}</faultcode><faultstring>${escapeXml(message)}</faultstring>` +
    `</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

// --- Reading requests -----------------------------------------------------------------------

/** The child element with this local name, in the service namespace (or unqualified, leniently). */
function findChild(request: XmlElement, ns: string, local: string): XmlElement | undefined {
  for (const c of request.children) if (c.local === local && (c.uri === ns || c.uri === '')) return c;
  return undefined;
}

function readDni(request: XmlElement, ns: string): string {
  const el = findChild(request, ns, 'dni');
  if (el === undefined) throw new BackendFault('Client', `Solicitud no válida: falta el elemento dni en ${request.local}`);
  return validateDniText(el.text);
}

/** Every dni child of a batch request (1 to `max`), validated, in order. */
function readDnis(request: XmlElement, ns: string, max: number): string[] {
  const els = request.children.filter((c) => c.local === 'dni' && (c.uri === ns || c.uri === ''));
  if (els.length === 0) throw new BackendFault('Client', `Solicitud no válida: falta el elemento dni en ${request.local}`);
  if (els.length > max) throw new BackendFault('Client', `Solicitud no válida: ${els.length} elementos dni (máximo ${max})`);
  return els.map((el) => validateDniText(el.text));
}

function validateDniText(text: string): string {
  const result = checkDni(text);
  if (!result.ok) throw new BackendFault('Client', `Solicitud no válida: ${result.reason}`);
  return result.value.dni;
}

function findHogar(request: XmlElement, index: SandboxIndex): Hogar | undefined {
  const dniEl = findChild(request, MIDIS_NS, 'dni');
  const codeEl = findChild(request, MIDIS_NS, 'codigoHogar');
  if ((dniEl === undefined) === (codeEl === undefined)) {
    throw new BackendFault('Client', 'Solicitud no válida: consultarHogar lleva exactamente uno de los elementos dni o codigoHogar');
  }
  if (dniEl !== undefined) return index.householdByDni.get(validateDniText(dniEl.text));
  const code = codeEl!.text.trim();
  if (code.length === 0 || code.length > 32) {
    throw new BackendFault('Client', 'Solicitud no válida: el código de hogar debe tener de 1 a 32 caracteres');
  }
  return index.householdByCode.get(code);
}

// --- Rendering responses --------------------------------------------------------------------

function renderPersona(p: Persona): string {
  return `<persona><dni>${p.dni}</dni><prenombres>${escapeXml(p.prenombres)}</prenombres>` +
    `<primerApellido>${escapeXml(p.primerApellido)}</primerApellido><segundoApellido>${escapeXml(p.segundoApellido)}</segundoApellido>` +
    `<fechaNacimiento>${p.fechaNacimiento}</fechaNacimiento><sexo>${p.sexo}</sexo><estadoCivil>${p.estadoCivil}</estadoCivil>` +
    `<ubigeo>${p.ubigeo}</ubigeo><fallecido>${p.fallecido}</fallecido></persona>`;
}

function renderHogar(h: Hogar, index: SandboxIndex): string {
  let miembros = '';
  for (const m of h.miembros) {
    const p = index.personByDni.get(m.dni);
    const nombres = p === undefined ? '' : `${p.prenombres} ${p.primerApellido} ${p.segundoApellido}`;
    miembros += `<miembro><dni>${m.dni}</dni><nombres>${escapeXml(nombres)}</nombres><parentesco>${m.parentesco}</parentesco></miembro>`;
  }
  return `<codigoHogar>${escapeXml(h.codigoHogar)}</codigoHogar><ubigeo>${h.ubigeo}</ubigeo><miembros>${miembros}</miembros>`;
}

function renderCse(cse: Cse | undefined, today: string): string {
  if (cse === undefined) {
    return `<consultarCSEResponse xmlns="${MIDIS_NS}"><encontrado>false</encontrado></consultarCSEResponse>`;
  }
  return `<consultarCSEResponse xmlns="${MIDIS_NS}"><encontrado>true</encontrado>` +
    `<codigoHogar>${escapeXml(cse.codigoHogar)}</codigoHogar><clasificacion>${cse.clasificacion}</clasificacion>` +
    `<fechaInicio>${cse.fechaInicio}</fechaInicio><fechaFin>${cse.fechaFin}</fechaFin>` +
    `<vigente>${isCseVigente(cse, today)}</vigente></consultarCSEResponse>`;
}

/** Calendar date in Lima (the CSE's `vigente` is evaluated on it). */
export const limaDay = limaDate;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => (c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === '"' ? '&quot;' : '&apos;'));
}

// --- HTTP -----------------------------------------------------------------------------------

export function startReniecBackend(opts: BackendOptions): Promise<RunningBackend> {
  const maxBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const db = openWritable(opts.brechasDb ?? ':memory:');
  return startHttp(opts, createReniecService(opts.data, { maxBytes }, { brechas: db, now: opts.now ?? (() => new Date()) }), () => db.close(), createReniecRestService(opts.data));
}

export function startMidisBackend(opts: BackendOptions): Promise<RunningBackend> {
  const maxBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  const rnu = opts.rnuDb === undefined ? undefined : openWritable(opts.rnuDb);
  return startHttp(opts, createMidisService(opts.data, opts.now, { maxBytes }, rnu), () => rnu?.close());
}

function openWritable(path: string): Database.Database {
  const db = new Database(path);
  if (path !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

function startHttp(opts: BackendOptions, service: (raw: Uint8Array) => BackendReply, release: () => void = () => undefined, rest?: RestService): Promise<RunningBackend> {
  const maxBytes = opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
  let requests = 0;
  const server = createServer((req, res) => {
    requests += 1;
    if (rest !== undefined && (req.url ?? '').startsWith('/personas')) {
      readBoundedBody(req, maxBytes).then((r) => {
        if (!r.ok) return refuseTooLarge(req, res, maxBytes);
        const out = rest(req.method ?? '', req.url ?? '', r.body);
        if (out === undefined) return reply(res, 404, 'application/json; charset=utf-8', '{"error":"No existe"}');
        return reply(res, out.status, 'application/json; charset=utf-8', out.body);
      }, () => res.destroy());
      return;
    }
    handleHttp(req, res, service, maxBytes);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const host = opts.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const failed = (err: Error): void => {
      release();
      reject(err);
    };
    server.once('error', failed);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', failed);
      const { port } = server.address() as AddressInfo;
      const hostPart = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${hostPart}:${port}/`,
        get requests() { return requests; },
        close: () => new Promise<void>((done, fail) => {
          server.close((err) => {
            release();
            return err === undefined ? done() : fail(err);
          });
          server.closeAllConnections();
        }),
      });
    });
  });
}

function handleHttp(req: IncomingMessage, res: ServerResponse, service: (raw: Uint8Array) => BackendReply, maxBytes: number): void {
  if (req.method !== 'POST') {
    req.resume();
    send(res, 405, renderFault('Client', 'Use POST con un mensaje SOAP'), { allow: 'POST' });
    return;
  }
  readBoundedBody(req, maxBytes).then((r) => {
    if (!r.ok) return refuseTooLarge(req, res, maxBytes);
    const reply = service(r.body);
    send(res, reply.status, reply.body);
  }, () => res.destroy());
}

function refuseTooLarge(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  send(res, 413, renderFault('Client', `El mensaje supera el tamaño máximo permitido (${maxBytes} bytes)`), { connection: 'close' });
  req.resume();
}

const send = (res: ServerResponse, status: number, body: string | Buffer, extra: Record<string, string> = {}): void => reply(res, status, CONTENT_TYPE, body, extra);
