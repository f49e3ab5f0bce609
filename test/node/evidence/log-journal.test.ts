/**
 * The message log's journal (node/evidence/log-journal.ts): appends resolve once their frames are
 * written, SQLite follows right behind, a process killed with SIGKILL leaves frames that the next
 * open inserts, a frame cut short is dropped, a damaged one or one that does not continue the
 * database stops the open with Config.MessageLogJournal, and the frame bytes are fixed (format 1).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MiisError } from '../../../core/errors.js';
import { encodeFrame, RESET_BYTES, type PreparedRow } from '../../../node/evidence/log-journal.js';
import { DuplicateRecord, openMessageLog, type LogRecord, type MessageLog } from '../../../node/evidence/message-log.js';

const T0 = Date.parse('2026-03-02T15:00:00.000Z');

function record(i: number, over: Partial<LogRecord> = {}): LogRecord {
  return {
    side: 'server', direction: i % 2 === 0 ? 'request' : 'response', messageId: `m-${Math.floor(i / 2)}`,
    client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', userId: 'PE10117410',
    convenio: 'CONV-1', finalidad: 'FOCALIZACION', at: new Date(T0 + i * 1000), message: Buffer.from(`<m>${i} ñ</m>`, 'utf8'),
    signature: `<ds:Signature>${i}</ds:Signature>`, signerCertSha256: 'a'.repeat(64), ...over,
  };
}

/** Rows of messagelog.db as another process would see them now. */
function storedSeqs(path: string): number[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT seq FROM messages ORDER BY seq').pluck().all() as number[]);
  } finally {
    db.close();
  }
}

const MODULE = pathToFileURL(join(import.meta.dirname, '../../../node/evidence/message-log.js')).href;

/**
 * In a child process: open the log with its journal, hold SQLite writes (as during a WAL reset),
 * append `n` records, wait for every append, then SIGKILL itself.
 */
