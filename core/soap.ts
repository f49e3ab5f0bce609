/**
 * SOAP 1.1 with X-Road message protocol 4.0 headers and the MIIS header namespace.
 * Reading keeps the raw bytes and the decoded text; nothing here re-serialises a message.
 */
import { sha512Base64 } from './digest.js';
import { MiisError, type FaultCode } from './errors.js';
import { ID_NS, XROAD_NS, escapeXml, type ClientId, type ServiceId } from './identifiers.js';
import { attrNs, childNs, parseXml, type XmlDocument, type XmlElement, type XmlLimits } from './xml.js';

export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const MIIS_NS = 'http://miis.midis.gob.pe/xsd/miis.xsd';
export const PROTOCOL_VERSION = '4.0';
export const REQUEST_HASH_ALGORITHM = 'http://www.w3.org/2001/04/xmlenc#sha512';

export interface RequestHash {
  readonly algorithmId: string;
  readonly value: string;
}

export interface XRoadHeader {
  readonly client: ClientId;
  readonly service: ServiceId;
  readonly id: string;
  readonly userId?: string | undefined;
  readonly issue?: string | undefined;
  readonly protocolVersion: string;
  readonly requestHash?: RequestHash | undefined;
  /** MIIS: the agreement the request is made under (directive 6.4). */
  readonly convenio?: string | undefined;
  /** MIIS: the purpose of the request (directive 6.5). */
  readonly finalidad?: string | undefined;
}

export interface SoapFaultInfo {
  readonly faultCode: string;
  readonly faultString: string;
  readonly faultDetail?: string | undefined;
}

export interface SoapMessage {
  readonly raw: Buffer;
  readonly doc: XmlDocument;
  /** Absent only for a fault response without header. */
  readonly header: XRoadHeader | undefined;
  readonly headerElement: XmlElement | undefined;
  readonly body: XmlElement;
  /** First element inside Body (the operation element or the Fault). */
  readonly payload: XmlElement | undefined;
  readonly fault: SoapFaultInfo | undefined;
}

export const DEFAULT_SOAP_LIMITS: XmlLimits = { maxBytes: 2 * 1024 * 1024, maxDepth: 32, maxElements: 50_000 };

const MAX_TEXT = 255;

/**
 * Read a SOAP request (`kind: 'request'`: X-Road headers required) or response (`'response'`: headers
 * required unless the body is a Fault). Throws MiisError with a Client.* code describing the problem.
 */
export function readSoapMessage(raw: Buffer, kind: 'request' | 'response', limits: XmlLimits = DEFAULT_SOAP_LIMITS): SoapMessage {
  const doc = parseXml(raw, limits);
  const envelope = doc.root;
  if (envelope.local !== 'Envelope' || envelope.uri !== SOAP_ENV_NS) {
    throw new MiisError('Client.InvalidSoap', `el elemento raíz debe ser Envelope en ${SOAP_ENV_NS}`);
  }
  let headerElement: XmlElement | undefined;
  let body: XmlElement | undefined;
  for (const child of envelope.children) {
    if (child.uri !== SOAP_ENV_NS) throw new MiisError('Client.InvalidSoap', `elemento inesperado «${child.name}» en Envelope`);
    if (child.local === 'Header' && headerElement === undefined && body === undefined) headerElement = child;
    else if (child.local === 'Body' && body === undefined) body = child;
    else throw new MiisError('Client.InvalidSoap', `elemento «${child.name}» repetido o fuera de orden en Envelope`);
  }
  if (body === undefined) throw new MiisError('Client.InvalidSoap', 'falta el elemento Body');
  if (body.children.length > 1) throw new MiisError('Client.InvalidSoap', 'Body debe contener un solo elemento');
  const payload = body.children[0];
  const fault = payload !== undefined && payload.local === 'Fault' && payload.uri === SOAP_ENV_NS ? readFault(payload) : undefined;
  if (fault !== undefined && kind === 'request') throw new MiisError('Client.InvalidSoap', 'una solicitud no puede contener Fault');
  if (payload === undefined && kind === 'request') throw new MiisError('Client.InvalidSoap', 'Body está vacío');

  let header: XRoadHeader | undefined;
  if (headerElement !== undefined && (fault === undefined || hasXRoadHeader(headerElement))) {
    header = readXRoadHeader(headerElement);
  } else if (fault === undefined) {
    throw new MiisError('Client.MissingHeaderField', 'SOAP-ENV:Header (con client, service, id y protocolVersion)');
  }
  return { raw, doc, header, headerElement, body, payload, fault };
}

