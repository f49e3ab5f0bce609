/**
 * Shared command-line machinery for miis-central and miis-node: commander with Spanish help and
 * messages, in-process running with an exit code (0 ok, 2 bad input, 1 other errors), input
 * parsing helpers and plain-text tables. The one module of core/ that touches the file system
 * (reading a bounded input file, finding the main module): CLI support, not protocol code.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Help, type Option } from 'commander';
import { MiisError } from '../core/errors.js';
import { packageVersion } from './version.js';

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly now?: () => Date;
  /** Stops `serve` when aborted (besides SIGINT/SIGTERM). */
  readonly stop?: AbortSignal;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export const processIo: CliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

/** Spanish for commander's own parse errors. */
export function translateCommanderMessage(text: string): string {
  return text
    .replace(/^error: unknown option '([^']*)'/m, "error: opción desconocida '$1'")
    .replace(/^error: unknown command '([^']*)'/m, "error: comando desconocido '$1'")
    .replace(/^error: missing required argument '([^']*)'/m, "error: falta el argumento obligatorio '$1'")
    .replace(/^error: option '([^']*)' argument missing/m, "error: a la opción '$1' le falta su valor")
    .replace(/^error: required option '([^']*)' not specified/m, "error: falta la opción obligatoria '$1'")
    .replace(/^error: too many arguments.*$/m, 'error: sobran argumentos')
    .replace(/\(Did you mean (one of )?([^?]*)\?\)/, '(¿quiso decir $2?)');
}

/** Spanish for the few words commander writes into help text. */
export function translateHelp(text: string): string {
  return text.replaceAll('[options]', '[opciones]').replaceAll('[command]', '[comando]').replaceAll('(default: ', '(por omisión: ');
}

/** A commander program that speaks Spanish and never exits the process. */
export function createProgram(name: string, description: string, io: CliIo): Command {
  const program: Command = new Command(name);
  return program
    .description(description)
    .version(packageVersion(), '-V, --version', 'muestra la versión instalada')
    .helpOption('-h, --help', 'muestra esta ayuda')
    .helpCommand('help [comando]', 'muestra la ayuda de un comando')
    .configureHelp({
      styleTitle: (t: string) => ({ 'Usage:': 'Uso:', 'Options:': 'Opciones:', 'Commands:': 'Comandos:', 'Arguments:': 'Argumentos:', 'Global Options:': 'Opciones globales:' })[t] ?? t,
      commandUsage(this: Help, cmd: Command) {
        return translateHelp(Help.prototype.commandUsage.call(this, cmd));
      },
      subcommandTerm(this: Help, cmd: Command) {
        return translateHelp(Help.prototype.subcommandTerm.call(this, cmd));
      },
      optionDescription(this: Help, option: Option) {
        return translateHelp(Help.prototype.optionDescription.call(this, option));
      },
    })
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      // with --json stderr holds only the error object, not the hint to use --help
      writeErr: (s) => (jsonRuns.has(program) && s.startsWith('(use --help') ? undefined : io.stderr(s)),
      outputError: (s, write) => {
        const text = translateCommanderMessage(s);
        write(jsonRuns.has(program) ? errorJson('Config.InvalidInput', text.replace(/^error: /, '').trim()) : text);
      },
    })
    .showHelpAfterError('(use --help para ver la ayuda)')
    .exitOverride();
}

/** Exit code for an error, after telling the user what went wrong (never a stack trace for MiisError). */
export function reportCliError(name: string, err: unknown, io: CliIo, json = false): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    return 2; // commander already printed its (translated) message
  }
  if (err instanceof MiisError) {
    io.stderr(json ? errorJson(err.code, err.message) : `${name}: ${err.message}\n`);
    return err.httpStatus >= 400 && err.httpStatus < 500 ? 2 : 1;
  }
  const message = `error inesperado: ${err instanceof Error ? err.message : String(err)}`;
  io.stderr(json ? errorJson(null, message) : `${name}: ${message}\n`);
  return 1;
}

export async function runProgram(program: Command, argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  if (json) jsonRuns.add(program);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    return reportCliError(program.name(), err, io, json);
  }
}

export function parseInteger(value: string, what: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new MiisError('Config.InvalidInput', `${what} no válido: «${value}» (entero entre ${min} y ${max})`);
  }
  return n;
}

export function parseChoice<T extends string>(value: string, choices: readonly T[], what: string): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new MiisError('Config.InvalidInput', `${what} no válido: «${value}». Valores admitidos: ${choices.join(', ')}`);
  }
  return value as T;
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const VISIBLE: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A value as it may be printed on a terminal: control characters (C0, DEL, C1), line and
 * paragraph separators and bidirectional overrides become visible escapes (\n, \u{1b}).
 * Logged values come from other parties and must not drive the operator's terminal.
 */
export function escapeForTerminal(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => VISIBLE[c] ?? `\\u{${(c.codePointAt(0) as number).toString(16)}}`);
}

/** A plain-text table; every cell is escaped for the terminal (escapeForTerminal). */
export function formatTable(headers: readonly string[], rawRows: readonly (readonly string[])[]): string {
  if (rawRows.length === 0) return '(ninguno)\n';
  const rows = rawRows.map((r) => r.map(escapeForTerminal));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

/** Peru keeps UTC−5 all year (no daylight saving time). */
const LIMA_OFFSET_MS = -5 * 60 * 60 * 1000;

/**
 * An instant as listings show it: Lima time (America/Lima, UTC−5), "AAAA-MM-DD HH:MM:SS". JSON
 * output keeps ISO 8601 in UTC; a value that is not a date is returned as it is.
 */
export function limaDateTime(value: Date | string): string {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(ms)) return String(value);
  return new Date(ms + LIMA_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

export const toJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/**
 * What a command that changes something prints with --json: one object, `{"ok": true, …}`, with
 * Spanish keys (docs/operator-guide.md, «Salida JSON»). Errors go to stderr with exit 2 or 1: with
 * --json as one line `{"ok":false,"codigo":…,"mensaje":…}` (errorJson).
 */
export const okJson = (fields: object): string => toJson({ ok: true, ...fields });

/** Inside a command with --json: plain-text lines are dropped, the command prints okJson at the end. */
export const textOnly = (o: { readonly json?: boolean }, out: (s: string) => void): ((s: string) => void) => (o.json === true ? () => undefined : out);

/** What a failed command prints on stderr when it was run with --json (exit code 2 or 1 as always). */
export const errorJson = (codigo: string | null, mensaje: string): string => `${JSON.stringify({ ok: false, codigo, mensaje })}\n`;

/** Programs run with --json: their errors (commander's included) go to stderr as errorJson. */
const jsonRuns = new WeakSet<object>();

/** Resolves on SIGINT, SIGTERM or when `stop` aborts. */
export function waitForStop(stop: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolveStop) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      stop?.removeEventListener('abort', done);
      resolveStop();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    stop?.addEventListener('abort', done, { once: true });
    if (stop?.aborted === true) done();
  });
}

/** True when the module at `moduleUrl` is the program node was started with (follows npm bin links). */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

export const MAX_INPUT_FILE = 64 * 1024;

/** Read a small input file (certificate, CSR, anchor) with a size limit and a Spanish error. */
export function readInputFile(path: string, what: string, max = MAX_INPUT_FILE): string {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch {
    throw new MiisError('Config.NotFound', `el archivo de ${what} ${path} (o no se puede leer)`);
  }
  if (data.length > max) throw new MiisError('Config.InvalidInput', `el archivo de ${what} ${path} supera ${max} bytes`);
  return data.toString('utf8');
}
