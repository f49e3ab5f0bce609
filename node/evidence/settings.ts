/**
 * The node's evidence settings: message-log encryption, sensitive services, batch time-stamping,
 * archives and retention, certificate warnings, OCSP. Read from <node dir>/evidence.json when it
 * exists (every field optional), otherwise the defaults below. Invalid values are start-up errors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiisError } from '../../core/errors.js';

export type OutagePolicy = 'refuse' | 'flag';
/** What a node does with an external-CA certificate when its OCSP responder gives no usable answer. */
export type OcspDownPolicy = 'refuse' | 'accept-and-flag';

export interface EvidenceSettings {
  /** Seal message bodies and signatures at rest (AES-256-GCM, keys/log-keys.json). */
  readonly encryptLog: boolean;
  /** Services (id with or without version, or a prefix ending in '/') whose bodies are not kept. */
  readonly sensitiveServices: readonly string[];
  readonly timestamping: {
    readonly enabled: boolean;
    /** TSA URL; default: central's URL + /tsa. */
    readonly url?: string | undefined;
    readonly intervalSec: number;
    /** How long records may stay without a time-stamp before the outage policy applies. */
    readonly graceSec: number;
    readonly onOutage: OutagePolicy;
  };
  readonly archive: {
    readonly intervalSec: number;
    /** Archived records older than this are purged from the live log (0 = never purge). */
    readonly retentionDays: number;
    readonly encrypt: boolean;
  };
  readonly certificates: { readonly warnDays: number };
  /** Fault rows kept per source (IS address, peer certificate) and minute; beyond, faults are counted (message-log.ts). */
  readonly faultLog: { readonly perSourcePerMinute: number };
  /** OCSP for certificates of external CAs (node/certs/ocsp-checker.ts). */
  readonly ocsp: {
    /** A response older than this (thisUpdate) is not used; a fresh one is fetched. */
    readonly maxAgeSeconds: number;
    readonly onResponderDown: OcspDownPolicy;
    readonly timeoutSeconds: number;
  };
}

export const DEFAULT_EVIDENCE_SETTINGS: EvidenceSettings = {
  encryptLog: true,
  sensitiveServices: [],
  timestamping: { enabled: true, intervalSec: 60, graceSec: 4 * 3600, onOutage: 'refuse' },
  archive: { intervalSec: 3600, retentionDays: 30, encrypt: false },
  certificates: { warnDays: 30 },
  faultLog: { perSourcePerMinute: 300 },
  ocsp: { maxAgeSeconds: 3600, onResponderDown: 'refuse', timeoutSeconds: 5 },
};

export function evidencePaths(dir: string) {
  return {
    settings: join(dir, 'evidence.json'),
    logKeys: join(dir, 'keys', 'log-keys.json'),
    archives: join(dir, 'archives'),
  } as const;
}

function num(v: unknown, fallback: number, what: string, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new MiisError('Config.InvalidInput', `evidence.json: ${what} debe ser un número entre ${min} y ${max}`);
  return v;
}

function policy(v: unknown, fallback: OutagePolicy, what: string): OutagePolicy {
  if (v === undefined) return fallback;
  if (v !== 'refuse' && v !== 'flag') throw new MiisError('Config.InvalidInput', `evidence.json: ${what} debe ser "refuse" (rechazar) o "flag" (continuar y avisar)`);
  return v;
}

function ocspPolicy(v: unknown, fallback: OcspDownPolicy): OcspDownPolicy {
  if (v === undefined) return fallback;
  if (v !== 'refuse' && v !== 'accept-and-flag') throw new MiisError('Config.InvalidInput', 'evidence.json: ocsp.onResponderDown debe ser "refuse" (rechazar) o "accept-and-flag" (aceptar y avisar)');
  return v;
}

function flag(v: unknown, fallback: boolean, what: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') throw new MiisError('Config.InvalidInput', `evidence.json: ${what} debe ser true o false`);
  return v;
}

/** Settings from a parsed evidence.json (pure). */
export function parseEvidenceSettings(raw: unknown): EvidenceSettings {
  const d = DEFAULT_EVIDENCE_SETTINGS;
  const o = (raw ?? {}) as Record<string, Record<string, unknown> | undefined> & { encryptLog?: unknown; sensitiveServices?: unknown };
  const ts = o.timestamping ?? {};
  const ar = o.archive ?? {};
  const sensitive = o.sensitiveServices ?? [];
  if (!Array.isArray(sensitive) || sensitive.some((s) => typeof s !== 'string')) throw new MiisError('Config.InvalidInput', 'evidence.json: sensitiveServices debe ser una lista de identificadores de servicio');
  const url = ts.url;
  if (url !== undefined && (typeof url !== 'string' || !/^https?:\/\//.test(url))) throw new MiisError('Config.InvalidInput', 'evidence.json: timestamping.url debe ser una URL http(s)');
  const intervalSec = num(ts.intervalSec, d.timestamping.intervalSec, 'timestamping.intervalSec', 0.05, 86_400);
  const graceSec = num(ts.graceSec, d.timestamping.graceSec, 'timestamping.graceSec', 0.1, 30 * 86_400);
  if (graceSec <= intervalSec) throw new MiisError('Config.InvalidInput', 'evidence.json: timestamping.graceSec debe ser mayor que timestamping.intervalSec');
  return {
    encryptLog: flag(o.encryptLog, d.encryptLog, 'encryptLog'),
    sensitiveServices: sensitive as string[],
    timestamping: { enabled: flag(ts.enabled, d.timestamping.enabled, 'timestamping.enabled'), url: url as string | undefined, intervalSec, graceSec, onOutage: policy(ts.onOutage, d.timestamping.onOutage, 'timestamping.onOutage') },
    archive: {
      intervalSec: num(ar.intervalSec, d.archive.intervalSec, 'archive.intervalSec', 1, 30 * 86_400),
      retentionDays: num(ar.retentionDays, d.archive.retentionDays, 'archive.retentionDays', 0, 36_500),
      encrypt: flag(ar.encrypt, d.archive.encrypt, 'archive.encrypt'),
    },
    certificates: { warnDays: num(o.certificates?.warnDays, d.certificates.warnDays, 'certificates.warnDays', 0, 3650) },
    faultLog: { perSourcePerMinute: num(o.faultLog?.perSourcePerMinute, d.faultLog.perSourcePerMinute, 'faultLog.perSourcePerMinute', 1, 1_000_000) },
    ocsp: {
      maxAgeSeconds: num(o.ocsp?.maxAgeSeconds, d.ocsp.maxAgeSeconds, 'ocsp.maxAgeSeconds', 1, 30 * 86_400),
      onResponderDown: ocspPolicy(o.ocsp?.onResponderDown, d.ocsp.onResponderDown),
      timeoutSeconds: num(o.ocsp?.timeoutSeconds, d.ocsp.timeoutSeconds, 'ocsp.timeoutSeconds', 0.1, 120),
    },
  };
}

export function loadEvidenceSettings(dir: string): EvidenceSettings {
  const path = evidencePaths(dir).settings;
  if (!existsSync(path)) return DEFAULT_EVIDENCE_SETTINGS;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new MiisError('Config.InvalidInput', `${path} no es JSON válido`);
  }
  return parseEvidenceSettings(raw);
}

/** Is this service (full id, with version) flagged sensitive? */
export function isSensitiveService(settings: EvidenceSettings, service: string): boolean {
  return settings.sensitiveServices.some((s) => (s.endsWith('/') ? service.startsWith(s) : service === s || service.startsWith(`${s}/`)));
}
