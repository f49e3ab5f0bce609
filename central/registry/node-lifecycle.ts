/**
 * Node lifecycle after registration: change a node's address, renew (re-pin) its auth
 * certificate with an overlap, drop the previous certificate, remove the node. Every change is
 * audited and reaches the nodes in the next global configuration (conf/builder.ts publishes both
 * certificates while the overlap lasts, as `authCertsSha256`).
 */
import { MiisError } from '../../core/errors.js';
import { certificateInfo } from '../../core/pki.js';
import { requireNode } from './node-members.js';
import { checkAuthCert, parseNodeAddress } from './rules.js';
import type { ChangeContext, NodeRecord, RegistryStore } from './store.js';

/** How long the previous auth certificate stays accepted after a renewal, unless it expires first. */
export const DEFAULT_AUTH_OVERLAP_HOURS = 72;

export interface NodeChange {
  readonly name: string;
  readonly address?: string;
  /** New auth certificate (PEM); the current one becomes the previous one until the overlap ends. */
  readonly authCertPem?: string;
  readonly overlapHours?: number;
  /** Stop accepting the previous auth certificate now. */
  readonly dropPrevious?: boolean;
}

const auditView = (n: NodeRecord): object => ({
  name: n.name, address: n.address, authCertSha256: n.authCertSha256,
  previousAuthCertSha256: n.previousAuthCertSha256 ?? null, previousAuthUntil: n.previousAuthUntil ?? null,
});

export function setNode(store: RegistryStore, change: NodeChange, ctx: ChangeContext): NodeRecord {
  const before = requireNode(store, change.name);
  if (change.address === undefined && change.authCertPem === undefined && change.dropPrevious !== true) {
    throw new MiisError('Config.InvalidInput', 'indique --address, --auth-cert y/o --drop-previous');
  }
  const address = change.address === undefined ? before.address : parseNodeAddress(change.address);
  let current = { pem: before.authCertPem, sha256: before.authCertSha256 };
  let previous: { sha256: string; until: string } | undefined =
    before.previousAuthCertSha256 !== undefined && before.previousAuthUntil !== undefined && Date.parse(before.previousAuthUntil) > ctx.at.getTime()
      ? { sha256: before.previousAuthCertSha256, until: before.previousAuthUntil } : undefined;
  if (change.authCertPem !== undefined) {
    const { sha256 } = checkAuthCert(store, change.authCertPem, ctx.at);
    if (sha256 === before.authCertSha256) throw new MiisError('Config.Duplicate', `el nodo ${before.name} ya usa ese certificado de autenticación`);
    const clash = store.listNodes().find((n) => n.name !== before.name && (n.authCertSha256 === sha256 || n.previousAuthCertSha256 === sha256));
    if (clash !== undefined) throw new MiisError('Config.Duplicate', `el certificado de autenticación ya está registrado para el nodo ${clash.name}`);
    const hours = change.overlapHours ?? DEFAULT_AUTH_OVERLAP_HOURS;
    const oldExpiry = certificateInfo(before.authCertPem).notAfter.getTime();
    const until = Math.min(ctx.at.getTime() + hours * 3_600_000, oldExpiry);
    previous = until > ctx.at.getTime() ? { sha256: before.authCertSha256, until: new Date(until).toISOString() } : undefined;
    current = { pem: change.authCertPem.trim() + '\n', sha256 };
  }
  if (change.dropPrevious === true) previous = undefined;
  return store.transaction(() => {
    store.db.prepare('UPDATE nodes SET address = ?, auth_cert_pem = ?, auth_cert_sha256 = ?, previous_auth_cert_sha256 = ?, previous_auth_until = ? WHERE name = ?')
      .run(address, current.pem, current.sha256, previous?.sha256 ?? null, previous?.until ?? null, before.name);
    const after = requireNode(store, before.name);
    store.audit(ctx, 'node.set', auditView(before), auditView(after));
    return after;
  });
}

export function removeNode(store: RegistryStore, name: string, ctx: ChangeContext): NodeRecord {
  const before = requireNode(store, name);
  return store.transaction(() => {
    store.db.prepare('DELETE FROM node_clients WHERE node_name = ?').run(name);
    store.db.prepare('DELETE FROM node_members WHERE node_name = ?').run(name);
    store.db.prepare('DELETE FROM nodes WHERE name = ?').run(name);
    store.audit(ctx, 'node.remove', { ...auditView(before), ownerId: before.ownerId, clients: before.clients }, undefined);
    return before;
  });
}