/** A fault carries X-Road headers when it echoes the client; a service fault may carry only the requestHash. */
function hasXRoadHeader(el: XmlElement): boolean {
  return el.children.some((c) => c.uri === XROAD_NS && c.local === 'client');
}

function readFault(el: XmlElement): SoapFaultInfo {
  const code = el.children.find((c) => c.local === 'faultcode');
  const text = el.children.find((c) => c.local === 'faultstring');
  const detail = el.children.find((c) => c.local === 'detail');
  const faultDetail = detail?.children.find((c) => c.local === 'faultDetail');
  return { faultCode: (code?.text ?? '').trim(), faultString: (text?.text ?? '').trim(), faultDetail: faultDetail?.text.trim() };
}

/** The header fields readXRoadHeader reads (namespace URI and local name): index in a HeaderFields. */
const HEADER_FIELDS: readonly (readonly [string, string])[] = [
  [XROAD_NS, 'client'], [XROAD_NS, 'service'], [XROAD_NS, 'id'], [XROAD_NS, 'protocolVersion'], [XROAD_NS, 'requestHash'],
  [XROAD_NS, 'userId'], [XROAD_NS, 'issue'], [MIIS_NS, 'convenio'], [MIIS_NS, 'finalidad'],
];
const F_CLIENT = 0;
const F_SERVICE = 1;
const F_ID = 2;
const F_PROTOCOL_VERSION = 3;
const F_REQUEST_HASH = 4;
const F_USER_ID = 5;
const F_ISSUE = 6;
const F_CONVENIO = 7;
const F_FINALIDAD = 8;

/**
 * Per name (namespace URI, local name), the first child of `el` with it, or null when there are
 * several (reported when the field is read, in the order the fields always were); one pass over
 * the children. Used for the X-Road header's fields and for an identifier's parts.
 */
type ChildrenOnce = (XmlElement | null | undefined)[];

function childrenOnce(el: XmlElement, names: readonly (readonly [string, string])[]): ChildrenOnce {
  const found: ChildrenOnce = new Array<XmlElement | null | undefined>(names.length).fill(undefined);
  for (const c of el.children) {
    const uri = c.uri;
    const local = c.local;
    for (let f = 0; f < names.length; f += 1) {
      const [fu, fl] = names[f]!;
      if (fl !== local || fu !== uri) continue;
      found[f] = found[f] === undefined ? c : null;
      break;
    }
  }
  return found;
}

/** The header's children that are known fields (HEADER_FIELDS). */
type HeaderFields = ChildrenOnce;

function headerFields(header: XmlElement): HeaderFields {
  return childrenOnce(header, HEADER_FIELDS);
}

function single(fields: HeaderFields, field: number, label: string): XmlElement | undefined {
  const el = fields[field];
  if (el === null) throw new MiisError('Client.InvalidHeaderField', `${label} (aparece más de una vez)`);
  return el;
}

function textField(fields: HeaderFields, field: number, label: string, required: boolean): string | undefined {
  const el = single(fields, field, label);
  if (el === undefined) {
    if (required) throw new MiisError('Client.MissingHeaderField', label);
    return undefined;
  }
  const value = el.text.trim();
  if (value.length === 0 || value.length > MAX_TEXT || el.children.length > 0) {
    throw new MiisError('Client.InvalidHeaderField', `${label} (debe ser texto de 1 a ${MAX_TEXT} caracteres)`);
  }
  return value;
}

export function readXRoadHeader(header: XmlElement): XRoadHeader {
  const fields = headerFields(header);
  const clientEl = single(fields, F_CLIENT, 'xrd:client');
  if (clientEl === undefined) throw new MiisError('Client.MissingHeaderField', 'xrd:client');
  const serviceEl = single(fields, F_SERVICE, 'xrd:service');
  if (serviceEl === undefined) throw new MiisError('Client.MissingHeaderField', 'xrd:service');
  const id = textField(fields, F_ID, 'xrd:id', true) as string;
  const protocolVersion = textField(fields, F_PROTOCOL_VERSION, 'xrd:protocolVersion', true) as string;
  if (protocolVersion !== PROTOCOL_VERSION) throw new MiisError('Client.InvalidProtocolVersion', `«${protocolVersion}»`);
  const hashEl = single(fields, F_REQUEST_HASH, 'xrd:requestHash');
  return {
    client: readClientId(clientEl),
    service: readServiceId(serviceEl),
    id,
    userId: textField(fields, F_USER_ID, 'xrd:userId', false),
    issue: textField(fields, F_ISSUE, 'xrd:issue', false),
    protocolVersion,
    requestHash: hashEl === undefined ? undefined : { algorithmId: attrNs(hashEl, '', 'algorithmId') ?? '', value: hashEl.text.trim() },
    convenio: textField(fields, F_CONVENIO, 'miis:convenio', false),
    finalidad: textField(fields, F_FINALIDAD, 'miis:finalidad', false),
  };
}

