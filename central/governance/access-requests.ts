/**
 * Access requests (directive 7.2): an IPF asks the administering entity of a component (or one
 * of its services) for access, stating purpose (finalidad) and legal basis; DGFO is told and
 * follows it up; the entity's designated unit grants or denies within 10 business days.
 *
 * A grant (a) gives the client an access right to the requested service, or to every service
 * linked to the component (central/registry/access-rights.ts publishes them as `accessRights`), and (b)
 * registers the agreement (convenio) the client cites in its requests (central/registry/agreements.ts),
 * so the provider's node lets the exchange through (node/pipeline/access-decision.ts).
 *
 * Status: 'pendiente' → 'otorgada' | 'denegada'; 'otorgada' → 'revocada' (access revoke: the right
 * leaves the next global configuration; the request stays in the history with date and reason). Channel: 'nodo' (signed by the IPF's node,
 * central/governance/access-request-channel.ts) or 'dgfo' (recorded by DGFO from a paper/e-mail request).
 */
import { MiisError } from '../../core/errors.js';
import { addBusinessDays, parseIsoDate, type Calendar } from '../../core/business-days.js';
import { formatClientId, formatMemberId, formatServiceId, parseClientId, parseServiceId } from '../../core/identifiers.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { addAgreement } from '../registry/agreements.js';
import { serviceWithoutVersion } from '../registry/access-rights.js';
import { componentServices, requireComponent } from './catalogue.js';
import { ensureEntity, requireEntity } from './entities.js';
import { actsForUnit, currentUnit } from './units.js';
import { DAYS, change, checkText, optionalText, type Row } from './util.js';

export const ACCESS_STATUSES = ['pendiente', 'otorgada', 'denegada', 'revocada'] as const;
export type AccessStatus = (typeof ACCESS_STATUSES)[number];
export const ACCESS_CHANNELS = ['nodo', 'dgfo'] as const;
export type AccessChannel = (typeof ACCESS_CHANNELS)[number];
const PURPOSE = /^[A-Z][A-Z0-9_]{1,39}$/;

export interface AccessRequestRecord {
  /** SA-YYYY-NNNN */
  readonly id: string;
  /** The requesting IPF: a subsystem (or member) id. */
  readonly clientId: string;
  readonly componentCode: string;
  /** A single service of the component, or null for all its services. */
  readonly serviceId: string | null;
  /** Purpose code (miis:finalidad), e.g. FOCALIZACION. */
  readonly purpose: string;
  readonly purposeDetail: string | null;
  readonly legalBasis: string;
  readonly channel: AccessChannel;
  readonly filedAt: string;
  readonly dueAt: string;
  readonly status: AccessStatus;
  readonly decidedAt: string | null;
  readonly decidedBy: string | null;
  readonly decisionUnit: string | null;
  readonly reason: string | null;
  readonly agreementId: string | null;
  /** SHA-256 of the signing certificate of a request that came from a node. */
  readonly signerCertSha256: string | null;
  /** SHA-256 of the signing certificate of an answer given from the provider's node (migration 10). */
  readonly decisionSignerCertSha256: string | null;
  readonly createdAt: string;
  /** A granted right revoked at central (migration 7): date, who, why. */
  readonly revokedOn: string | null;
  readonly revokedBy: string | null;
  readonly revokeReason: string | null;
}

const toRequest = (r: Row): AccessRequestRecord => ({
  id: r.id as string,
  clientId: r.client_id as string,
  componentCode: r.component_code as string,
  serviceId: (r.service_id as string | null) ?? null,
  purpose: r.purpose as string,
  purposeDetail: (r.purpose_detail as string | null) ?? null,
  legalBasis: r.legal_basis as string,
  channel: r.channel as AccessChannel,
  filedAt: r.filed_at as string,
  dueAt: r.due_at as string,
  status: r.status as AccessStatus,
  decidedAt: (r.decided_at as string | null) ?? null,
  decidedBy: (r.decided_by as string | null) ?? null,
  decisionUnit: (r.decision_unit as string | null) ?? null,
  reason: (r.reason as string | null) ?? null,
  agreementId: (r.agreement_id as string | null) ?? null,
  signerCertSha256: (r.signer_cert_sha256 as string | null) ?? null,
  decisionSignerCertSha256: (r.decision_signer_cert_sha256 as string | null) ?? null,
  createdAt: r.created_at as string,
  revokedOn: (r.revoked_on as string | null) ?? null,
  revokedBy: (r.revoked_by as string | null) ?? null,
  revokeReason: (r.revoke_reason as string | null) ?? null,
});

