/**
 * The project's import rules, as a pure check over a map "file → its relative and package
 * imports" (test/architecture.test.ts builds the map from the sources; a test feeds it
 * forbidden imports to show each rule fails, naming the offending import).
 *
 * - core/ is pure: it imports nothing from runtime/, node/, central/ or scripts/, no I/O module,
 *   and does not read the process;
 * - runtime/ imports only core/;
 * - node/ and central/ never import each other;
 * - inside node/ and central/, arrows run down the wings' order (ARCHITECTURE.md, Layout);
 * - no import cycles.
 */

export interface SourceFile {
  /** Repository-relative path, e.g. node/pipeline/client-proxy.ts. */
  readonly path: string;
  /** Resolved repository-relative paths of relative imports, and bare specifiers of packages. */
  readonly imports: readonly string[];
  /** True when the code (comments aside) uses the `process` global. */
  readonly usesProcess: boolean;
}

export const IO_MODULES = [
  'node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:http2', 'node:net', 'node:tls', 'node:dgram',
  'node:child_process', 'node:worker_threads', 'node:cluster', 'node:process', 'node:os',
  'better-sqlite3', 'pg', 'undici',
] as const;

const TOP = ['core', 'runtime', 'node', 'central', 'scripts'] as const;
type Top = (typeof TOP)[number];

/** Rank of each wing inside a program: a file may import only from a lower or equal rank. */
const WING_RANK: Readonly<Record<'node' | 'central', Readonly<Record<string, number>>>> = {
  node: { cli: 6, 'main.ts': 5, 'listeners.ts': 4, pipeline: 3, ops: 3, certs: 2, adapters: 2, evidence: 2, conf: 1, outbound: 1, store: 1 },
  central: { cli: 6, 'main.ts': 5, http: 4, conf: 3, governance: 3, pki: 2, registry: 1 },
};

const topOf = (path: string): Top | undefined => TOP.find((t) => path.startsWith(`${t}/`));

function wingRank(path: string): { program: 'node' | 'central'; wing: string; rank: number } | undefined {
  const top = topOf(path);
  if (top !== 'node' && top !== 'central') return undefined;
  const wing = path.split('/')[1]!;
  const rank = WING_RANK[top][wing];
  return rank === undefined ? undefined : { program: top, wing, rank };
}

/** Every broken rule, one line each naming the file and the offending import. */
export function checkArchitecture(files: readonly SourceFile[]): string[] {
  const problems: string[] = [];
  for (const f of files) {
    const from = topOf(f.path);
    if (from === 'core' && f.usesProcess) problems.push(`${f.path}: core/ no debe leer process (inyecte el valor)`);
    for (const imp of f.imports) {
      const to = topOf(imp);
      if (from === 'core') {
        if (to !== undefined && to !== 'core') problems.push(`${f.path} → ${imp}: core/ no importa ${to}/`);
        if ((IO_MODULES as readonly string[]).includes(imp)) problems.push(`${f.path} → ${imp}: core/ no hace E/S`);
      }
      if (from === 'runtime' && to !== undefined && to !== 'core' && to !== 'runtime') problems.push(`${f.path} → ${imp}: runtime/ solo importa core/`);
      if ((from === 'node' && to === 'central') || (from === 'central' && to === 'node')) problems.push(`${f.path} → ${imp}: node/ y central/ no se importan entre sí`);
      const a = wingRank(f.path);
      const b = wingRank(imp);
      if (a !== undefined && b !== undefined && a.program === b.program && b.rank > a.rank) {
        problems.push(`${f.path} → ${imp}: la flecha sube de ${a.wing} a ${b.wing}`);
      }
    }
  }
  problems.push(...findCycles(files).map((c) => `ciclo de imports: ${c.join(' → ')}`));
  return problems;
}

/** Import cycles among the given files (each reported once, from its smallest path). */
export function findCycles(files: readonly SourceFile[]): string[][] {
  const graph = new Map(files.map((f) => [f.path, f.imports.filter((i) => i.endsWith('.ts'))]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        const key = canonical.join('|');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...canonical, canonical[0]!]);
        }
      } else if (state.get(next) === undefined) {
        visit(next);
      }
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node);
  return cycles;
}
