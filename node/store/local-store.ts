/**
 * The node's own settings: identity, ports, central anchor, local clients (the subsystems whose
 * information systems use this node), local services (service → backend) and access rights.
 * SQLite file `<dir>/node.db`; the CLI writes it, the running node re-reads it when it changes.
 */
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { readNodeConfig } from './node-config.js';
import { applyMigrations } from '../../runtime/sqlite-migrations.js';
import { NODE_DB_MIGRATIONS } from './migrations.js';

export interface NodeSettings {
  readonly instance: string;
  readonly memberClass: string;
  readonly memberCode: string;
  readonly memberName: string;
  readonly nodeName: string;
  readonly isHost: string;
  readonly isPort: number;
  readonly proxyHost: string;
  readonly proxyPort: number;
  readonly centralUrl?: string | undefined;
  readonly keyAlgorithm: string;
  /** The IS-facing address published in served WSDL (soap:address); default http://<isHost>:<isPort>/. */
  readonly isPublicUrl?: string | undefined;
}

/** The address served WSDL documents name: the configured one, never anything from the request. */
export function isPublicUrlOf(s: Pick<NodeSettings, 'isHost' | 'isPort' | 'isPublicUrl'>): string {
  if (s.isPublicUrl !== undefined) return s.isPublicUrl;
  const host = s.isHost.includes(':') ? `[${s.isHost}]` : s.isHost;
  return `http://${host}:${s.isPort}/`;
}

/** A public IS URL as stored: http(s), no credentials, query or fragment, normalised by the URL parser, ends with '/'. */
export function checkPublicUrl(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '') return undefined;
  const href = u.href.endsWith('/') ? u.href : `${u.href}/`;
  return /^[A-Za-z0-9:/.\-_~%[\]]+$/.test(href) ? href : undefined;
}

export interface LocalService {
  /** INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE (no version). */
  readonly serviceKey: string;
  readonly backendUrl: string;
  readonly timeoutMs: number;
  /** A WSDL file in wsdl/ that describes the service. */
  readonly wsdl?: string | undefined;
  /** Adapter settings as JSON (node/adapters/settings.ts); absent = proxy to backendUrl. */
  readonly adapter?: string | undefined;
}

export interface AccessRight {
  readonly serviceKey: string;
  /** A subsystem or member id in slash form. */
  readonly client: string;
  readonly grantedAt: string;
}

