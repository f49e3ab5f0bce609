import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MiisError } from '../../../core/errors.js';
import { openSqliteRegistryStore } from '../../../central/registry/store.js';
import { CENTRAL_MIGRATIONS as MIGRATIONS, CENTRAL_SCHEMA_VERSION as SCHEMA_VERSION } from '../../../central/registry/migrations.js';
import { takeRegistrySnapshot } from '../../../central/conf/snapshot.js';
import type { RegistryStore } from '../../../central/registry/store.js';
import { ctxAt, T0 } from '../helpers.js';

const ctx = ctxAt(T0, 'ana');

function seed(store: RegistryStore): void {
  store.addMember({ id: 'PE/GOB/20295613620', instance: 'PE', memberClass: 'GOB', memberCode: '20295613620', name: 'RENIEC', role: 'RENIEC' }, ctx);
  store.addSubsystem({ id: 'PE/GOB/20295613620/RUPN', memberId: 'PE/GOB/20295613620', subsystemCode: 'RUPN' }, ctx);
}

function assertMiis(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof MiisError && err.code === code);
}

test('members, subsystems, nodes, clients and services round-trip', () => {
  const store = openSqliteRegistryStore(':memory:');
  seed(store);
  store.addNode({ name: 'reniec', ownerId: 'PE/GOB/20295613620', address: 'https://127.0.0.1:5500', authCertPem: 'PEM', authCertSha256: 'a'.repeat(64) }, ctx);
  store.addNodeClient('reniec', 'PE/GOB/20295613620/RUPN', ctx);
  store.addService({ id: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', subsystemId: 'PE/GOB/20295613620/RUPN', title: 'Consulta' }, ctx);

  assert.equal(store.getMember('PE/GOB/20295613620')?.role, 'RENIEC');
  assert.equal(store.getMember('PE/GOB/20295613620')?.createdAt, T0.toISOString());
  assert.deepEqual(store.listSubsystems().map((s) => s.id), ['PE/GOB/20295613620/RUPN']);
  assert.deepEqual(store.getNode('reniec')?.clients, ['PE/GOB/20295613620/RUPN']);
  assert.equal(store.getService('PE/GOB/20295613620/RUPN/consultarPersona/v1')?.title, 'Consulta');
  const snap = takeRegistrySnapshot(store);
  assert.equal(snap.members.length, 1);
  assert.equal(snap.nodes[0]?.authCertSha256, 'a'.repeat(64));
  store.close();
});

test('every change writes an audit row with actor, instant, before and after', () => {
  const store = openSqliteRegistryStore(':memory:');
  seed(store);
  store.addNode({ name: 'reniec', ownerId: 'PE/GOB/20295613620', address: 'https://127.0.0.1:5500', authCertPem: 'PEM', authCertSha256: 'b'.repeat(64) }, ctx);
  store.addNodeClient('reniec', 'PE/GOB/20295613620/RUPN', ctxAt(new Date(T0.getTime() + 1000), 'luis'));
  store.setSetting('instance', 'PE', ctx);
  store.setSetting('instance', 'PE2', ctx);
  const audit = store.listAudit();
  assert.deepEqual(audit.map((a) => a.action), ['member.add', 'subsystem.add', 'node.add', 'node.client.add', 'setting.set', 'setting.set']);
  const clientAdd = audit[3]!;
  assert.equal(clientAdd.actor, 'luis');
  assert.equal(clientAdd.at, '2026-03-02T15:00:01.000Z');
  assert.deepEqual((clientAdd.before as { clients: string[] }).clients, []);
  assert.deepEqual((clientAdd.after as { clients: string[] }).clients, ['PE/GOB/20295613620/RUPN']);
  assert.equal(audit[4]!.before, null);
  assert.deepEqual(audit[5]!.before, { key: 'instance', value: 'PE' });
  assert.deepEqual(audit[5]!.after, { key: 'instance', value: 'PE2' });
  assert.equal(JSON.stringify(audit[2]!.after).includes('PEM'), false, 'the node audit row leaves the PEM out');
  store.close();
});

test('duplicates and dangling references become MiisError and leave no audit row', () => {
  const store = openSqliteRegistryStore(':memory:');
  seed(store);
  const before = store.listAudit().length;
  assertMiis(() => store.addMember({ id: 'PE/GOB/20295613620', instance: 'PE', memberClass: 'GOB', memberCode: '20295613620', name: 'X', role: 'IPF' }, ctx), 'Config.Duplicate');
  assertMiis(() => store.addSubsystem({ id: 'PE/GOB/20512333797/X', memberId: 'PE/GOB/20512333797', subsystemCode: 'X' }, ctx), 'Config.NotFound');
  assertMiis(() => store.addNodeClient('nope', 'PE/GOB/20295613620/RUPN', ctx), 'Config.NotFound');
  assert.equal(store.listAudit().length, before);
  store.close();
});

test('conf versions: serial must increase; latest is the highest', () => {
  const store = openSqliteRegistryStore(':memory:');
  const v = (serial: number) => ({ serial, generatedAt: T0.toISOString(), expiresAt: T0.toISOString(), contentSha256: 'c', envelope: Buffer.from(`env${serial}`) });
  assert.equal(store.latestConfVersion(), undefined);
  store.addConfVersion(v(1), ctx);
  store.addConfVersion(v(2), ctx);
  assertMiis(() => store.addConfVersion(v(2), ctx), 'Config.Duplicate');
  assertMiis(() => store.addConfVersion(v(1), ctx), 'Config.Duplicate');
  const latest = store.latestConfVersion()!;
  assert.equal(latest.serial, 2);
  assert.equal(latest.envelope.toString(), 'env2');
  assert.equal(store.listAudit().filter((a) => a.action === 'conf.publish').length, 2);
  store.close();
});

test('issued certificates are recorded without the PEM in the audit log', () => {
  const store = openSqliteRegistryStore(':memory:');
  store.recordIssuedCert({ serialHex: '0a', profile: 'sign', subject: 'CN=x', memberId: 'PE/GOB/1', sha256: 'd'.repeat(64), notAfter: T0.toISOString(), pem: 'SECRET-LOOKING' }, ctx);
  assert.equal(store.listIssuedCerts()[0]?.pem, 'SECRET-LOOKING');
  assert.equal(JSON.stringify(store.listAudit()).includes('SECRET-LOOKING'), false);
  store.close();
});

test('file database: WAL, schema_version recorded, reopening keeps data and does not re-migrate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'miis-store-'));
  try {
    const path = join(dir, 'central.db');
    const store = openSqliteRegistryStore(path);
    seed(store);
    store.close();
    const again = openSqliteRegistryStore(path);
    assert.equal(again.listMembers().length, 1);
    again.close();
    const raw = new Database(path, { readonly: true });
    assert.equal((raw.pragma('journal_mode', { simple: true }) as string).toLowerCase(), 'wal');
    assert.deepEqual(raw.prepare('SELECT version FROM schema_version ORDER BY version').all().map((r) => (r as { version: number }).version), MIGRATIONS.map((m) => m.version));
    raw.close();
    assert.equal(SCHEMA_VERSION, MIGRATIONS.at(-1)!.version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database from a newer program is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'miis-store-'));
  try {
    const path = join(dir, 'central.db');
    openSqliteRegistryStore(path).close();
    const raw = new Database(path);
    raw.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION + 1);
    raw.close();
    assertMiis(() => openSqliteRegistryStore(path), 'Config.NotInitialized');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
