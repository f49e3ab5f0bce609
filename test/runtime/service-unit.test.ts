import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCentralCli } from '../../central/cli/index.js';
import { runNodeCli } from '../../node/cli/index.js';
import { SERVICE_DEFAULTS, serviceUnit } from '../../runtime/service-unit.js';
import { runCli } from '../e2e/fixture.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const HARDENING = ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ProtectHome=yes', 'Restart=on-failure', 'KillSignal=SIGTERM', 'CapabilityBoundingSet=', 'UMask=0077'];

describe('service units and packaging', () => {
  for (const [name, cli] of [['miis-node', runNodeCli], ['miis-central', runCentralCli]] as const) {
    it(`${name} service-unit prints a hardened unit for the given user and folder`, async () => {
      const r = await runCli(cli, ['service-unit', '--user', 'miisop', '--dir', '/srv/miis/x', '--exec', `/opt/bin/${name}`]);
      assert.equal(r.code, 0, r.stderr);
      for (const line of [...HARDENING, 'User=miisop', 'Group=miisop', 'ReadWritePaths=/srv/miis/x', `ExecStart=/opt/bin/${name} serve --dir /srv/miis/x`]) {
        assert.ok(r.stdout.split('\n').includes(line), `${name}: ${line}`);
      }
      // only the node handles SIGHUP (TLS certificate reload); central would die on it
      assert.equal(r.stdout.includes('ExecReload='), name === 'miis-node');
    });

    it(`deploy/${name}.service is the unit with the default values`, () => {
      const d = SERVICE_DEFAULTS[name];
      assert.equal(readFileSync(`${root}deploy/${name}.service`, 'utf8'), serviceUnit({ program: name, ...d }));
    });
  }

  it('package.json: both bins point at built CLIs with a shebang; the tarball carries dist/, wsdl/ and deploy/; prepack builds', () => {
    const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string>; engines: { node: string } };
    assert.deepEqual(pkg.bin, { 'miis-central': 'dist/central/cli/index.js', 'miis-node': 'dist/node/cli/index.js' });
    assert.match(pkg.scripts['prepack'] ?? '', /build/);
    assert.equal(pkg.engines.node, '>=20');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const listing = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { files: { path: string }[] }[];
    const files = new Set(listing[0]?.files.map((f) => f.path));
    for (const f of [...Object.values(pkg.bin), 'wsdl/reniec.wsdl', 'wsdl/xroad.xsd', 'dist/node/main.js', 'dist/central/main.js', 'dist/runtime/version.js', 'deploy/miis-node.service', 'deploy/miis-central.service', 'package.json']) {
      assert.ok(files.has(f), `the package holds ${f}`);
    }
    assert.ok(![...files].some((f) => f.startsWith('dist/test/') || f.endsWith('.map') || f.startsWith('node_modules/')), 'no tests, source maps or node_modules in the package');
  });
});
