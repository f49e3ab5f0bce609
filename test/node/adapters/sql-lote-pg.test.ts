/**
 * Batch chunks (lotes) applied at most once by a writing sql adapter whose database is PostgreSQL
 * (the SQLite side: test/e2e/lote*.test.ts): the chunk key goes into APPLIED_TABLE in the
 * transaction of the writes, so a chunk sent again (after a crash, a resume, or twice at once from
 * two nodes of a cluster) is not applied twice, and a chunk that fails half-way leaves neither
 * writes nor key. Throwaway PostgreSQL server (test/helpers/pg-server.ts); under CI a missing
 * PostgreSQL fails the test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { MiisError } from '../../../core/errors.js';
import { parseSqlAdapterConfig } from '../../../node/adapters/settings.js';
import { APPLIED_TABLE, createSqlAdapter, type ChunkKey, type SqlAdapter } from '../../../node/adapters/sql.js';
import { compileQuery } from '../../../node/adapters/sql-query.js';
import { startPgServer, type PgServer } from '../../helpers/pg-server.js';
import { needTool } from '../../helpers/tools.js';

const CLIENT = 'PE/GOB/20511268401/JUNTOS';
const deps = { now: () => new Date('2026-06-01T12:00:00Z'), maxMessageBytes: 1 << 20, service: 'PE/GOB/20295613620/RUPN/registrarPadron' };
const dniOf = (i: number): string => String(10_000_000 + i);
const PEOPLE = 20;

/** A registry where each application of a record adds 1 to its counter (a repeat shows as 2). */
const SCHEMA = `CREATE TABLE personas (dni text PRIMARY KEY, aplicaciones integer NOT NULL DEFAULT 0, nota text, CHECK (nota IS NULL OR nota <> 'PROHIBIDA'));
  INSERT INTO personas (dni) SELECT (10000000 + g)::text FROM generate_series(1, ${PEOPLE}) AS g`;

const writer = (url: string): Promise<SqlAdapter> => createSqlAdapter(parseSqlAdapterConfig({
  database: { postgres: url }, operation: 'registrarPadron', namespace: 'urn:miis:test', id: 'dni', write: true, params: { nota: 'nota' },
  query: 'UPDATE personas SET aplicaciones = aplicaciones + 1, nota = :nota WHERE dni = :id', response: {}, attributes: [],
}, '/'), deps);

const records = (from: number, to: number, nota: (i: number) => string = () => 'ok') =>
  Array.from({ length: to - from + 1 }, (_, k) => ({ id: dniOf(from + k), fields: { nota: nota(from + k) } }));

