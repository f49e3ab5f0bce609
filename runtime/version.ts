/** The version in the package's own package.json (what `--version` prints on both CLIs). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  // dist/runtime/version.js and runtime/version.ts both sit two levels below the package root
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'miis' && typeof pkg.version === 'string') return (cached = pkg.version);
    } catch {
      // try the next candidate
    }
  }
  return (cached = '0.0.0');
}
