/**
 * Third-party tools some tests need (openssl, xmlsec1, zeep, chromium, PostgreSQL…).
 * `needTool(...)` gives a test's `skip` option: on a developer machine a missing tool skips the
 * test with the package to install (reported as a skip, never silently dropped); in CI
 * (CI=true) the test runs anyway and a test named after the missing tool fails, so a CI machine
 * without the tool can never pass by skipping.
 */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findChromium } from '../../runtime/chromium.js';
import { findPgBin } from './pg-server.js';

export const PYTHON = '/usr/bin/python3';

const runs = (cmd: string, args: readonly string[]): boolean => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

const TOOLS = {
  openssl: { probe: () => runs('openssl', ['version']), pkg: 'openssl' },
  xmlsec1: { probe: () => runs('xmlsec1', ['--version']), pkg: 'xmlsec1' },
  sha256sum: { probe: () => runs('sha256sum', ['--version']), pkg: 'coreutils' },
  curl: { probe: () => runs('curl', ['--version']), pkg: 'curl' },
  zeep: { probe: () => runs(PYTHON, ['-c', 'import zeep']), pkg: 'python3-zeep' },
  lxml: { probe: () => runs(PYTHON, ['-c', 'import lxml.etree']), pkg: 'python3-lxml' },
  chromium: { probe: () => findChromium() !== undefined, pkg: 'chromium' },
  pdftoppm: { probe: () => runs('pdftoppm', ['-v']), pkg: 'poppler-utils' },
  postgresql: { probe: () => findPgBin() !== undefined, pkg: 'postgresql' },
  haproxy: { probe: () => runs('haproxy', ['-v']), pkg: 'haproxy' },
} as const;

export type Tool = keyof typeof TOOLS;

const seen = new Map<Tool, boolean>();
const reported = new Set<Tool>();

export function hasTool(tool: Tool): boolean {
  let ok = seen.get(tool);
  if (ok === undefined) {
    ok = TOOLS[tool].probe();
    seen.set(tool, ok);
  }
  return ok;
}

/** The `skip` option for a test that needs these tools (see the header). */
export function needTool(...tools: Tool[]): string | false {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return false;
  if (process.env.CI === 'true') {
    for (const tool of missing) {
      if (reported.has(tool)) continue;
      reported.add(tool);
      test(`herramienta obligatoria en CI: ${tool}`, () => {
        assert.fail(`${tool} no está instalado en CI: agregue el paquete «${TOOLS[tool].pkg}» a .ci/run`);
      });
    }
    return false;
  }
  return `falta ${missing.join(', ')} (apt-get install -y ${[...new Set(missing.map((t) => TOOLS[t].pkg))].join(' ')})`;
}