function appendAndKill(dbPath: string, journalPath: string, n: number, start = 0): void {
  const code = `
    const { openMessageLog } = await import(${JSON.stringify(MODULE)});
    const log = openMessageLog(${JSON.stringify(dbPath)}, { journalPath: ${JSON.stringify(journalPath)} });
    log.holdWrites();
    const T0 = ${T0};
    const appends = [];
    for (let i = ${start}; i < ${start + n}; i += 1) {
      appends.push(log.append({ side: 'server', direction: i % 2 === 0 ? 'request' : 'response', messageId: 'm-' + Math.floor(i / 2),
        client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', at: new Date(T0 + i * 1000),
        message: Buffer.from('<m>' + i + '</m>'), signature: '<ds:Signature>' + i + '</ds:Signature>', signerCertSha256: 'a'.repeat(64) }));
    }
    await Promise.all(appends);
    process.stdout.write('appended ' + log.unindexed() + '\\n');
    process.kill(process.pid, 'SIGKILL');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  assert.equal(r.stdout, `appended ${n}\n`, r.stderr);
}

describe('message log journal', () => {
  let dir: string;
  let n = 0;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'miis-journal-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const paths = (): { db: string; journal: string } => {
    n += 1;
    return { db: join(dir, `log-${n}.db`), journal: join(dir, `log-${n}.journal`) };
  };
  const open = (p: { db: string; journal: string }, extra: Record<string, unknown> = {}): MessageLog => openMessageLog(p.db, { journalPath: p.journal, ...extra });

  it('an append resolves once its frame is written; SQLite has the row right after, and readers in the process see it at once', async () => {
    const p = paths();
    const log = open(p);
    try {
      await log.append(record(0));
      assert.ok(statSync(p.journal).size > 0, 'the frame is in the journal');
      assert.deepEqual(storedSeqs(p.db), [], 'SQLite is filled after the append resolved');
      assert.equal(log.unindexed(), 1);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(storedSeqs(p.db), [1]);
      assert.equal(log.unindexed(), 0);
      await log.append(record(1));
      assert.deepEqual(log.list({ limit: 5 }).map((r) => r.seq), [2, 1], 'list() indexes what is pending first');
      assert.deepEqual(log.verifyChain(), { ok: true, count: 2 });
    } finally {
      await log.close();
    }
    assert.equal(statSync(p.journal).size, 0, 'a clean close leaves the journal empty');
  });

  it('appends go on while SQLite writes are held (WAL reset); releasing them fills SQLite', async () => {
    const p = paths();
    const log = open(p);
    try {
      log.holdWrites();
      for (let i = 0; i < 6; i += 1) await log.append(record(i));
      assert.deepEqual(storedSeqs(p.db), []);
      assert.equal(log.unindexed(), 6);
      log.releaseWrites();
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(storedSeqs(p.db), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(log.verifyChain(), { ok: true, count: 6 });
    } finally {
      await log.close();
    }
  });

  it('the replay check sees requests still in the journal and requests already in SQLite', async () => {
    const p = paths();
    const log = open(p);
    try {
      log.holdWrites();
      await log.append(record(0), { replayWindowMs: 60_000 });
      await assert.rejects(log.append(record(0, { at: new Date(T0 + 10) }), { replayWindowMs: 60_000 }), DuplicateRecord, 'journaled, not yet in SQLite');
      log.releaseWrites();
      await new Promise((r) => setImmediate(r));
      assert.equal(log.unindexed(), 0);
      await assert.rejects(log.append(record(0, { at: new Date(T0 + 20) }), { replayWindowMs: 60_000 }), DuplicateRecord, 'in SQLite');
      await log.append(record(2), { replayWindowMs: 60_000 });
      assert.deepEqual(log.verifyChain(), { ok: true, count: 2 });
    } finally {
      await log.close();
    }
  });

  it('a process killed with SIGKILL after its appends resolved: the next open inserts every journaled record, chain intact', async () => {
    const p = paths();
    appendAndKill(p.db, p.journal, 40);
    assert.deepEqual(storedSeqs(p.db), [], 'the kill came before SQLite had them');
    const log = open(p);
    try {
      assert.deepEqual(log.recovered, { records: 40, tornBytes: 0 });
      assert.deepEqual(log.verifyChain(), { ok: true, count: 40 });
      const rows = log.list({ limit: 100 }).reverse();
      assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 40 }, (_, i) => i + 1));
      assert.equal(rows[7]?.message.toString(), '<m>7</m>');
      assert.equal(rows[7]?.signature, '<ds:Signature>7</ds:Signature>');
      assert.equal(statSync(p.journal).size, 0, 'emptied once SQLite has them');
      await log.append(record(40));
    } finally {
      await log.close();
    }
    // a second crash on top of the first: the chain goes on from the recovered records
    appendAndKill(p.db, p.journal, 10, 41);
    const again = open(p);
    try {
      assert.deepEqual(again.recovered, { records: 10, tornBytes: 0 });
      assert.deepEqual(again.verifyChain(), { ok: true, count: 51 });
    } finally {
      await again.close();
    }
  });

  it('a frame cut short by the crash is dropped (it was never answered); the whole frames before it are kept', async () => {
    const p = paths();
    appendAndKill(p.db, p.journal, 4);
    const whole = readFileSync(p.journal);
    appendFileSync(p.journal, whole.subarray(0, 30)); // the start of a fifth frame
    const log = open(p);
    try {
      assert.deepEqual(log.recovered, { records: 4, tornBytes: 30 });
      assert.deepEqual(log.verifyChain(), { ok: true, count: 4 });
    } finally {
      await log.close();
    }
  });

  it('a damaged frame stops the open with Config.MessageLogJournal naming the file and the offset; nothing is inserted', async () => {
    const p = paths();
    appendAndKill(p.db, p.journal, 4);
    const bytes = readFileSync(p.journal);
    const flipped = Buffer.from(bytes);
    flipped[40] = flipped[40]! ^ 0x01; // inside the first frame's payload
    writeFileSync(p.journal, flipped);
    assert.throws(() => open(p), (err: unknown) => err instanceof MiisError && err.code === 'Config.MessageLogJournal'
      && err.message.includes(p.journal) && /suma de control alterada en el byte 0/.test(err.message));
    const badMagic = Buffer.from(bytes);
    badMagic[0] = 0x00;
    writeFileSync(p.journal, badMagic);
    assert.throws(() => open(p), /sin la marca del formato 1 en el byte 0/);
    assert.deepEqual(storedSeqs(p.db), []);
    writeFileSync(p.journal, bytes);
    const log = open(p);
    try {
      assert.deepEqual(log.verifyChain(), { ok: true, count: 4 }, 'the intact file recovers');
    } finally {
      await log.close();
    }
  });

  it('a journal that does not continue the database (restored without it) stops the open', async () => {
    const p = paths();
    appendAndKill(p.db, p.journal, 4);
    const journal = readFileSync(p.journal);
    const other = paths();
    const log = open(other);
    await log.append(record(100));
    await log.append(record(101));
    await log.close();
    writeFileSync(other.journal, journal); // frames 1..4 of another chain after this database's 2 records: seq 3 would link to another hash
    assert.throws(() => open(other), (err: unknown) => err instanceof MiisError && err.code === 'Config.MessageLogJournal' && /el registro 3 del diario no continúa el último de messagelog\.db \(2\)/.test(err.message));
  });

  it('SQLite failing to take the rows: appends still resolve from the journal, the rows go in when it answers again, and past the lag limit appends are refused', async () => {
    const p = paths();
    const lines: string[] = [];
    const log = open(p, { journalMaxLagBytes: 4_000, onIndexState: (line: string) => lines.push(line) });
    const other = new Database(p.db);
    try {
      other.exec("CREATE TRIGGER refuse BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disco lleno (prueba)'); END");
      await log.append(record(0));
      await log.append(record(1));
      await new Promise((r) => setImmediate(r));
      assert.equal(log.unindexed(), 2, 'still waiting for SQLite');
      assert.equal(lines.length, 1, 'said once, not at every retry');
      assert.match(lines[0]!, /messagelog\.db no acepta los registros del diario \(disco lleno \(prueba\)\); el nodo sigue respondiendo/);
      const big = record(2, { message: Buffer.alloc(5_000, 0x61) });
      await log.append(big);
      await assert.rejects(log.append(record(3)), /sin pasar a messagelog\.db \(disco lleno \(prueba\)\)/);
      other.exec('DROP TRIGGER refuse');
      await new Promise((r) => setTimeout(r, 700)); // the retry
      assert.equal(log.unindexed(), 0);
      assert.deepEqual(storedSeqs(p.db), [1, 2, 3]);
      assert.equal(lines.length, 2);
      assert.match(lines[1]!, /vuelve a aceptar los registros del diario/);
      await log.append(record(3));
      assert.deepEqual(log.verifyChain(), { ok: true, count: 4 });
    } finally {
      other.close();
      await log.close();
    }
  });

  it('the journal is emptied once SQLite has every frame and it has grown past RESET_BYTES', async () => {
    const p = paths();
    const log = open(p);
    try {
      const size = 256 * 1024;
      for (let i = 0; i * size < RESET_BYTES + size; i += 1) {
        await log.append(record(i, { message: Buffer.alloc(size, 0x62) }));
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(statSync(p.journal).size < RESET_BYTES, `journal ${statSync(p.journal).size} bytes`);
      assert.equal(log.verifyChain().ok, true);
    } finally {
      await log.close();
    }
  });

  it('frame format 1 is fixed: the bytes of a known row', () => {
    const row: PreparedRow = {
      params: [7, 'server', 'request', 'm-1', 'PE/GOB/1/A', 'PE/GOB/2/B/s/v1', null, 'C', null, '2026-03-02T15:00:00.000Z', null,
        'a'.repeat(64), Buffer.from('<m/>'), '<s/>', '0'.repeat(64), '1'.repeat(64), '2'.repeat(64), '3'.repeat(64), null, 1, null],
      certB64: undefined, subjectMacs: [Buffer.from([0xab, 0xcd])],
    };
    const frame = Buffer.concat(encodeFrame(row));
    const json = '[7,"server","request","m-1","PE/GOB/1/A","PE/GOB/2/B/s/v1",null,"C",null,"2026-03-02T15:00:00.000Z",null,'
      + `"${'a'.repeat(64)}","${'0'.repeat(64)}","${'1'.repeat(64)}","${'2'.repeat(64)}","${'3'.repeat(64)}",null,1,null,4,1,null,["abcd"]]`;
    assert.equal(frame.subarray(0, 2).toString('hex'), '4a01');
    assert.equal(frame.readUInt32BE(2), 4 + json.length + 4 + 4);
    assert.equal(frame.readUInt32BE(10), json.length);
    assert.equal(frame.toString('utf8', 14, 14 + json.length), json);
    assert.equal(frame.toString('utf8', 14 + json.length), '<m/><s/>');
    assert.equal(frame.readUInt32BE(6).toString(16), '10d12630');
  });
});
