/**
 * Metaservices with X-Road semantics (service metadata protocol):
 * - `listClients`: members and subsystems of the instance, from the global configuration; answered
 *   by the IS's own node, as `GET /listClients` (XML, or JSON with Accept: application/json) and as
 *   a SOAP operation (MIIS addition);
 * - `listMethods`, `allowedMethods`, `getWsdl`: regular SOAP requests to a provider subsystem with
 *   that service code; the client node forwards them like any request and the provider's node
 *   answers them itself from its local services, access rights and agreements.
 * The metaservices are never listed by listMethods/allowedMethods.
 */
import { readFileSync } from 'node:fs';
import { findWsdlFile } from '../store/paths.js';
import { MiisError } from '../../core/errors.js';
import {
  ID_NS, XROAD_NS, clientIdToXml, escapeXml, formatClientId, parseClientId, parseServiceId, providerOf, serviceIdToXml, serviceKey,
  type ClientId, type ServiceId,
} from '../../core/identifiers.js';
import { readSoapMessage, type SoapMessage, type XRoadHeader } from '../../core/soap.js';
import { allowedServiceKeys, type AccessRules } from './access-decision.js';
import type { NodeContext } from './context.js';
import type { ConfView } from '../conf/global-conf-client.js';
import { renderEchoResponse } from '../adapters/soap-response.js';
import { limaDate } from '../../core/iso-date.js';

export const PROVIDER_METASERVICES = ['listMethods', 'allowedMethods', 'getWsdl'] as const;
export const CLIENT_METASERVICES = ['listClients'] as const;
/** X-Road replaces the endpoint of a WSDL served through getWsdl with this address. */
export const HIDDEN_ENDPOINT = 'http://example.org/xroad-endpoint';
const WSDL_PLACEHOLDER = 'http://localhost:8080/';

export function isProviderMetaservice(s: ServiceId): boolean {
  return (PROVIDER_METASERVICES as readonly string[]).includes(s.serviceCode);
}

export function isClientMetaservice(s: ServiceId): boolean {
  return (CLIENT_METASERVICES as readonly string[]).includes(s.serviceCode);
}

const NS = `xmlns:xrd="${XROAD_NS}" xmlns:id="${ID_NS}"`;

// --- listClients -------------------------------------------------------------------------------

export interface ListedClient {
  readonly id: ClientId;
  readonly name: string;
}

/** Members and subsystems of an instance, sorted, as X-Road lists them. */
export function listClients(view: ConfView, instance?: string): ListedClient[] {
  const names = new Map(view.conf.members.map((m) => [m.id, m.name]));
  const ids = [...view.conf.members.map((m) => m.id), ...view.conf.subsystems].filter((id) => instance === undefined || id.startsWith(`${instance}/`)).sort();
  return ids.map((id) => {
    const c = parseClientId(id);
    return { id: c, name: names.get(`${c.instance}/${c.memberClass}/${c.memberCode}`) ?? '' };
  });
}

export function renderClientListXml(clients: readonly ListedClient[], element = 'xrd:clientList'): string {
  const members = clients.map((c) => `<xrd:member>${clientIdToXml('xrd:id', c.id)}<xrd:name>${escapeXml(c.name)}</xrd:name></xrd:member>`).join('');
  return `<${element} ${NS}>${members}</${element}>`;
}

export function renderClientListJson(clients: readonly ListedClient[]): string {
  return JSON.stringify({
    member: clients.map((c) => ({
      id: { member_class: c.id.memberClass, member_code: c.id.memberCode, ...(c.id.subsystemCode === undefined ? {} : { subsystem_code: c.id.subsystemCode }), xroad_instance: c.id.instance, object_type: c.id.subsystemCode === undefined ? 'MEMBER' : 'SUBSYSTEM' },
      name: c.name,
    })),
  }, null, 2);
}

