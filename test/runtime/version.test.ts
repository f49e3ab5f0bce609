import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCentralCli } from '../../central/cli/index.js';
import { runNodeCli } from '../../node/cli/index.js';
import { packageVersion } from '../../runtime/version.js';
import { runCli } from '../e2e/fixture.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

describe('--version', () => {
  it('packageVersion() is the version in package.json', () => {
    assert.equal(packageVersion(), pkg.version);
  });

  for (const [name, cli] of [['miis-node', runNodeCli], ['miis-central', runCentralCli]] as const) {
    it(`${name} --version and -V print the package version and exit 0`, async () => {
      for (const flag of ['--version', '-V']) {
        const r = await runCli(cli, [flag]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.trim(), pkg.version);
      }
    });
  }

  it('the built entry points print it as real processes (shebang files run by node)', () => {
    for (const bin of ['dist/node/cli/index.js', 'dist/central/cli/index.js']) {
      const text = readFileSync(`${root}${bin}`, 'utf8');
      // miis-node's shebang also carries Node flags (test/runtime/heap-tuning.test.ts)
      assert.ok(/^#!\/usr\/bin\/env (-S )?node( --[\w=-]+)*\n/.test(text), `${bin} starts with the shebang`);
      assert.equal(execFileSync(process.execPath, [`${root}${bin}`, '--version'], { encoding: 'utf8' }).trim(), pkg.version);
    }
  });
});