export function getAccessRequest(store: RegistryStore, id: string): AccessRequestRecord | undefined {
  const row = store.db.prepare('SELECT * FROM gov_access_requests WHERE id = ?').get(id.trim().toUpperCase()) as Row | undefined;
  return row === undefined ? undefined : toRequest(row);
}

export function listAccessRequests(store: RegistryStore, filter: { status?: string; entity?: string; client?: string } = {}): AccessRequestRecord[] {
  if (filter.status !== undefined && !(ACCESS_STATUSES as readonly string[]).includes(filter.status)) {
    throw new MiisError('Config.InvalidInput', `estado no válido: «${filter.status}». Valores admitidos: ${ACCESS_STATUSES.join(', ')}`);
  }
  const ruc = filter.entity === undefined ? undefined : requireEntity(store, filter.entity).ruc;
  const all = (store.db.prepare('SELECT r.*, c.entity_ruc AS provider_ruc FROM gov_access_requests r JOIN gov_components c ON c.code = r.component_code ORDER BY r.id').all() as Row[]);
  return all
    .filter((r) => filter.status === undefined || r.status === filter.status)
    .filter((r) => ruc === undefined || r.provider_ruc === ruc || parseClientId(r.client_id as string).memberCode === ruc)
    .filter((r) => filter.client === undefined || r.client_id === filter.client)
    .map(toRequest);
}

function nextId(store: RegistryStore, year: string): string {
  const row = store.db.prepare('SELECT COUNT(*) AS n FROM gov_access_requests WHERE id LIKE ?').get(`SA-${year}-%`) as { n: number };
  return `SA-${year}-${String(row.n + 1).padStart(4, '0')}`;
}

export interface AccessRequestInput {
  readonly client: string;
  readonly component: string;
  readonly service?: string | undefined;
  readonly purpose: string;
  readonly purposeDetail?: string | undefined;
  readonly legalBasis: string;
  readonly filedAt: string;
  readonly channel: AccessChannel;
  readonly signerCertSha256?: string | undefined;
}

/** Record a request (from a node or by DGFO); due 10 business days after it was filed (7.2.3). */
export function fileAccessRequest(store: RegistryStore, input: AccessRequestInput, cal: Calendar, ctx: ChangeContext): AccessRequestRecord {
  const filedAt = parseIsoDate(input.filedAt.trim());
  const dueAt = addBusinessDays(filedAt, DAYS.accessAnswer, cal);
  const purpose = input.purpose.trim().toUpperCase();
  if (!PURPOSE.test(purpose)) throw new MiisError('Config.InvalidInput', `finalidad no válida: «${input.purpose}» (un código en mayúsculas, p. ej. FOCALIZACION)`);
  const purposeDetail = optionalText(input.purposeDetail, 'detalle de la finalidad', 1000);
  const legalBasis = checkText(input.legalBasis, 'base legal de la solicitud (--base-legal)', 500);
  const clientId = parseClientId(input.client.trim());
  const client = clientId.subsystemCode === undefined ? formatMemberId(clientId) : formatClientId(clientId);
  const known = clientId.subsystemCode === undefined ? store.getMember(client) !== undefined : store.getSubsystem(client) !== undefined;
  if (!known) throw new MiisError('Config.NotFound', `el cliente ${client} no está registrado en el directorio central (registre el miembro y su subsistema)`);
  const component = requireComponent(store, input.component);
  if (component.status !== 'disponible') {
    throw new MiisError('Config.InvalidInput', `el componente ${component.code} está «${component.status}»: solo se puede pedir acceso a componentes disponibles en el catálogo (7.2.2)`);
  }
  let serviceId: string | null = null;
  if (input.service !== undefined && input.service.trim() !== '') {
    serviceId = formatServiceId(parseServiceId(input.service.trim()));
    if (!componentServices(store, component.code).includes(serviceId)) {
      throw new MiisError('Config.NotFound', `el servicio ${serviceId} no pertenece al componente ${component.code}; vea «miis-central component show ${component.code}»`);
    }
  }
  const duplicate = listAccessRequests(store, { client }).find((r) => r.componentCode === component.code && r.serviceId === serviceId && (r.status === 'pendiente' || r.status === 'otorgada'));
  if (duplicate !== undefined) {
    throw new MiisError('Config.Duplicate', `una solicitud de ${client} para ${serviceId ?? component.code} (${duplicate.id}, ${duplicate.status}); no se registra otra`);
  }
  ensureEntity(store, client, ctx);
  return change(store, ctx, 'access.request', () => {
    const id = nextId(store, filedAt.slice(0, 4));
    store.db
      .prepare("INSERT INTO gov_access_requests (id, client_id, component_code, service_id, purpose, purpose_detail, legal_basis, channel, filed_at, due_at, status, signer_cert_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pendiente', ?, ?)")
      .run(id, client, component.code, serviceId, purpose, purposeDetail, legalBasis, input.channel, filedAt, dueAt, input.signerCertSha256 ?? null, ctx.at.toISOString());
    const record = getAccessRequest(store, id)!;
    return { after: record, result: record };
  });
}

