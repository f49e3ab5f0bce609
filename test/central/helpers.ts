/** Shared set-up for central tests: an in-memory registry with a real ECDSA instance PKI. */
import { createCsr, generateKeyPair, issueCertificate } from '../../core/pki.js';
import type { CertSubject } from '../../core/pki.js';
import { createSigner } from '../../core/signature.js';
import type { Signer } from '../../core/signature.js';
import { createInstancePki, registerInstancePki } from '../../central/pki/ca.js';
import type { InstancePki } from '../../central/pki/ca.js';
import { openSqliteRegistryStore } from '../../central/registry/store.js';
import type { ChangeContext, RegistryStore } from '../../central/registry/store.js';

export const T0 = new Date('2026-03-02T15:00:00.000Z');
export const RUC_RENIEC = '20295613620';
export const RUC_MIDIS = '20545565359';
export const RUC_OTHER = '20512333797';

export const ctxAt = (at: Date, actor = 'prueba'): ChangeContext => ({ actor, at });

export interface TestInstance {
  readonly store: RegistryStore;
  readonly pki: InstancePki;
  readonly signer: Signer;
}

let cachedPki: InstancePki | undefined;

/** One PKI per test process (ECDSA key generation is fast, but there is no need to repeat it). */
export async function instancePki(): Promise<InstancePki> {
  cachedPki ??= await createInstancePki({ instance: 'PE', operatorName: 'MIDIS DGFO', keyAlgorithm: 'ecdsa-p256', now: T0 });
  return cachedPki;
}

export async function makeInstance(path = ':memory:'): Promise<TestInstance> {
  const store = openSqliteRegistryStore(path);
  const pki = await instancePki();
  registerInstancePki(store, { instance: 'PE', operatorName: 'MIDIS DGFO', keyAlgorithm: 'ecdsa-p256', pki }, ctxAt(T0, 'init'));
  return { store, pki, signer: createSigner(pki.confKeys.privateKeyPem, pki.confCertPem) };
}

/** A CSR from a fresh ECDSA key. */
export async function makeCsr(subject: CertSubject): Promise<string> {
  return createCsr(await generateKeyPair('ecdsa-p256'), subject);
}

/** An auth certificate issued directly by the instance CA (bypassing the registry checks). */
export async function issueAuthCert(pki: InstancePki, organization: string, now = T0): Promise<string> {
  return issueCertificate({
    csrPem: await makeCsr({ organization, commonName: `${organization} nodo` }),
    profile: 'auth',
    ca: { certPem: pki.caCertPem, privateKeyPem: pki.caKeys.privateKeyPem },
    now,
    validDays: 365,
    ipAddresses: ['127.0.0.1'],
  });
}
