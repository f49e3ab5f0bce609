/**
 * The instance CA: creating the CA and the global-configuration signing certificate, and
 * signing node (auth) and member (sign) CSRs after checking them against the registry.
 * Every certificate issued is recorded in the store. No file access here (see central-dir.ts).
 */
import 'reflect-metadata'; // @peculiar/x509 (tsyringe) needs the Reflect metadata API loaded first (central CA work only)
import * as x509 from '@peculiar/x509';
import { MiisError } from '../../core/errors.js';
import { createCsr, createSelfSignedCa, certificateInfo, generateKeyPair, issueCertificate } from '../../core/pki.js';
import type { CaMaterial, CertInfo, KeyAlgorithm, KeyPairPem } from '../../core/pki.js';
import { SETTING, requireMember } from '../registry/rules.js';
import type { ChangeContext, IssuedCertRecord, MemberRecord, RegistryStore } from '../registry/store.js';

export const CA_VALID_DAYS = 3650;
export const CONF_CERT_VALID_DAYS = 730;
export const DEFAULT_CERT_VALID_DAYS = 365;

/** Profiles a CSR can be signed for from the CLI (conf is issued only at init). */
export const CSR_PROFILES = ['auth', 'sign'] as const;
export type CsrProfile = (typeof CSR_PROFILES)[number];

export interface InstancePki {
  readonly caKeys: KeyPairPem;
  readonly caCertPem: string;
  readonly confKeys: KeyPairPem;
  /** The global-configuration signing certificate: the anchor nodes are installed with. */
  readonly confCertPem: string;
}

export interface CsrSubject {
  readonly organization?: string | undefined;
  readonly commonName?: string | undefined;
  readonly serialNumber?: string | undefined;
}

/** Create the CA key and certificate and the conf-signing key and certificate (issued by the CA). */
export async function createInstancePki(opts: {
  instance: string;
  operatorName: string;
  keyAlgorithm: KeyAlgorithm;
  now: Date;
}): Promise<InstancePki> {
  const caKeys = await generateKeyPair(opts.keyAlgorithm);
  const caCertPem = await createSelfSignedCa(caKeys, { organization: opts.operatorName, commonName: `MIIS ${opts.instance} CA` }, { now: opts.now, validDays: CA_VALID_DAYS });
  const confKeys = await generateKeyPair(opts.keyAlgorithm);
  const confCsr = await createCsr(confKeys, { organization: opts.operatorName, commonName: `MIIS ${opts.instance} configuracion global` });
  const confCertPem = await issueCertificate({
    csrPem: confCsr,
    profile: 'conf',
    ca: { certPem: caCertPem, privateKeyPem: caKeys.privateKeyPem },
    now: opts.now,
    validDays: CONF_CERT_VALID_DAYS,
  });
  return { caKeys, caCertPem, confKeys, confCertPem };
}

/** Store the instance settings and the CA and conf-signing certificates (keys stay outside the store). */
export function registerInstancePki(
  store: RegistryStore,
  opts: { instance: string; operatorName: string; keyAlgorithm: KeyAlgorithm; pki: InstancePki },
  ctx: ChangeContext,
): void {
  store.transaction(() => {
    store.setSetting(SETTING.instance, opts.instance, ctx);
    store.setSetting(SETTING.operatorName, opts.operatorName, ctx);
    store.setSetting(SETTING.keyAlgorithm, opts.keyAlgorithm, ctx);
    store.setSetting(SETTING.caCertPem, opts.pki.caCertPem, ctx);
    store.setSetting(SETTING.confCertPem, opts.pki.confCertPem, ctx);
    recordCertificate(store, opts.pki.confCertPem, null, ctx);
  });
}

/** Subject fields of a PKCS#10 request (its signature is verified later, when issuing). */
export function readCsrSubject(csrPem: string): CsrSubject {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new MiisError('Config.InvalidCertificate', 'la solicitud (CSR) no es un PKCS#10 PEM legible');
  }
  const name = csr.subjectName;
  return {
    organization: name.getField('O')[0],
    commonName: name.getField('CN')[0],
    serialNumber: name.getField('2.5.4.5')[0],
  };
}

/**
 * The member a CSR is for. `sign`: subject serialNumber must be a registered member id.
 * `auth`: serialNumber if present, otherwise the one member whose name is the subject O.
 * In both cases the subject O must be the member's registered name.
 */
export function memberForCsr(store: RegistryStore, subject: CsrSubject, profile: CsrProfile): MemberRecord {
  let member: MemberRecord;
  if (subject.serialNumber !== undefined) {
    member = requireMember(store, subject.serialNumber);
  } else if (profile === 'sign') {
    throw new MiisError('Config.InvalidCertificate', 'una solicitud de firma (sign) debe llevar en serialNumber el identificador del miembro INSTANCIA/CLASE/CÓDIGO');
  } else {
    const matches = store.listMembers().filter((m) => m.name === subject.organization);
    if (matches.length !== 1) {
      throw new MiisError('Config.NotFound', `ningún miembro registrado se llama «${subject.organization ?? ''}» (O de la solicitud); indique el miembro en serialNumber`);
    }
    member = matches[0]!;
  }
  if (subject.organization !== member.name) {
    throw new MiisError('Config.InvalidCertificate', `la organización (O) de la solicitud es «${subject.organization ?? ''}», pero el miembro ${member.id} está registrado como «${member.name}»`);
  }
  return member;
}

/** Check a CSR against the registry, issue it with the instance CA and record the certificate. */
export async function signCsr(
  store: RegistryStore,
  ca: CaMaterial,
  request: { csrPem: string; profile: CsrProfile; validDays?: number; dnsNames?: readonly string[]; ipAddresses?: readonly string[] },
  ctx: ChangeContext,
): Promise<IssuedCertRecord> {
  if (!(CSR_PROFILES as readonly string[]).includes(request.profile)) {
    throw new MiisError('Config.InvalidInput', `perfil no válido: «${request.profile}». Use ${CSR_PROFILES.join(' o ')}`);
  }
  const member = memberForCsr(store, readCsrSubject(request.csrPem), request.profile);
  const certPem = await issueCertificate({
    csrPem: request.csrPem,
    profile: request.profile,
    ca,
    now: ctx.at,
    validDays: request.validDays ?? DEFAULT_CERT_VALID_DAYS,
    ...(request.profile === 'auth' ? { dnsNames: request.dnsNames ?? [], ipAddresses: request.ipAddresses ?? [] } : {}),
  });
  return recordCertificate(store, certPem, member.id, ctx);
}

/** Record a certificate the CA issued (also used for the conf-signing certificate at init). */
export function recordCertificate(store: RegistryStore, certPem: string, memberId: string | null, ctx: ChangeContext): IssuedCertRecord {
  const info: CertInfo = certificateInfo(certPem);
  if (info.profile !== 'auth' && info.profile !== 'sign' && info.profile !== 'conf') {
    throw new MiisError('Config.InvalidCertificate', `perfil inesperado en un certificado emitido: ${info.profile}`);
  }
  return store.recordIssuedCert(
    { serialHex: info.serialNumberHex, profile: info.profile, subject: info.subject, memberId, sha256: info.sha256, notAfter: info.notAfter.toISOString(), pem: certPem },
    ctx,
  );
}
