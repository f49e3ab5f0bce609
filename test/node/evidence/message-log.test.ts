import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DuplicateRecord, hashRecord, openMessageLog, type LogRecord, type MessageLog } from '../../../node/evidence/message-log.js';

const require = createRequire(import.meta.url);

const T0 = Date.parse('2026-03-02T15:00:00.000Z');
const GENESIS = '0'.repeat(64);

function record(i: number, over: Partial<LogRecord> = {}): LogRecord {
  return {
    side: i % 2 === 0 ? 'client' : 'server', direction: i % 2 === 0 ? 'request' : 'response', messageId: `m-${i}`,
    client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', userId: 'PE10117410',
    convenio: 'CONV-1', finalidad: 'FOCALIZACION', at: new Date(T0 + i * 1000), message: Buffer.from(`<m>${i} ñ</m>`, 'utf8'),
    signature: `<ds:Signature>${i}</ds:Signature>`, signerCertSha256: 'a'.repeat(64), ...over,
  };
}

describe('message log', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'miis-msglog-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function withLog<T>(name: string, fn: (log: MessageLog, path: string) => Promise<T> | T, opts?: { maxBatch?: number }): Promise<T> {
    const path = join(dir, name);
    const log = openMessageLog(path, opts);
    try {
      return await fn(log, path);
    } finally {
      await log.close();
    }
  }

  async function seeded(name: string, n: number): Promise<string> {
    return withLog(name, async (log, path) => {
      for (let i = 0; i < n; i += 1) await log.append(record(i));
      return path;
    });
  }

  it('stores records with all fields and chains their hashes from the genesis value', async () => {
    await withLog('chain.db', async (log) => {
      await log.append(record(0));
      await log.append(record(1, { userId: undefined, convenio: undefined, finalidad: undefined, fault: 'SOAP-ENV:Client' }));
      await log.append(record(2));
      const rows = log.list({ limit: 10 }).reverse();
      assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3]);
      assert.equal(rows[0]?.prevHash, GENESIS);
      assert.equal(rows[1]?.prevHash, rows[0]?.hash);
      assert.equal(rows[2]?.prevHash, rows[1]?.hash);
      assert.equal(rows[0]?.hash, hashRecord(GENESIS, record(0)));
      const second = rows[1];
      assert.ok(second !== undefined);
      assert.equal(second.userId, undefined);
      assert.equal(second.fault, 'SOAP-ENV:Client');
      assert.equal(second.at.toISOString(), record(1).at.toISOString());
      assert.ok(second.message.equals(record(1).message));
      assert.deepEqual(log.verifyChain(), { ok: true, count: 3 });
      assert.deepEqual(log.list({ messageId: 'm-1' }).map((r) => r.seq), [2]);
      assert.deepEqual(log.list({ limit: 1 }).map((r) => r.seq), [3]);
      assert.deepEqual(log.list({ messageId: 'nope' }), []);
    });
  });

  it('every hashed field matters', () => {
    const base = hashRecord(GENESIS, record(0));
    const variants: Partial<LogRecord>[] = [
      { side: 'server' }, { direction: 'response' }, { messageId: 'x' }, { client: 'x' }, { service: 'x' }, { userId: 'x' },
      { convenio: 'x' }, { finalidad: 'x' }, { at: new Date(T0 + 1) }, { fault: 'x' }, { signerCertSha256: 'b'.repeat(64) },
      { message: Buffer.from('<m>0 n</m>') }, { signature: 'x' },
    ];
    for (const v of variants) assert.notEqual(hashRecord(GENESIS, record(0, v)), base, JSON.stringify(Object.keys(v)));
    assert.notEqual(hashRecord('1'.repeat(64), record(0)), base);
  });

  it('continues the chain after reopening', async () => {
    const path = await seeded('reopen.db', 3);
    await withLog('reopen.db', async (log) => {
      await log.append(record(3));
      const [last, prev] = log.list({ limit: 2 });
      assert.equal(last?.prevHash, prev?.hash);
      assert.deepEqual(log.verifyChain(), { ok: true, count: 4 });
    });
    assert.ok(path.endsWith('reopen.db'));
  });

  it('detects a flipped byte in a stored message (changed through another connection)', async () => {
    const path = await seeded('flip.db', 4);
    const db = new Database(path);
    const row = db.prepare('SELECT message FROM messages WHERE seq = 3').get() as { message: Buffer };
    const tampered = Buffer.from(row.message);
    tampered[1] = (tampered[1] as number) ^ 0x01;
    db.prepare('UPDATE messages SET message = ? WHERE seq = 3').run(tampered);
    db.close();
    await withLog('flip.db', (log) => {
      const v = log.verifyChain();
      assert.equal(v.ok, false);
      if (!v.ok) {
        assert.equal(v.seq, 3);
        assert.match(v.reason, /modificado/);
      }
    });
  });

  it('detects a changed metadata field and a rewritten signature', async () => {
    const path = await seeded('meta.db', 3);
    const db = new Database(path);
    db.prepare("UPDATE messages SET finalidad = 'OTRA' WHERE seq = 2").run();
    db.close();
    await withLog('meta.db', (log) => assert.deepEqual(log.verifyChain(), { ok: false, seq: 2, reason: 'el contenido del registro fue modificado' }));
    const path2 = await seeded('sig.db', 3);
    const db2 = new Database(path2);
    db2.prepare("UPDATE messages SET signature = signature || ' ' WHERE seq = 1").run();
    db2.close();
    await withLog('sig.db', (log) => {
      const v = log.verifyChain();
      assert.ok(!v.ok && v.seq === 1);
    });
  });

  it('detects a deleted row', async () => {
    const path = await seeded('delete.db', 5);
    const db = new Database(path);
    db.prepare('DELETE FROM messages WHERE seq = 3').run();
    db.close();
    await withLog('delete.db', (log) => {
      const v = log.verifyChain();
      assert.equal(v.ok, false);
      if (!v.ok) {
        assert.equal(v.seq, 4);
        assert.match(v.reason, /eliminado o reordenado/);
      }
    });
  });

  it('detects reordered rows', async () => {
    const path = await seeded('reorder.db', 4);
    const db = new Database(path);
    db.transaction(() => {
      db.prepare('UPDATE messages SET seq = 100 WHERE seq = 2').run();
      db.prepare('UPDATE messages SET seq = 2 WHERE seq = 3').run();
      db.prepare('UPDATE messages SET seq = 3 WHERE seq = 100').run();
    })();
    db.close();
    await withLog('reorder.db', (log) => {
      const v = log.verifyChain();
      assert.equal(v.ok, false);
      if (!v.ok) assert.equal(v.seq, 2);
    });
  });

  it('a recomputed row still breaks the link to the next one', async () => {
    const path = await seeded('recompute.db', 3);
    const db = new Database(path);
    const changed = record(1, { messageId: 'falsificado' });
    const prev = (db.prepare('SELECT hash FROM messages WHERE seq = 1').get() as { hash: string }).hash;
    db.prepare('UPDATE messages SET message_id = ?, hash = ? WHERE seq = 2').run('falsificado', hashRecord(prev, changed));
    db.close();
    await withLog('recompute.db', (log) => assert.deepEqual(log.verifyChain(), {
      ok: false, seq: 3, reason: 'el enlace con el registro anterior no coincide (registro eliminado o reordenado)',
    }));
  });

  it('batches 1000 concurrent appends: all resolve, are on disk, in call order, and the chain verifies', async () => {
    await withLog('batch.db', async (log, path) => {
      const records = Array.from({ length: 1000 }, (_, i) => record(i));
      await Promise.all(records.map((r) => log.append(r)));
      const reader = new Database(path, { readonly: true });
      try {
        const ids = (reader.prepare('SELECT message_id FROM messages ORDER BY seq').all() as { message_id: string }[]).map((r) => r.message_id);
        assert.deepEqual(ids, records.map((r) => r.messageId));
      } finally {
        reader.close();
      }
      assert.deepEqual(log.verifyChain(), { ok: true, count: 1000 });
    }, { maxBatch: 128 });
  });

  it('a failing batch rejects its appends, writes none of them and leaves the chain intact', async () => {
    await withLog('failing.db', async (log) => {
      await log.append(record(0));
      const bad = record(2, { messageId: null as unknown as string });
      const results = await Promise.allSettled([log.append(record(1)), log.append(bad)]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
      assert.equal(log.list({ limit: 10 }).length, 1);
      await log.append(record(3));
      assert.deepEqual(log.verifyChain(), { ok: true, count: 2 });
    });
  });

  it('a failing batch that carried a new signing certificate: later records with that certificate still open', async () => {
    const cert = Buffer.alloc(300, 9).toString('base64');
    const signed = (i: number): LogRecord => record(i, { signature: `<ds:Signature><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>` });
    await withLog('failing-cert.db', async (log) => {
      await log.append(record(0));
      // the batch stores the certificate first, then fails on its record: the transaction undoes both
      const results = await Promise.allSettled([log.append(signed(1)), log.append(record(2, { messageId: null as unknown as string }))]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
      await log.append(signed(3));
      assert.equal(log.list({ limit: 1 })[0]?.signature, signed(3).signature);
      assert.deepEqual(log.verifyChain(), { ok: true, count: 2 });
    });
  });

  it('after every record was purged (archived), a reopened log chains new records from the kept anchor', async () => {
    const path = await seeded('purged-all.db', 3);
    const log = openMessageLog(path);
    try {
      assert.equal(log.purgeThrough(3), 3);
      await log.close();
    } catch (err) {
      await log.close();
      throw err;
    }
    await withLog('purged-all.db', async (again) => {
      await again.append(record(3));
      assert.equal(again.list({ limit: 1 })[0]?.seq, 4);
      assert.deepEqual(again.verifyChain(), { ok: true, count: 1 });
    });
  });

  it('refuses appends after close', async () => {
    const log = openMessageLog(join(dir, 'closed.db'));
    await log.close();
    await assert.rejects(log.append(record(0)));
  });

  it('records faults by id, ignoring a repeated id', async () => {
    await withLog('faults.db', (log) => {
      const at = new Date(T0);
      log.recordFault({ faultId: 'f-1', code: 'Client.InvalidXml', side: 'client', at, detail: 'detalle' });
      log.recordFault({ faultId: 'f-2', code: 'Server.ServerProxy.AccessDenied', side: 'server', at: new Date(T0 + 1000), messageId: 'm', client: 'c', service: 's', detail: 'otro' });
      log.recordFault({ faultId: 'f-1', code: 'Client.InvalidSoap', side: 'client', at, detail: 'repetido' });
      const faults = log.faults();
      assert.deepEqual(faults.map((f) => [f.faultId, f.code]), [['f-2', 'Server.ServerProxy.AccessDenied'], ['f-1', 'Client.InvalidXml']]);
      assert.deepEqual({ ...faults[0] }, { faultId: 'f-2', code: 'Server.ServerProxy.AccessDenied', side: 'server', at: new Date(T0 + 1000), messageId: 'm', client: 'c', service: 's', detail: 'otro' });
      assert.equal(faults[1]?.messageId, undefined);
      assert.equal(log.faults(1).length, 1);
      // faults never enter the message chain
      assert.deepEqual(log.verifyChain(), { ok: true, count: 0 });
    });
  });
});

