/**
 * Batch time-stamping of the message log. On every tick the records not yet covered are taken in
 * seq order, their record hashes become the leaves of a hash tree (core/hash-tree.ts) and one
 * RFC 3161 token is requested over the root. No exchange waits for it: the pipelines only ask
 * `check()`, an in-memory comparison. When records stay unstamped longer than the grace period,
 * the outage policy applies: 'refuse' makes `check` throw (X-Road's behaviour), 'flag' only
 * reports it in /health.
 */
import { randomBytes } from 'node:crypto';
import { MiisError, type FaultCode } from '../../core/errors.js';
import { hashTreeRoot } from '../../core/hash-tree.js';
import { createTimeStampRequest, tokenFromResponse, verifyTimeStampToken } from '../../core/tsp.js';
import type { OutagePolicy } from './settings.js';
import type { TimestampRecord } from './message-log.js';
import { smallRequest } from '../../runtime/small-http.js';

/** The log as the time-stamper uses it: the SQLite log (synchronous) or the PostgreSQL one (this instance's chain). */
export interface StampableLog {
  unstamped(limit: number): { seq: number; hash: string; at: Date }[] | Promise<{ seq: number; hash: string; at: Date }[]>;
  addTimestamp(t: Omit<TimestampRecord, 'id'>): void | Promise<void>;
}

export type TsaPost = (url: string, body: Buffer, timeoutMs: number) => Promise<Buffer>;

export interface TimestamperStatus {
  readonly state: 'ok' | 'failing' | 'outage';
  readonly policy: OutagePolicy;
  readonly lastSuccessAt: string | null;
  readonly lastError: string | null;
  readonly oldestUnstampedAt: string | null;
  readonly batches: number;
}

export interface Timestamper {
  /** Stamp everything pending now (one token per batch of up to maxBatch records). */
  tick(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
  status(): TimestamperStatus;
  /** Throws MiisError(code) when the outage policy is 'refuse' and the grace period is over. */
  check(code: FaultCode): void;
}

export const postTimeStampRequest: TsaPost = async (url, body, timeoutMs) => {
  // a token is a few KB; 1 MB leaves room for long certificate chains
  const res = await smallRequest(url, { method: 'POST', body, headers: { 'content-type': 'application/timestamp-query' }, timeoutMs, maxBytes: 1024 * 1024 });
  if (res.status !== 200) throw new Error(`la TSA respondió HTTP ${res.status}`);
  return res.body;
};

export function createTimestamper(opts: {
  log: StampableLog;
  url: string;
  trustedCas: () => readonly string[];
  now: () => Date;
  intervalMs: number;
  graceMs: number;
  onOutage: OutagePolicy;
  post?: TsaPost;
  maxBatch?: number;
  info?: (line: string) => void;
}): Timestamper {
  const post = opts.post ?? postTimeStampRequest;
  const maxBatch = opts.maxBatch ?? 10_000;
  let lastSuccessAt: Date | undefined;
  let lastError: string | undefined;
  let oldestUnstamped: Date | undefined;
  let batches = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const stampOnce = async (): Promise<boolean> => {
    const rows = await opts.log.unstamped(maxBatch);
    if (rows.length === 0) {
      oldestUnstamped = undefined;
      return false;
    }
    oldestUnstamped = rows[0]!.at;
    const root = hashTreeRoot(rows.map((r) => r.hash));
    const digest = Buffer.from(root, 'hex');
    const nonce = BigInt(`0x${randomBytes(8).toString('hex')}`);
    const token = tokenFromResponse(await post(opts.url, createTimeStampRequest(digest, nonce), 10_000));
    const verdict = verifyTimeStampToken(token, digest, opts.trustedCas());
    if (!verdict.ok) throw new Error(`sello rechazado: ${verdict.reason}`);
    await opts.log.addTimestamp({ firstSeq: rows[0]!.seq, lastSeq: rows[rows.length - 1]!.seq, root, token, genTime: verdict.genTime });
    batches += 1;
    lastSuccessAt = opts.now();
    lastError = undefined;
    return rows.length === maxBatch;
  };

  const tick = (): Promise<void> => {
    running ??= (async () => {
      try {
        while (await stampOnce()) { /* more pending */ }
        oldestUnstamped = (await opts.log.unstamped(1))[0]?.at;
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (lastError !== message) opts.info?.(`sello de tiempo: no se pudo sellar el registro: ${message}`);
        lastError = message;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const overdueMs = (): number => (oldestUnstamped === undefined ? 0 : opts.now().getTime() - oldestUnstamped.getTime() - opts.graceMs);

  return {
    tick,
    start() {
      if (timer !== undefined) return;
      timer = setInterval(() => void tick(), opts.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
    },
    status() {
      const outage = overdueMs() > 0;
      return {
        state: outage ? 'outage' : lastError === undefined ? 'ok' : 'failing',
        policy: opts.onOutage,
        lastSuccessAt: lastSuccessAt?.toISOString() ?? null,
        lastError: lastError ?? null,
        oldestUnstampedAt: oldestUnstamped?.toISOString() ?? null,
        batches,
      };
    },
    check(code) {
      if (opts.onOutage !== 'refuse' || overdueMs() <= 0) return;
      throw new MiisError(code, `sin sello desde ${oldestUnstamped!.toISOString()}${lastError === undefined ? '' : `; ${lastError}`}`);
    },
  };
}