const ID_PART = /^[A-Za-z0-9._\-]{1,64}$/;

/** The parts of an identifier readClientId and readServiceId read (local names in ID_NS): index in IdParts. */
const ID_PARTS = ['xRoadInstance', 'memberClass', 'memberCode', 'subsystemCode', 'serviceCode', 'serviceVersion'] as const;
const P_INSTANCE = 0;
const P_MEMBER_CLASS = 1;
const P_MEMBER_CODE = 2;
const P_SUBSYSTEM = 3;
const P_SERVICE_CODE = 4;
const P_SERVICE_VERSION = 5;

const ID_PART_NAMES: readonly (readonly [string, string])[] = ID_PARTS.map((local) => [ID_NS, local] as const);

/** Per part (ID_PARTS), the first such child of an identifier, or null when there are several. */
type IdParts = ChildrenOnce;

function idParts(el: XmlElement): IdParts {
  return childrenOnce(el, ID_PART_NAMES);
}

function idPart(parts: IdParts, part: number, required: boolean, code: FaultCode): string | undefined {
  const found = parts[part];
  const local = ID_PARTS[part]!;
  if (found === undefined) {
    if (required) throw new MiisError(code, `falta id:${local}`);
    return undefined;
  }
  if (found === null) throw new MiisError(code, `id:${local} aparece más de una vez`);
  const value = found.text.trim();
  if (!ID_PART.test(value)) throw new MiisError(code, `id:${local} «${value.slice(0, 64)}» debe tener de 1 a 64 caracteres entre A-Z, a-z, 0-9, punto, guion y guion bajo`);
  return value;
}

function readClientId(el: XmlElement): ClientId {
  const type = attrNs(el, ID_NS, 'objectType');
  if (type !== 'MEMBER' && type !== 'SUBSYSTEM') {
    throw new MiisError('Client.InvalidClientIdentifier', `id:objectType debe ser MEMBER o SUBSYSTEM (se recibió «${type ?? ''}»)`);
  }
  const code = 'Client.InvalidClientIdentifier';
  const parts = idParts(el);
  const subsystemCode = idPart(parts, P_SUBSYSTEM, type === 'SUBSYSTEM', code);
  if (type === 'MEMBER' && subsystemCode !== undefined) throw new MiisError(code, 'un MEMBER no lleva id:subsystemCode');
  return {
    instance: idPart(parts, P_INSTANCE, true, code) as string,
    memberClass: idPart(parts, P_MEMBER_CLASS, true, code) as string,
    memberCode: idPart(parts, P_MEMBER_CODE, true, code) as string,
    subsystemCode,
  };
}

function readServiceId(el: XmlElement): ServiceId {
  const type = attrNs(el, ID_NS, 'objectType');
  const code = 'Client.InvalidServiceIdentifier';
  if (type !== 'SERVICE') throw new MiisError(code, `id:objectType debe ser SERVICE (se recibió «${type ?? ''}»)`);
  const parts = idParts(el);
  return {
    instance: idPart(parts, P_INSTANCE, true, code) as string,
    memberClass: idPart(parts, P_MEMBER_CLASS, true, code) as string,
    memberCode: idPart(parts, P_MEMBER_CODE, true, code) as string,
    subsystemCode: idPart(parts, P_SUBSYSTEM, true, code) as string,
    serviceCode: idPart(parts, P_SERVICE_CODE, true, code) as string,
    serviceVersion: idPart(parts, P_SERVICE_VERSION, false, code),
  };
}

/** The requestHash a provider puts in its response: SHA-512 of the exact request bytes, base64. */
export function computeRequestHash(requestRaw: Uint8Array): string {
  return sha512Base64(requestRaw);
}