/** `GET /listClients[?xRoadInstance=PE]` on the IS-facing port. */
export function answerListClientsHttp(view: ConfView, url: URL, accept: string | undefined): { contentType: string; body: Buffer } {
  const clients = listClients(view, url.searchParams.get('xRoadInstance') ?? undefined);
  if (accept?.includes('application/json') === true) return { contentType: 'application/json; charset=utf-8', body: Buffer.from(renderClientListJson(clients), 'utf8') };
  return { contentType: 'text/xml; charset=utf-8', body: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${renderClientListXml(clients)}`, 'utf8') };
}

/** SOAP listClients (request body `xrd:listClients`), answered by the client's own node. */
export function answerListClientsSoap(view: ConfView, request: SoapMessage): Buffer {
  if (request.payload?.local !== 'listClients') throw new MiisError('Client.InvalidSoap', 'el cuerpo de listClients debe ser el elemento listClients');
  return renderEchoResponse(request, renderClientListXml(listClients(view), 'xrd:listClientsResponse'));
}

// --- listMethods, allowedMethods, getWsdl (provider side) ------------------------------------

function accessRules(ctx: NodeContext, view: ConfView): AccessRules {
  const local = ctx.local();
  return { localServices: local.services, localClients: local.clients, acl: local.acl, accessRights: view.conf.accessRights ?? [], agreements: view.conf.agreements ?? [], today: limaDate(ctx.now()) };
}

/** Local service keys of the provider subsystem, each with the versions the global configuration publishes. */
function servicesOf(ctx: NodeContext, view: ConfView, subsystem: string): { key: string; ids: ServiceId[] }[] {
  const keys = [...ctx.local().services.keys()].filter((k) => k.startsWith(`${subsystem}/`)).sort();
  return keys.map((key) => {
    const published = view.conf.services.map((s) => parseServiceId(s.id)).filter((id) => serviceKey(id) === key);
    return { key, ids: published.length > 0 ? published : [parseServiceId(key)] };
  });
}

function methodList(element: string, entries: readonly { ids: ServiceId[] }[]): string {
  return `<xrd:${element} ${NS}>${entries.flatMap((e) => e.ids).map((id) => serviceIdToXml('xrd:service', id)).join('')}</xrd:${element}>`;
}

function readGetWsdl(request: SoapMessage): { serviceCode: string; serviceVersion?: string } {
  const p = request.payload;
  const code = p?.children.find((c) => c.local === 'serviceCode')?.text.trim();
  if (p?.local !== 'getWsdl' || code === undefined || code.length === 0) throw new MiisError('Client.InvalidSoap', 'getWsdl debe llevar serviceCode');
  const version = p.children.find((c) => c.local === 'serviceVersion')?.text.trim();
  return { serviceCode: code, ...(version === undefined || version === '' ? {} : { serviceVersion: version }) };
}

/** Answer a provider metaservice as a SOAP response echoing the request headers. */
export function answerProviderMetaservice(ctx: NodeContext, view: ConfView, request: SoapMessage, wsdlDir: string | readonly string[]): SoapMessage {
  const header = request.header as XRoadHeader;
  const subsystem = formatClientId(providerOf(header.service));
  if (!ctx.local().clients.includes(subsystem)) throw new MiisError('Server.ServerProxy.UnknownService', subsystem);
  const expected = header.service.serviceCode;
  if (request.payload?.local !== expected) throw new MiisError('Client.InvalidSoap', `el cuerpo debe ser el elemento ${expected}`);
  let body: string;
  if (expected === 'listMethods') {
    body = methodList('listMethodsResponse', servicesOf(ctx, view, subsystem));
  } else if (expected === 'allowedMethods') {
    const all = servicesOf(ctx, view, subsystem);
    const allowed = new Set(allowedServiceKeys(accessRules(ctx, view), header.client, all.map((e) => e.key)));
    body = methodList('allowedMethodsResponse', all.filter((e) => allowed.has(e.key)));
  } else {
    const q = readGetWsdl(request);
    const key = `${subsystem}/${q.serviceCode}`;
    const service = ctx.local().services.get(key);
    if (service?.wsdl === undefined) throw new MiisError('Server.ServerProxy.UnknownService', `${key} (sin WSDL)`);
    let wsdl: string;
    try {
      const path = findWsdlFile(typeof wsdlDir === 'string' ? [wsdlDir] : wsdlDir, service.wsdl);
      if (path === undefined) throw new Error(`${service.wsdl} no está en ${typeof wsdlDir === 'string' ? wsdlDir : wsdlDir.join(' ni en ')}`);
      wsdl = readFileSync(path, 'utf8');
    } catch (err) {
      throw new MiisError('Server.ServerProxy.ServiceFailed', `no se encuentra el WSDL ${service.wsdl}`, { cause: err });
    }
    wsdl = wsdl.split(WSDL_PLACEHOLDER).join(HIDDEN_ENDPOINT);
    body = `<xrd:getWsdlResponse ${NS}><xrd:serviceCode>${escapeXml(q.serviceCode)}</xrd:serviceCode>` +
      `${q.serviceVersion === undefined ? '' : `<xrd:serviceVersion>${escapeXml(q.serviceVersion)}</xrd:serviceVersion>`}` +
      `<xrd:wsdl>${escapeXml(wsdl)}</xrd:wsdl></xrd:getWsdlResponse>`;
  }
  return readSoapMessage(renderEchoResponse(request, body), 'response', { maxBytes: ctx.limits.maxMessageBytes, maxDepth: 32, maxElements: 50_000 });
}
