/**
 * One store test suite, run on both engines: SQLite (node.db / messagelog.db in a temp folder) and
 * PostgreSQL (a throw-away server from test/helpers/pg-server.ts; skipped with a notice when
 * PostgreSQL is not installed, a failure under CI). Covers the node store (settings with node.json
 * overrides, clients, services, access rights, snapshot, change counter), the replay memory and
 * the message log (group commit, hash chain, faults, time-stamp batches, tamper detection).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { createLogCipher, ensureLogKeyFile } from '../../../node/evidence/log-crypto.js';
import type { LogRecord } from '../../../node/evidence/message-log.js';
import { openSharedMessageLog, type SharedMessageLog } from '../../../node/evidence/pg-message-log.js';
import { resolveDatabase, type ResolvedDatabase } from '../../../node/store/database.js';
import { nodePaths } from '../../../node/store/paths.js';
import { createSnapshotCache, openNodeStore, type NodeStore } from '../../../node/store/node-store.js';
import type { NodeSettings } from '../../../node/store/local-store.js';
import { startPgServer, type PgServer } from '../../helpers/pg-server.js';
import { needTool } from '../../helpers/tools.js';

export const SETTINGS: NodeSettings = {
  instance: 'PE', memberClass: 'GOB', memberCode: '20131370998', memberName: 'MIDIS', nodeName: 'juntos-1',
  isHost: '127.0.0.1', isPort: 8080, proxyHost: '127.0.0.1', proxyPort: 5500, centralUrl: 'http://127.0.0.1:4400/', keyAlgorithm: 'ecdsa-p256',
};

interface Engine {
  readonly name: string;
  readonly skip: string | false;
  /** A fresh, empty database for one test (a folder; for PostgreSQL also a new database). */
  fresh(instanceId?: string): Promise<{ dir: string; database: ResolvedDatabase }>;
  setup(): Promise<void>;
  teardown(): void;
}

let counter = 0;
const temp = (): string => mkdtempSync(join(tmpdir(), 'miis-store-'));

