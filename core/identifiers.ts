/**
 * X-Road identifiers: members, subsystems and services.
 * Slash form: INSTANCE/CLASS/CODE[/SUBSYSTEM[/SERVICE[/VERSION]]] for clients, and for
 * services INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE[/VERSION] (a service always names its subsystem
 * in MIIS). XML form: the X-Road 4.0 `identifiers` schema with the `objectType` attribute.
 */
import { MiisError } from './errors.js';

export const XROAD_NS = 'http://x-road.eu/xsd/xroad.xsd';
export const ID_NS = 'http://x-road.eu/xsd/identifiers';

export interface MemberId {
  readonly instance: string;
  readonly memberClass: string;
  readonly memberCode: string;
}

/** A client is a member or one of its subsystems. */
export interface ClientId extends MemberId {
  readonly subsystemCode?: string | undefined;
}

export interface ServiceId extends MemberId {
  readonly subsystemCode: string;
  readonly serviceCode: string;
  readonly serviceVersion?: string | undefined;
}

/** Allowed characters in every identifier part (X-Road forbids separators and whitespace). */
const PART = /^[A-Za-z0-9._\-]{1,64}$/;

function checkPart(value: string, what: string, full: string): string {
  if (!PART.test(value)) {
    throw new MiisError('Config.InvalidIdentifier', `«${full}»: la parte ${what} «${value}» debe tener de 1 a 64 caracteres entre A-Z, a-z, 0-9, punto, guion y guion bajo`);
  }
  return value;
}

export function parseClientId(text: string): ClientId {
  const parts = text.split('/');
  if (parts.length < 3 || parts.length > 4) {
    throw new MiisError('Config.InvalidIdentifier', `«${text}»: un cliente se escribe INSTANCIA/CLASE/CÓDIGO[/SUBSISTEMA]`);
  }
  const [instance, memberClass, memberCode, subsystemCode] = parts as [string, string, string, string?];
  return {
    instance: checkPart(instance, 'instancia', text),
    memberClass: checkPart(memberClass, 'clase', text),
    memberCode: checkPart(memberCode, 'código de miembro', text),
    subsystemCode: subsystemCode === undefined ? undefined : checkPart(subsystemCode, 'subsistema', text),
  };
}

export function parseServiceId(text: string): ServiceId {
  const parts = text.split('/');
  if (parts.length < 5 || parts.length > 6) {
    throw new MiisError('Config.InvalidIdentifier', `«${text}»: un servicio se escribe INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO[/VERSIÓN]`);
  }
  const [instance, memberClass, memberCode, subsystemCode, serviceCode, serviceVersion] = parts as [string, string, string, string, string, string?];
  return {
    instance: checkPart(instance, 'instancia', text),
    memberClass: checkPart(memberClass, 'clase', text),
    memberCode: checkPart(memberCode, 'código de miembro', text),
    subsystemCode: checkPart(subsystemCode, 'subsistema', text),
    serviceCode: checkPart(serviceCode, 'servicio', text),
    serviceVersion: serviceVersion === undefined ? undefined : checkPart(serviceVersion, 'versión', text),
  };
}

export function formatMemberId(id: MemberId): string {
  return `${id.instance}/${id.memberClass}/${id.memberCode}`;
}

export function formatClientId(id: ClientId): string {
  return id.subsystemCode === undefined ? formatMemberId(id) : `${formatMemberId(id)}/${id.subsystemCode}`;
}

export function formatServiceId(id: ServiceId): string {
  const base = `${formatMemberId(id)}/${id.subsystemCode}/${id.serviceCode}`;
  return id.serviceVersion === undefined ? base : `${base}/${id.serviceVersion}`;
}

/** The service without its version: what access rights and backends are keyed on. */
export function serviceKey(id: ServiceId): string {
  return `${formatMemberId(id)}/${id.subsystemCode}/${id.serviceCode}`;
}

/** The subsystem that provides a service. */
export function providerOf(id: ServiceId): ClientId {
  return { instance: id.instance, memberClass: id.memberClass, memberCode: id.memberCode, subsystemCode: id.subsystemCode };
}

export function sameMember(a: MemberId, b: MemberId): boolean {
  return a.instance === b.instance && a.memberClass === b.memberClass && a.memberCode === b.memberCode;
}

function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** XML form of a client identifier, as the X-Road `client` header (prefixes xrd:, id:). */
export function clientIdToXml(element: string, id: ClientId): string {
  const type = id.subsystemCode === undefined ? 'MEMBER' : 'SUBSYSTEM';
  let xml = `<${element} id:objectType="${type}"><id:xRoadInstance>${escapeXml(id.instance)}</id:xRoadInstance><id:memberClass>${escapeXml(id.memberClass)}</id:memberClass><id:memberCode>${escapeXml(id.memberCode)}</id:memberCode>`;
  if (id.subsystemCode !== undefined) xml += `<id:subsystemCode>${escapeXml(id.subsystemCode)}</id:subsystemCode>`;
  return `${xml}</${element}>`;
}

/** XML form of a service identifier, as the X-Road `service` header (prefixes xrd:, id:). */
export function serviceIdToXml(element: string, id: ServiceId): string {
  let xml = `<${element} id:objectType="SERVICE"><id:xRoadInstance>${escapeXml(id.instance)}</id:xRoadInstance><id:memberClass>${escapeXml(id.memberClass)}</id:memberClass><id:memberCode>${escapeXml(id.memberCode)}</id:memberCode><id:subsystemCode>${escapeXml(id.subsystemCode)}</id:subsystemCode><id:serviceCode>${escapeXml(id.serviceCode)}</id:serviceCode>`;
  if (id.serviceVersion !== undefined) xml += `<id:serviceVersion>${escapeXml(id.serviceVersion)}</id:serviceVersion>`;
  return `${xml}</${element}>`;
}

export { escapeXml };
