/**
 * Shared node (issue 14 item 8; X-Road: a security server with several members): besides its
 * owner, a node can host members — e.g. a regional government's node for its municipalities'
 * ULEs. Each hosted member has its own signing key and `sign` certificate; the node signs a
 * consumer request with the key of the client's member and a provider answer with the key of the
 * service's member (node/pipeline/context.ts `memberSigning`).
 *
 * Files (the member id's '/' become '_' in the folder name):
 *   members/<M>/member.json       { id, name }
 *   members/<M>/sign.csr          CSR (subject O = name, CN = code, serialNumber = member id)
 *   members/<M>/sign.pem          certificate issued by central (`miis-node member cert-import`)
 *   keys/members/<M>/sign-key.pem the member's signing key (0600; folders 0700)
 *
 * A running node builds the member → signer map once and rebuilds it only when these files change
 * (checked on the local refresh tick, `createHostedSigners().reload()`); the pipeline only looks
 * members up in the map.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiisError } from '../../core/errors.js';
import type { GlobalConf } from '../../core/global-conf-model.js';
import { formatMemberId, parseClientId } from '../../core/identifiers.js';
import { certMatchesKey, certificateInfo, certSha256, createCsr, generateKeyPair, verifyChain, type CertInfo, type KeyAlgorithm } from '../../core/pki.js';
import { createSigner } from '../../core/signature.js';
import type { NodeSettings } from '../store/local-store.js';
import { memberOfSigningCert } from './signing-cert.js';
import type { SigningState } from './signing-rotation.js';

const slug = (member: string): string => member.replaceAll('/', '_');

export function hostedMemberPaths(dir: string, member: string) {
  const folder = join(dir, 'members', slug(member));
  const keyFolder = join(dir, 'keys', 'members', slug(member));
  return { folder, keyFolder, info: join(folder, 'member.json'), csr: join(folder, 'sign.csr'), cert: join(folder, 'sign.pem'), key: join(keyFolder, 'sign-key.pem') } as const;
}

export interface HostedMember {
  readonly id: string;
  readonly name: string;
  /** The installed certificate, if any. */
  readonly cert?: CertInfo;
}

function memberIdOf(text: string): string {
  const id = parseClientId(text.trim());
  if (id.subsystemCode !== undefined) throw new MiisError('Config.InvalidIdentifier', `«${text}»: indique un miembro (INSTANCIA/CLASE/CÓDIGO), no un subsistema`);
  return formatMemberId(id);
}

const ownId = (s: NodeSettings): string => `${s.instance}/${s.memberClass}/${s.memberCode}`;

/** The members this node hosts (besides its owner), by id. */
export function listHostedMembers(dir: string): HostedMember[] {
  const root = join(dir, 'members');
  if (!existsSync(root)) return [];
  const out: HostedMember[] = [];
  for (const entry of readdirSync(root).sort()) {
    const infoPath = join(root, entry, 'member.json');
    if (!existsSync(infoPath)) continue;
    const meta = JSON.parse(readFileSync(infoPath, 'utf8')) as { id: string; name: string };
    const p = hostedMemberPaths(dir, meta.id);
    out.push({ id: meta.id, name: meta.name, ...(existsSync(p.cert) ? { cert: certificateInfo(readFileSync(p.cert, 'utf8')) } : {}) });
  }
  return out;
}

/** A new hosted member: its signing key and CSR (same subject rules as `miis-node init`). */
export async function addHostedMember(dir: string, settings: NodeSettings, input: { member: string; name: string }): Promise<{ id: string; csrPath: string }> {
  const id = memberIdOf(input.member);
  if (id === ownId(settings)) throw new MiisError('Config.Duplicate', `${id} es el propietario de este nodo`);
  const member = parseClientId(id);
  if (member.instance !== settings.instance) throw new MiisError('Config.InvalidIdentifier', `${id} es de otra instancia (este nodo es de ${settings.instance})`);
  const name = input.name.trim();
  if (name === '' || name.length > 200) throw new MiisError('Config.InvalidInput', 'indique --name con el nombre registrado del miembro en central');
  const p = hostedMemberPaths(dir, id);
  if (existsSync(p.info)) throw new MiisError('Config.Duplicate', `el miembro alojado ${id} (${p.folder})`);
  const keys = await generateKeyPair(settings.keyAlgorithm as KeyAlgorithm);
  mkdirSync(p.keyFolder, { recursive: true, mode: 0o700 });
  mkdirSync(p.folder, { recursive: true });
  writeFileSync(p.key, keys.privateKeyPem, { mode: 0o600 });
  writeFileSync(p.csr, await createCsr(keys, { organization: name, commonName: member.memberCode, serialNumber: id }));
  writeFileSync(p.info, JSON.stringify({ id, name }, null, 2) + '\n');
  return { id, csrPath: p.csr };
}

