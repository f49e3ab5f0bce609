/**
 * A small pool of worker threads (verify-worker.ts) for log verification: pages of bodies go to
 * the least busy worker; each answer is what the worker made of its page (log-verify.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface VerifyPool<J, R> {
  readonly size: number;
  run(jobs: J[]): Promise<R>;
  close(): Promise<void>;
}

export function createVerifyPool<J, R>(size: number | undefined, trustedCas: readonly string[]): VerifyPool<J, R> {
  const n = Math.max(1, size ?? availableParallelism());
  const workers = Array.from({ length: n }, () => {
    // small heaps: a worker holds one page of bodies at a time
    const w = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: { trustedCas: [...trustedCas] }, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 } });
    const pending = new Map<number, { resolve: (r: R) => void; reject: (e: unknown) => void }>();
    w.on('message', (m: { id: number; result: R }) => {
      pending.get(m.id)?.resolve(m.result);
      pending.delete(m.id);
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
    run(jobs) {
      const target = workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        target.pending.set(id, { resolve, reject });
        target.w.postMessage({ id, jobs });
      });
    },
    async close() {
      await Promise.all(workers.map((x) => x.w.terminate()));
    },
  };
}
