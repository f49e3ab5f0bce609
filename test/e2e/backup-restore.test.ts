/**
 * Backup and restore, online, of central and of a node, with the instance running.
 * Central: back up (encrypted), publish more, restore → it refuses to serve until conf set-serial;
 * a central publishing a lower serial is flagged by the nodes (/health alertaSerie); after
 * set-serial the nodes accept the new configuration and exchanges go on.
 * Node: back up, change a service, restore → the old service is back, the log chain verifies.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { startCentral, type RunningCentral } from '../../central/main.js';
import { centralPaths, openCentralStore } from '../../central/pki/central-dir.js';
import { runNodeCli } from '../../node/cli/index.js';
import type { CliIo } from '../../runtime/cli-kit.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { CONSULTAR_PERSONA, personaRequest, postSoap, startInstance, waitFor, type Instance } from './fixture.js';

const PASS = 'frase de paso de prueba 2026';

async function run(cli: (argv: string[], io: CliIo) => Promise<number>, argv: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await cli([...argv], { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, env: { ...process.env, ...env } });
  return { code, stdout, stderr };
}

describe('backup and restore', () => {
  let inst: Instance;
  let restored: RunningCentral | undefined;
  before(async () => {
    inst = await startInstance();
  });
  after(async () => {
    await restored?.close();
    await inst.close();
  });

  const health = async () => (await (await fetch(`${inst.juntos.isUrl}health`)).json()) as { configuracionGlobal: { serie: number }; alertaSerie: string | null };
  const exchange = async () => postSoap(inst.juntos.isUrl, personaRequest(inst.dni));

  it('central: encrypted online backup, restore, set-serial; nodes flag a lower serial and accept the new one', async () => {
    const centralDir = join(inst.dir, 'central');
    const file = join(inst.dir, 'central.miisbak');
    assert.equal((await exchange()).status, 200);
    const noPass = await run(runCentralCli, ['backup', '--dir', centralDir, '--out', file, '--encrypt'], { MIIS_BACKUP_PASSPHRASE: '' });
    assert.equal(noPass.code, 2, 'encryption needs the passphrase from the environment');
    const b = await run(runCentralCli, ['backup', '--dir', centralDir, '--out', file, '--encrypt'], { MIIS_BACKUP_PASSPHRASE: PASS });
    assert.equal(b.code, 0, b.stderr);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /PRIVATE KEY|SQLite/, 'the archive is encrypted');

    // after the backup central publishes more: the nodes get a serial the backup does not know
    assert.equal((await run(runCentralCli, ['service', 'add', 'PE/GOB/20295613620/RUPN/otroServicio/v1', '--title', 'Otro', '--dir', centralDir])).code, 0);
    inst.central.app.publisher.refresh();
    await inst.juntos.ctx.conf.refresh();
    const highest = (await health()).configuracionGlobal.serie;
    const centralUrl = new URL(inst.plan.centralUrl);
    await inst.central.close();

    const newDir = join(inst.dir, 'central-restored');
    const wrong = await run(runCentralCli, ['restore', '--from', file, '--dir', newDir], { MIIS_BACKUP_PASSPHRASE: 'otra frase de paso equivocada' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /frase de paso incorrecta/);
    const r = await run(runCentralCli, ['restore', '--from', file, '--dir', newDir], { MIIS_BACKUP_PASSPHRASE: PASS });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /miis-central conf set-serial/);
    await assert.rejects(startCentral({ dir: newDir, host: '127.0.0.1', port: 0, clock: () => new Date() }), /conf set-serial/);

    // a central that serves the restored (lower) serial: the node keeps its own and says so
    const store = openCentralStore(centralPaths(newDir));
    const stale = store.latestConfVersion();
    store.close();
    assert.ok(stale !== undefined && stale.serial < highest);
    const staleServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(stale.envelope));
    await new Promise<void>((resolve) => staleServer.listen(Number(centralUrl.port), '127.0.0.1', resolve));
    try {
      // a refresh may first meet a keep-alive socket of the stopped central: refresh until the answer is read
      await waitFor(async () => (await inst.juntos.ctx.conf.refresh(), (await health()).alertaSerie !== null ? true : undefined), 'Juntos lee la serie menor');
      const h = await health();
      assert.equal(h.configuracionGlobal.serie, highest);
      assert.match(h.alertaSerie ?? JSON.stringify(h), new RegExp(`serie ${stale.serial}, menor que la de este nodo \\(${highest}\\)`));
    } finally {
      staleServer.closeAllConnections();
      await new Promise((resolve) => staleServer.close(resolve));
    }

    assert.equal((await run(runCentralCli, ['conf', 'set-serial', String(stale.serial), '--dir', newDir])).code, 2, 'not above the restored serial');
    const set = await run(runCentralCli, ['conf', 'set-serial', String(highest + 1), '--dir', newDir]);
    assert.equal(set.code, 0, set.stderr);
    restored = await startCentral({ dir: newDir, host: '127.0.0.1', port: Number(centralUrl.port), clock: () => new Date() });
    await waitFor(async () => (await inst.juntos.ctx.conf.refresh(), (await health()).configuracionGlobal.serie === highest + 1 ? true : undefined), 'Juntos acepta la serie nueva');
    await waitFor(async () => (await inst.reniec.ctx.conf.refresh(), inst.reniec.ctx.conf.latest()?.conf.serial === highest + 1 ? true : undefined), 'RENIEC acepta la serie nueva');
    const h = await health();
    assert.equal(h.configuracionGlobal.serie, highest + 1);
    assert.equal(h.alertaSerie, null);
    const after = await exchange();
    assert.equal(after.status, 200, after.text);
  });

  it('node: online backup, change a service, restore → the old service is back and the log chain verifies', async () => {
    const dir = nodeDir(inst.plan, 'reniec');
    const file = join(inst.dir, 'reniec.miisbak');
    const before = await run(runNodeCli, ['service', 'list', '--json', '--dir', dir]);
    const b = await run(runNodeCli, ['backup', '--dir', dir, '--out', file]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /2 bases de datos/);

    assert.equal((await run(runNodeCli, ['service', 'add', CONSULTAR_PERSONA, '--backend', 'http://127.0.0.1:9/', '--dir', dir])).code, 0);
    assert.notEqual((await run(runNodeCli, ['service', 'list', '--json', '--dir', dir])).stdout, before.stdout);

    await inst.reniec.close();
    rmSync(dir, { recursive: true, force: true });
    const r = await run(runNodeCli, ['restore', '--from', file, '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await run(runNodeCli, ['restore', '--from', file, '--dir', dir])).code, 2, 'never over a folder in use');
    assert.equal((await run(runNodeCli, ['service', 'list', '--json', '--dir', dir])).stdout, before.stdout);
    const verify = await run(runNodeCli, ['log', 'verify', '--dir', dir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal((await run(runCentralCli, ['restore', '--from', file, '--dir', join(inst.dir, 'x')])).code, 2, 'a node backup is not a central one');

    await inst.restartNode('reniec');
    const res = await exchange();
    assert.equal(res.status, 200, res.text);
  });
});
