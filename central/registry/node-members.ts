/**
 * Shared nodes (issue 14 item 8; X-Road: a security server with several members): one node hosts
 * the subsystems of members other than its owner — e.g. a regional government's node for its
 * municipalities' ULEs. Each hosted member signs with its own key and `sign` certificate (issued
 * by the instance CA like any member's); central records which members a node serves (table
 * node_members, migration 11) and publishes them as the node's `members` in the global
 * configuration (conf/builder.ts). A node may only be given clients of its owner or of a member it
 * hosts (rules.ts addNodeClient).
 */
import { MiisError } from '../../core/errors.js';
import { formatMemberId, parseClientId } from '../../core/identifiers.js';
import type { ChangeContext, NodeRecord, RegistryStore } from './store.js';

export function requireNode(store: RegistryStore, name: string): NodeRecord {
  const node = store.getNode(name);
  if (node === undefined) throw new MiisError('Config.NotFound', `el nodo ${name} no está registrado`);
  return node;
}

function memberIdOf(text: string): string {
  const id = parseClientId(text.trim());
  if (id.subsystemCode !== undefined) throw new MiisError('Config.InvalidIdentifier', `«${text}»: indique un miembro (INSTANCIA/CLASE/CÓDIGO), no un subsistema`);
  return formatMemberId(id);
}

/** The members a node hosts besides its owner, sorted. */
export function hostedMembers(store: Pick<RegistryStore, 'db'>, nodeName: string): string[] {
  return store.db.prepare('SELECT member_id FROM node_members WHERE node_name = ? ORDER BY member_id').pluck().all(nodeName) as string[];
}

/** Every node's hosted members (node name → members, sorted), for the global configuration. */
export function hostedMembersByNode(store: Pick<RegistryStore, 'db'>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of store.db.prepare('SELECT node_name, member_id FROM node_members ORDER BY node_name, member_id').all() as { node_name: string; member_id: string }[]) {
    const list = out.get(r.node_name);
    if (list === undefined) out.set(r.node_name, [r.member_id]);
    else list.push(r.member_id);
  }
  return out;
}

/** Does the node serve this member (owner or hosted)? */
export function nodeServes(store: RegistryStore, node: NodeRecord, memberId: string): boolean {
  return node.ownerId === memberId || hostedMembers(store, node.name).includes(memberId);
}

export function addNodeMember(store: RegistryStore, nodeName: string, memberText: string, ctx: ChangeContext): string[] {
  const node = requireNode(store, nodeName);
  const member = memberIdOf(memberText);
  if (store.getMember(member) === undefined) throw new MiisError('Config.NotFound', `el miembro ${member} no está registrado («miis-central member add»)`);
  if (member === node.ownerId) throw new MiisError('Config.Duplicate', `${member} es el propietario del nodo ${nodeName}`);
  const before = hostedMembers(store, nodeName);
  if (before.includes(member)) throw new MiisError('Config.Duplicate', `el miembro ${member} en el nodo ${nodeName}`);
  return store.transaction(() => {
    store.db.prepare('INSERT INTO node_members (node_name, member_id, created_at) VALUES (?, ?, ?)').run(nodeName, member, ctx.at.toISOString());
    const after = hostedMembers(store, nodeName);
    store.audit(ctx, 'node.member.add', { name: nodeName, members: before }, { name: nodeName, members: after });
    return after;
  });
}

/** Stop hosting a member; refused while the node still has clients (subsystems) of that member. */
export function removeNodeMember(store: RegistryStore, nodeName: string, memberText: string, ctx: ChangeContext): string[] {
  const node = requireNode(store, nodeName);
  const member = memberIdOf(memberText);
  const before = hostedMembers(store, nodeName);
  if (!before.includes(member)) throw new MiisError('Config.NotFound', `el miembro ${member} no está alojado en el nodo ${nodeName}`);
  const clients = node.clients.filter((c) => formatMemberId(parseClientId(c)) === member);
  if (clients.length > 0) throw new MiisError('Config.InvalidInput', `el nodo ${nodeName} todavía atiende ${clients.join(', ')} de ${member}; quíteselos antes`);
  return store.transaction(() => {
    store.db.prepare('DELETE FROM node_members WHERE node_name = ? AND member_id = ?').run(nodeName, member);
    const after = hostedMembers(store, nodeName);
    store.audit(ctx, 'node.member.remove', { name: nodeName, members: before }, { name: nodeName, members: after });
    return after;
  });
}
