/**
 * One structured logger for the node and central (pino): JSON lines with `time` (ISO, from the
 * injected clock), `level` (label), `component`, `msg` and, where relevant, `messageId`, `client`,
 * `service`. `pretty` renders the same records for a console (pino-pretty's synchronous
 * prettyFactory, loaded only when asked for). The destination is injected so tests read the lines.
 *
 * Never log secrets or payloads: callers pass identifiers and reasons only; a few well-known
 * secret-bearing keys are redacted anyway.
 */
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import { MiisError } from '../core/errors.js';

export type { Logger };
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

export interface LoggerOptions {
  /** node, central, … (one field of every line). */
  readonly component: string;
  /** Extra fields of every line, e.g. { node: 'reniec' }. */
  readonly bindings?: Readonly<Record<string, string>>;
  /** Where each line goes (default: standard error). */
  readonly write?: (line: string) => void;
  readonly format?: LogFormat;
  readonly level?: string;
  readonly now?: () => Date;
}

const REDACT = ['password', 'passphrase', 'secret', 'privateKey', 'keyPem', '*.password', '*.passphrase', '*.secret', '*.privateKey', '*.keyPem'];

/**
 * The default format: pretty on an interactive console (when pino-pretty is installed), JSON
 * lines otherwise (pipes, files, journald).
 */
export function defaultLogFormat(isTty: boolean | undefined): LogFormat {
  if (isTty !== true) return 'json';
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return 'pretty';
  } catch {
    return 'json';
  }
}

export function parseLogFormat(value: string): LogFormat {
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new MiisError('Config.InvalidInput', `formato de registro no válido: «${value}» (use ${LOG_FORMATS.join(' o ')})`);
}

function prettifier(): (line: string) => string {
  let mod: { prettyFactory(o: Record<string, unknown>): (input: string) => string };
  try {
    mod = createRequire(import.meta.url)('pino-pretty') as typeof mod;
  } catch {
    throw new MiisError('Config.InvalidInput', 'el formato «pretty» necesita el paquete pino-pretty, que no está instalado; use --log-format json');
  }
  return mod.prettyFactory({ colorize: false, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname', messageKey: 'msg' });
}

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((line: string) => void process.stderr.write(line));
  const now = opts.now ?? (() => new Date());
  const pretty = opts.format === 'pretty' ? prettifier() : undefined;
  return pino({
    base: { component: opts.component, ...opts.bindings },
    level: opts.level ?? 'info',
    messageKey: 'msg',
    timestamp: () => `,"time":"${now().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACT, censor: '[oculto]' },
  }, { write: pretty === undefined ? write : (line: string) => write(pretty(line)) });
}

/**
 * The legacy one-line `info` callbacks (evidence, OCSP, key rotation, pipeline) through a logger:
 * lines starting with «aviso» are warnings, «error» errors, the rest information.
 */
export function lineLogger(log: Logger): (line: string) => void {
  return (line) => {
    if (/^aviso\b/i.test(line)) log.warn(line);
    else if (/^error\b/i.test(line)) log.error(line);
    else log.info(line);
  };
}

/**
 * One line per state change: `set(key, state, …)` logs only when the state of `key` differs from
 * the last one seen (initially `normal`), so a condition that persists is logged once, and again
 * when it clears.
 */
export interface StateLog {
  set(key: string, state: string, line: { level: 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }): boolean;
  get(key: string): string | undefined;
}

export function createStateLog(log: Logger, normal = 'ok'): StateLog {
  const states = new Map<string, string>();
  return {
    set(key, state, line) {
      if ((states.get(key) ?? normal) === state) {
        states.set(key, state);
        return false;
      }
      states.set(key, state);
      log[line.level]({ event: key, state, ...line.fields }, line.msg);
      return true;
    },
    get(key) {
      return states.get(key);
    },
  };
}
