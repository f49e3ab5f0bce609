import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { describeDatabase, resolveDatabase } from '../../../node/store/database.js';
import { parseNodeConfigValue, validateNodeConfig } from '../../../node/store/node-config.js';
import { NODE_DB_MIGRATIONS } from '../../../node/store/migrations.js';
import { MESSAGE_LOG_MIGRATIONS } from '../../../node/evidence/log-migrations.js';

describe('node.json database setting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'miis-dbconf-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to SQLite; PostgreSQL takes the password from an env var or a file, never shown', () => {
    assert.deepEqual(resolveDatabase(dir, undefined), { engine: 'sqlite' });
    const url = 'postgres://miis@db.example:5432/miis';
    const fromEnv = resolveDatabase(dir, { engine: 'postgresql', url, passwordEnv: 'MIIS_DB_PW', instanceId: 'n1' }, { MIIS_DB_PW: 's3creta' });
    assert.equal(fromEnv.engine === 'postgresql' && fromEnv.password, 's3creta');
    assert.throws(() => resolveDatabase(dir, { engine: 'postgresql', url, passwordEnv: 'MIIS_DB_PW' }, {}), /MIIS_DB_PW no está definida/);
    writeFileSync(join(dir, 'pw'), 'desde-archivo\n');
    const fromFile = resolveDatabase(dir, { engine: 'postgresql', url, passwordFile: 'pw' });
    assert.equal(fromFile.engine === 'postgresql' && fromFile.password, 'desde-archivo');
    // a password written into the URL anyway is never displayed
    const inUrl = { engine: 'postgresql' as const, url: 'postgres://miis:s3creta@db.example/miis' };
    const resolved = resolveDatabase(dir, inUrl);
    assert.ok(resolved.engine === 'postgresql' && !resolved.display.includes('s3creta'));
    assert.ok(!describeDatabase(inUrl).includes('s3creta'));
    assert.match(describeDatabase({ engine: 'postgresql', url, passwordEnv: 'MIIS_DB_PW', instanceId: 'n1' }), /^postgresql postgres:\/\/miis@db\.example:5432\/miis, instancia n1, contraseña en \$MIIS_DB_PW$/);
  });

  it('is validated with errors naming the key', () => {
    assert.throws(() => validateNodeConfig({ database: { engine: 'oracle' } }), /database.*engine debe ser «sqlite» o «postgresql»|engine/);
    assert.throws(() => validateNodeConfig({ database: { engine: 'postgresql', url: 'http://x/y' } }), /«database\.url»: debe ser una URL postgres:\/\//);
    assert.throws(() => validateNodeConfig({ database: { engine: 'postgresql', url: 'postgres://a@b/c', instanceId: 'con espacio' } }), /«database\.instanceId»/);
    assert.deepEqual(parseNodeConfigValue('database', '{"engine":"sqlite"}'), { key: 'database', value: { engine: 'sqlite' } });
    assert.throws(() => parseNodeConfigValue('database', 'postgres://x'), /el valor debe ser JSON/);
  });

  it('every migration of both databases has its PostgreSQL text', () => {
    for (const m of [...NODE_DB_MIGRATIONS, ...MESSAGE_LOG_MIGRATIONS]) assert.equal(typeof m.pg, 'string', `versión ${m.version} (${m.note})`);
  });
});
