/**
 * What the global configuration is built from: one consistent read of the registry (members,
 * subsystems, nodes, services) and of the tables that feed the configuration (agreements,
 * rights granted through central, revoked certificates, the RPS programmes), taken in one transaction.
 * It lives here, above the store, so the store imports none of the modules that use it.
 */
import type { GlobalConfAccessRight, GlobalConfAgreement, GlobalConfProgram, GlobalConfTrama } from '../../core/global-conf-model.js';
import { programsForConf } from '../governance/programs.js';
import { listRevokedSha256 } from '../pki/revocation.js';
import { listGrantedAccessRights } from '../registry/access-rights.js';
import { listAgreements } from '../registry/agreements.js';
import { hostedMembersByNode } from '../registry/node-members.js';
import { tramasForConf } from '../registry/tramas.js';
import type { MemberRecord, NodeRecord, RegistryStore, ServiceRecord, SubsystemRecord } from '../registry/store.js';

export interface RegistrySnapshot {
  readonly members: readonly MemberRecord[];
  readonly subsystems: readonly SubsystemRecord[];
  readonly nodes: readonly NodeRecord[];
  readonly services: readonly ServiceRecord[];
  /** Agreements (registry/agreements.ts); absent in snapshots built by hand. */
  readonly agreements?: readonly GlobalConfAgreement[];
  /** Access rights granted through central (registry/access-rights.ts); absent in snapshots built by hand. */
  readonly accessRights?: readonly GlobalConfAccessRight[];
  /** SHA-256 of revoked certificates (pki/revocation.ts); absent in snapshots built by hand. */
  readonly revokedCerts?: readonly string[];
  /** Programmes of the RPS not closed (governance/programs.ts); absent in snapshots built by hand. */
  readonly programs?: readonly GlobalConfProgram[];
  /** Members a shared node hosts besides its owner (registry/node-members.ts), by node name; absent in snapshots built by hand. */
  readonly nodeMembers?: ReadonlyMap<string, readonly string[]>;
  /** Trama definitions of batch exchanges, latest version of each (registry/tramas.ts); absent in snapshots built by hand. */
  readonly tramas?: readonly GlobalConfTrama[];
}

export function takeRegistrySnapshot(store: RegistryStore): RegistrySnapshot {
  return store.transaction(() => ({
    members: store.listMembers(),
    subsystems: store.listSubsystems(),
    nodes: store.listNodes(),
    services: store.listServices(),
    agreements: listAgreements(store),
    accessRights: listGrantedAccessRights(store),
    revokedCerts: listRevokedSha256(store),
    programs: programsForConf(store),
    nodeMembers: hostedMembersByNode(store),
    tramas: tramasForConf(store),
  }));
}