/**
 * Insert the requestHash header into a response by splicing text at the header's end tag
 * (or adding a Header before Body). The rest of the response is kept byte for byte.
 */
export function addRequestHash(response: SoapMessage, requestRaw: Uint8Array): Buffer {
  const hashXml = `<xrd:requestHash xmlns:xrd="${XROAD_NS}" algorithmId="${REQUEST_HASH_ALGORITHM}">${computeRequestHash(requestRaw)}</xrd:requestHash>`;
  const text = response.doc.text;
  const h = response.headerElement;
  let out: string;
  if (h !== undefined && h.contentEnd !== h.end) {
    out = text.slice(0, h.contentEnd) + hashXml + text.slice(h.contentEnd);
  } else if (h !== undefined) {
    // self-closing <SOAP-ENV:Header …/>: open it in place, keeping its attributes
    const slash = text.lastIndexOf('/', h.end - 1);
    out = `${text.slice(0, slash)}>${hashXml}</${h.name}>${text.slice(h.end)}`;
  } else {
    const prefix = response.doc.root.prefix;
    const tag = prefix === '' ? 'Header' : `${prefix}:Header`;
    out = `${text.slice(0, response.body.start)}<${tag}>${hashXml}</${tag}>${text.slice(response.body.start)}`;
  }
  // the decoded text has no byte-order mark; keep the one the response had
  const bom = response.raw.length >= 3 && response.raw[0] === 0xef && response.raw[1] === 0xbb && response.raw[2] === 0xbf;
  return Buffer.from(bom ? `\uFEFF${out}` : out, 'utf8');
}

export interface Inconsistency {
  readonly field: string;
}

/** Pure check that a response answers this request (X-Road: echoed headers and requestHash). */
export function checkConsistency(request: SoapMessage, response: SoapMessage): Inconsistency | null {
  const q = request.header;
  const r = response.header;
  if (q === undefined) return { field: 'solicitud sin cabecera' };
  if (r === undefined && response.fault !== undefined && response.headerElement !== undefined) {
    // a service fault need not echo the headers, but must carry the requestHash the provider node adds
    const el = childNs(response.headerElement, XROAD_NS, 'requestHash');
    if (el === undefined) return { field: 'xrd:requestHash (falta)' };
    return sameRequestHash(request, { algorithmId: attrNs(el, '', 'algorithmId') ?? '', value: el.text.trim() }) ? null : { field: 'xrd:requestHash' };
  }
  if (r === undefined) return { field: 'respuesta sin cabecera' };
  if (!sameClient(q.client, r.client)) return { field: 'xrd:client' };
  if (!sameService(q.service, r.service)) return { field: 'xrd:service' };
  if (q.id !== r.id) return { field: 'xrd:id' };
  if (q.userId !== r.userId) return { field: 'xrd:userId' };
  if (q.protocolVersion !== r.protocolVersion) return { field: 'xrd:protocolVersion' };
  if (r.requestHash === undefined) return { field: 'xrd:requestHash (falta)' };
  if (!sameRequestHash(request, r.requestHash)) return { field: 'xrd:requestHash' };
  return null;
}

function sameRequestHash(request: SoapMessage, hash: RequestHash): boolean {
  return hash.algorithmId === REQUEST_HASH_ALGORITHM && hash.value === computeRequestHash(request.raw);
}

function sameClient(a: ClientId, b: ClientId): boolean {
  return a.instance === b.instance && a.memberClass === b.memberClass && a.memberCode === b.memberCode && a.subsystemCode === b.subsystemCode;
}

function sameService(a: ServiceId, b: ServiceId): boolean {
  return sameClient(a, b) && a.serviceCode === b.serviceCode && a.serviceVersion === b.serviceVersion;
}

/** A SOAP 1.1 Fault in X-Road style: faultcode with origin prefix, Spanish faultstring, faultDetail = UUID. */
export function buildFault(code: string, faultString: string, faultId: string): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP_ENV_NS}"><SOAP-ENV:Body><SOAP-ENV:Fault>` +
      `<faultcode>${escapeXml(code)}</faultcode><faultstring>${escapeXml(faultString)}</faultstring>` +
      `<detail><faultDetail xmlns="${XROAD_NS}">${escapeXml(faultId)}</faultDetail></detail>` +
      `</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
    'utf8',
  );
}

export function faultFromError(err: MiisError): Buffer {
  return buildFault(err.code, err.message, err.faultId);
}

export { childNs };