describe('lotes sobre PostgreSQL: cada trozo se aplica una sola vez (adaptador sql)', { skip: needTool('postgresql') }, () => {
  let server: PgServer;
  let seq = 0;
  before(async () => {
    server = await startPgServer();
  });
  after(() => server?.stop());

  /** A fresh registry database (no APPLIED_TABLE yet) and a direct connection to inspect it. */
  async function freshRegistry(): Promise<{ url: string; db: pg.Client }> {
    seq += 1;
    const name = `padron_${seq}`;
    await server.createDatabase(name);
    const db = new pg.Client({ connectionString: server.url(name) });
    await db.connect();
    await db.query(SCHEMA);
    return { url: server.url(name), db };
  }

  const counts = async (db: pg.Client): Promise<Record<number, number>> => {
    const rows = (await db.query('SELECT aplicaciones, COUNT(*)::int AS n FROM personas GROUP BY aplicaciones')).rows as { aplicaciones: number; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.aplicaciones, r.n]));
  };
  const marks = async (db: pg.Client, key: ChunkKey): Promise<{ cambios: string; aplicado_en: string }[]> =>
    (await db.query(`SELECT cambios, aplicado_en FROM ${APPLIED_TABLE} WHERE lote = $1 AND cliente = $2 AND trozo = $3`, [key.batchId, key.client, key.chunk])).rows as { cambios: string; aplicado_en: string }[];
  const tableExists = async (db: pg.Client): Promise<boolean> => (await db.query('SELECT to_regclass($1) IS NOT NULL AS ok', [APPLIED_TABLE])).rows[0].ok as boolean;

  /** A fresh registry with one writing adapter on it; both closed after `use`. */
  async function withWriter(use: (r: { url: string; db: pg.Client; adapter: SqlAdapter }) => Promise<void>): Promise<void> {
    const { url, db } = await freshRegistry();
    const adapter = await writer(url);
    try {
      await use({ url, db, adapter });
    } finally {
      await adapter.engine.close();
      await db.end();
    }
  }

  it('el mismo trozo dos veces (mismo lote y número): se escribe una vez, la segunda informa que ya estaba aplicado', async () => {
    await withWriter(async ({ db, adapter }) => {
      assert.equal(await tableExists(db), false);
      const key: ChunkKey = { batchId: 'lote-pg-0001', client: CLIENT, chunk: 0 };
      // 5 records, one of them not in the registry (nothing changed for it)
      const chunk = [...records(1, 4), { id: '99999999', fields: { nota: 'ok' } }];
      const first = await adapter.bulk(chunk, CLIENT, key);
      assert.deepEqual(first, [true, true, true, true, false].map((changed) => ({ changed })));
      assert.equal(await tableExists(db), true, 'el adaptador crea la tabla de trozos aplicados');
      assert.deepEqual(await marks(db, key), [{ cambios: '1,1,1,1,0', aplicado_en: '2026-06-01T12:00:00.000Z' }]);
      // again through the adapter: the stored answers, nothing applied
      const again = await adapter.bulk(chunk, CLIENT, key);
      assert.deepEqual(again, first);
      // and through the engine, which says it was a replay
      const q = compileQuery('UPDATE personas SET aplicaciones = aplicaciones + 1, nota = :nota WHERE dni = :id', 'postgres', 1);
      const replay = await adapter.engine.writeChunkOnce(q, chunk.map((r) => ['ok', r.id]), key, '2026-06-02T00:00:00.000Z');
      assert.deepEqual(replay, { changes: [1, 1, 1, 1, 0], replayed: true });
      assert.deepEqual(await counts(db), { 1: 4, 0: PEOPLE - 4 });
      assert.equal(Number((await db.query(`SELECT COUNT(*) AS n FROM ${APPLIED_TABLE}`)).rows[0].n), 1);
      assert.deepEqual(await marks(db, key), [{ cambios: '1,1,1,1,0', aplicado_en: '2026-06-01T12:00:00.000Z' }]);
      // another chunk number, another batch, another client: each its own key, applied
      await adapter.bulk(records(5, 6), CLIENT, { ...key, chunk: 1 });
      await adapter.bulk(records(7, 7), CLIENT, { ...key, batchId: 'lote-pg-0002' });
      await adapter.bulk(records(8, 8), CLIENT, { ...key, client: 'PE/GOB/20131312955/OTRO' });
      assert.deepEqual(await counts(db), { 1: 8, 0: PEOPLE - 8 });
      assert.equal(Number((await db.query(`SELECT COUNT(*) AS n FROM ${APPLIED_TABLE}`)).rows[0].n), 4);
    });
  });

  it('dos aplicaciones simultáneas del mismo trozo (dos adaptadores, dos conexiones): se escribe una vez', async () => {
    const { url, db } = await freshRegistry();
    const a = await writer(url);
    const b = await writer(url);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      const q = compileQuery('UPDATE personas SET aplicaciones = aplicaciones + 1, nota = :nota WHERE dni = :id', 'postgres', 1);
      const chunk = records(1, 10).map((r) => ['ok', r.id]);
      // 1) both at once on a database without the table yet (each creates it if absent)
      const key: ChunkKey = { batchId: 'lote-pg-0003', client: CLIENT, chunk: 0 };
      const both = await Promise.all([a.engine.writeChunkOnce(q, chunk, key, 'a'), b.engine.writeChunkOnce(q, chunk, key, 'b')]);
      assert.deepEqual(both.map((r) => r.replayed).sort(), [false, true]);
      assert.deepEqual(both.map((r) => r.changes), [Array(10).fill(1), Array(10).fill(1)]);
      assert.deepEqual(await counts(db), { 1: 10, 0: PEOPLE - 10 });
      assert.equal((await marks(db, key)).length, 1);

      // 2) certainly overlapping: a third session holds a lock on a record of the chunk, so the first
      // apply stops after writing its key, and its twin stops on that key; then the lock goes
      const key2: ChunkKey = { ...key, chunk: 1 };
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM personas WHERE dni = $1 FOR UPDATE', [dniOf(5)]);
      const waiting = async (n: number): Promise<void> => {
        for (let tries = 0; tries < 1500; tries += 1) {
          const r = await db.query("SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
          if ((r.rows[0] as { n: number }).n >= n) return;
          await new Promise((res) => setTimeout(res, 20));
        }
        throw new Error(`no llegan ${n} sesiones a esperar un bloqueo`);
      };
      const first = a.engine.writeChunkOnce(q, chunk, key2, 'a');
      await waiting(1);
      const second = b.engine.writeChunkOnce(q, chunk, key2, 'b');
      await waiting(2);
      await holder.query('COMMIT');
      const [ra, rb] = await Promise.all([first, second]);
      assert.deepEqual(ra, { changes: Array(10).fill(1), replayed: false });
      assert.deepEqual(rb, { changes: Array(10).fill(1), replayed: true });
      assert.deepEqual(await counts(db), { 2: 10, 0: PEOPLE - 10 });
      assert.deepEqual((await marks(db, key2)).map((m) => m.aplicado_en), ['a']);
    } finally {
      await holder.end();
      await a.engine.close();
      await b.engine.close();
      await db.end();
    }
  });

  it('la tabla de trozos aplicados, creada a la vez por varias sesiones (primeros trozos de un primer lote, varios nodos): ninguna falla', async () => {
    const { url, db } = await freshRegistry();
    const q = compileQuery('UPDATE personas SET aplicaciones = aplicaciones + 1, nota = :nota WHERE dni = :id', 'postgres', 1);
    // without turns, four sessions creating the table at once lose ~1 round in 5 (23505, 42P07 or 42710)
    const ROUNDS = 30;
    const SESSIONS = 4;
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        await db.query(`DROP TABLE IF EXISTS ${APPLIED_TABLE}`);
        const adapters = await Promise.all(Array.from({ length: SESSIONS }, () => writer(url)));
        try {
          const outcomes = await Promise.allSettled(adapters.map((a, i) =>
            a.engine.writeChunkOnce(q, [['ok', dniOf(i + 1)]], { batchId: `lote-pg-ddl-${round}`, client: CLIENT, chunk: i }, 'x')));
          const failed = outcomes.flatMap((o) => (o.status === 'rejected' ? [`${(o.reason as { code?: string }).code}: ${(o.reason as Error).message}`] : []));
          assert.deepEqual(failed, [], `vuelta ${round}`);
        } finally {
          await Promise.all(adapters.map((a) => a.engine.close()));
        }
      }
      assert.deepEqual(await counts(db), { [ROUNDS]: SESSIONS, 0: PEOPLE - SESSIONS });
    } finally {
      await db.end();
    }
  });

  it('la tabla de trozos aplicados borrada con el nodo en marcha (un operador que la limpia): el siguiente trozo la crea de nuevo', async () => {
    await withWriter(async ({ db, adapter }) => {
      const key: ChunkKey = { batchId: 'lote-pg-0005', client: CLIENT, chunk: 0 };
      await adapter.bulk(records(1, 2), CLIENT, key);
      await db.query(`DROP TABLE ${APPLIED_TABLE}`);
      assert.deepEqual(await adapter.bulk(records(3, 4), CLIENT, { ...key, chunk: 1 }), Array(2).fill({ changed: true }));
      assert.equal(await tableExists(db), true);
      assert.deepEqual((await marks(db, { ...key, chunk: 1 })).map((m) => m.cambios), ['1,1']);
      assert.deepEqual(await counts(db), { 1: 4, 0: PEOPLE - 4 });
      // a query of the operator's that names a missing table still fails, after one new try
      await db.query('ALTER TABLE personas RENAME TO personas_aparte');
      await assert.rejects(adapter.bulk(records(5, 5), CLIENT, { ...key, chunk: 2 }), (err: unknown) => err instanceof MiisError && err.code === 'Server.ServerProxy.ServiceFailed'
        && (err.cause as { code?: string } | undefined)?.code === '42P01');
      await db.query('ALTER TABLE personas_aparte RENAME TO personas');
      assert.deepEqual(await marks(db, { ...key, chunk: 2 }), []);
    });
  });

  it('un trozo que falla a mitad (una fila viola una restricción) no deja escrituras ni marca; enviado de nuevo, se aplica', async () => {
    await withWriter(async ({ url, db, adapter }) => {
      const key: ChunkKey = { batchId: 'lote-pg-0004', client: CLIENT, chunk: 3 };
      // the third record of five breaks the CHECK: the first two were already written in the transaction
      const bad = records(1, 5, (i) => (i === 3 ? 'PROHIBIDA' : 'ok'));
      await assert.rejects(adapter.bulk(bad, CLIENT, key), (err: unknown) => err instanceof MiisError && err.code === 'Server.ServerProxy.ServiceFailed'
        && (err.cause as { code?: string } | undefined)?.code === '23514');
      assert.deepEqual(await counts(db), { 0: PEOPLE });
      assert.deepEqual(await marks(db, key), []);
      // the same key again, with the record corrected: applied (not taken as already done)
      const good = records(1, 5);
      assert.deepEqual(await adapter.bulk(good, CLIENT, key), Array(5).fill({ changed: true }));
      assert.deepEqual(await counts(db), { 1: 5, 0: PEOPLE - 5 });
      assert.deepEqual((await marks(db, key)).map((m) => m.cambios), ['1,1,1,1,1']);
      // a twin that waited on the failing apply's key applies the chunk itself
      const key2: ChunkKey = { ...key, chunk: 4 };
      const other = await writer(url);
      try {
        const results = await Promise.allSettled([adapter.bulk(records(6, 10, (i) => (i === 10 ? 'PROHIBIDA' : 'ok')), CLIENT, key2), other.bulk(records(6, 10), CLIENT, key2)]);
        assert.equal(results[1].status, 'fulfilled');
        if (results[0].status === 'fulfilled') {
          // the good twin ran first: the bad one was answered with its stored counts
          assert.deepEqual(results[0].value, Array(5).fill({ changed: true }));
        }
        assert.deepEqual(await counts(db), { 1: 10, 0: PEOPLE - 10 });
        assert.equal((await marks(db, key2)).length, 1);
      } finally {
        await other.engine.close();
      }
    });
  });
});
