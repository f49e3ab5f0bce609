/**
 * The node store on PostgreSQL (schema `miis_node`): the same tables and migrations as node.db
 * (node/store/migrations.ts, `pg` texts), behind the asynchronous NodeStore interface. Every write
 * to settings, clients, services or access rights bumps `data_version` (triggers, migration 4),
 * which running instances poll to refresh their cached snapshot. The replay memory is one table
 * shared by every instance: accepting a message id is a single INSERT … ON CONFLICT that succeeds
 * only for the first sighting (or once the earlier one expired).
 */
import { applyPgMigrations } from '../../runtime/pg-migrations.js';
import { inPgTransaction, openPgPool, pgConnectError, type PgPool } from '../../runtime/pg.js';
import { PG_NODE_SCHEMA, type ResolvedDatabase } from './database.js';
import { buildSnapshot, settingsFromRows, type AccessRight, type LocalService, type NodeSettings, type NodeStore, type SharedReplayMemory } from './local-store.js';
import { NODE_DB_MIGRATIONS } from './migrations.js';

type Pg = Extract<ResolvedDatabase, { engine: 'postgresql' }>;

/** A pool whose connections work in `schema` (created when missing). */
export async function openPgSchemaPool(database: Pg, schema: string, max?: number): Promise<PgPool> {
  const pool = openPgPool(database.url, { password: database.password, schema, ...(max === undefined ? {} : { max }) });
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((err: { code?: string }) => {
      // two instances starting together: the other one created it first
      if (err.code !== '23505' && err.code !== '42P06') throw err;
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw pgConnectError(database.url, err);
  }
  return pool;
}

const serviceOf = (r: { service_key: string; backend_url: string; timeout_ms: number; wsdl: string | null; adapter_json: string | null }): LocalService => ({
  serviceKey: r.service_key, backendUrl: r.backend_url, timeoutMs: r.timeout_ms, wsdl: r.wsdl ?? undefined, adapter: r.adapter_json ?? undefined,
});

export async function openPgNodeStore(opts: { dir: string; database: Pg }): Promise<NodeStore> {
  const pool = await openPgSchemaPool(opts.database, PG_NODE_SCHEMA);
  try {
    await applyPgMigrations(pool, NODE_DB_MIGRATIONS, 'node', `la base del nodo (${opts.database.display})`);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  type Q = Pick<PgPool, 'query'>;
  const readSettings = async (q: Q = pool): Promise<NodeSettings | undefined> =>
    settingsFromRows((await q.query<{ key: string; value: string }>('SELECT key, value FROM settings')).rows, opts.dir);
  const settings = async (q: Q = pool): Promise<NodeSettings> => {
    const s = await readSettings(q);
    if (s === undefined) throw new Error('node not initialised');
    return s;
  };
  const clients = async (q: Q = pool): Promise<string[]> => (await q.query<{ id: string }>('SELECT id FROM clients ORDER BY id')).rows.map((r) => r.id);
  const services = async (q: Q = pool): Promise<LocalService[]> => (await q.query('SELECT * FROM services ORDER BY service_key')).rows.map(serviceOf);
  const accessRights = async (q: Q = pool): Promise<AccessRight[]> =>
    (await q.query<{ service_key: string; client: string; granted_at: string }>('SELECT * FROM acl ORDER BY service_key, client')).rows
      .map((r) => ({ serviceKey: r.service_key, client: r.client, grantedAt: r.granted_at }));
  const changed = (r: { rowCount: number | null }): boolean => (r.rowCount ?? 0) > 0;

  return {
    engine: 'postgresql',
    initialized: async () => (await readSettings()) !== undefined,
    async saveSettings(s) {
      await inPgTransaction(pool, async (c) => {
        for (const [k, v] of Object.entries(s)) {
          if (v !== undefined) await c.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [k, String(v)]);
        }
      });
    },
    settings: () => settings(),
    async addClient(id) {
      await pool.query('INSERT INTO clients (id) VALUES ($1) ON CONFLICT DO NOTHING', [id]);
    },
    removeClient: async (id) => changed(await pool.query('DELETE FROM clients WHERE id = $1', [id])),
    clients: () => clients(),
    async upsertService(s) {
      await pool.query(`INSERT INTO services (service_key, backend_url, timeout_ms, wsdl, adapter_json) VALUES ($1,$2,$3,$4,$5)
        ON CONFLICT (service_key) DO UPDATE SET backend_url = EXCLUDED.backend_url, timeout_ms = EXCLUDED.timeout_ms, wsdl = EXCLUDED.wsdl,
        adapter_json = EXCLUDED.adapter_json`, [s.serviceKey, s.backendUrl, s.timeoutMs, s.wsdl ?? null, s.adapter ?? null]);
    },
    services: () => services(),
    grant: async (serviceKey, client, at) =>
      changed(await pool.query('INSERT INTO acl (service_key, client, granted_at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING', [serviceKey, client, at.toISOString()])),
    revoke: async (serviceKey, client) => changed(await pool.query('DELETE FROM acl WHERE service_key = $1 AND client = $2', [serviceKey, client])),
    accessRights: () => accessRights(),
    async snapshot() {
      // one consistent view of the four tables
      const c = await pool.connect();
      try {
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        try {
          return buildSnapshot(await settings(c), await clients(c), await services(c), await accessRights(c));
        } finally {
          await c.query('COMMIT').catch(() => undefined);
        }
      } finally {
        c.release();
      }
    },
    dataVersion: async () => Number((await pool.query<{ v: number }>('SELECT v FROM data_version WHERE id = 1')).rows[0]?.v ?? 0),
    sharedConf: {
      async read() {
        const row = (await pool.query<{ serial: string; envelope: Buffer }>('SELECT serial, envelope FROM shared_conf WHERE id = 1')).rows[0];
        return row === undefined ? undefined : { serial: Number(row.serial), envelope: row.envelope };
      },
      async offer(serial, envelope, at) {
        // only ever forward: a lower or equal serial leaves the row as it is
        await pool.query(`INSERT INTO shared_conf (id, serial, envelope, stored_at) VALUES (1, $1, $2, $3)
          ON CONFLICT (id) DO UPDATE SET serial = EXCLUDED.serial, envelope = EXCLUDED.envelope, stored_at = EXCLUDED.stored_at
          WHERE shared_conf.serial < EXCLUDED.serial`, [serial, envelope, at.toISOString()]);
      },
    },
    replayMemory(scope, windowMs): SharedReplayMemory {
      let sincePrune = 0;
      const memory: SharedReplayMemory = {
        async accept(client, messageId, nowMs) {
          // inserted, or an expired sighting renewed: accepted; a live row: a replay (atomic across instances)
          const r = await pool.query(`INSERT INTO seen_messages (scope, client, message_id, expires_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (scope, client, message_id) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE seen_messages.expires_at <= $5`,
          [scope, client, messageId, nowMs + windowMs, nowMs]);
          if (!changed(r)) return false;
          sincePrune += 1;
          if (sincePrune >= 1000) void memory.prune(nowMs).catch(() => undefined);
          return true;
        },
        async prune(nowMs) {
          sincePrune = 0;
          return (await pool.query('DELETE FROM seen_messages WHERE scope = $1 AND expires_at <= $2', [scope, nowMs])).rowCount ?? 0;
        },
        size: async () => Number((await pool.query<{ n: number }>('SELECT COUNT(*)::int8 AS n FROM seen_messages WHERE scope = $1', [scope])).rows[0]?.n ?? 0),
      };
      return memory;
    },
    close: () => pool.end(),
  };
}
