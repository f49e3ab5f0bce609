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
import { resolveDatabase, type ResolvedDatabase } from '../../../node/store/database.js';
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
