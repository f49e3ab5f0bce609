/** A database password kept in an adapter's settings never reaches the CLI's output. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { redactSecrets } from '../../../node/adapters/settings.js';
import { runNodeCli } from '../../../node/cli/index.js';

describe('secrets in adapter settings', () => {
  it('redactSecrets hides the password of postgres connection strings and nothing else', () => {
    assert.equal(redactSecrets('"postgres": "postgresql://sunat:s3cr3t@127.0.0.1:5432/rentas"'), '"postgres": "postgresql://sunat:***@127.0.0.1:5432/rentas"');
    assert.equal(redactSecrets('postgres://u:p%40ss@h/db and postgresql://v@h/db'), 'postgres://u:***@h/db and postgresql://v@h/db');
    assert.equal(redactSecrets('http://127.0.0.1:9001/servicio'), 'http://127.0.0.1:9001/servicio');
  });

  it('«miis-node service list --json» does not print the password of a PostgreSQL registry', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-redact-'));
    let out = '';
    let err = '';
    const io = { stdout: (s: string) => { out += s; }, stderr: (s: string) => { err += s; } };
    try {
      const node = join(dir, 'node');
      assert.equal(await runNodeCli(['init', '--dir', node, '--instance', 'PE', '--class', 'GOB', '--code', '20131312955', '--name', 'SUNAT', '--node-name', 'sunat'], io), 0, err);
      assert.equal(await runNodeCli(['client', 'add', 'PE/GOB/20131312955/RENTAS', '--dir', node], io), 0, err);
      const sample = fileURLToPath(new URL('../../../../test/node/fixtures/redact__postgres/adapter.sql.json', import.meta.url));
      const config = join(dir, 'adapter.sql.json');
      writeFileSync(config, readFileSync(sample));
      assert.equal(await runNodeCli(['service', 'add', 'PE/GOB/20131312955/RENTAS/consultarAtributos/v1', '--adapter', 'sql', '--sql-config', config, '--dir', node], io), 0, err);
      out = '';
      assert.equal(await runNodeCli(['service', 'list', '--json', '--dir', node], io), 0, err);
      assert.match(out, /postgresql:\/\/sunat:\*\*\*@127\.0\.0\.1/);
      assert.ok(!out.includes('s3cr3t'), 'la contraseña no debe aparecer');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
