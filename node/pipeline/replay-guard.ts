import { MiisError, type FaultCode } from '../../core/errors.js';

/**
 * Refuses a second message with the same id from the same client within a time window.
 * The running node keeps this memory in node.db (node/store/local-store.ts `replayMemory`), so
 * it survives restarts; this in-memory version (bounded: the oldest entries are dropped first)
 * serves pipelines built without a store.
 */
export interface ReplayGuard {
  /** Returns false when (client, id) was already seen within the window. */
  accept(client: string, messageId: string, nowMs: number): boolean;
  readonly size: number;
}

/** What the pipeline asks: synchronous (in memory, SQLite) or a round trip (PostgreSQL, shared by the node's instances). */
export interface ReplayCheck {
  accept(client: string, messageId: string, nowMs: number): boolean | Promise<boolean>;
}

/**
 * Admit (client, id) once: throws `duplicate` for a repeat; synchronous with an in-memory or SQLite
 * memory, a promise with the shared PostgreSQL one, whose failure is `unavailable` (the same fault as
 * an unwritable log: nothing is executed without its id remembered).
 */
export function admitOnce(memory: ReplayCheck, client: string, messageId: string, nowMs: number, duplicate: FaultCode, unavailable: FaultCode): void | Promise<void> {
  const refuse = (accepted: boolean): void => {
    if (!accepted) throw new MiisError(duplicate, messageId);
  };
  const ok = memory.accept(client, messageId, nowMs);
  return typeof ok === 'boolean' ? refuse(ok) : ok.then(refuse, (err: unknown) => {
    throw new MiisError(unavailable, '', { cause: err });
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