/** Check and install a hosted member's signing certificate (profile sign, that member, its key, valid, chains when a configuration is known). */
export function importHostedSigningCert(dir: string, memberText: string, pem: string, opts: { conf: GlobalConf | undefined; now: Date; file: string }): CertInfo {
  const id = memberIdOf(memberText);
  const p = hostedMemberPaths(dir, id);
  if (!existsSync(p.info)) throw new MiisError('Config.NotFound', `el miembro alojado ${id} en este nodo; agréguelo con «miis-node member add»`);
  const info = certificateInfo(pem);
  const bad = (reason: string): MiisError => new MiisError('Config.InvalidCertificate', `${opts.file} ${reason}`);
  if (info.profile !== 'sign') throw bad(`tiene perfil ${info.profile}; se esperaba sign`);
  const owner = memberOfSigningCert(opts.conf, pem);
  if (!owner.ok) throw bad(`no es de ${id}: ${owner.reason}`);
  if (owner.member !== id) throw bad(`es de ${owner.member}, no de ${id}`);
  if (info.notAfter.getTime() <= opts.now.getTime()) throw bad(`venció el ${info.notAfter.toISOString()}`);
  if (opts.conf !== undefined) {
    const chain = verifyChain(pem, opts.conf.trustedCas, opts.now);
    if (!chain.ok) throw bad(`no es válido: ${chain.reason}`);
  }
  if (!certMatchesKey(pem, readFileSync(p.key, 'utf8'))) throw bad(`no corresponde a la clave de firma de ${id} (${p.key})`);
  const tmp = `${p.cert}.tmp-${process.pid}`;
  writeFileSync(tmp, pem);
  renameSync(tmp, p.cert);
  return info;
}

/** The keys and certificate of a hosted member, for the CLI (signed governance messages). */
export function hostedMemberKeys(dir: string, memberText: string): { member: string; keyPem: string; certPem: string } {
  const id = memberIdOf(memberText);
  const p = hostedMemberPaths(dir, id);
  if (!existsSync(p.info)) throw new MiisError('Config.NotFound', `el miembro alojado ${id} en este nodo; agréguelo con «miis-node member add»`);
  if (!existsSync(p.cert)) throw new MiisError('Config.NotInitialized', `falta el certificado de firma de ${id} (${p.cert}); instálelo con «miis-node member cert-import»`);
  return { member: id, keyPem: readFileSync(p.key, 'utf8'), certPem: readFileSync(p.cert, 'utf8') };
}

export interface HostedSigners {
  /** The signer of a hosted member with an installed key + certificate pair; undefined otherwise. */
  get(member: string): SigningState | undefined;
  /** Rebuild the map if the members' files changed; true when it was rebuilt. */
  reload(): boolean;
}

function stampOf(dir: string): string {
  const root = join(dir, 'members');
  if (!existsSync(root)) return '';
  return readdirSync(root).sort().map((entry) => {
    const meta = join(root, entry, 'member.json');
    const parts = [meta, join(root, entry, 'sign.pem'), join(dir, 'keys', 'members', entry, 'sign-key.pem')].map((f) => {
      try {
        const st = statSync(f);
        return `${st.ino}:${st.mtimeMs}:${st.size}`;
      } catch {
        return '-';
      }
    });
    return `${entry}=${parts.join(',')}`;
  }).join('|');
}

/** The hosted members' signers, as a map built at start and rebuilt when their files change. */
export function createHostedSigners(dir: string, info: (line: string) => void): HostedSigners {
  let map = new Map<string, SigningState>();
  let stamp: string | undefined;
  const build = (): boolean => {
    const now = stampOf(dir);
    if (now === stamp) return false;
    const next = new Map<string, SigningState>();
    for (const m of listHostedMembers(dir)) {
      const p = hostedMemberPaths(dir, m.id);
      if (!existsSync(p.cert) || !existsSync(p.key)) continue;
      const key = readFileSync(p.key, 'utf8');
      const cert = readFileSync(p.cert, 'utf8');
      if (!certMatchesKey(cert, key)) {
        info(`miembro alojado ${m.id}: ${p.cert} no corresponde a su clave; no se firma por él`);
        continue;
      }
      next.set(m.id, { signer: createSigner(key, cert), sha256: certSha256(cert) });
    }
    if (stamp !== undefined || next.size > 0) info(`miembros alojados con clave de firma: ${[...next.keys()].join(', ') || 'ninguno'}`);
    stamp = now;
    map = next;
    return true;
  };
  build();
  return { get: (member) => map.get(member), reload: build };
}
