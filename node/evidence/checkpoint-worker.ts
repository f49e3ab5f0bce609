/**
 * Worker thread of the log checkpointer (checkpointer.ts): its own connection to messagelog.db,
 * one PASSIVE checkpoint per request. The copy of WAL frames into the database and the two fsyncs
 * a checkpoint makes (~45 ms for ~1,100 frames on the reference VM) happen here, off the node's
 * event loop; a PASSIVE checkpoint never blocks the node's writer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointAnswer {
  readonly ok: boolean;
  /** Frames in the WAL and frames copied into the database (SQLite's wal_checkpoint result). */
  readonly log?: number;
  readonly checkpointed?: number;
  readonly error?: string;
}

const { path } = workerData as { path: string };
const db = new Database(path, { fileMustExist: true });

parentPort?.on('message', (m: 'checkpoint' | 'close') => {
  if (m === 'close') {
    db.close();
    parentPort?.close();
    return;
  }
  let answer: CheckpointAnswer;
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    answer = { ok: true, log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0 };
  } catch (err) {
    answer = { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(answer);
});
