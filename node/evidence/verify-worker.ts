/** Worker thread of verifyLiveLogParallel (log-verify.ts): checks digests and signatures of pages of bodies. */
import { parentPort, workerData } from 'node:worker_threads';
import { checkBodies, type BodyJob } from './log-verify.js';

const trustedCas = (workerData as { trustedCas: string[] }).trustedCas;
parentPort?.on('message', (m: { id: number; jobs: BodyJob[] }) => {
  parentPort?.postMessage({ id: m.id, result: checkBodies(m.jobs, trustedCas) });
});
