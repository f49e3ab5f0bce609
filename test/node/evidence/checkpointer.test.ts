import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { startLogCheckpointer, type LogCheckpointer } from '../../../node/evidence/checkpointer.js';
import { openMessageLog, type LogRecord, type MessageLog } from '../../../node/evidence/message-log.js';
import { waitFor } from '../../e2e/fixture.js';

function record(i: number): LogRecord {
  return {
    side: 'server', direction: 'request', messageId: `ck-${i}`, client: 'PE/GOB/20511268401/JUNTOS',
    service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', at: new Date(Date.UTC(2026, 11, 2, 12, 0, i % 60)),
    message: Buffer.alloc(3000, 65 + (i % 26)), signature: `<ds:Signature>${i}</ds:Signature>`, signerCertSha256: 'b'.repeat(64),
  };
}

const autocheckpoint = (db: Database.Database): number => db.pragma('wal_autocheckpoint', { simple: true }) as number;

describe('log checkpointer: WAL checkpoints in a worker thread', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'miis-ckpt-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A new log `name` with a checkpointer (every 10 ms, from 1 frame, unless `opts` says otherwise), both closed after `fn`. */
  async function withCheckpointer(name: string, opts: Partial<Parameters<typeof startLogCheckpointer>[0]>,
    fn: (log: MessageLog, ck: LogCheckpointer, path: string) => Promise<void>): Promise<LogCheckpointer> {
    const path = join(dir, name);
    const log = openMessageLog(path);
    const ck = startLogCheckpointer({ log, path, info: () => undefined, intervalMs: 10, checkpointFrames: 1, ...opts });
    try {
      await fn(log, ck, path);
    } finally {
      await ck.close();
      await log.close();
    }
    return ck;
  }

  it('copies the WAL into the database from the worker; the node connection no longer checkpoints; the chain holds', async () => {
    const lines: string[] = [];
    const ck = await withCheckpointer('a.db', { info: (l) => lines.push(l), idleStopMs: 10_000 }, async (log, ck, path) => {
      assert.equal(autocheckpoint(log.db), 0, 'the writer leaves checkpoints to the worker');
      assert.equal(ck.status().workerRunning, false, 'no thread before the first write');
      const sizeBefore = statSync(path).size;
      for (let i = 0; i < 200; i += 1) await log.append(record(i));
      await waitFor(async () => (ck.status().framesCopied > 0 ? true : undefined), 'a checkpoint by the worker', 20_000);
      assert.ok(ck.status().checkpoints >= 1);
      // SQLite never checkpointed on the writer (autocheckpoint 0): the file grew only through the worker
      await waitFor(async () => (statSync(path).size > sizeBefore ? true : undefined), 'database file grown by the checkpoint', 20_000);
      assert.deepEqual(log.verifyChain(), { ok: true, count: 200 });
      assert.deepEqual(lines, []);
    });
    assert.equal(ck.status().workerRunning, false);
  });

  it('a long WAL is started over: commits held during the RESTART, appends made meanwhile still commit in order', async () => {
    await withCheckpointer('r.db', {}, async (log, ck) => {
      for (let round = 0; round < 20 && ck.status().restarts < 2; round += 1) {
        // appends keep arriving while the worker runs: some wait for a hold to end
        await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(record(round * 10 + i))));
        await new Promise((r) => setTimeout(r, 30));
      }
      await waitFor(async () => (ck.status().restarts >= 2 ? true : undefined), 'two WAL restarts', 20_000);
      assert.ok(ck.status().longestHoldMs > 0);
      await log.append(record(999));
      const v = log.verifyChain();
      assert.equal(v.ok, true);
      // the WAL was started over: it holds fewer frames than were ever written to it
      const [row] = log.db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
      assert.ok((row?.log ?? 0) < ck.status().framesCopied, `${row?.log} < ${ck.status().framesCopied}`);
    });
  });

  it('waits until the WAL holds the threshold of frames (read from the wal-index header), then runs a round', async () => {
    await withCheckpointer('t.db', { checkpointFrames: 200 }, async (log, ck) => {
      await log.append(record(1));
      await new Promise((r) => setTimeout(r, 300)); // ~30 looks at a WAL of a few frames
      assert.equal(ck.status().checkpoints, 0, 'below the threshold: no round');
      assert.equal(ck.status().workerRunning, false);
      for (let i = 2; i < 400; i += 1) await log.append(record(i)); // one commit each: several frames per record
      await waitFor(async () => (ck.status().restarts >= 1 ? true : undefined), 'a round past the threshold', 20_000);
      assert.ok(ck.status().framesCopied >= 200, String(ck.status().framesCopied));
    });
  });

  it('stops its thread after a quiet period and starts it again on the next write', async () => {
    await withCheckpointer('b.db', { idleStopMs: 50 }, async (log, ck) => {
      await log.append(record(1));
      await waitFor(async () => (ck.status().checkpoints >= 1 ? true : undefined), 'first checkpoint', 20_000);
      await waitFor(async () => (ck.status().workerRunning ? undefined : true), 'worker stopped when quiet', 20_000);
      await log.append(record(2));
      await waitFor(async () => (ck.status().checkpoints >= 2 ? true : undefined), 'second checkpoint after the restart', 20_000);
      assert.equal(ck.status().fallback, undefined);
    });
  });

  it('a worker that fails gives checkpoints back to the node connection (SQLite default) and says why', async () => {
    const lines: string[] = [];
    // a worker script that does not exist: the thread fails to start
    await withCheckpointer('c.db', { info: (l) => lines.push(l), workerUrl: new URL('./no-such-worker.js', import.meta.url) }, async (log, ck) => {
      await log.append(record(1));
      await waitFor(async () => (ck.status().fallback !== undefined ? true : undefined), 'fallback', 20_000);
      assert.equal(autocheckpoint(log.db), 1000);
      assert.equal(lines.length, 1);
      assert.match(lines[0] as string, /^registro de mensajes: los puntos de control del WAL vuelven al hilo principal \(/);
      await log.append(record(2));
      assert.deepEqual(log.verifyChain(), { ok: true, count: 2 });
    });
  });
});
