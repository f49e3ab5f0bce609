/**
 * Taking things out of the registry: a member (it leaves the MIIS; its catalogue entity and
 * history stay), a subsystem, a service. Each is refused, with a Spanish message naming what
 * stands in the way, while something still depends on it (subsystems, nodes, services, agreements
 * in force, rights granted centrally). Every removal is audited and reaches the nodes with the
 * next global configuration. Reads the governance tables it must check (access requests and
 * component links) directly, like access-rights.ts, so the registry imports no workflow.
 */
import { MiisError } from '../../core/errors.js';
import { formatClientId, formatServiceId, parseClientId, parseServiceId } from '../../core/identifiers.js';
import { limaDate } from '../../core/iso-date.js';
import { agreementStillApplies, listAgreementRecords, type AgreementRecord } from './agreements.js';
import { serviceWithoutVersion } from './access-rights.js';
import { requireMember } from './rules.js';
import type { ChangeContext, MemberRecord, RegistryStore, ServiceRecord, SubsystemRecord } from './store.js';

/** "1 convenio" / "2 convenios". */
const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** Agreements in force today or later that name `ids` as provider or client (member or subsystem). */
function agreementsNaming(store: RegistryStore, today: string, test: (r: AgreementRecord) => boolean): string[] {
  return listAgreementRecords(store).filter((r) => agreementStillApplies(r, today) && test(r)).map((r) => r.agreement.id);
}

function refuse(what: string, blockers: readonly string[]): never {
  throw new MiisError('Config.InvalidInput', `no se puede dar de baja ${what}: ${blockers.join('; ')}`);
}

export function removeMember(store: RegistryStore, id: string, ctx: ChangeContext): MemberRecord {
  const member = requireMember(store, id);
  const today = limaDate(ctx.at);
  const blockers: string[] = [];
  const subsystems = store.listSubsystems().filter((s) => s.memberId === member.id).map((s) => s.id);
  if (subsystems.length > 0) blockers.push(`tiene ${count(subsystems.length, 'subsistema', 'subsistemas')} (${subsystems.join(', ')}); délos de baja con «miis-central subsystem remove»`);
  const nodes = store.listNodes().filter((n) => n.ownerId === member.id).map((n) => n.name);
  if (nodes.length > 0) blockers.push(`tiene ${count(nodes.length, 'nodo', 'nodos')} (${nodes.join(', ')}); délos de baja con «miis-central node remove»`);
  const agreements = agreementsNaming(store, today, (r) => r.agreement.provider === member.id || r.agreement.clients.some((c) => c === member.id || c.startsWith(`${member.id}/`)));
  if (agreements.length > 0) blockers.push(`${count(agreements.length, 'convenio vigente lo nombra', 'convenios vigentes lo nombran')} (${agreements.join(', ')}); termínelos con «miis-central agreement end»`);
  if (blockers.length > 0) refuse(`el miembro ${member.id} (${member.name})`, blockers);
  return store.transaction(() => {
    store.db.prepare('DELETE FROM members WHERE id = ?').run(member.id);
    store.audit(ctx, 'member.remove', member, undefined);
    return member;
  });
}

/** Rights granted through central (access requests 'otorgada') that name this client or service. */
function grantedRequests(store: RegistryStore, where: string, value: string): string[] {
  return (store.db.prepare(`SELECT id FROM gov_access_requests WHERE status = 'otorgada' AND ${where} ORDER BY id`).all(value) as { id: string }[]).map((r) => r.id);
}

/** Subsystem out of the registry; nodes that served it stop listing it. */
export function removeSubsystem(store: RegistryStore, ref: string, ctx: ChangeContext): { subsystem: SubsystemRecord; nodes: string[] } {
  const id = formatClientId(parseClientId(ref.trim()));
  const subsystem = store.getSubsystem(id);
  if (subsystem === undefined) throw new MiisError('Config.NotFound', `el subsistema ${id} no está registrado`);
  const today = limaDate(ctx.at);
  const blockers: string[] = [];
  const services = store.listServices().filter((s) => s.subsystemId === id).map((s) => s.id);
  if (services.length > 0) blockers.push(`ofrece ${count(services.length, 'servicio', 'servicios')} (${services.join(', ')}); délos de baja con «miis-central service remove»`);
  const agreements = agreementsNaming(store, today, (r) => r.agreement.clients.includes(id) || r.agreement.services.some((s) => s.startsWith(`${id}/`)));
  if (agreements.length > 0) blockers.push(`${count(agreements.length, 'convenio vigente lo nombra', 'convenios vigentes lo nombran')} (${agreements.join(', ')}); termínelos con «miis-central agreement end»`);
  const rights = grantedRequests(store, 'client_id = ?', id);
  if (rights.length > 0) blockers.push(`tiene derechos de acceso otorgados (${rights.join(', ')}); revóquelos con «miis-central access revoke»`);
  if (blockers.length > 0) refuse(`el subsistema ${id}`, blockers);
  const nodes = store.listNodes().filter((n) => n.clients.includes(id)).map((n) => n.name);
  return store.transaction(() => {
    store.db.prepare('DELETE FROM node_clients WHERE subsystem_id = ?').run(id);
    store.db.prepare('DELETE FROM subsystems WHERE id = ?').run(id);
    store.audit(ctx, 'subsystem.remove', { ...subsystem, nodes }, undefined);
    return { subsystem, nodes };
  });
}

/** Service out of the registry; the catalogue components it was linked to lose it. */
export function removeService(store: RegistryStore, ref: string, ctx: ChangeContext): { service: ServiceRecord; components: string[] } {
  const id = formatServiceId(parseServiceId(ref.trim()));
  const service = store.getService(id);
  if (service === undefined) throw new MiisError('Config.NotFound', `el servicio ${id} no está registrado`);
  const key = serviceWithoutVersion(id);
  const today = limaDate(ctx.at);
  const blockers: string[] = [];
  // another version of the same service keeps the agreements meaningful
  const otherVersions = store.listServices().some((s) => s.id !== id && serviceWithoutVersion(s.id) === key);
  const agreements = otherVersions ? [] : agreementsNaming(store, today, (r) => r.agreement.services.includes(key));
  if (agreements.length > 0) blockers.push(`${count(agreements.length, 'convenio vigente lo cubre', 'convenios vigentes lo cubren')} (${agreements.join(', ')}); termínelos con «miis-central agreement end»`);
  const rights = grantedRequests(store, 'service_id = ?', id);
  if (rights.length > 0) blockers.push(`tiene derechos de acceso otorgados (${rights.join(', ')}); revóquelos con «miis-central access revoke»`);
  if (blockers.length > 0) refuse(`el servicio ${id}`, blockers);
  const components = (store.db.prepare('SELECT component_code FROM gov_component_services WHERE service_id = ? ORDER BY component_code').all(id) as { component_code: string }[]).map((r) => r.component_code);
  return store.transaction(() => {
    store.db.prepare('DELETE FROM gov_component_services WHERE service_id = ?').run(id);
    store.db.prepare('DELETE FROM services WHERE id = ?').run(id);
    store.audit(ctx, 'service.remove', { ...service, components }, undefined);
    return { service, components };
  });
}
