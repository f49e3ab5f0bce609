/**
 * A small pool of worker threads (verify-worker.ts) for log verification: each job (a range of
 * records) goes to the least busy worker; each answer is what the worker made of it (log-verify.ts).
 */
import { Worker } from 'node:worker_threads';
import type { LogKeyFile } from './log-crypto.js';

export interface VerifyPool<J, R> {
  readonly size: number;
  run(job: J): Promise<R>;
  close(): Promise<void>;
}

/** What every worker starts with: the log to open read-only, its key ring (in memory only) and the trusted CAs. */
export interface VerifyWorkerData {
  readonly dbPath: string;
  readonly keyRing: LogKeyFile | undefined;
  readonly trustedCas: string[];
}

export function createVerifyPool<J, R>(size: number, data: VerifyWorkerData): VerifyPool<J, R> {
  const n = Math.max(1, size);
  const workers = Array.from({ length: n }, () => {
    // small heaps: a worker holds one range of records at a time
    const w = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 2 } });
    const pending = new Map<number, { resolve: (r: R) => void; reject: (e: unknown) => void }>();
    w.on('message', (m: { id: number; result?: R; error?: string }) => {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.result as R);
    });
    w.on('error', (err) => {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
    return { w, pending };
  });
  let nextId = 0;
  return {
    size: n,
    run(job) {
      const target = workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        target.pending.set(id, { resolve, reject });
        target.w.postMessage({ id, job });
      });
    },
    async close() {
      await Promise.all(workers.map((x) => x.w.terminate()));
    },
  };
}