function sqliteEngine(): Engine {
  const dirs: string[] = [];
  return {
    name: 'SQLite', skip: false,
    async fresh() {
      const dir = temp();
      dirs.push(dir);
      return { dir, database: { engine: 'sqlite' } };
    },
    async setup() {},
    teardown() {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

function postgresEngine(): Engine {
  let server: PgServer | undefined;
  const dirs: string[] = [];
  const databases = new Map<string, string>();
  return {
    name: 'PostgreSQL', skip: needTool('postgresql'),
    async fresh(instanceId = 'a') {
      const dir = temp();
      dirs.push(dir);
      const name = `store_${process.pid}_${(counter += 1)}`;
      await server!.createDatabase(name);
      databases.set(dir, name);
      // the password comes from a file, as operators are told to do (trust auth ignores it)
      writeFileSync(join(dir, 'db-password'), 'secreta\n');
      return { dir, database: resolveDatabase(dir, { engine: 'postgresql', url: server!.url(name), passwordFile: 'db-password', instanceId }) };
    },
    async setup() {
      server = await startPgServer();
    },
    teardown() {
      server?.stop();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}

export const ENGINES: readonly Engine[] = [sqliteEngine(), postgresEngine()];

async function withStore<T>(dir: string, database: ResolvedDatabase, fn: (s: NodeStore) => Promise<T>): Promise<T> {
  const store = await openNodeStore(dir, database);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

for (const engine of ENGINES) {
  describe(`node store on ${engine.name}`, { skip: engine.skip }, () => {
    before(() => engine.setup());
    after(() => engine.teardown());

    it('keeps settings (node.json overrides addresses), clients, services and access rights', async () => {
      const { dir, database } = await engine.fresh();
      await withStore(dir, database, async (s) => {
        assert.equal(await s.initialized(), false);
        await s.saveSettings(SETTINGS);
        assert.equal(await s.initialized(), true);
        await s.addClient('PE/GOB/20131370998/JUNTOS');
        await s.addClient('PE/GOB/20131370998/JUNTOS');
        await s.addClient('PE/GOB/20131370998/CUNAMAS');
        assert.deepEqual(await s.clients(), ['PE/GOB/20131370998/CUNAMAS', 'PE/GOB/20131370998/JUNTOS']);
        assert.equal(await s.removeClient('PE/GOB/20131370998/CUNAMAS'), true);
        assert.equal(await s.removeClient('PE/GOB/20131370998/CUNAMAS'), false);
        await s.upsertService({ serviceKey: 'PE/GOB/20131370998/JUNTOS/padron', backendUrl: 'http://127.0.0.1:9/a', timeoutMs: 1000 });
        await s.upsertService({ serviceKey: 'PE/GOB/20131370998/JUNTOS/padron', backendUrl: 'http://127.0.0.1:9/b', timeoutMs: 2000, wsdl: 'p.wsdl', adapter: '{"type":"proxy"}' });
        assert.deepEqual(await s.services(), [{ serviceKey: 'PE/GOB/20131370998/JUNTOS/padron', backendUrl: 'http://127.0.0.1:9/b', timeoutMs: 2000, wsdl: 'p.wsdl', adapter: '{"type":"proxy"}' }]);
        const at = new Date('2026-03-02T15:00:00.000Z');
        assert.equal(await s.grant('PE/GOB/20131370998/JUNTOS/padron', 'PE/GOB/20511268401/PAIS', at), true);
        assert.equal(await s.grant('PE/GOB/20131370998/JUNTOS/padron', 'PE/GOB/20511268401/PAIS', at), false);
        assert.deepEqual(await s.accessRights(), [{ serviceKey: 'PE/GOB/20131370998/JUNTOS/padron', client: 'PE/GOB/20511268401/PAIS', grantedAt: at.toISOString() }]);
        const snap = await s.snapshot();
        assert.equal(snap.settings.nodeName, 'juntos-1');
        assert.deepEqual([...snap.acl.get('PE/GOB/20131370998/JUNTOS/padron') ?? []], ['PE/GOB/20511268401/PAIS']);
        assert.equal(snap.services.get('PE/GOB/20131370998/JUNTOS/padron')?.timeoutMs, 2000);
        assert.equal(await s.revoke('PE/GOB/20131370998/JUNTOS/padron', 'PE/GOB/20511268401/PAIS'), true);
        assert.equal(await s.revoke('PE/GOB/20131370998/JUNTOS/padron', 'PE/GOB/20511268401/PAIS'), false);
      });
      writeFileSync(join(dir, 'node.json'), JSON.stringify({ proxyPort: 5600 }));
      // reopened: the data stayed, node.json overrides the port
      await withStore(dir, database, async (s) => {
        assert.equal((await s.settings()).proxyPort, 5600);
        assert.equal((await s.settings()).memberCode, '20131370998');
        assert.deepEqual(await s.clients(), ['PE/GOB/20131370998/JUNTOS']);
      });
    });

    it('a second connection sees writes through the change counter and the snapshot cache', async () => {
      const { dir, database } = await engine.fresh();
      await withStore(dir, database, async (writer) => {
        await writer.saveSettings(SETTINGS);
        await withStore(dir, database, async (reader) => {
          const cache = await createSnapshotCache(reader);
          assert.equal(await cache.refresh(), false, 'nothing changed yet');
          assert.deepEqual(cache.current().clients, []);
          await writer.addClient('PE/GOB/20131370998/JUNTOS');
          assert.equal(await cache.refresh(), true);
          assert.deepEqual(cache.current().clients, ['PE/GOB/20131370998/JUNTOS']);
          assert.equal(await cache.refresh(), false);
          // the node's own replay memory writes do not move the counter it polls
          const v = await reader.dataVersion();
          await reader.replayMemory('server', 60_000).accept('PE/GOB/1/X', 'id-1', 1000);
          assert.equal(await reader.dataVersion(), v);
        });
      });
    });

    it('shared global configuration: PostgreSQL keeps the highest serial offered by any connection; SQLite has none', async () => {
      const { dir, database } = await engine.fresh();
      await withStore(dir, database, async (a) => {
        if (database.engine === 'sqlite') {
          assert.equal(a.sharedConf, undefined, 'a single SQLite node has no instances to agree with');
          return;
        }
        await withStore(dir, database, async (b) => {
          assert.equal(await a.sharedConf?.read(), undefined);
          await a.sharedConf?.offer(5, Buffer.from('cinco'), new Date());
          await b.sharedConf?.offer(4, Buffer.from('cuatro'), new Date());
          const seen = await b.sharedConf?.read();
          assert.deepEqual([seen?.serial, seen?.envelope.toString()], [5, 'cinco']);
          await b.sharedConf?.offer(6, Buffer.from('seis'), new Date());
          assert.equal((await a.sharedConf?.read())?.serial, 6);
        });
      });
    });

    it('replay memory: a duplicate is refused within the window, on any connection, and forgotten after it', async () => {
      const { dir, database } = await engine.fresh();
      await withStore(dir, database, async (a) => {
        await withStore(dir, database, async (b) => {
          const ra = a.replayMemory('server', 60_000);
          const rb = b.replayMemory('server', 60_000);
          const clientSide = a.replayMemory('client', 60_000);
          assert.equal(await ra.accept('PE/GOB/1/X', 'id-1', 1000), true);
          assert.equal(await rb.accept('PE/GOB/1/X', 'id-1', 2000), false, 'seen by the other connection');
          assert.equal(await ra.accept('PE/GOB/1/X', 'id-1', 3000), false);
          assert.equal(await rb.accept('PE/GOB/1/Y', 'id-1', 3000), true, 'another client');
          assert.equal(await clientSide.accept('PE/GOB/1/X', 'id-1', 3000), true, 'another scope');
          // concurrent sightings of one new id: exactly one accepted
          const both = await Promise.all([ra.accept('PE/GOB/1/X', 'id-2', 4000), rb.accept('PE/GOB/1/X', 'id-2', 4000)]);
          assert.deepEqual(both.filter(Boolean).length, 1);
          assert.equal(await rb.accept('PE/GOB/1/X', 'id-1', 61_000), true, 'window over');
          assert.equal(await ra.size(), 3);
          assert.equal(await ra.prune(70_000), 2);
          assert.equal(await rb.size(), 1);
          assert.equal(await clientSide.size(), 1);
        });
      });
    });
  });
}

const T0 = Date.parse('2026-03-02T15:00:00.000Z');
const CERT = 'MIIBszCCAVmgAwIBAgIUQUJD';

function record(i: number, over: Partial<LogRecord> = {}): LogRecord {
  return {
    side: i % 2 === 0 ? 'client' : 'server', direction: i % 2 === 0 ? 'request' : 'response', messageId: `m-${i}`,
    client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', userId: 'PE10117410',
    at: new Date(T0 + i * 1000), message: Buffer.from(`<m>${i} ñ</m>`, 'utf8'),
    signature: `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignatureValue>${i}</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${CERT}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`,
    signerCertSha256: 'a'.repeat(64), ...over,
  };
}

async function withLog<T>(dir: string, database: ResolvedDatabase, fn: (log: SharedMessageLog) => Promise<T>, opts: Parameters<typeof openSharedMessageLog>[2] = {}): Promise<T> {
  const log = await openSharedMessageLog(nodePaths(dir).messageLog, database, opts);
  try {
    return await fn(log);
  } finally {
    await log.close();
  }
}

/** Change stored rows behind the log's back (a tamperer with database access). */
async function tamper(dir: string, database: ResolvedDatabase, set: string, seq: number): Promise<void> {
  if (database.engine === 'sqlite') {
    const db = new Database(nodePaths(dir).messageLog);
    db.prepare(`UPDATE messages SET ${set} WHERE seq = ?`).run(seq);
    db.close();
    return;
  }
  const c = new pg.Client({ connectionString: database.url });
  await c.connect();
  await c.query(`UPDATE miis_log.messages SET ${set} WHERE instance_id = $1 AND seq = $2`, [database.instanceId, seq]);
  await c.end();
}

for (const engine of ENGINES) {
  describe(`message log on ${engine.name}`, { skip: engine.skip }, () => {
    before(() => engine.setup());
    after(() => engine.teardown());

    it('group commit keeps one hash chain across batches and reopenings; a modified record is found', async () => {
      const { dir, database } = await engine.fresh();
      await withLog(dir, database, async (log) => {
        await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(record(i))));
        assert.equal(log.queueDepth(), 0);
        assert.equal(await log.lastSeq(), 40);
      }, { maxBatch: 16 });
      await withLog(dir, database, async (log) => {
        await Promise.all([40, 41, 42].map((i) => log.append(record(i))));
        const verdicts = await log.verifyChains();
        assert.deepEqual(verdicts, [{ instanceId: log.instanceId, ok: true, count: 43 }]);
        const [one] = await log.list({ messageId: 'm-7' });
        assert.equal(one?.seq, 8);
        assert.equal(one?.message.toString('utf8'), '<m>7 ñ</m>');
        assert.equal(one?.signature, record(7).signature, 'the certificate is put back');
        assert.deepEqual((await log.list({ limit: 2 })).map((r) => r.messageId), ['m-42', 'm-41']);
        const raw = await log.rawRecords(5, 2);
        assert.deepEqual(raw.map((r) => r.seq), [5, 6]);
        assert.equal(raw[1]!.prevHash, raw[0]!.hash);
      });
      await tamper(dir, database, "client = 'PE/GOB/1/OTRO'", 12);
      await withLog(dir, database, async (log) => {
        const [v] = await log.verifyChains();
        assert.equal(v?.ok, false);
        assert.equal(v?.ok === false ? v.seq : 0, 12);
      }, { writer: false });
    });

    it('sealed bodies (log key), metadata-only services, time-stamp batches', async () => {
      const { dir, database } = await engine.fresh();
      const cipher = createLogCipher(ensureLogKeyFile(join(dir, 'log-keys.json'), new Date(T0)));
      const opts = { cipher, metadataOnly: (service: string) => service.endsWith('/sensible/v1') };
      await withLog(dir, database, async (log) => {
        await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(record(i, i === 3 ? { service: 'PE/GOB/1/X/sensible/v1' } : {}))));
        const stored = await log.rawRecords(1, 10);
        assert.ok(stored.every((r, i) => i === 3 ? !r.bodyKept : r.keyId === cipher.activeKeyId && !r.message.toString('utf8').includes('<m>')));
        const listed = await log.list({ messageId: 'm-5' });
        assert.equal(listed[0]?.message.toString('utf8'), '<m>5 ñ</m>');
        assert.equal(listed[0]?.signature, record(5).signature);
        assert.equal((await log.list({ messageId: 'm-3' }))[0]?.bodyKept, false);
        const pending = await log.unstamped(100);
        assert.deepEqual(pending.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        await log.addTimestamp({ firstSeq: 1, lastSeq: 6, root: 'f'.repeat(64), token: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]), genTime: new Date(T0) });
        assert.deepEqual((await log.unstamped(100)).map((r) => r.seq), [7, 8, 9, 10]);
        const [ts] = await log.timestamps();
        assert.deepEqual([ts?.firstSeq, ts?.lastSeq, ts?.token.length], [1, 6, 5]);
        assert.deepEqual((await log.verifyChains()).map((v) => v.ok), [true]);
      }, opts);
      // a sealed body altered at rest: found when the key is at hand
      await tamper(dir, database, database.engine === 'sqlite' ? "message = X'00010203'" : "message = '\\x00010203'::bytea", 5);
      await withLog(dir, database, async (log) => {
        assert.deepEqual((await log.verifyChains()).map((v) => v.ok === false && v.seq), [5]);
      }, { cipher, writer: false });
      await withLog(dir, database, async (log) => {
        assert.deepEqual((await log.verifyChains()).map((v) => v.ok), [true], 'without the key only the digests are checked');
      }, { writer: false });
    });

    it('fault log with a budget per source and minute', async () => {
      const { dir, database } = await engine.fresh();
      await withLog(dir, database, async (log) => {
        for (let i = 0; i < 5; i += 1) {
          await log.recordFault({ faultId: `f-${i}`, code: 'Server.ServerProxy.AccessDenied', side: 'server', at: new Date(T0 + i), client: 'PE/GOB/1/X', detail: `d${i}` }, '10.0.0.9');
        }
        await log.recordFault({ faultId: 'f-other', code: 'Client.InvalidSoap', side: 'client', at: new Date(T0 + 10), detail: 'sin fuente' });
        const faults = await log.faults(10);
        assert.equal(faults.length, 4, '2 stored, 1 aggregate, 1 without source');
        assert.ok(faults.some((f) => f.detail.startsWith('3 más suprimidas (fuente 10.0.0.9')));
        assert.deepEqual(await log.faultBudget('10.0.0.9'), [{ source: '10.0.0.9', minute: '2026-03-02T15:00', stored: 2, suppressed: 3 }]);
      }, { faultsPerMinute: 2 });
    });

    if (engine.name === 'PostgreSQL') {
      it('instances sharing one database: a chain each, verified together; one writer per instance id', async () => {
        const { dir, database } = await engine.fresh('nodo-a');
        const b = { ...database, instanceId: 'nodo-b' } as ResolvedDatabase;
        await withLog(dir, database, async (logA) => {
          await withLog(dir, b, async (logB) => {
            await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? logA : logB).append(record(i))));
            assert.equal(await logA.lastSeq(), 10);
            assert.equal(await logB.lastSeq(), 10);
            assert.deepEqual(await logA.verifyChains(), [{ instanceId: 'nodo-a', ok: true, count: 10 }, { instanceId: 'nodo-b', ok: true, count: 10 }]);
            assert.deepEqual((await logB.list({ messageId: 'm-4' })).map((r) => r.seq), [3]);
            await assert.rejects(openSharedMessageLog('', b), /otra instancia del nodo con el identificador «nodo-b»/);
          });
        });
        await tamper(dir, b, 'prev_hash = hash', 4);
        await withLog(dir, database, async (log) => {
          assert.deepEqual((await log.verifyChains()).map((v) => [v.instanceId, v.ok]), [['nodo-a', true], ['nodo-b', false]]);
        }, { writer: false });
      });
    }
  });
}
