import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MiisError } from '../../../core/errors.js';
import { addNodeClient, parseNodeAddress, registerMember, registerNode, registerService, registerSubsystem } from '../../../central/registry/rules.js';
import { openSqliteRegistryStore } from '../../../central/registry/store.js';
import { createInstancePki } from '../../../central/pki/ca.js';
import { ctxAt, issueAuthCert, makeInstance, RUC_MIDIS, RUC_RENIEC, T0 } from '../helpers.js';

const ctx = ctxAt(T0);
const isCode = (code: string) => (err: unknown) => err instanceof MiisError && err.code === code;

test('member: RUC validated with the expected check digit, role from the Art. 5 list, no duplicates', async () => {
  const { store } = await makeInstance();
  const m = registerMember(store, { memberClass: 'GOB', memberCode: ` ${RUC_RENIEC} `, name: ' RENIEC ', role: 'reniec' }, ctx);
  assert.deepEqual([m.id, m.name, m.role], [`PE/GOB/${RUC_RENIEC}`, 'RENIEC', 'RENIEC']);
  assert.throws(() => registerMember(store, { memberClass: 'GOB', memberCode: '20295613621', name: 'X', role: 'IPF' }, ctx),
    (err: unknown) => isCode('Config.InvalidRuc')(err) && /se esperaba 0/.test((err as Error).message));
  assert.throws(() => registerMember(store, { memberClass: 'GOB', memberCode: RUC_MIDIS, name: 'MIDIS', role: 'MINISTERIO' }, ctx), isCode('Config.InvalidInput'));
  assert.throws(() => registerMember(store, { memberClass: 'G/B', memberCode: RUC_MIDIS, name: 'MIDIS', role: 'MIDIS' }, ctx), isCode('Config.InvalidIdentifier'));
  assert.throws(() => registerMember(store, { memberClass: 'GOB', memberCode: RUC_RENIEC, name: 'Otra vez', role: 'RENIEC' }, ctx), isCode('Config.Duplicate'));
  store.close();
});

test('registry refuses to work before init', () => {
  const store = openSqliteRegistryStore(':memory:');
  assert.throws(() => registerMember(store, { memberClass: 'GOB', memberCode: RUC_RENIEC, name: 'R', role: 'RENIEC' }, ctx), isCode('Config.NotInitialized'));
  store.close();
});

test('subsystem and service: right instance, registered owner, normalised ids', async () => {
  const { store } = await makeInstance();
  registerMember(store, { memberClass: 'GOB', memberCode: RUC_RENIEC, name: 'RENIEC', role: 'RENIEC' }, ctx);
  assert.throws(() => registerSubsystem(store, `PE/GOB/${RUC_MIDIS}/PGH`, ctx), isCode('Config.NotFound'));
  assert.throws(() => registerSubsystem(store, `CL/GOB/${RUC_RENIEC}/RUPN`, ctx), isCode('Config.InvalidIdentifier'));
  assert.throws(() => registerSubsystem(store, `PE/GOB/${RUC_RENIEC}`, ctx), isCode('Config.InvalidIdentifier'));
  registerSubsystem(store, `PE/GOB/${RUC_RENIEC}/RUPN`, ctx);
  assert.throws(() => registerSubsystem(store, `PE/GOB/${RUC_RENIEC}/RUPN`, ctx), isCode('Config.Duplicate'));
  assert.throws(() => registerService(store, { serviceId: `PE/GOB/${RUC_RENIEC}/OTRO/consultar`, title: 't' }, ctx), isCode('Config.NotFound'));
  const svc = registerService(store, { serviceId: `PE/GOB/${RUC_RENIEC}/RUPN/consultarPersona/v1`, title: 'Consulta' }, ctx);
  assert.equal(svc.subsystemId, `PE/GOB/${RUC_RENIEC}/RUPN`);
  assert.throws(() => registerService(store, { serviceId: svc.id, title: 'otra' }, ctx), isCode('Config.Duplicate'));
  store.close();
});

test('node: https address only, auth cert from the instance CA, unique cert; clients must exist', async () => {
  const { store, pki } = await makeInstance();
  registerMember(store, { memberClass: 'GOB', memberCode: RUC_RENIEC, name: 'RENIEC', role: 'RENIEC' }, ctx);
  registerSubsystem(store, `PE/GOB/${RUC_RENIEC}/RUPN`, ctx);
  const auth = await issueAuthCert(pki, 'RENIEC');
  const owner = `PE/GOB/${RUC_RENIEC}`;
  assert.throws(() => registerNode(store, { name: 'reniec', ownerId: owner, address: 'http://127.0.0.1:5500', authCertPem: auth }, ctx), isCode('Config.InvalidInput'));
  assert.throws(() => registerNode(store, { name: 'reniec', ownerId: `PE/GOB/${RUC_MIDIS}`, address: 'https://127.0.0.1:5500', authCertPem: auth }, ctx), isCode('Config.NotFound'));
  assert.throws(() => registerNode(store, { name: 'reniec', ownerId: owner, address: 'https://127.0.0.1:5500', authCertPem: pki.confCertPem }, ctx),
    (err: unknown) => isCode('Config.InvalidCertificate')(err) && /auth/.test((err as Error).message));
  const foreign = await createInstancePki({ instance: 'XX', operatorName: 'Otra CA', keyAlgorithm: 'ecdsa-p256', now: T0 });
  const foreignAuth = await issueAuthCert(foreign, 'RENIEC');
  assert.throws(() => registerNode(store, { name: 'reniec', ownerId: owner, address: 'https://127.0.0.1:5500', authCertPem: foreignAuth }, ctx), isCode('Config.InvalidCertificate'));
  const node = registerNode(store, { name: 'reniec', ownerId: owner, address: 'https://127.0.0.1:5500/', authCertPem: auth }, ctx);
  assert.equal(node.address, 'https://127.0.0.1:5500');
  assert.throws(() => registerNode(store, { name: 'reniec-2', ownerId: owner, address: 'https://127.0.0.1:5501', authCertPem: auth }, ctx), isCode('Config.Duplicate'));
  assert.throws(() => addNodeClient(store, 'reniec', `PE/GOB/${RUC_RENIEC}/NOPE`, ctx), isCode('Config.NotFound'));
  assert.throws(() => addNodeClient(store, 'nope', `PE/GOB/${RUC_RENIEC}/RUPN`, ctx), isCode('Config.NotFound'));
  assert.deepEqual(addNodeClient(store, 'reniec', `PE/GOB/${RUC_RENIEC}/RUPN`, ctx).clients, [`PE/GOB/${RUC_RENIEC}/RUPN`]);
  assert.throws(() => addNodeClient(store, 'reniec', `PE/GOB/${RUC_RENIEC}/RUPN`, ctx), isCode('Config.Duplicate'));
  store.close();
});

test('parseNodeAddress keeps only the origin and rejects paths and credentials', () => {
  assert.equal(parseNodeAddress('https://Nodo.Example:5500'), 'https://nodo.example:5500');
  for (const bad of ['https://a:5500/x', 'https://u:p@a:5500', 'https://a:5500?q=1', 'ftp://a', 'no es url']) {
    assert.throws(() => parseNodeAddress(bad), isCode('Config.InvalidInput'), bad);
  }
});
