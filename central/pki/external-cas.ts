/**
 * External CAs trusted by the instance (in Peru, RENIEC's ECEP under the IOFE): central keeps each
 * imported chain in its own table (registry migration 4) and publishes
 * the ISSUING CA certificate (the first of the chain) in `trustedCas` together with an
 * `externalCas` entry: its name, SHA-256, the field→member mapping rules and an optional OCSP URL.
 * Nodes accept a signing certificate of an external CA only when the rules map it to the sender.
 * Only the issuing CA is published so that the rest of the chain (e.g. the IOFE root) cannot issue
 * certificates nodes would take for instance-CA ones.
 */
import { MiisError } from '../../core/errors.js';
import type { GlobalConfExternalCa, GlobalConfMemberMapping } from '../../core/global-conf-model.js';
import { mappingRuleProblem } from '../../core/member-mapping.js';
import { certificateInfo, nodeCertificate } from '../../core/pki.js';
import { requireInstance } from '../registry/rules.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';

export interface ExternalCaRecord {
  readonly name: string;
  /** The issuing CA certificate (published). */
  readonly caPem: string;
  /** The whole chain as imported (issuing CA first). */
  readonly chainPem: string;
  readonly certSha256: string;
  readonly memberMapping: readonly GlobalConfMemberMapping[];
  readonly ocspUrl?: string | undefined;
  readonly addedAt: string;
  readonly actor: string;
}

const bad = (reason: string): MiisError => new MiisError('Config.InvalidCertificate', reason);

/** The PEM certificate blocks of a chain file, in file order. */
export function splitPemChain(text: string): string[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw bad('el archivo no contiene certificados PEM');
  if (blocks.length > 8) throw bad('la cadena tiene más de 8 certificados');
  return blocks.map((b) => `${b}\n`);
}

/**
 * Check a chain (issuing CA first, then each issuer): every certificate a CA (basicConstraints
 * CA:TRUE), valid at `now`, issued and signed by the next one; a self-signed last certificate
 * must verify with its own key. Returns the issuing CA.
 */
export function validateExternalChain(chain: readonly string[], now: Date): string {
  chain.forEach((pem, i) => {
    let info;
    try {
      info = certificateInfo(pem);
    } catch {
      throw bad(`certificado ${i + 1} de la cadena: no se puede leer`);
    }
    const who = `certificado ${i + 1} de la cadena (${info.subject.replaceAll('\n', ', ')})`;
    if (info.profile !== 'ca') throw bad(`${who}: no es una CA (basicConstraints CA:TRUE)`);
    if (info.notAfter.getTime() <= now.getTime()) throw bad(`${who}: venció el ${info.notAfter.toISOString()}`);
    if (info.notBefore.getTime() > now.getTime()) throw bad(`${who}: aún no es válido (desde ${info.notBefore.toISOString()})`);
    const cert = nodeCertificate(pem);
    const issuer = chain[i + 1];
    if (issuer !== undefined) {
      const up = nodeCertificate(issuer);
      if (!cert.checkIssued(up) || !cert.verify(up.publicKey)) throw bad(`${who}: no fue emitido por el certificado ${i + 2} de la cadena`);
    } else if (cert.checkIssued(cert) && !cert.verify(cert.publicKey)) {
      throw bad(`${who}: la firma del certificado raíz no es válida`);
    }
  });
  return chain[0]!;
}

export function trustExternalCa(
  store: RegistryStore,
  opts: { name: string; chainPem: string; memberMapping: readonly GlobalConfMemberMapping[]; ocspUrl?: string | undefined; instanceCaPem?: string | undefined },
  ctx: ChangeContext,
): ExternalCaRecord {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(opts.name)) throw new MiisError('Config.InvalidInput', `nombre de CA externa no válido: «${opts.name}» (letras, dígitos, . _ -; hasta 64)`);
  const chain = splitPemChain(opts.chainPem);
  const caPem = validateExternalChain(chain, ctx.at);
  const sha = certificateInfo(caPem).sha256;
  if (opts.instanceCaPem !== undefined && certificateInfo(opts.instanceCaPem).sha256 === sha) throw bad('ese certificado es la CA de la instancia, no una CA externa');
  const instance = requireInstance(store);
  opts.memberMapping.forEach((rule, i) => {
    const problem = mappingRuleProblem(rule, instance);
    if (problem !== undefined) throw new MiisError('Config.InvalidInput', `regla ${i + 1}: ${problem}`);
  });
  if (opts.ocspUrl !== undefined && !/^https?:\/\/[^\s]{1,2000}$/.test(opts.ocspUrl)) throw new MiisError('Config.InvalidInput', `URL OCSP no válida: «${opts.ocspUrl}»`);
  const record: ExternalCaRecord = {
    name: opts.name, caPem, chainPem: chain.join(''), certSha256: sha, memberMapping: [...opts.memberMapping], ocspUrl: opts.ocspUrl,
    addedAt: ctx.at.toISOString(), actor: ctx.actor,
  };
  store.transaction(() => {
    const dup = store.db.prepare('SELECT name FROM external_cas WHERE name = ? OR cert_sha256 = ?').get(opts.name, sha) as { name: string } | undefined;
    if (dup !== undefined) throw new MiisError('Config.Duplicate', `la CA externa ${dup.name}`);
    store.db.prepare('INSERT INTO external_cas (name, ca_pem, chain_pem, cert_sha256, mapping_json, ocsp_url, added_at, actor) VALUES (?,?,?,?,?,?,?,?)')
      .run(record.name, caPem, record.chainPem, sha, JSON.stringify(record.memberMapping), record.ocspUrl ?? null, record.addedAt, ctx.actor);
    store.audit(ctx, 'ca.trust', null, { name: record.name, certSha256: sha, memberMapping: record.memberMapping, ocspUrl: record.ocspUrl ?? null });
  });
  return record;
}

export function untrustExternalCa(store: RegistryStore, name: string, ctx: ChangeContext): void {
  store.transaction(() => {
    const row = store.db.prepare('SELECT cert_sha256 FROM external_cas WHERE name = ?').get(name) as { cert_sha256: string } | undefined;
    if (row === undefined) throw new MiisError('Config.NotFound', `la CA externa ${name}`);
    store.db.prepare('DELETE FROM external_cas WHERE name = ?').run(name);
    store.audit(ctx, 'ca.untrust', { name, certSha256: row.cert_sha256 }, null);
  });
}

export function listExternalCas(store: RegistryStore): ExternalCaRecord[] {
  return (store.db.prepare('SELECT * FROM external_cas ORDER BY name').all() as Record<string, string | null>[]).map((r) => ({
    name: r.name!, caPem: r.ca_pem!, chainPem: r.chain_pem!, certSha256: r.cert_sha256!,
    memberMapping: JSON.parse(r.mapping_json!) as GlobalConfMemberMapping[], ocspUrl: r.ocsp_url ?? undefined, addedAt: r.added_at!, actor: r.actor!,
  }));
}

/** What the global configuration publishes: the issuing CA certificates and the externalCas section. */
export function externalCaPublication(store: RegistryStore): { trustedCas: string[]; externalCas: GlobalConfExternalCa[] } {
  const rows = listExternalCas(store);
  return {
    trustedCas: rows.map((r) => r.caPem),
    externalCas: rows.map((r) => ({ name: r.name, certSha256: r.certSha256, memberMapping: r.memberMapping, ...(r.ocspUrl === undefined ? {} : { ocspUrl: r.ocspUrl }) })),
  };
}
