/**
 * Upgrades: databases made by the previous release open, migrate to the current schema and
 * read back what they held. The previous release's node databases recorded no schema version
 * and added columns on the side; central created two tables on first use.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CENTRAL_MIGRATIONS, CENTRAL_SCHEMA_VERSION } from '../central/registry/migrations.js';
import { openSqliteRegistryStore } from '../central/registry/store.js';
import { listRevokedSha256 } from '../central/pki/revocation.js';
import { openLocalStore } from '../node/store/local-store.js';
import { NODE_DB_MIGRATIONS } from '../node/store/migrations.js';
import { openMessageLog } from '../node/evidence/message-log.js';
import { MESSAGE_LOG_MIGRATIONS } from '../node/evidence/log-migrations.js';
import { currentSchemaVersion, schemaVersionOf } from '../runtime/sqlite-migrations.js';

const work = mkdtempSync(join(tmpdir(), 'miis-upgrade-'));
after(() => rmSync(work, { recursive: true, force: true }));

const versionOf = (path: string): number => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v;
  } finally {
    db.close();
  }
};

describe('upgrade from the previous release', () => {
  it('central.db at schema 3, with the revocations table made on first use, migrates to the last version', () => {
    const path = join(work, 'central.db');
    const old = new Database(path);
    old.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (const m of CENTRAL_MIGRATIONS.slice(0, 3)) {
      old.exec(m.up as string);
      old.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
    }
    // what revocation.ts used to do on first use
    old.exec('CREATE TABLE IF NOT EXISTS cert_revocations (sha256 TEXT PRIMARY KEY, serial_hex TEXT, reason TEXT NOT NULL, revoked_at TEXT NOT NULL, actor TEXT NOT NULL)');
    old.prepare("INSERT INTO members VALUES ('PE/GOB/20295613620', 'PE', 'GOB', '20295613620', 'RENIEC', 'RENIEC', '2026-01-01T00:00:00.000Z')").run();
    old.prepare("INSERT INTO cert_revocations VALUES (?, NULL, 'keyCompromise', '2026-01-02T00:00:00.000Z', 'ana')").run('c'.repeat(64));
    old.close();

    const store = openSqliteRegistryStore(path);
    assert.equal(store.getMember('PE/GOB/20295613620')?.name, 'RENIEC');
    assert.deepEqual(listRevokedSha256(store), ['c'.repeat(64)]);
    assert.equal(currentSchemaVersion(store.db), CENTRAL_SCHEMA_VERSION);
    assert.equal((store.db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'external_cas'").get() as { n: number }).n, 1);
    store.close();
    assert.equal(versionOf(path), CENTRAL_SCHEMA_VERSION);
  });

  it('node.db without schema versions and without adapter settings migrates and keeps its services', () => {
    const path = join(work, 'node.db');
    const old = new Database(path);
    old.exec(`
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE clients (id TEXT PRIMARY KEY);
      CREATE TABLE services (service_key TEXT PRIMARY KEY, backend_url TEXT NOT NULL, timeout_ms INTEGER NOT NULL, wsdl TEXT);
      CREATE TABLE acl (service_key TEXT NOT NULL, client TEXT NOT NULL, granted_at TEXT NOT NULL, PRIMARY KEY (service_key, client));
    `);
    old.prepare("INSERT INTO services VALUES ('PE/GOB/20295613620/RUPN/consultarPersona', 'http://127.0.0.1:9/', 30000, 'reniec.wsdl')").run();
    old.prepare("INSERT INTO clients VALUES ('PE/GOB/20295613620/RUPN')").run();
    old.close();

    const store = openLocalStore(path);
    assert.deepEqual(store.services().map((s) => [s.serviceKey, s.backendUrl, s.wsdl, s.adapter]), [['PE/GOB/20295613620/RUPN/consultarPersona', 'http://127.0.0.1:9/', 'reniec.wsdl', undefined]]);
    store.upsertService({ serviceKey: 'PE/GOB/20295613620/RUPN/consultarPersona', backendUrl: 'http://127.0.0.1:9/', timeoutMs: 1000, adapter: '{"tipo":"proxy"}' });
    assert.equal(store.services()[0]?.adapter, '{"tipo":"proxy"}');
    assert.deepEqual(store.clients(), ['PE/GOB/20295613620/RUPN']);
    store.close();
    assert.equal(versionOf(path), schemaVersionOf(NODE_DB_MIGRATIONS));
  });

  it('messagelog.db without schema versions, encrypted-log columns or archives table migrates and keeps its chain', async () => {
    const path = join(work, 'messagelog.db');
    const fresh = openMessageLog(path);
    await fresh.append({
      side: 'server', direction: 'request', messageId: 'm-1', client: 'PE/GOB/20545565359/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1',
      at: new Date('2026-01-01T00:00:00Z'), message: Buffer.from('<x/>'), signature: '<ds:Signature/>', signerCertSha256: 'a'.repeat(64),
    });
    await fresh.close();
    // make it look like the previous release's file: no version table, no archives table
    const old = new Database(path);
    old.exec('DROP TABLE schema_version; DROP TABLE archives;');
    old.close();

    const log = openMessageLog(path);
    assert.deepEqual(log.verifyChain(), { ok: true, count: 1 });
    assert.equal(log.list()[0]?.messageId, 'm-1');
    assert.equal(currentSchemaVersion(log.db), schemaVersionOf(MESSAGE_LOG_MIGRATIONS));
    assert.equal((log.db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'archives'").get() as { n: number }).n, 1);
    await log.close();
  });
});
