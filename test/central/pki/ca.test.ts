import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MiisError } from '../../../core/errors.js';
import { certificateInfo, verifyChain } from '../../../core/pki.js';
import { readCsrSubject, signCsr } from '../../../central/pki/ca.js';
import { registerMember } from '../../../central/registry/rules.js';
import { ctxAt, makeCsr, makeInstance, RUC_OTHER, RUC_RENIEC, T0 } from '../helpers.js';

const RENIEC = `PE/GOB/${RUC_RENIEC}`;

async function setUp() {
  const inst = await makeInstance();
  registerMember(inst.store, { memberClass: 'GOB', memberCode: RUC_RENIEC, name: 'RENIEC', role: 'RENIEC' }, ctxAt(T0));
  const ca = { certPem: inst.pki.caCertPem, privateKeyPem: inst.pki.caKeys.privateKeyPem };
  return { ...inst, ca };
}

function isCode(code: string) {
  return (err: unknown) => err instanceof MiisError && err.code === code;
}

test('init issued a conf certificate chaining to the CA and recorded it', async () => {
  const { store, pki } = await setUp();
  const info = certificateInfo(pki.confCertPem);
  assert.equal(info.profile, 'conf');
  assert.deepEqual(verifyChain(pki.confCertPem, [pki.caCertPem], T0), { ok: true });
  assert.deepEqual(store.listIssuedCerts().map((c) => [c.profile, c.sha256]), [['conf', info.sha256]]);
  store.close();
});

test('sign CSR with the member id in serialNumber and matching O: issued, chained and recorded', async () => {
  const { store, ca } = await setUp();
  const csrPem = await makeCsr({ organization: 'RENIEC', commonName: 'RENIEC firma', serialNumber: RENIEC });
  assert.deepEqual(readCsrSubject(csrPem), { organization: 'RENIEC', commonName: 'RENIEC firma', serialNumber: RENIEC });
  const issued = await signCsr(store, ca, { csrPem, profile: 'sign' }, ctxAt(T0, 'operador'));
  const info = certificateInfo(issued.pem);
  assert.equal(info.profile, 'sign');
  assert.equal(info.subjectSerialNumber, RENIEC);
  assert.deepEqual(verifyChain(issued.pem, [ca.certPem], T0), { ok: true });
  assert.equal(issued.memberId, RENIEC);
  assert.equal(issued.notAfter, new Date(T0.getTime() + 365 * 86_400_000).toISOString());
  assert.ok(store.listIssuedCerts().some((c) => c.sha256 === info.sha256 && c.profile === 'sign'));
  const audit = store.listAudit().filter((a) => a.action === 'cert.issue').at(-1)!;
  assert.equal(audit.actor, 'operador');
  store.close();
});

test('sign CSR refused: no serialNumber, unregistered member, O that does not match', async () => {
  const { store, ca } = await setUp();
  const ctx = ctxAt(T0);
  const noSerial = await makeCsr({ organization: 'RENIEC', commonName: 'x' });
  await assert.rejects(signCsr(store, ca, { csrPem: noSerial, profile: 'sign' }, ctx), isCode('Config.InvalidCertificate'));
  const unknown = await makeCsr({ organization: 'Otra', commonName: 'x', serialNumber: `PE/GOB/${RUC_OTHER}` });
  await assert.rejects(signCsr(store, ca, { csrPem: unknown, profile: 'sign' }, ctx), (err: unknown) => isCode('Config.NotFound')(err) && String((err as Error).message).includes(RUC_OTHER));
  const wrongO = await makeCsr({ organization: 'Impostor', commonName: 'x', serialNumber: RENIEC });
  await assert.rejects(signCsr(store, ca, { csrPem: wrongO, profile: 'sign' }, ctx), (err: unknown) => isCode('Config.InvalidCertificate')(err) && /Impostor/.test((err as Error).message));
  assert.equal(store.listIssuedCerts().length, 1, 'only the conf certificate from init');
  store.close();
});

test('auth CSR: member found by O, SANs applied; unknown organisation refused', async () => {
  const { store, ca } = await setUp();
  const csrPem = await makeCsr({ organization: 'RENIEC', commonName: 'nodo reniec' });
  const issued = await signCsr(store, ca, { csrPem, profile: 'auth', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] }, ctxAt(T0));
  const info = certificateInfo(issued.pem);
  assert.equal(info.profile, 'auth');
  assert.equal(issued.memberId, RENIEC);
  assert.match(new (await import('node:crypto')).X509Certificate(issued.pem).subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  const stranger = await makeCsr({ organization: 'Nadie', commonName: 'n' });
  await assert.rejects(signCsr(store, ca, { csrPem: stranger, profile: 'auth' }, ctxAt(T0)), isCode('Config.NotFound'));
  await assert.rejects(signCsr(store, ca, { csrPem, profile: 'conf' as 'auth' }, ctxAt(T0)), isCode('Config.InvalidInput'));
  store.close();
});

test('garbage CSR is a Config.InvalidCertificate', async () => {
  const { store, ca } = await setUp();
  await assert.rejects(signCsr(store, ca, { csrPem: 'not a csr', profile: 'auth' }, ctxAt(T0)), isCode('Config.InvalidCertificate'));
  store.close();
});
