/**
 * The node's operational state, checked once a second by node/main.ts: one log line per state
 * change (global configuration expired or restored, central unreachable, TSA down or up, OCSP
 * responder down or up, certificate expiring, expired or revoked), and the readiness that
 * GET /health reports (503 with the reasons when the node cannot serve).
 */
import type { Logger } from '../../runtime/log.js';
import { createStateLog } from '../../runtime/log.js';

export interface MonitorSources {
  now(): Date;
  /** Expiry of the configuration in force (undefined: none) and the last download error. */
  conf(): { expiresAtMs: number; serial: number } | undefined;
  confError(): string | undefined;
  /** Time-stamping state (undefined: off). */
  tsa(): { state: 'ok' | 'failing' | 'outage'; policy: string; lastError: string | null } | undefined;
  /** Throws when the evidence gate refuses exchanges (time-stamping outage with policy refuse). */
  evidenceGate(): void;
  ocspDown(): boolean;
  certificates(): readonly { role: string; state: string; daysLeft: number; notAfter: string }[];
  /** Throws when the message log cannot be written. */
  probeDatabase(): void;
}

export interface Readiness {
  readonly ok: boolean;
  readonly reasons: readonly string[];
}

export interface NodeMonitor {
  /** Compare with the last check and log the changes. */
  check(): void;
  readiness(): Readiness;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export function createNodeMonitor(log: Logger, src: MonitorSources): NodeMonitor {
  const states = createStateLog(log);
  return {
    check() {
      const c = src.conf();
      const expired = c === undefined || c.expiresAtMs <= src.now().getTime();
      states.set('globalconf', expired ? 'expired' : 'ok', expired
        ? { level: 'error', msg: 'configuración global vencida: el nodo rechaza intercambios hasta recibir una vigente', fields: { serial: c?.serial ?? null, expiresAt: c === undefined ? null : new Date(c.expiresAtMs).toISOString() } }
        : { level: 'info', msg: 'configuración global vigente de nuevo', fields: { serial: c.serial, expiresAt: new Date(c.expiresAtMs).toISOString() } });
      const err = src.confError();
      states.set('central', err === undefined ? 'ok' : 'down', err === undefined
        ? { level: 'info', msg: 'central responde de nuevo' }
        : { level: 'warn', msg: 'central no responde; se usa la copia local de la configuración global', fields: { reason: err } });
      const tsa = src.tsa();
      if (tsa !== undefined) {
        const s = tsa.state === 'ok' ? 'ok' : tsa.state === 'outage' ? 'outage' : 'down';
        states.set('tsa', s, s === 'ok'
          ? { level: 'info', msg: 'TSA disponible de nuevo' }
          : s === 'down'
            ? { level: 'warn', msg: 'TSA inaccesible (dentro del período de gracia)', fields: { reason: tsa.lastError } }
            : { level: 'error', msg: tsa.policy === 'refuse' ? 'TSA inaccesible más allá del período de gracia: el nodo RECHAZA intercambios' : 'TSA inaccesible más allá del período de gracia: el nodo sigue con registros sin sello', fields: { reason: tsa.lastError, policy: tsa.policy } });
      }
      const down = src.ocspDown();
      states.set('ocsp', down ? 'down' : 'ok', down
        ? { level: 'warn', msg: 'respondedor OCSP de una CA externa sin respuesta' }
        : { level: 'info', msg: 'respondedor OCSP responde de nuevo' });
      for (const cert of src.certificates()) {
        if (cert.role === 'sign-previous') continue;
        const s = cert.state === 'vigente' ? 'ok' : cert.state;
        states.set(`certificate:${cert.role}`, s, s === 'ok'
          ? { level: 'info', msg: `certificado ${cert.role} vigente`, fields: { role: cert.role, notAfter: cert.notAfter } }
          : { level: s === 'por-vencer' ? 'warn' : 'error', msg: `certificado ${cert.role} ${s === 'por-vencer' ? `vence en ${cert.daysLeft} días` : s}`, fields: { role: cert.role, daysLeft: cert.daysLeft, notAfter: cert.notAfter } });
      }
    },
    readiness() {
      const reasons: string[] = [];
      const c = src.conf();
      if (c === undefined) reasons.push('no hay configuración global');
      else if (c.expiresAtMs <= src.now().getTime()) reasons.push(`configuración global vencida el ${new Date(c.expiresAtMs).toISOString()}`);
      try {
        src.evidenceGate();
      } catch (e) {
        reasons.push(`registro de evidencia cerrado: ${message(e)}`);
      }
      try {
        src.probeDatabase();
      } catch (e) {
        reasons.push(`no se puede escribir el registro de mensajes: ${message(e)}`);
      }
      return { ok: reasons.length === 0, reasons };
    },
  };
}
