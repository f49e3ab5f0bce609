/**
 * Build the global configuration from a registry snapshot. A pure function: the same
 * snapshot, instance, CAs, serial, instant and validity always give the same content, with
 * every list sorted so that unchanged content hashes the same (see confContentSha256).
 */
import { createHash } from 'node:crypto';
import { GLOBAL_CONF_FORMAT } from '../../core/global-conf-model.js';
import type { GlobalConf } from '../../core/global-conf-model.js';
import type { RegistrySnapshot } from './snapshot.js';

export interface BuildOptions {
  readonly instance: string;
  /** PEM certificates of the CAs nodes must trust (the instance CA first). */
  readonly trustedCas: readonly string[];
  readonly serial: number;
  readonly now: Date;
  readonly validityMs: number;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function hostedOf(snapshot: RegistrySnapshot, nodeName: string): { members?: string[] } {
  const registered = new Set(snapshot.members.map((m) => m.id));
  const members = (snapshot.nodeMembers?.get(nodeName) ?? []).filter((m) => registered.has(m));
  return members.length === 0 ? {} : { members: [...members].sort(byText) };
}

export function buildGlobalConf(snapshot: RegistrySnapshot, opts: BuildOptions): GlobalConf {
  return {
    format: GLOBAL_CONF_FORMAT,
    instance: opts.instance,
    serial: opts.serial,
    generatedAt: opts.now.toISOString(),
    expiresAt: new Date(opts.now.getTime() + opts.validityMs).toISOString(),
    members: snapshot.members
      .filter((m) => m.instance === opts.instance)
      .map((m) => ({ id: m.id, name: m.name, role: m.role }))
      .sort((a, b) => byText(a.id, b.id)),
    subsystems: snapshot.subsystems.map((s) => s.id).sort(byText),
    nodes: snapshot.nodes
      .map((n) => ({
        name: n.name, owner: n.ownerId, address: n.address, authCertSha256: n.authCertSha256,
        // a renewed node's previous certificate, while its overlap lasts (registry/node-lifecycle.ts)
        ...(n.previousAuthCertSha256 !== undefined && n.previousAuthUntil !== undefined && Date.parse(n.previousAuthUntil) > opts.now.getTime()
          ? { authCertsSha256: [n.authCertSha256, n.previousAuthCertSha256] } : {}),
        clients: [...n.clients].sort(byText),
        // a shared node: the members it hosts besides its owner (registry/node-members.ts); omitted when none
        ...hostedOf(snapshot, n.name),
      }))
      .sort((a, b) => byText(a.name, b.name)),
    services: snapshot.services.map((s) => ({ id: s.id, title: s.title })).sort((a, b) => byText(a.id, b.id)),
    trustedCas: [...opts.trustedCas],
    // agreements enforced per request by provider nodes (central/registry/agreements.ts); omitted when there are none
    ...(snapshot.agreements === undefined || snapshot.agreements.length === 0 ? {} : { agreements: [...snapshot.agreements].sort((a, b) => byText(a.id, b.id)) }),
    // access rights granted through central (central/registry/access-rights.ts, directive 7.2.3); omitted when there are none
    ...(snapshot.accessRights === undefined || snapshot.accessRights.length === 0 ? {} : { accessRights: [...snapshot.accessRights].sort((a, b) => byText(`${a.service} ${a.client}`, `${b.service} ${b.client}`)) }),
    // certificates central revoked (central/pki/revocation.ts); nodes refuse them within one refresh; omitted when none
    ...(snapshot.revokedCerts === undefined || snapshot.revokedCerts.length === 0 ? {} : { revokedCerts: [...snapshot.revokedCerts].sort(byText) }),
    // the RPS (central/governance/programs.ts): omitted while no programme is registered, so nodes of an
    // older release (which refuse unknown fields) keep working until DGFO registers the first one
    ...(snapshot.programs === undefined || snapshot.programs.length === 0 ? {} : { programs: [...snapshot.programs].sort((a, b) => byText(a.code, b.code)) }),
    // trama definitions of batch exchanges (registry/tramas.ts): omitted while none is registered (older nodes refuse the field)
    ...(snapshot.tramas === undefined || snapshot.tramas.length === 0 ? {} : { tramas: [...snapshot.tramas].sort((a, b) => byText(a.id, b.id)) }),
  };
}

/** SHA-256 of what the configuration says, leaving out serial and dates. */
export function confContentSha256(conf: GlobalConf): string {
  const { serial: _serial, generatedAt: _generatedAt, expiresAt: _expiresAt, ...content } = conf;
  return createHash('sha256').update(JSON.stringify(content), 'utf8').digest('hex');
}
