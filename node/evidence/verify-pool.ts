/**
 * A small pool of worker threads (verify-worker.ts) for log verification: pages of bodies go
 * round-robin to the least busy worker; results come back as problems and a signature count.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BodyJob, Problem } from './log-verify.js';

export interface VerifyPool {
  readonly size: number;
  run(jobs: BodyJob[]): Promise<{ problems: Problem[]; signatures: number }>;
  close(): Promise<void>;
}

export function createVerifyPool(size: number | undefined, trustedCas: readonly string[]): VerifyPool {
  const n = Math.max(1, size ?? availableParallelism());
  const workers = Array.from({ length: n }, () => {
    // small heaps: a worker holds one page of bodies at a time
    const w = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: { trustedCas: [...trustedCas] }, resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 } });
    const pending = new Map<number, { resolve: (r: { problems: Problem[]; signatures: number }) => void; reject: (e: unknown) => void }>();
    w.on('message', (m: { id: number; problems: Problem[]; signatures: number }) => {
      pending.get(m.id)?.resolve(m);
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
