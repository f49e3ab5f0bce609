import { MiisError, type FaultCode } from '../../core/errors.js';
import { DuplicateRecord, type AppendOptions, type LogRecord } from '../evidence/message-log.js';

/**
 * Refuses a second message with the same id from the same client within a time window.
 * The running node's memory survives restarts: on SQLite it is the message log's own request
 * records (`logReplayMemory`, checked by the request append: no write of its own); on PostgreSQL
 * one node database table shared by the instances (node/store/pg-local-store.ts `replayMemory`).
 * This in-memory version (bounded: the oldest entries are dropped first) serves pipelines built
 * without a store.
 */
export interface ReplayGuard {
  /** Returns false when (client, id) was already seen within the window. */
  accept(client: string, messageId: string, nowMs: number): boolean;
  readonly size: number;
}

/** What the pipeline asks: synchronous (in memory, SQLite) or a round trip (PostgreSQL, shared by the node's instances). */
export interface ReplayCheck {
  accept(client: string, messageId: string, nowMs: number): boolean | Promise<boolean>;
  /**
   * Set when the message log's request records are the memory (SQLite log and store): the window
   * in ms; nothing is checked before, the request's append refuses a duplicate (`appendRequest`).
   */
  readonly inLog?: number | undefined;
}

/**
 * The replay memory of a node whose message log is SQLite (node/main.ts): the request records
 * themselves, within `windowMs`. Only for a log whose append honours `replayWindowMs` (MessageLog).
 */
export function logReplayMemory(windowMs: number): ReplayCheck {
  return { inLog: windowMs, accept: () => true };
}

/**
 * Admit (client, id) once: throws `duplicate` for a repeat; synchronous with an in-memory or SQLite
 * memory, a promise with the shared PostgreSQL one, whose failure is `unavailable` (the same fault as
 * an unwritable log: nothing is executed without its id remembered).
 */
export function admitOnce(memory: ReplayCheck, client: string, messageId: string, nowMs: number, duplicate: FaultCode, unavailable: FaultCode): void | Promise<void> {
  if (memory.inLog !== undefined) return; // checked by the request's append (appendRequest)
  const refuse = (accepted: boolean): void => {
    if (!accepted) throw new MiisError(duplicate, messageId);
  };
  const ok = memory.accept(client, messageId, nowMs);
  return typeof ok === 'boolean' ? refuse(ok) : ok.then(refuse, (err: unknown) => {
    throw new MiisError(unavailable, '', { cause: err });
  });
}

/**
 * Append a request record. When the log is the replay memory (`memory.inLog`), the append carries
 * the check and a DuplicateRecord becomes `duplicate`: nothing is stored, and the caller has sent
 * (consumer) or executed (provider) nothing yet. Otherwise a plain append.
 */
export function appendRequest(log: { append(record: LogRecord, opts?: AppendOptions): Promise<void> }, memory: ReplayCheck | undefined, record: LogRecord, duplicate: FaultCode): Promise<void> {
  const windowMs = memory?.inLog;
  if (windowMs === undefined) return log.append(record);
  return log.append(record, { replayWindowMs: windowMs }).catch((err: unknown) => {
    throw err instanceof DuplicateRecord ? new MiisError(duplicate, record.messageId, { cause: err }) : err;
  });
}

export function createReplayGuard(opts: { windowMs: number; maxEntries: number }): ReplayGuard {
  const seen = new Map<string, number>();
  const evict = (nowMs: number): void => {
    for (const [k, t] of seen) {
      if (seen.size <= opts.maxEntries && nowMs - t <= opts.windowMs) break;
      seen.delete(k);
    }
  };
  return {
    accept(client, messageId, nowMs) {
      const key = `${client}\u0000${messageId}`;
      const t = seen.get(key);
      if (t !== undefined && nowMs - t <= opts.windowMs) return false;
      seen.delete(key);
      seen.set(key, nowMs);
      if (seen.size > opts.maxEntries || seen.size % 1024 === 0) evict(nowMs);
      return true;
    },
    get size() {
      return seen.size;
    },
  };
}
