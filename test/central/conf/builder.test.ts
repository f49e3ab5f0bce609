import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateGlobalConf } from '../../../core/global-conf.js';
import { GLOBAL_CONF_FORMAT } from '../../../core/global-conf-model.js';
import { buildGlobalConf, confContentSha256 } from '../../../central/conf/builder.js';
import type { RegistrySnapshot } from '../../../central/conf/snapshot.js';
import { instancePki, T0 } from '../helpers.js';

const at = T0.toISOString();
const snapshot: RegistrySnapshot = {
  members: [
    { id: 'PE/GOB/20545565359', instance: 'PE', memberClass: 'GOB', memberCode: '20545565359', name: 'MIDIS', role: 'MIDIS', createdAt: at },
    { id: 'PE/GOB/20295613620', instance: 'PE', memberClass: 'GOB', memberCode: '20295613620', name: 'RENIEC', role: 'RENIEC', createdAt: at },
  ],
  subsystems: [
    { id: 'PE/GOB/20545565359/PGH', memberId: 'PE/GOB/20545565359', subsystemCode: 'PGH', createdAt: at },
    { id: 'PE/GOB/20295613620/RUPN', memberId: 'PE/GOB/20295613620', subsystemCode: 'RUPN', createdAt: at },
  ],
  nodes: [
    { name: 'reniec', ownerId: 'PE/GOB/20295613620', address: 'https://127.0.0.1:5501', authCertPem: 'x', authCertSha256: '1'.repeat(64), clients: ['PE/GOB/20295613620/RUPN'], createdAt: at },
    { name: 'midis', ownerId: 'PE/GOB/20545565359', address: 'https://127.0.0.1:5500', authCertPem: 'y', authCertSha256: '2'.repeat(64), clients: ['PE/GOB/20545565359/PGH'], createdAt: at },
  ],
  services: [{ id: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', subsystemId: 'PE/GOB/20295613620/RUPN', title: 'Consulta de persona', createdAt: at }],
};

test('builds a valid, sorted global configuration with serial, dates and CAs', async () => {
  const pki = await instancePki();
  const conf = buildGlobalConf(snapshot, { instance: 'PE', trustedCas: [pki.caCertPem], serial: 7, now: T0, validityMs: 600_000 });
  assert.equal(conf.format, GLOBAL_CONF_FORMAT);
  assert.equal(conf.serial, 7);
  assert.equal(conf.generatedAt, '2026-03-02T15:00:00.000Z');
  assert.equal(conf.expiresAt, '2026-03-02T15:10:00.000Z');
  assert.deepEqual(conf.members.map((m) => m.id), ['PE/GOB/20295613620', 'PE/GOB/20545565359']);
  assert.deepEqual(conf.members[0], { id: 'PE/GOB/20295613620', name: 'RENIEC', role: 'RENIEC' });
  assert.deepEqual(conf.subsystems, ['PE/GOB/20295613620/RUPN', 'PE/GOB/20545565359/PGH']);
  assert.deepEqual(conf.nodes.map((n) => n.name), ['midis', 'reniec']);
  assert.deepEqual(conf.nodes[1], { name: 'reniec', owner: 'PE/GOB/20295613620', address: 'https://127.0.0.1:5501', authCertSha256: '1'.repeat(64), clients: ['PE/GOB/20295613620/RUPN'] });
  assert.deepEqual(conf.services, [{ id: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', title: 'Consulta de persona' }]);
  assert.deepEqual(conf.trustedCas, [pki.caCertPem]);
  assert.doesNotThrow(() => validateGlobalConf(JSON.parse(JSON.stringify(conf))));
});

test('content hash ignores serial and dates, and changes with the content', () => {
  const base = { instance: 'PE', trustedCas: [], validityMs: 600_000 };
  const a = buildGlobalConf(snapshot, { ...base, serial: 1, now: T0 });
  const b = buildGlobalConf(snapshot, { ...base, serial: 2, now: new Date(T0.getTime() + 3_600_000) });
  const reordered = buildGlobalConf({ ...snapshot, members: [...snapshot.members].reverse(), nodes: [...snapshot.nodes].reverse() }, { ...base, serial: 1, now: T0 });
  const changed = buildGlobalConf({ ...snapshot, services: [] }, { ...base, serial: 1, now: T0 });
  assert.equal(confContentSha256(a), confContentSha256(b));
  assert.equal(confContentSha256(a), confContentSha256(reordered));
  assert.notEqual(confContentSha256(a), confContentSha256(changed));
  assert.match(confContentSha256(a), /^[0-9a-f]{64}$/);
});
