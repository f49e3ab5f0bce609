/**
 * WAL checkpoints of messagelog.db off the event loop.
 *
 * SQLite copies the WAL back into the database (a checkpoint) inside the commit that crosses
 * `wal_autocheckpoint` pages: on the reference VM ~1,100 frames of 16 KB took ~45 ms of wall time
 * (two fsyncs; 4–14 ms of CPU), every ~400 exchanges under load, with the node's event loop
 * blocked and every exchange in flight waiting (docs/performance-log.md, «WAL checkpoints»). Here the
 * node's connection stops checkpointing by itself (`wal_autocheckpoint = 0`) and a worker thread
 * with its own connection, once the WAL holds 1,000 frames (SQLite's own threshold; looked at once
 * a second), runs a round of two steps: a PASSIVE checkpoint copies the bulk while the node keeps
 * committing; then the node holds its commits (appends queue, the event loop runs on) while the
 * worker's RESTART checkpoint copies the few frames written meanwhile, so the node's next commit
 * starts the WAL over.
 * (PASSIVE alone never catches up under a steady load: the WAL grew to 254 MB in 8 s at
 * 400 exchanges/s.) Durability is unchanged: commits as before, the checkpoint fsyncs in the
 * worker. The worker starts at the first write and stops after a quiet period, so an idle node
 * holds no second thread. If the worker cannot start, fails or does not answer, the node's
 * connection checkpoints by itself again (SQLite's default) and the reason is reported once.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { CheckpointAnswer } from './checkpoint-worker.js';

export interface LogCheckpointer {
  status(): { readonly checkpoints: number; readonly restarts: number; readonly framesCopied: number; /** Longest time the node's commits were held (ms). */ readonly longestHoldMs: number; readonly workerRunning: boolean; readonly fallback: string | undefined };
  close(): Promise<void>;
}

/** SQLite's own default, restored when the worker is not available. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/** Longest the node holds its commits for the worker's RESTART before it gives up on the worker. */
const HOLD_LIMIT_MS = 2000;

export function startLogCheckpointer(opts: {
  /** The node's log: its (writer) connection, and holding its commits during a RESTART. */
  readonly log: { readonly db: Database.Database; holdWrites(): void; releaseWrites(): void };
  readonly path: string;
  readonly info: (line: string) => void;
  /** How often the WAL is looked at (default 1 s). */
  readonly intervalMs?: number;
  /** The worker stops after this long without a write (default 60 s). */
  readonly idleStopMs?: number;
  /**
   * WAL frames from which a round runs (default 1,000: SQLite's own `wal_autocheckpoint`), read from
   * the wal-index header (`mxFrame`, offset 16 of the -shm file, native byte order:
   * sqlite.org/walformat.html); when that cannot be read, a round runs whenever the WAL changed.
   */
  readonly checkpointFrames?: number;
  /** Tests: another worker script. */
  readonly workerUrl?: URL;
}): LogCheckpointer {
  const intervalMs = opts.intervalMs ?? 1000;
  const idleStopMs = opts.idleStopMs ?? 60_000;
  const checkpointFrames = opts.checkpointFrames ?? SQLITE_AUTOCHECKPOINT_PAGES;
  const shmPath = `${opts.path}-shm`;
  const walPath = `${opts.path}-wal`;
  const { db } = opts.log;
  db.pragma('wal_autocheckpoint = 0');
  let worker: Worker | undefined;
  let busy = false;
  let fallback: string | undefined;
  let checkpoints = 0;
  let restarts = 0;
  let holdTimer: NodeJS.Timeout | undefined;
  let heldSince = 0;
  let longestHoldMs = 0;
  const release = (): void => {
    if (holdTimer === undefined) return;
    longestHoldMs = Math.max(longestHoldMs, performance.now() - heldSince);
    clearTimeout(holdTimer);
    holdTimer = undefined;
    opts.log.releaseWrites();
  };
  let framesCopied = 0;
  let seen = '';
  let quietTicks = 0;

  const walState = (): string => {
    try {
      const s = statSync(walPath);
      return `${s.mtimeMs}:${s.size}`;
    } catch {
      return '';
    }
  };
  /** Frames in the WAL now (mxFrame of the wal-index header), or undefined when it cannot be read. */
  const walFrames = (): number | undefined => {
    let fd: number | undefined;
    try {
      fd = openSync(shmPath, 'r');
      const header = Buffer.alloc(20);
      if (readSync(fd, header, 0, 20, 0) < 20) return undefined;
      return endianness() === 'LE' ? header.readUInt32LE(16) : header.readUInt32BE(16);
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  };
  const stopWorker = (): Promise<void> => {
    const w = worker;
    worker = undefined;
    busy = false;
    if (w === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      w.once('exit', () => resolve());
      w.ref(); // keep the process alive until the worker closed its connection
      w.postMessage('close');
    });
  };
  const giveUp = (reason: string): void => {
    if (fallback !== undefined) return;
    fallback = reason;
    clearInterval(timer);
    release();
    const w = worker;
    worker = undefined;
    busy = false;
    void w?.terminate();
    try {
      db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // the log is closing: nothing left to checkpoint from here
    }
    opts.info(`registro de mensajes: los puntos de control del WAL vuelven al hilo principal (${reason})`);
  };
  const startWorker = (): Worker => {
    const w = new Worker(opts.workerUrl ?? new URL('./checkpoint-worker.js', import.meta.url), {
      workerData: { path: opts.path },
      // it only runs SQLite: the smallest heaps V8 accepts
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
    });
    w.on('message', (a: CheckpointAnswer) => {
      if (worker !== w) return; // stopped (quiet, closing): an answer still on its way
      if (!a.ok) return giveUp(a.error ?? 'error desconocido');
      framesCopied += a.checkpointed ?? 0;
      if (a.op === 'checkpoint') {
        checkpoints += 1;
        // step 2: hold the node's commits while the worker copies the rest and resets the WAL
        opts.log.holdWrites();
        heldSince = performance.now();
        holdTimer = setTimeout(() => giveUp(`el hilo no terminó el punto de control en ${HOLD_LIMIT_MS} ms`), HOLD_LIMIT_MS);
        w.postMessage('restart');
        return;
      }
      release();
      if (a.busy !== true) restarts += 1;
      busy = false;
    });
    w.on('error', (err) => giveUp(err.message));
    w.on('exit', (code) => {
      if (worker === w) giveUp(`el hilo terminó con código ${code}`);
    });
    w.unref();
    return w;
  };
  const tick = (): void => {
    if (busy || fallback !== undefined) return;
    const state = walState();
    if (state === seen) {
      quietTicks += 1;
      if (worker !== undefined && quietTicks * intervalMs >= idleStopMs) void stopWorker();
      return;
    }
    seen = state;
    quietTicks = 0;
    const frames = walFrames();
    if (frames !== undefined && frames < checkpointFrames) return; // short yet: SQLite's own threshold
    worker ??= startWorker();
    busy = true;
    worker.postMessage('checkpoint');
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  seen = walState();

  return {
    status: () => ({ checkpoints, restarts, framesCopied, longestHoldMs, workerRunning: worker !== undefined, fallback }),
    async close() {
      clearInterval(timer);
      release();
      await stopWorker();
    },
  };
}
