/** Worker thread of verifyLiveLogParallel (log-verify.ts): opens the log read-only and checks ranges of records. */
import { parentPort, workerData } from 'node:worker_threads';
import { createLogCipher } from './log-crypto.js';
import { checkRange, type RangeJob } from './log-verify.js';
import { openLogReader } from './message-log.js';
import type { VerifyWorkerData } from './verify-pool.js';

const data = workerData as VerifyWorkerData;
const reader = openLogReader(data.dbPath, data.keyRing === undefined ? undefined : createLogCipher(data.keyRing));
parentPort?.on('message', (m: { id: number; job: RangeJob }) => {
  try {
    parentPort?.postMessage({ id: m.id, result: checkRange(reader, m.job, data.trustedCas) });
  } catch (err) {
    parentPort?.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
});
