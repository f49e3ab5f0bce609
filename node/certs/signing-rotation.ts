/**
 * Signing-key rotation without downtime.
 *
 *   miis-node cert rotate            new key keys/sign-key.next.pem (0600) + CSR sign.next.csr; the
 *                                    current key and certificate keep signing.
 *   miis-node cert import --sign c   c is for the NEW key: the current pair moves to
 *                                    keys/sign-key.previous.pem + sign.previous.pem (kept), the new
 *                                    key becomes keys/sign-key.pem and c becomes sign.pem.
 *                                    c is for the CURRENT key: it replaces sign.pem (renewal).
 *
 * A running node notices the new files within its local refresh tick (node/main.ts,
 * `createSigningIdentity().reload()`) and signs every later message with the new pair: no
 * restart. Records signed before stay verifiable: `log verify` checks each signature with the
 * certificate embedded in it against the CAs at the record's time, so the old certificate counts
 * until it expires (peers accept both while both are valid).
 */
import { copyFileSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiisError } from '../../core/errors.js';
import type { GlobalConf } from '../../core/global-conf-model.js';
import { certMatchesKey, certificateInfo, certSha256, createCsr, generateKeyPair, verifyChain, type CertInfo, type KeyAlgorithm } from '../../core/pki.js';
import { createSigner, type Signer } from '../../core/signature.js';
import type { NodeSettings } from '../store/local-store.js';
import { nodePaths } from '../store/paths.js';
import { memberOfSigningCert } from './signing-cert.js';

export function rotationPaths(dir: string) {
  return {
    nextKey: join(dir, 'keys', 'sign-key.next.pem'),
    nextCsr: join(dir, 'sign.next.csr'),
    previousKey: join(dir, 'keys', 'sign-key.previous.pem'),
    previousCert: join(dir, 'sign.previous.pem'),
  } as const;
}

/** Write a file by rename, so a reader never sees it half-written. */
function writeAtomic(path: string, text: string, mode?: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, mode === undefined ? undefined : { mode });
  renameSync(tmp, path);
}

/** Start a rotation: a new signing key and its CSR (same subject as `miis-node init`). */
export async function startSigningKeyRotation(dir: string, s: NodeSettings, opts: { force?: boolean } = {}): Promise<{ keyPath: string; csrPath: string }> {
  const r = rotationPaths(dir);
  if (existsSync(r.nextKey) && opts.force !== true) {
    throw new MiisError('Config.Duplicate', `una rotación en curso (${r.nextKey}); importe el certificado de ${r.nextCsr} con «miis-node cert import --sign» o use --force`);
  }
  const keys = await generateKeyPair(s.keyAlgorithm as KeyAlgorithm);
  const csr = await createCsr(keys, { organization: s.memberName, commonName: s.memberCode, serialNumber: `${s.instance}/${s.memberClass}/${s.memberCode}` });
  writeAtomic(r.nextKey, keys.privateKeyPem, 0o600);
  writeAtomic(r.nextCsr, csr);
  return { keyPath: r.nextKey, csrPath: r.nextCsr };
}

export interface SignImportResult {
  /** 'rotation': the certificate of the new key is now active; 'renewal': it replaced the current one. */
  readonly kind: 'rotation' | 'renewal';
  readonly info: CertInfo;
}

/**
 * Check and install a signing certificate: signing profile, belongs to `memberId` (instance CA:
 * subject serialNumber; external CA: the configuration's mapping rules), not expired, chains to the
 * configuration's CAs when a local configuration exists, and is for the current or the next key.
 */
export function importSigningCert(dir: string, pem: string, opts: { memberId: string; conf: GlobalConf | undefined; now: Date; file: string }): SignImportResult {
  const p = nodePaths(dir);
  const r = rotationPaths(dir);
  const info = certificateInfo(pem);
  const bad = (reason: string): MiisError => new MiisError('Config.InvalidCertificate', `${opts.file} ${reason}`);
  if (info.profile !== 'sign') throw bad(`tiene perfil ${info.profile}; se esperaba sign`);
  const owner = memberOfSigningCert(opts.conf, pem);
  if (!owner.ok) throw bad(`no es de ${opts.memberId}: ${owner.reason}`);
  if (owner.member !== opts.memberId) {
    const hint = opts.conf === undefined ? ' (si es de una CA externa, inicie el nodo una vez para descargar la configuración global con sus reglas)' : '';
    throw bad(`es de ${owner.member}, no de ${opts.memberId}${hint}`);
  }
  if (info.notAfter.getTime() <= opts.now.getTime()) throw bad(`venció el ${info.notAfter.toISOString()}`);
  if (opts.conf !== undefined) {
    const chain = verifyChain(pem, opts.conf.trustedCas, opts.now);
    if (!chain.ok) throw bad(`no es válido: ${chain.reason}`);
  }
  if (existsSync(r.nextKey) && certMatchesKey(pem, readFileSync(r.nextKey, 'utf8'))) {
    // keep the outgoing pair, then switch key and certificate (the node reloads once both match)
    copyFileSync(p.signKey, r.previousKey);
    if (existsSync(p.signCert)) copyFileSync(p.signCert, r.previousCert);
    renameSync(r.nextKey, p.signKey);
    writeAtomic(p.signCert, pem);
    rmSync(r.nextCsr, { force: true });
    return { kind: 'rotation', info };
  }
  if (!certMatchesKey(pem, readFileSync(p.signKey, 'utf8'))) throw bad(`no corresponde a la clave de firma de este nodo (${p.signKey})${existsSync(r.nextKey) ? ` ni a la nueva (${r.nextKey})` : ''}`);
  writeAtomic(p.signCert, pem);
  return { kind: 'renewal', info };
}

export interface SigningState {
  readonly signer: Signer;
  readonly sha256: string;
}

export interface SigningIdentity {
  current(): SigningState;
  /** Re-read key and certificate if their files changed; true when a new pair became active. */
  reload(): boolean;
}

function stampOf(...paths: string[]): string {
  return paths.map((f) => {
    const st = statSync(f);
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  }).join('|');
}

/** The node's active signing key and certificate, swapped in place when the files change. */
export function createSigningIdentity(dir: string, keyPem: string, certPem: string, info: (line: string) => void): SigningIdentity {
  const p = nodePaths(dir);
  let state: SigningState = { signer: createSigner(keyPem, certPem), sha256: certSha256(certPem) };
  let stamp = stampOf(p.signKey, p.signCert);
  return {
    current: () => state,
    reload() {
      let now: string;
      try {
        now = stampOf(p.signKey, p.signCert);
      } catch {
        return false; // a file is being replaced: next tick
      }
      if (now === stamp) return false;
      const key = readFileSync(p.signKey, 'utf8');
      const cert = readFileSync(p.signCert, 'utf8');
      if (!certMatchesKey(cert, key)) return false; // mid-rotation: key and certificate not yet a pair
      const sha = certSha256(cert);
      stamp = now;
      if (sha === state.sha256 && state.signer.certPem === cert) return false;
      state = { signer: createSigner(key, cert), sha256: sha };
      info(`certificado de firma activo: SHA-256 ${sha} (vence ${certificateInfo(cert).notAfter.toISOString()})`);
      return true;
    },
  };
}