export interface AccessDecisionInput {
  readonly id: string;
  readonly grant: boolean;
  readonly reason?: string | undefined;
  readonly decidedAt: string;
  /** Agreement id for a grant (default: the request id). */
  readonly agreementId?: string | undefined;
  readonly validUntil?: string | undefined;
  /**
   * The answer came signed from a node (access-request-channel.ts): the signer's member must be the
   * administering entity, and its signature stands for the entity's designated unit (no actor check).
   */
  readonly byNode?: { readonly member: string; readonly certSha256: string } | undefined;
}

/**
 * The administering entity's designated unit answers. The actor (ctx.actor) must act for that
 * unit (its head's account or name, see responsible-units.ts); DGFO cannot answer for it.
 */
export function decideAccessRequest(store: RegistryStore, input: AccessDecisionInput, ctx: ChangeContext): AccessRequestRecord {
  const decidedAt = parseIsoDate(input.decidedAt.trim());
  const before = getAccessRequest(store, input.id);
  if (before === undefined) throw new MiisError('Config.NotFound', `la solicitud de acceso ${input.id}; vea «miis-central access list»`);
  if (before.status !== 'pendiente') throw new MiisError('Config.InvalidInput', `la solicitud ${before.id} ya fue ${before.status} el ${before.decidedAt ?? '?'}`);
  if (decidedAt < before.filedAt) throw new MiisError('Config.InvalidInput', `la fecha de respuesta ${decidedAt} es anterior a la solicitud (${before.filedAt})`);
  const component = requireComponent(store, before.componentCode);
  const entity = requireEntity(store, component.entityRuc);
  const unit = currentUnit(store, entity.ruc);
  if (unit === undefined) {
    throw new MiisError('Config.InvalidInput', `${entity.name} no tiene unidad responsable designada; registre la designación («unit request» y «unit answer») antes de responder`);
  }
  if (input.byNode !== undefined) {
    if (parseClientId(input.byNode.member).memberCode !== entity.ruc) {
      throw new MiisError('Config.NotAuthorized', `${input.byNode.member} no administra el componente ${component.code} (lo administra ${entity.name}, RUC ${entity.ruc}): solo la unidad designada de esa entidad responde la solicitud ${before.id}`);
    }
  } else if (!actsForUnit(unit, ctx.actor)) {
    throw new MiisError('Config.InvalidInput', `«${ctx.actor}» no actúa por la unidad designada de ${entity.name} (${unit.unit}, titular ${unit.headName}${unit.headUser === null ? '' : `, usuario ${unit.headUser}`}); responda con --actor del titular`);
  }
  const reason = input.grant ? optionalText(input.reason, 'motivo', 1000) : checkText(input.reason, 'motivo de la denegación (--motivo)', 1000);
  let agreement: { id: string; services: string[]; provider: string } | undefined;
  if (input.grant) {
    const services = before.serviceId === null ? componentServices(store, component.code) : [before.serviceId];
    if (services.length === 0) {
      throw new MiisError('Config.InvalidInput', `el componente ${component.code} no tiene servicios vinculados; vincule uno con «miis-central component link ${component.code} <servicio>» antes de otorgar`);
    }
    const provider = store.listMembers().find((m) => m.memberCode === entity.ruc);
    if (provider === undefined) throw new MiisError('Config.NotFound', `el miembro del MIIS de ${entity.name} (RUC ${entity.ruc}); regístrelo con «member add»`);
    agreement = { id: (input.agreementId ?? before.id).trim(), services: services.map(serviceWithoutVersion), provider: provider.id };
  }
  return change(store, ctx, input.grant ? 'access.grant' : 'access.deny', () => {
    if (agreement !== undefined) {
      addAgreement(store, {
        id: agreement.id,
        provider: agreement.provider,
        clients: [before.clientId],
        services: agreement.services,
        purposes: [before.purpose],
        validFrom: decidedAt,
        ...(input.validUntil === undefined ? {} : { validUntil: parseIsoDate(input.validUntil.trim()) }),
      }, ctx);
    }
    store.db
      .prepare('UPDATE gov_access_requests SET status = ?, decided_at = ?, decided_by = ?, decision_unit = ?, reason = ?, agreement_id = ?, decision_signer_cert_sha256 = ? WHERE id = ?')
      .run(input.grant ? 'otorgada' : 'denegada', decidedAt, ctx.actor, unit.unit, reason, agreement?.id ?? null, input.byNode?.certSha256 ?? null, before.id);
    const after = getAccessRequest(store, before.id)!;
    return { before, after, result: after };
  });
}

