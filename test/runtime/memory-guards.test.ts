/**
 * What keeps a node process small (docs/performance-log.md, «Memory»): no schema library on the serve
 * path, and no `fetch` in the clients a running node uses (it loads a second copy of undici and
 * its WebAssembly). Checked on the sources, so a reintroduction fails here and not only in a
 * benchmark.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) return sources(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

describe('memory guards of the node process', () => {
  it('node/, runtime/ and core/ do not import zod', () => {
    const offenders = ['node', 'runtime', 'core'].flatMap(sources).filter((f) => /from ['"]zod(\/[^'"]*)?['"]/.test(readFileSync(join(ROOT, f), 'utf8')));
    assert.deepEqual(offenders, []);
  });

  it('the background clients of a running node do not use fetch', () => {
    for (const f of ['node/conf/global-conf-client.ts', 'node/certs/ocsp-checker.ts', 'node/evidence/timestamper.ts']) {
      assert.doesNotMatch(readFileSync(join(ROOT, f), 'utf8'), /\bfetch\(/, f);
    }
  });

  it('the undici pool keeps WebAssembly on the baseline compiler', () => {
    assert.match(readFileSync(join(ROOT, 'runtime/undici-pool.ts'), 'utf8'), /setFlagsFromString\('--liftoff-only'\)/);
  });
});
