/**
 * OCSP (RFC 6960) for signing certificates of EXTERNAL CAs (conf.externalCas; the instance CA's
 * revocations arrive with the global configuration). For each certificate the node keeps the last
 * verified response and reuses it while it is fresh (thisUpdate no older than
 * evidence.json `ocsp.maxAgeSeconds`, nextUpdate not passed); otherwise it asks the responder
 * (conf `ocspUrl`, else the certificate's AIA) with a nonce and checks the response signature
 * (issuing CA or a delegated OCSPSigning certificate), CertID and freshness.
 *
 * `revoked` and `unknown` always refuse (a revoked status stays cached). When no usable answer
 * can be had (responder down, timeout, HTTP error, bad signature, no URL), `ocsp.onResponderDown`
 * decides: 'refuse' refuses the exchange with the reason; 'accept-and-flag' accepts it, counts
 * it and shows the flag in /health until the responder answers again. After a failure the same
 * URL is not retried for `retryMs` (default: 10 s or maxAgeSeconds if smaller), so an outage does
 * not add a network timeout to every message.
 */
import { randomBytes } from 'node:crypto';
import { createOcspRequest, verifyOcspResponse, type CertStatus } from '../../core/ocsp.js';
import type { EvidenceSettings } from '../evidence/settings.js';
import { smallRequest } from '../../runtime/small-http.js';

export type OcspPost = (url: string, body: Buffer, timeoutMs: number) => Promise<Buffer>;

/** What a node asks an external CA's OCSP responder about. */
export interface OcspTarget {
  readonly certPem: string;
  readonly certSha256: string;
  readonly issuerPem: string;
  /** conf externalCas[].ocspUrl, else the certificate's AIA OCSP URL; undefined when neither exists. */
  readonly url: string | undefined;
  readonly caName: string;
}

export type CertDecision = { readonly ok: true; readonly ocsp?: OcspTarget | undefined } | { readonly ok: false; readonly reason: string };

export interface OcspChecker {
  check(target: OcspTarget): Promise<CertDecision>;
  health(): Record<string, unknown>;
}

interface Cached {
  readonly status: CertStatus;
  readonly thisUpdate: Date;
  readonly nextUpdate?: Date | undefined;
}

const MAX_RESPONSE_BYTES = 64 * 1024;
const CACHE_LIMIT = 4096;

/** POST an OCSP request over HTTP(S) and return the DER response (bounded size and time). */
export const postOcsp: OcspPost = async (url, body, timeoutMs) => {
  const res = await smallRequest(url, {
    method: 'POST', body, timeoutMs, maxBytes: MAX_RESPONSE_BYTES, tooLarge: () => 'respuesta demasiado grande',
    headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
  });
  if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
  return res.body;
};

export function createOcspChecker(opts: {
  settings: EvidenceSettings['ocsp'];
  now: () => Date;
  info: (line: string) => void;
  post?: OcspPost;
  retryMs?: number;
}): OcspChecker {
  const { settings, now } = opts;
  const maxAgeMs = settings.maxAgeSeconds * 1000;
  const retryMs = opts.retryMs ?? Math.min(10_000, maxAgeMs);
  const post = opts.post ?? postOcsp;
  const cache = new Map<string, Cached>();
  const inflight = new Map<string, Promise<Cached | string>>();
  const downUntil = new Map<string, number>();
  const state = { queries: 0, answered: 0, flagged: false, lastError: null as string | null, lastErrorAt: null as string | null, lastOkAt: null as string | null, acceptedUnchecked: 0 };

  const isFresh = (c: Cached, t: number): boolean => t - c.thisUpdate.getTime() <= maxAgeMs && (c.nextUpdate === undefined || c.nextUpdate.getTime() >= t);

  const decide = (target: OcspTarget, c: Cached): CertDecision => {
    if (c.status.status === 'good') return { ok: true };
    if (c.status.status === 'revoked') return { ok: false, reason: `certificado revocado por la CA externa ${target.caName} (OCSP, desde ${c.status.revokedAt.toISOString()})` };
    return { ok: false, reason: `el respondedor OCSP de ${target.caName} no conoce este certificado (unknown)` };
  };

  const unavailable = (target: OcspTarget, reason: string): CertDecision => {
    state.flagged = true;
    state.lastError = `${target.caName}: ${reason}`;
    state.lastErrorAt = now().toISOString();
    if (settings.onResponderDown === 'refuse') return { ok: false, reason: `no se pudo comprobar la revocación (OCSP) del certificado de ${target.caName}: ${reason}` };
    state.acceptedUnchecked += 1;
    opts.info(`aviso: OCSP de ${target.caName} sin respuesta (${reason}); certificado ${target.certSha256.slice(0, 16)}… aceptado sin comprobar su revocación (accept-and-flag)`);
    return { ok: true };
  };

  const fetchStatus = async (target: OcspTarget, url: string): Promise<Cached | string> => {
    const nonce = randomBytes(16);
    let der: Buffer;
    try {
      der = await post(url, createOcspRequest(target.certPem, target.issuerPem, nonce), settings.timeoutSeconds * 1000);
    } catch (err) {
      return `el respondedor ${url} no responde (${err instanceof Error ? err.message : String(err)})`;
    }
    const v = verifyOcspResponse(der, target.certPem, target.issuerPem, { now: now(), maxAgeMs, nonce });
    if (!v.ok) return v.reason;
    return { status: v.status, thisUpdate: v.thisUpdate, nextUpdate: v.nextUpdate };
  };

  return {
    async check(target) {
      const t = now().getTime();
      state.queries += 1;
      const cached = cache.get(target.certSha256);
      if (cached !== undefined && (cached.status.status === 'revoked' || isFresh(cached, t))) return decide(target, cached);
      if (target.url === undefined) return unavailable(target, 'el certificado no indica respondedor OCSP (AIA) y la configuración global no define ocspUrl');
      const url = target.url;
      if ((downUntil.get(url) ?? 0) > t) return unavailable(target, state.lastError?.replace(/^[^:]*: /, '') ?? 'respondedor OCSP sin respuesta');
      let pending = inflight.get(target.certSha256);
      if (pending === undefined) {
        pending = fetchStatus(target, url).finally(() => inflight.delete(target.certSha256));
        inflight.set(target.certSha256, pending);
      }
      const result = await pending;
      if (typeof result === 'string') {
        downUntil.set(url, now().getTime() + retryMs);
        return unavailable(target, result);
      }
      downUntil.delete(url);
      state.answered += 1;
      state.flagged = false;
      state.lastOkAt = now().toISOString();
      if (cache.size >= CACHE_LIMIT) cache.clear();
      cache.set(target.certSha256, result);
      return decide(target, result);
    },
    health() {
      const estado = state.flagged ? 'sin-respuesta' : state.queries === 0 ? 'sin-consultas' : 'ok';
      return {
        estado, politica: settings.onResponderDown, antiguedadMaximaSeg: settings.maxAgeSeconds,
        respuestasEnCache: cache.size, consultasAlRespondedor: state.answered, ultimaRespuesta: state.lastOkAt,
        ultimoError: state.lastError, ultimoErrorEn: state.lastErrorAt, aceptadosSinVerificar: state.acceptedUnchecked,
        aviso: !state.flagged ? null : settings.onResponderDown === 'refuse'
          ? 'respondedor OCSP de una CA externa sin respuesta: el nodo RECHAZA sus certificados hasta que responda'
          : 'respondedor OCSP de una CA externa sin respuesta: el nodo ACEPTA sus certificados sin comprobar la revocación',
      };
    },
  };
}
