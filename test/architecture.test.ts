/**
 * The perimeter, checked over the sources on every `npm test` (rules: architecture-rules.ts).
 * The second group feeds the checker forbidden imports to show that each rule can fail.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkArchitecture, type SourceFile } from './architecture-rules.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SOURCE_DIRS = ['core', 'runtime', 'node', 'central', 'scripts'];
const IMPORT = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|createRequire\([^)]*\)\(\s*['"]([^'"]+)['"]\s*\)/g;

function listTs(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = posix.join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) return listTs(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** Comments and string contents removed, so only code is searched for `process`. */
function codeOnly(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1').replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
}

export function readSources(): SourceFile[] {
  return SOURCE_DIRS.flatMap(listTs).map((path) => {
    const text = readFileSync(join(ROOT, path), 'utf8');
    const imports: string[] = [];
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      imports.push(spec.startsWith('.') ? posix.normalize(posix.join(posix.dirname(path), spec)).replace(/\.js$/, '.ts') : spec);
    }
    return { path, imports, usesProcess: /\bprocess\s*[.[]/.test(codeOnly(text)) };
  });
}

describe('architecture', () => {
  const sources = readSources();

  it('reads the whole source tree', () => {
    assert.ok(sources.length > 100, `${sources.length} archivos`);
    assert.ok(sources.some((f) => f.path === 'node/pipeline/client-proxy.ts' && f.imports.includes('core/soap.ts')));
  });

  it('core/ is pure, runtime/ sits on core/, node/ and central/ stay apart, arrows run down, no cycles', () => {
    assert.deepEqual(checkArchitecture(sources), []);
  });

  it('no file of node/ or central/ sits at the top of its wing except main.ts and listeners.ts', () => {
    const top = sources.filter((f) => /^(node|central)\/[^/]+$/.test(f.path)).map((f) => f.path).sort();
    assert.deepEqual(top, ['central/main.ts', 'node/listeners.ts', 'node/main.ts']);
  });
});

describe('architecture rules fail on forbidden imports', () => {
  const file = (path: string, imports: string[], usesProcess = false): SourceFile => ({ path, imports, usesProcess });

  it('core/ importing node/, runtime/, an I/O module or reading process', () => {
    assert.deepEqual(checkArchitecture([
      file('core/soap.ts', ['node/main.ts', 'runtime/cli-kit.ts', 'node:fs', 'better-sqlite3', 'node:crypto']),
      file('core/xml.ts', [], true),
    ]), [
      'core/soap.ts → node/main.ts: core/ no importa node/',
      'core/soap.ts → runtime/cli-kit.ts: core/ no importa runtime/',
      'core/soap.ts → node:fs: core/ no hace E/S',
      'core/soap.ts → better-sqlite3: core/ no hace E/S',
      'core/xml.ts: core/ no debe leer process (inyecte el valor)',
    ]);
  });

  it('node/ and central/ importing each other, runtime/ importing node/', () => {
    assert.deepEqual(checkArchitecture([
      file('node/main.ts', ['central/registry/store.ts']),
      file('central/http/server.ts', ['node/listeners.ts']),
      file('runtime/http-reply.ts', ['node/main.ts']),
    ]), [
      'node/main.ts → central/registry/store.ts: node/ y central/ no se importan entre sí',
      'central/http/server.ts → node/listeners.ts: node/ y central/ no se importan entre sí',
      'runtime/http-reply.ts → node/main.ts: runtime/ solo importa core/',
    ]);
  });

  it('an arrow running up a wing, and a cycle', () => {
    assert.deepEqual(checkArchitecture([
      file('node/evidence/message-log.ts', ['node/pipeline/context.ts']),
      file('central/registry/store.ts', ['central/registry/agreements.ts']),
      file('central/registry/agreements.ts', ['central/registry/store.ts']),
    ]), [
      'node/evidence/message-log.ts → node/pipeline/context.ts: la flecha sube de evidence a pipeline',
      'ciclo de imports: central/registry/agreements.ts → central/registry/store.ts → central/registry/agreements.ts',
    ]);
  });
});
