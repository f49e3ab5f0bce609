/**
 * Walks every command of miis-node and miis-central (commander's tree, enumerated) through its
 * error paths — no arguments, an unknown option, a bad value for each option and argument — and
 * through --help, and fails on English in the output (commander's defaults, Node's error texts,
 * stack traces) or on an option name the output mentions that no command has. Also checks every
 * `--option` written in a string of the CLI sources and help examples exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command, Option } from 'commander';
import { buildCentralProgram, runCentralCli } from '../../central/cli/index.js';
import { buildNodeProgram, runNodeCli } from '../../node/cli/index.js';
import type { CliIo } from '../../runtime/cli-kit.js';

/** Words and phrases that show English leaked into what the user reads. */
const ENGLISH = /\b(usage|options|commands|unknown|missing|required (?:option|argument)|is required|invalid|display help|default|choices|did you mean|expected|specified|too many|no such file|cannot|can't|failed|not found|is not|undefined|permission denied|unexpected token|must be|should be|TypeError|SyntaxError|RangeError|ReferenceError)\b/i;
const STACK = /^\s+at .+\(.*:\d+:\d+\)$/m;
const BAD = 'ñandú-malo';

interface Leaf {
  readonly path: readonly string[];
  readonly cmd: Command;
}

function leaves(cmd: Command, path: readonly string[] = []): Leaf[] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return path.length === 0 ? [] : [{ path, cmd }];
  return [...(path.length === 0 ? [] : [{ path, cmd }]), ...subs.flatMap((c) => leaves(c, [...path, c.name()]))];
}

function allOptionNames(cmd: Command): Set<string> {
  const names = new Set<string>(['--help', '--version']);
  const visit = (c: Command): void => {
    for (const o of c.options as readonly Option[]) {
      if (o.long !== undefined) names.add(o.long);
      if (o.negate && o.long !== undefined) names.add(o.long);
    }
    c.commands.forEach(visit);
  };
  visit(cmd);
  return names;
}

/** Text stripped of what may legitimately be English-looking: option names, identifiers, paths, echoed input. */
function prose(text: string): string {
  return text
    .replace(/--?[a-z][a-z0-9-]*/gi, ' ')
    .replace(/\S*[/\\.:_]\S*/g, ' ') // paths, identifiers, URLs, file names
    .replaceAll(BAD, ' ');
}

function englishIn(text: string): string | undefined {
  const m = ENGLISH.exec(prose(text));
  if (m !== null) return m[0];
  if (STACK.test(text)) return 'traza de pila';
  return undefined;
}

/** Options of other programs that messages quote (useradd, systemctl in the service unit; pg_dump and pg_restore in the PostgreSQL backup note). */
const FOREIGN_OPTIONS = new Set(['--system', '--home', '--shell', '--now', '--format', '--schema', '--file', '--clean', '--if-exists', '--dbname']);
const OPTION_TOKEN = /(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)/g;

function unknownOptionsIn(text: string, known: Set<string>): string[] {
  return [...text.matchAll(OPTION_TOKEN)].map((m) => `--${m[1]}`).filter((o) => !known.has(o) && !FOREIGN_OPTIONS.has(o) && o !== `--${BAD}` && o !== '--opcion-inexistente');
}

interface Run { code: number; out: string; err: string }

async function run(cli: (argv: string[], io: CliIo) => Promise<number>, argv: string[], env: Record<string, string>): Promise<Run> {
  let out = '';
  let err = '';
  const stop = new AbortController();
  stop.abort();
  const code = await cli(argv, { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, env, stop: stop.signal, now: () => new Date('2026-05-04T15:00:00Z') });
  return { code, out, err };
}

/** The invocations of one command: no args, unknown option, a bad value for each argument and each option with a value. */
function invocations(leaf: Leaf, dir: string): string[][] {
  const c = leaf.cmd;
  if (c.commands.length > 0) return [[...leaf.path]];
  const args = c.registeredArguments.filter((a) => a.required).map(() => BAD);
  const required = (c.options as readonly Option[]).filter((o) => o.mandatory && o.long !== undefined).flatMap((o) => [o.long as string, BAD]);
  const base = [...leaf.path, '--dir', dir];
  const out: string[][] = [[...leaf.path], [...base, '--opcion-inexistente'], [...base, ...args, ...required]];
  out.push([...base, ...args, ...required, 'sobra', 'sobra']); // too many arguments
  for (const o of c.options as readonly Option[]) {
    if (o.long === undefined || o.long === '--dir' || !(o.required || o.optional) || o.mandatory) continue;
    out.push([...base, ...args, ...required, o.long, BAD]);
    if (o.required) out.push([...base, ...args, ...required, o.long]); // the value missing
  }
  return out;
}

/** Every option of both programs: messages of one may tell what to run on the other. */
const knownOptions = (): Set<string> => new Set([...allOptionNames(buildCentralProgram()), ...allOptionNames(buildNodeProgram())]);

