/**
 * Who may use a local service, decided per request: an access right (local ACL ∪ rights granted
 * centrally) ∧ an agreement (convenio) in force for the provider that covers this client and
 * service ∧ a purpose (finalidad) the agreement allows ∧ the request names that agreement.
 * Pure: the caller passes today's date in Lima and the rules; no clock, no I/O.
 */
import type { FaultCode } from '../../core/errors.js';
import type { GlobalConfAccessRight, GlobalConfAgreement } from '../../core/global-conf-model.js';
import { formatClientId, formatMemberId, formatServiceId, providerOf, serviceKey, type ClientId, type ServiceId } from '../../core/identifiers.js';

export interface AccessRequest {
  readonly client: ClientId;
  readonly service: ServiceId;
  readonly convenio?: string | undefined;
  readonly finalidad?: string | undefined;
}

export interface AccessRules {
  /** Service keys (no version) this node serves. */
  readonly localServices: ReadonlySet<string> | ReadonlyMap<string, unknown>;
  /** Subsystems hosted on this node (a provider subsystem must be one of them). */
  readonly localClients: readonly string[];
  /** Local ACL: service key → allowed client ids (subsystem or member). */
  readonly acl: ReadonlyMap<string, ReadonlySet<string>>;
  /** Rights granted through central (global configuration). */
  readonly accessRights: readonly GlobalConfAccessRight[];
  readonly agreements: readonly GlobalConfAgreement[];
  /** YYYY-MM-DD in America/Lima. */
  readonly today: string;
}

export type Decision =
  | { readonly allowed: true; readonly agreement: GlobalConfAgreement }
  | { readonly allowed: false; readonly code: FaultCode; readonly detail: string };

const deny = (code: FaultCode, detail: string): Decision => ({ allowed: false, code, detail });


/** The client is named by its subsystem id or by its member id. */
function coversClient(list: Iterable<string>, client: ClientId): boolean {
  const sub = formatClientId(client);
  const member = formatMemberId(client);
  for (const c of list) if (c === sub || c === member) return true;
  return false;
}

export function hasAccessRight(rules: Pick<AccessRules, 'acl' | 'accessRights'>, key: string, client: ClientId): boolean {
  const local = rules.acl.get(key);
  if (local !== undefined && coversClient(local, client)) return true;
  const sub = formatClientId(client);
  const member = formatMemberId(client);
  for (const r of rules.accessRights) if (r.service === key && (r.client === sub || r.client === member)) return true;
  return false;
}

export function decideAccess(rules: AccessRules, req: AccessRequest): Decision {
  const key = serviceKey(req.service);
  if (!rules.localServices.has(key) || !rules.localClients.includes(formatClientId(providerOf(req.service)))) {
    return deny('Server.ServerProxy.UnknownService', formatServiceId(req.service));
  }
  const client = formatClientId(req.client);
  if (!hasAccessRight(rules, key, req.client)) return deny('Server.ServerProxy.AccessDenied', client);
  if (req.convenio === undefined) return deny('Server.ServerProxy.MissingAgreement', '');
  const provider = formatMemberId(req.service);
  const agreement = rules.agreements.find((a) => a.id === req.convenio && a.provider === provider);
  if (agreement === undefined) return deny('Server.ServerProxy.UnknownAgreement', req.convenio);
  if (rules.today < agreement.validFrom) {
    return deny('Server.ServerProxy.AgreementNotInForce', `${agreement.id} rige desde el ${agreement.validFrom}`);
  }
  if (agreement.validUntil !== undefined && rules.today > agreement.validUntil) {
    return deny('Server.ServerProxy.AgreementNotInForce', `${agreement.id} venció el ${agreement.validUntil}`);
  }
  if (!coversClient(agreement.clients, req.client)) {
    return deny('Server.ServerProxy.AgreementDoesNotCover', `${agreement.id} no incluye al cliente ${client}`);
  }
  if (!agreement.services.includes(key)) {
    return deny('Server.ServerProxy.AgreementDoesNotCover', `${agreement.id} no incluye el servicio ${key}`);
  }
  if (req.finalidad === undefined) {
    return deny('Server.ServerProxy.PurposeNotAllowed', `falta miis:finalidad (${agreement.id} permite ${agreement.purposes.join(', ')})`);
  }
  if (!agreement.purposes.includes(req.finalidad)) {
    return deny('Server.ServerProxy.PurposeNotAllowed', `«${req.finalidad}» (${agreement.id} permite ${agreement.purposes.join(', ')})`);
  }
  return { allowed: true, agreement };
}

/** Services of `subsystem` (key form) that `client` may call today under some agreement and right (allowedMethods). */
export function allowedServiceKeys(rules: AccessRules, client: ClientId, keys: readonly string[]): string[] {
  return keys.filter((key) => {
    if (!hasAccessRight(rules, key, client)) return false;
    const provider = key.split('/').slice(0, 3).join('/');
    return rules.agreements.some((a) => a.provider === provider && a.services.includes(key) && coversClient(a.clients, client) &&
      rules.today >= a.validFrom && (a.validUntil === undefined || rules.today <= a.validUntil));
  });
}
