import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runNodeCli } from '../../../node/cli/index.js';
import { openLocalStore } from '../../../node/store/local-store.js';
import { readNodeConfig, validateNodeConfig } from '../../../node/store/node-config.js';
import { runCli, startInstance, type Instance } from '../../e2e/fixture.js';
import { freePort } from '../../helpers/net.js';

const node = (argv: readonly string[]) => runCli(runNodeCli, argv);

describe('miis-node config (node.json)', () => {
  let root: string;
  let dir: string;
  const d = (...argv: string[]): string[] => [...argv, '--dir', dir];
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'miis-node-config-'));
    dir = join(root, 'juntos');
    const r = await node(['init', '--dir', dir, '--instance', 'PE', '--class', 'GOB', '--code', '20511268401', '--name', 'Juntos', '--node-name', 'juntos', '--is-port', '8181']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('init writes node.json with the addresses; config get shows each value and when it applies', async () => {
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')), { isHost: '127.0.0.1', isPort: 8181, proxyHost: '127.0.0.1', proxyPort: 5500 });
    const all = await node(d('config', 'get', '--json'));
    assert.equal(all.code, 0, all.stderr);
    const rows = JSON.parse(all.stdout) as { clave: string; valor: unknown; aplicacion: string }[];
    assert.deepEqual(rows.find((r) => r.clave === 'isPort'), { ...rows.find((r) => r.clave === 'isPort'), valor: 8181, aplicacion: 'al reiniciar' });
    assert.equal(rows.find((r) => r.clave === 'centralUrl')?.aplicacion, 'en caliente');
    assert.equal(rows.find((r) => r.clave === 'metricsPort')?.valor, null);
    assert.equal((await node(d('config', 'get', 'isPort'))).stdout, '8181\n');
  });

  it('config set validates, writes node.json and says live or restart; the store sees the new value', async () => {
    const port = await node(d('config', 'set', 'isPort', '8282'));
    assert.equal(port.code, 0, port.stderr);
    assert.match(port.stdout, /Requiere reiniciar el nodo/);
    const url = await node(d('config', 'set', 'centralUrl', 'http://10.0.0.5:4400'));
    assert.match(url.stdout, /Se aplica en caliente/);
    const metrics = await node(d('config', 'set', 'metricsPort', '9464'));
    assert.equal(metrics.code, 0, metrics.stderr);
    assert.deepEqual(readNodeConfig(dir), { isHost: '127.0.0.1', isPort: 8282, proxyHost: '127.0.0.1', proxyPort: 5500, centralUrl: 'http://10.0.0.5:4400/', metricsPort: 9464 });
    const store = openLocalStore(join(dir, 'node.db'));
    try {
      assert.equal(store.settings().isPort, 8282);
      assert.equal(store.settings().centralUrl, 'http://10.0.0.5:4400/');
    } finally {
      store.close();
    }
    assert.equal((await node(d('config', 'set', 'metricsPort', 'null'))).code, 0);
    assert.equal(readNodeConfig(dir).metricsPort, null);
  });

  it('refuses bad values and unknown keys in Spanish, naming the key', async () => {
    const bad = await node(d('config', 'set', 'isPort', '70000'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /«isPort»: puerto: debe estar entre 0 y 65535/);
    const url = await node(d('config', 'set', 'centralUrl', 'ftp://x'));
    assert.match(url.stderr, /«centralUrl»: debe ser una URL http/);
    const unknown = await node(d('config', 'set', 'colour', 'red'));
    assert.match(unknown.stderr, /clave desconocida «colour»/);
    assert.throws(() => validateNodeConfig({ proxyPort: 'x', extra: 1 }), (e: Error) => /clave desconocida «extra»/.test(e.message) && /«proxyPort»: puerto: debe ser un número entero/.test(e.message));
  });

  it('a hand-edited node.json with a wrong value stops the commands with the file and the key path', async () => {
    const path = join(dir, 'node.json');
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(good) as object, metricsHost: 'a b' }));
    const r = await node(d('config', 'get'));
    assert.equal(r.code, 2);
    assert.ok(r.stderr.includes(`${path}: «metricsHost»: debe ser una dirección IP o un nombre de host`), r.stderr);
    writeFileSync(path, good);
  });

  it('migrates a node without node.json: values come from node.db, the first set writes them all', async () => {
    const old = join(root, 'old');
    assert.equal((await node(['init', '--dir', old, '--instance', 'PE', '--class', 'GOB', '--code', '20511268401', '--name', 'Juntos', '--node-name', 'juntos', '--is-port', '8383'])).code, 0);
    unlinkSync(join(old, 'node.json')); // as a node initialised before node.json existed
    assert.equal((await node(['config', 'get', 'isPort', '--dir', old])).stdout, '8383\n', 'the value kept in node.db');
    assert.equal((await node(['config', 'set', 'proxyPort', '5600', '--dir', old])).code, 0);
    assert.ok(existsSync(join(old, 'node.json')));
    assert.deepEqual(readNodeConfig(old), { isHost: '127.0.0.1', isPort: 8383, proxyHost: '127.0.0.1', proxyPort: 5600 });
  });
});

describe('central URL applies live', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance();
  });
  after(async () => {
    await inst.close();
  });

  it('config set centralUrl (and anchor import --url) is used on the next download, without restart', async () => {
    const dir = join(inst.dir, 'nodes', 'juntos');
    const dead = `http://127.0.0.1:${await freePort()}`;
    assert.equal((await node(['config', 'set', 'centralUrl', dead, '--dir', dir])).code, 0);
    assert.equal(await inst.juntos.ctx.conf.refresh(), false);
    assert.ok(inst.juntos.ctx.conf.lastError?.includes(dead), inst.juntos.ctx.conf.lastError);
    const anchor = join(inst.dir, 'anchor-copy.pem');
    writeFileSync(anchor, readFileSync(join(dir, 'anchor.pem')));
    const back = await node(['anchor', 'import', '--file', anchor, '--url', inst.plan.centralUrl, '--dir', dir]);
    assert.equal(back.code, 0, back.stderr);
    await inst.juntos.ctx.conf.refresh();
    assert.equal(inst.juntos.ctx.conf.lastError, undefined);
  });
});