async function sweep(name: string, program: Command, cli: (argv: string[], io: CliIo) => Promise<number>, env: Record<string, string>, dir: string): Promise<string[]> {
  const known = knownOptions();
  const problems: string[] = [];
  const check = (argv: readonly string[], r: Run): void => {
    const text = `${r.out}\n${r.err}`;
    const english = englishIn(text);
    const excerpt = (needle: string): string => {
      const at = Math.max(0, text.indexOf(needle) - 120);
      return text.slice(at, at + 300).trim();
    };
    if (english !== undefined) problems.push(`${name} ${argv.join(' ')}: inglés («${english}») en: ${excerpt(english)}`);
    const bogus = unknownOptionsIn(text, known);
    if (bogus.length > 0) problems.push(`${name} ${argv.join(' ')}: menciona opciones que no existen (${bogus.join(', ')}) en: ${excerpt(bogus[0] as string)}`);
  };
  for (const argv of [[], ['--opcion-inexistente'], ['comando-inexistente'], ['--help'], ['help']]) check(argv, await run(cli, argv, env));
  for (const leaf of leaves(program)) {
    const help = await run(cli, [...leaf.path, '--help'], env);
    check([...leaf.path, '--help'], help);
    assert.equal(help.code, 0, `${name} ${leaf.path.join(' ')} --help`);
    // examples in the help: options of the command the example runs
    for (const line of help.out.split('\n')) {
      const m = new RegExp(`^\\s*(?:\\S+=\\S+\\s+)?${name} (.*)$`).exec(line);
      if (m === null) continue;
      const words = (m[1] as string).split(/\s+/);
      let target: Command = program;
      for (const w of words) {
        const next = target.commands.find((c) => c.name() === w || c.aliases().includes(w));
        if (next === undefined) break;
        target = next;
      }
      const own = new Set([...(target.options as readonly Option[]).map((o) => o.long), '--help']);
      const bad = [...line.matchAll(OPTION_TOKEN)].map((x) => `--${x[1]}`).filter((o) => !own.has(o));
      if (bad.length > 0) problems.push(`${name} ${leaf.path.join(' ')} --help: el ejemplo «${line.trim()}» usa opciones que «${target.name()}» no tiene: ${bad.join(', ')}`);
    }
    for (const argv of invocations(leaf, dir)) check(argv, await run(cli, argv, env));
  }
  return problems;
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'miis-cli-sweep-'));
}

test('every miis-central command answers its error paths and help in Spanish, naming only options that exist', async () => {
  const root = tempDir();
  const cwd = process.cwd();
  try {
    process.chdir(root); // files a bad value names land here
    const empty = join(root, 'vacia');
    const env = { MIIS_CENTRAL_DIR: empty };
    const problems = await sweep('miis-central', buildCentralProgram(), runCentralCli, env, empty);
    // once more against an initialised directory: the checks after opening the store
    const dir = join(root, 'central');
    const init = await run(runCentralCli, ['init', '--dir', dir, '--instance', 'PE', '--name', 'MIDIS DGFO'], env);
    assert.equal(init.code, 0, init.err);
    problems.push(...(await sweep('miis-central', buildCentralProgram(), runCentralCli, { MIIS_CENTRAL_DIR: dir }, dir)));
    if (problems.length > 0) console.log(problems.join('\n---\n'));
    assert.deepEqual(problems, []);
  } finally {
    process.chdir(cwd);
    rmSync(root, { recursive: true, force: true });
  }
});

test('every miis-node command answers its error paths and help in Spanish, naming only options that exist', async () => {
  const root = tempDir();
  const cwd = process.cwd();
  try {
    process.chdir(root);
    const dir = join(root, 'nodo');
    mkdirSync(dir);
    const problems = await sweep('miis-node', buildNodeProgram(), runNodeCli, { MIIS_NODE_DIR: dir }, dir);
    if (problems.length > 0) console.log(problems.join('\n---\n'));
    assert.deepEqual(problems, []);
  } finally {
    process.chdir(cwd);
    rmSync(root, { recursive: true, force: true });
  }
});

test('every --option written in the CLI sources exists in miis-node or miis-central', () => {
  const known = knownOptions();
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  const src = join(cwd(), '..', '..', '..');
  for (const d of ['central', 'node', 'runtime']) walk(join(src, d));
  const problems: string[] = [];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    // option names inside string literals that read like CLI usage (Spanish messages and help)
    for (const lit of text.matchAll(/(['`"])((?:(?!\1)[^\\\n]|\\.)*?)\1/g)) {
      const s = lit[2] as string;
      if (!/miis-(central|node)|«|use |con |opción|indique/i.test(s)) continue;
      for (const o of unknownOptionsIn(s, known)) problems.push(`${f}: ${o} en «${s.slice(0, 120)}»`);
    }
  }
  if (problems.length > 0) console.log(problems.join('\n---\n'));
    assert.deepEqual(problems, []);
});

/** The repository root as seen from dist/test/runtime. */
function cwd(): string {
  return new URL('.', import.meta.url).pathname;
}

test('the sweep would catch commander defaults, stack traces and made-up options', () => {
  for (const english of ["error: unknown option '--x'", 'Usage: miis-node [options] [command]', "error: missing required argument 'id'", 'Error: ENOENT: no such file or directory', '(Did you mean --dir?)', '    at run (file:///x.js:1:2)']) {
    assert.notEqual(englishIn(english), undefined, english);
  }
  for (const spanish of ["error: opción desconocida '--x'", 'Uso: miis-node [opciones] [comando]', 'regla required o pattern:EXPR', `valor no válido: «${BAD}»`]) {
    assert.equal(englishIn(spanish), undefined, spanish);
  }
  assert.deepEqual(unknownOptionsIn('use --participante "MIDIS|…" o --dir', knownOptions()), ['--participante']);
});
