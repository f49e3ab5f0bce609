/**
 * Worker thread of the log checkpointer (checkpointer.ts): its own connection to messagelog.db.
 * 'checkpoint': a PASSIVE checkpoint (copies the WAL's frames into the database and fsyncs, ~45 ms
 * for ~1,100 frames on the reference VM, off the node's event loop; never blocks the node's
 * writer). 'restart': a RESTART checkpoint, asked while the node holds its writes: it copies what
 * was written meanwhile, and the node's next commit starts the WAL from its beginning again.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface CheckpointAnswer {
  readonly op: 'checkpoint' | 'restart';
  readonly ok: boolean;
  /** RESTART could not wait for a reader (busy): the WAL is reset at a later round. */
  readonly busy?: boolean;
  /** Frames copied into the database (SQLite's wal_checkpoint result). */
  readonly checkpointed?: number;
  readonly error?: string;
}

const { path } = workerData as { path: string };
// a RESTART waits at most this long for a reader of the log (a CLI command) to finish
const db = new Database(path, { fileMustExist: true, timeout: 200 });

parentPort?.on('message', (m: 'checkpoint' | 'restart' | 'close') => {
  if (m === 'close') {
    db.close();
    parentPort?.close();
    return;
  }
  let answer: CheckpointAnswer;
  try {
    const [row] = db.pragma(m === 'restart' ? 'wal_checkpoint(RESTART)' : 'wal_checkpoint(PASSIVE)') as { busy: number; checkpointed: number }[];
    answer = { op: m, ok: true, busy: row?.busy === 1, checkpointed: row?.checkpointed ?? 0 };
  } catch (err) {
    answer = { op: m, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort?.postMessage(answer);
});