describe('message log as the replay memory (append with replayWindowMs)', () => {
  const WINDOW = 600_000;
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'miis-msglog-replay-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A provider request: side server, direction request. */
  const request = (id: string, atMs: number, over: Partial<LogRecord> = {}): LogRecord => record(1, { side: 'server', direction: 'request', messageId: id, at: new Date(atMs), ...over });
  const checked = { replayWindowMs: WINDOW };
  const ids = (log: MessageLog): string[] => log.list({ limit: 100 }).reverse().map((r) => `${r.side}/${r.direction}/${r.client}/${r.messageId}`);

  it('a duplicate within the window is refused and not inserted; the rest of its batch commits and the chain verifies', async () => {
    const log = openMessageLog(join(dir, 'dup.db'));
    try {
      await log.append(request('r-1', T0), checked);
      const results = await Promise.allSettled([
        log.append(request('r-2', T0 + 1000), checked),
        log.append(request('r-1', T0 + WINDOW - 1), checked),
        log.append(record(3, { messageId: 'r-2', side: 'server', direction: 'response', at: new Date(T0 + 2000) })),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      const refused = (results[1] as PromiseRejectedResult).reason as unknown;
      assert.ok(refused instanceof DuplicateRecord, String(refused));
      assert.equal(refused.messageId, 'r-1');
      const rows = log.list({ limit: 10 }).reverse();
      assert.deepEqual(rows.map((r) => `${r.direction}/${r.messageId}`), ['request/r-1', 'request/r-2', 'response/r-2']);
      assert.deepEqual(rows.map((r) => r.seq), [1, 2, 3], 'no seq taken by the refused record');
      assert.equal(rows[2]?.prevHash, rows[1]?.hash, 'the chain goes on from the previous stored record');
      assert.deepEqual(log.verifyChain(), { ok: true, count: 3 });
    } finally {
      await log.close();
    }
  });

  it('the same id from another client, on the other side, as a response, or without the check is accepted', async () => {
    const log = openMessageLog(join(dir, 'others.db'));
    try {
      await log.append(request('r-1', T0), checked);
      await log.append(request('r-1', T0 + 1, { client: 'PE/GOB/20131312955/MIDIS' }), checked);
      await log.append(request('r-1', T0 + 2, { side: 'client' }), checked);
      await log.append(request('r-1', T0 + 3, { direction: 'response' }), checked);
      await log.append(request('r-1', T0 + 4));
      assert.equal(ids(log).length, 5);
      await assert.rejects(log.append(request('r-1', T0 + 5), checked), DuplicateRecord, 'still a duplicate of the first');
      assert.deepEqual(log.verifyChain(), { ok: true, count: 5 });
    } finally {
      await log.close();
    }
  });

  it('after the window the id is accepted again', async () => {
    const log = openMessageLog(join(dir, 'window.db'));
    try {
      await log.append(request('r-1', T0), checked);
      await assert.rejects(log.append(request('r-1', T0 + WINDOW - 1), checked), DuplicateRecord);
      await log.append(request('r-1', T0 + WINDOW), checked);
      assert.equal(log.list({ messageId: 'r-1' }).length, 2);
      assert.deepEqual(log.verifyChain(), { ok: true, count: 2 });
    } finally {
      await log.close();
    }
  });

  it('two concurrent appends with one id: the second is refused before any write, exactly one is stored', async () => {
    const log = openMessageLog(join(dir, 'concurrent.db'), { maxBatch: 2 });
    try {
      const results = await Promise.allSettled([
        log.append(request('a', T0), checked), log.append(request('b', T0), checked), log.append(request('a', T0 + 1), checked),
        log.append(request('c', T0 + 1), checked), log.append(request('c', T0 + 2), checked),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'rejected']);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof DuplicateRecord);
      assert.deepEqual(log.list({ limit: 10 }).reverse().map((r) => r.messageId), ['a', 'b', 'c']);
      assert.deepEqual(log.verifyChain(), { ok: true, count: 3 });
    } finally {
      await log.close();
    }
  });

  it('a failed batch does not remember its ids: the retry is accepted', async () => {
    const log = openMessageLog(join(dir, 'failed.db'));
    try {
      const bad = record(2, { messageId: null as unknown as string });
      const results = await Promise.allSettled([log.append(request('r-1', T0), checked), log.append(bad)]);
      assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
      assert.ok(!((results[0] as PromiseRejectedResult).reason instanceof DuplicateRecord), 'the write failed, not a duplicate');
      await log.append(request('r-1', T0 + 1), checked);
      assert.equal(log.list({ messageId: 'r-1' }).length, 1);
    } finally {
      await log.close();
    }
  });

  it('another connection holding the write lock makes a checked batch wait, not fail', async () => {
    const path = join(dir, 'locked.db');
    const log = openMessageLog(path);
    try {
      await log.append(request('l-0', T0), checked); // the file and its tables exist
      // a second connection in another thread takes the write lock, signals, holds it 300 ms
      const flag = new Int32Array(new SharedArrayBuffer(4));
      const holder = new Worker(`
        const { workerData } = require('node:worker_threads');
        const Database = require(workerData.module);
        const db = new Database(workerData.path);
        db.exec('BEGIN IMMEDIATE');
        Atomics.store(workerData.flag, 0, 1);
        Atomics.wait(workerData.flag, 0, 1, 300);
        db.exec('COMMIT');
        db.close();`, { eval: true, workerData: { path, flag, module: require.resolve('better-sqlite3') } });
      const exited = new Promise((r) => holder.once('exit', r));
      while (Atomics.load(flag, 0) === 0) await new Promise((r) => setTimeout(r, 5));
      // the replay look-up reads before the insert writes: with a deferred transaction the upgrade failed at once (SQLITE_BUSY)
      await log.append(request('l-1', T0 + 1000), checked);
      await exited;
      assert.deepEqual(ids(log), ['server/request/PE/GOB/20511268401/JUNTOS/l-0', 'server/request/PE/GOB/20511268401/JUNTOS/l-1']);
    } finally {
      await log.close();
    }
  });

  it('is durable: refused after reopening the log', async () => {
    const path = join(dir, 'durable.db');
    const first = openMessageLog(path);
    await first.append(request('r-1', T0), checked);
    await first.close();
    const log = openMessageLog(path);
    try {
      await assert.rejects(log.append(request('r-1', T0 + 60_000), checked), DuplicateRecord);
      await log.append(request('r-2', T0 + 60_000), checked);
      assert.deepEqual(log.verifyChain(), { ok: true, count: 2 });
    } finally {
      await log.close();
    }
  });
});