export interface AccessRevocation {
  /** An access request id (SA-YYYY-NNNN), or a client id with `service`. */
  readonly ref: string;
  readonly service?: string | undefined;
  readonly date: string;
  readonly reason: string;
}

/**
 * Revoke a right granted at central: by the access request that granted it, or by client and
 * service (every granted request that gives exactly that right). The request becomes 'revocada'
 * and its right leaves the next global configuration, so the provider node answers AccessDenied
 * from the configuration that carries it. A request that also grants other services of its
 * component is refused by client and service (revoke the whole request by its id). The agreement
 * the grant registered is not touched: end it with `agreement end`. The actor must act for the
 * administering entity's designated unit, as for a grant.
 */
export function revokeAccess(store: RegistryStore, input: AccessRevocation, ctx: ChangeContext): AccessRequestRecord[] {
  const date = parseIsoDate(input.date.trim());
  const reason = checkText(input.reason, 'motivo de la revocación (--reason)', 1000);
  let targets: AccessRequestRecord[];
  if (input.service === undefined) {
    const found = getAccessRequest(store, input.ref);
    if (found === undefined) throw new MiisError('Config.NotFound', `la solicitud de acceso ${input.ref}; vea «miis-central access list --status otorgada»`);
    if (found.status !== 'otorgada') throw new MiisError('Config.InvalidInput', `la solicitud ${found.id} está «${found.status}»: solo se revoca un acceso otorgado`);
    targets = [found];
  } else {
    const clientId = parseClientId(input.ref.trim());
    const client = clientId.subsystemCode === undefined ? formatMemberId(clientId) : formatClientId(clientId);
    const key = serviceWithoutVersion(formatServiceId(parseServiceId(input.service.trim())));
    const granted = listAccessRequests(store, { status: 'otorgada', client });
    const giving = granted.map((r) => ({ r, services: (r.serviceId === null ? componentServices(store, r.componentCode) : [r.serviceId]).map(serviceWithoutVersion) }))
      .filter((x) => x.services.includes(key));
    if (giving.length === 0) throw new MiisError('Config.NotFound', `un acceso otorgado en central a ${client} para ${key}; vea «miis-central access list --status otorgada» (los permisos locales de un nodo se quitan con «miis-node acl revoke»)`);
    const wider = giving.filter((x) => new Set(x.services).size > 1);
    if (wider.length > 0) {
      throw new MiisError('Config.InvalidInput', wider.map((x) => `la solicitud ${x.r.id} otorga también ${x.services.filter((s) => s !== key).join(', ')}`).join('; ') + `; revóquela entera con «miis-central access revoke ${wider[0]!.r.id}»`);
    }
    targets = giving.map((x) => x.r);
  }
  for (const t of targets) {
    if (date < (t.decidedAt ?? t.filedAt)) throw new MiisError('Config.InvalidInput', `la fecha de revocación ${date} es anterior al otorgamiento de ${t.id} (${t.decidedAt ?? '?'})`);
    const entity = requireEntity(store, requireComponent(store, t.componentCode).entityRuc);
    const unit = currentUnit(store, entity.ruc);
    if (unit === undefined || !actsForUnit(unit, ctx.actor)) {
      throw new MiisError('Config.InvalidInput', `«${ctx.actor}» no actúa por la unidad designada de ${entity.name}${unit === undefined ? '' : ` (${unit.unit}, titular ${unit.headName}${unit.headUser === null ? '' : `, usuario ${unit.headUser}`})`}; revoque con --actor del titular`);
    }
  }
  return store.transaction(() => targets.map((before) => change(store, ctx, 'access.revoke', () => {
    store.db.prepare("UPDATE gov_access_requests SET status = 'revocada', revoked_on = ?, revoked_by = ?, revoke_reason = ? WHERE id = ?").run(date, ctx.actor, reason, before.id);
    const after = getAccessRequest(store, before.id)!;
    return { before, after, result: after };
  })));
}