export interface LocalSnapshot {
  readonly settings: NodeSettings;
  readonly clients: readonly string[];
  readonly services: ReadonlyMap<string, LocalService>;
  /** serviceKey → set of allowed client ids. */
  readonly acl: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Duplicate-message memory kept in node.db (scope 'server': peers' requests; 'client': the IS's). */
export interface ReplayMemory {
  /** False when (client, id) was already seen and its window has not expired; otherwise remembers it. */
  accept(client: string, messageId: string, nowMs: number): boolean;
  /**
   * The same answer for the exchange hot path, with the writes of one event-loop turn committed
   * in one transaction: false at once for an id already pending in this turn; otherwise a promise
   * of the answer, given by the turn's transaction (BEGIN IMMEDIATE: look up, then insert), so an
   * accepted request goes on only once its id is committed (rejects when the commit fails).
   */
  admit(client: string, messageId: string, nowMs: number): false | Promise<boolean>;
  /** Delete expired rows; returns how many. */
  prune(nowMs: number): number;
  readonly size: number;
}

export interface LocalStore {
  replayMemory(scope: 'client' | 'server', windowMs: number): ReplayMemory;
  readonly initialized: boolean;
  saveSettings(s: NodeSettings): void;
  settings(): NodeSettings;
  addClient(id: string): void;
  removeClient(id: string): boolean;
  clients(): string[];
  upsertService(s: LocalService): void;
  services(): LocalService[];
  grant(serviceKey: string, client: string, at: Date): boolean;
  revoke(serviceKey: string, client: string): boolean;
  accessRights(): AccessRight[];
  snapshot(): LocalSnapshot;
  /** Changes whenever another connection wrote the database. */
  dataVersion(): number;
  close(): void;
}

/** The engine-neutral, asynchronous store (node/store/node-store.ts): SQLite wraps LocalStore; PostgreSQL: pg-local-store.ts. */
export interface SharedReplayMemory {
  /** False when (client, id) was already seen and its window has not expired; otherwise remembers it. */
  accept(client: string, messageId: string, nowMs: number): boolean | Promise<boolean>;
  /** Delete expired rows; returns how many. */
  prune(nowMs: number): Promise<number>;
  size(): Promise<number>;
}

export interface NodeStore {
  readonly engine: 'sqlite' | 'postgresql';
  initialized(): Promise<boolean>;
  saveSettings(s: NodeSettings): Promise<void>;
  settings(): Promise<NodeSettings>;
  addClient(id: string): Promise<void>;
  removeClient(id: string): Promise<boolean>;
  clients(): Promise<string[]>;
  upsertService(s: LocalService): Promise<void>;
  services(): Promise<LocalService[]>;
  grant(serviceKey: string, client: string, at: Date): Promise<boolean>;
  revoke(serviceKey: string, client: string): Promise<boolean>;
  accessRights(): Promise<AccessRight[]>;
  snapshot(): Promise<LocalSnapshot>;
  /** Changes whenever anyone (another connection, another instance) wrote settings, clients, services or access rights. */
  dataVersion(): Promise<number>;
  replayMemory(scope: 'client' | 'server', windowMs: number): SharedReplayMemory;
  /**
   * Instances sharing one database (PostgreSQL only): the newest verified global configuration any
   * of them downloaded, so all agree on the serial in force (node/conf/global-conf-client.ts).
   */
  readonly sharedConf?: SharedConfStore;
  close(): Promise<void>;
}

/** The global configuration envelope shared by the instances of one node (PostgreSQL). */
export interface SharedConfStore {
  /** The stored envelope and its serial, if any instance stored one. */
  read(): Promise<{ serial: number; envelope: Buffer } | undefined>;
  /** Store `envelope` unless one with an equal or higher serial is already there. */
  offer(serial: number, envelope: Buffer, at: Date): Promise<void>;
}

/** node.json (node/store/node-config.ts) overrides the addresses and the central URL kept in node.db. */
function operational(c: ReturnType<typeof readNodeConfig>): Partial<NodeSettings> {
  const out: Record<string, unknown> = {};
  for (const k of ['isHost', 'isPort', 'proxyHost', 'proxyPort', 'centralUrl'] as const) if (c[k] !== undefined) out[k] = c[k];
  return out as Partial<NodeSettings>;
}

/** Settings as stored (key/value rows, any engine), with node.json of `dir` applied; undefined before init. */
export function settingsFromRows(rows: readonly { key: string; value: string }[], dir: string): NodeSettings | undefined {
  if (rows.length === 0) return undefined;
  const m = new Map(rows.map((r) => [r.key, r.value]));
  return {
    instance: m.get('instance') ?? '', memberClass: m.get('memberClass') ?? '', memberCode: m.get('memberCode') ?? '',
    memberName: m.get('memberName') ?? '', nodeName: m.get('nodeName') ?? '',
    isHost: m.get('isHost') ?? '127.0.0.1', isPort: Number(m.get('isPort') ?? 8080),
    proxyHost: m.get('proxyHost') ?? '127.0.0.1', proxyPort: Number(m.get('proxyPort') ?? 5500),
    centralUrl: m.get('centralUrl'), keyAlgorithm: m.get('keyAlgorithm') ?? 'ecdsa-p256',
    isPublicUrl: m.get('isPublicUrl'),
    ...operational(readNodeConfig(dir)),
  };
}

/** The snapshot the pipeline reads, from the store's lists (any engine). */
export function buildSnapshot(settings: NodeSettings, clients: string[], services: LocalService[], rights: AccessRight[]): LocalSnapshot {
  const acl = new Map<string, Set<string>>();
  for (const r of rights) {
    let set = acl.get(r.serviceKey);
    if (set === undefined) acl.set(r.serviceKey, (set = new Set()));
    set.add(r.client);
  }
  return { settings, clients, services: new Map(services.map((s) => [s.serviceKey, s])), acl };
}

export function openLocalStore(path: string): LocalStore {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // The same durability as the message log: a commit survives the process being killed (the WAL is
  // in the OS before run() returns), not an OS crash. FULL would fsync on every replay-memory insert,
  // about 1–5 ms with the event loop blocked, twice per exchange (docs/performance-log.md).
  db.pragma('synchronous = NORMAL');
  // SQLite's own default page cache (2 MB): better-sqlite3 builds with 16 MB per connection, which a
  // node filled under load and kept (docs/performance-log.md, «Memory»); the OS caches the file anyway
  db.pragma('cache_size = -2000');
  applyMigrations(db, NODE_DB_MIGRATIONS, 'node.db');
  const readSettings = (): NodeSettings | undefined =>
    settingsFromRows(db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[], dirname(path));
  const store: LocalStore = {
    get initialized() {
      return readSettings() !== undefined;
    },
    saveSettings(s) {
      const put = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
      db.transaction(() => {
        for (const [k, v] of Object.entries(s)) if (v !== undefined) put.run(k, String(v));
      })();
    },
    settings() {
      const s = readSettings();
      if (s === undefined) throw new Error('node not initialised');
      return s;
    },
    addClient(id) {
      db.prepare('INSERT OR IGNORE INTO clients (id) VALUES (?)').run(id);
    },
    removeClient(id) {
      return db.prepare('DELETE FROM clients WHERE id = ?').run(id).changes > 0;
    },
    clients() {
      return (db.prepare('SELECT id FROM clients ORDER BY id').all() as { id: string }[]).map((r) => r.id);
    },
    upsertService(s) {
      db.prepare(`INSERT INTO services (service_key, backend_url, timeout_ms, wsdl, adapter_json) VALUES (?,?,?,?,?)
        ON CONFLICT(service_key) DO UPDATE SET backend_url = excluded.backend_url, timeout_ms = excluded.timeout_ms, wsdl = excluded.wsdl,
        adapter_json = excluded.adapter_json`)
        .run(s.serviceKey, s.backendUrl, s.timeoutMs, s.wsdl ?? null, s.adapter ?? null);
    },
    services() {
      const rows = db.prepare('SELECT * FROM services ORDER BY service_key').all() as { service_key: string; backend_url: string; timeout_ms: number; wsdl: string | null; adapter_json: string | null }[];
      return rows.map((r) => ({ serviceKey: r.service_key, backendUrl: r.backend_url, timeoutMs: r.timeout_ms, wsdl: r.wsdl ?? undefined, adapter: r.adapter_json ?? undefined }));
    },
    grant(serviceKey, client, at) {
      return db.prepare('INSERT OR IGNORE INTO acl (service_key, client, granted_at) VALUES (?,?,?)').run(serviceKey, client, at.toISOString()).changes > 0;
    },
    revoke(serviceKey, client) {
      return db.prepare('DELETE FROM acl WHERE service_key = ? AND client = ?').run(serviceKey, client).changes > 0;
    },
    accessRights() {
      const rows = db.prepare('SELECT * FROM acl ORDER BY service_key, client').all() as { service_key: string; client: string; granted_at: string }[];
      return rows.map((r) => ({ serviceKey: r.service_key, client: r.client, grantedAt: r.granted_at }));
    },
    snapshot() {
      return buildSnapshot(store.settings(), store.clients(), store.services(), store.accessRights());
    },
    replayMemory(scope, windowMs) {
      const find = db.prepare('SELECT expires_at AS e FROM seen_messages WHERE scope = ? AND client = ? AND message_id = ?');
      const put = db.prepare('INSERT OR REPLACE INTO seen_messages (scope, client, message_id, expires_at) VALUES (?,?,?,?)');
      const prune = db.prepare('DELETE FROM seen_messages WHERE scope = ? AND expires_at <= ?');
      const count = db.prepare('SELECT COUNT(*) AS n FROM seen_messages WHERE scope = ?');
      let sincePrune = 0;
      // admit(): ids waiting for the turn's commit (client NUL id → expiry), and that turn's rows
      const pending = new Map<string, number>();
      let batch: { key: string; client: string; messageId: string; expires: number; nowMs: number; resolve: (ok: boolean) => void; reject: (err: unknown) => void }[] = [];
      // looked up under the write lock (BEGIN IMMEDIATE): another connection to node.db may have taken the id
      const putAll = db.transaction((rows: typeof batch): boolean[] => rows.map((r) => {
        const row = find.get(scope, r.client, r.messageId) as { e: number } | undefined;
        if (row !== undefined && row.e > r.nowMs) return false;
        put.run(scope, r.client, r.messageId, r.expires);
        return true;
      }));
      const flush = (): void => {
        const rows = batch;
        batch = [];
        let answers: boolean[];
        try {
          answers = putAll.immediate(rows);
        } catch (err) {
          for (const r of rows) pending.delete(r.key);
          for (const r of rows) r.reject(err);
          return;
        }
        for (const r of rows) pending.delete(r.key);
        rows.forEach((r, i) => r.resolve(answers[i] === true));
        sincePrune += rows.length;
        if (sincePrune >= 1000) {
          try {
            memory.prune((rows[rows.length - 1] as (typeof rows)[number]).nowMs);
          } catch {
            // expired rows stay until the next prune; they are never taken for live ones (expires_at is checked)
          }
        }
      };
      const memory: ReplayMemory = {
        admit(client, messageId, nowMs) {
          const key = `${client}\u0000${messageId}`;
          const waiting = pending.get(key);
          if (waiting !== undefined && waiting > nowMs) return false;
          const expires = nowMs + windowMs;
          pending.set(key, expires);
          return new Promise<boolean>((resolve, reject) => {
            batch.push({ key, client, messageId, expires, nowMs, resolve, reject });
            if (batch.length === 1) setImmediate(flush);
          });
        },
        accept(client, messageId, nowMs) {
          const row = find.get(scope, client, messageId) as { e: number } | undefined;
          if (row !== undefined && row.e > nowMs) return false;
          put.run(scope, client, messageId, nowMs + windowMs);
          sincePrune += 1;
          if (sincePrune >= 1000) memory.prune(nowMs);
          return true;
        },
        prune(nowMs) {
          sincePrune = 0;
          return prune.run(scope, nowMs).changes;
        },
        get size() {
          return (count.get(scope) as { n: number }).n;
        },
      };
      return memory;
    },
    dataVersion() {
      return db.pragma('data_version', { simple: true }) as number;
    },
    close() {
      db.close();
    },
  };
  return store;
}
