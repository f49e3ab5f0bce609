/**
 * The node store behind one engine-neutral, asynchronous interface: SQLite (node.db, the
 * default; node/store/local-store.ts, whose synchronous calls are wrapped as they are) or
 * PostgreSQL (node/store/pg-local-store.ts), chosen by node.json `database`
 * (node/store/database.ts).
 *
 * The exchange hot path never waits on the store for settings: it reads a cached snapshot
 * (`createSnapshotCache`) that a timer refreshes when the store's change counter moves (SQLite:
 * PRAGMA data_version; PostgreSQL: a counter bumped by triggers on every write). The replay
 * memory refuses a known id synchronously on SQLite and accepts a new one once the event-loop
 * turn's inserts are committed in one transaction (`admit`), and uses one atomic statement on PostgreSQL
 * (shared by every instance of the node: a duplicate is refused whichever instance sees it).
 */
import { existsSync } from 'node:fs';
import { MiisError } from '../../core/errors.js';
import { openLocalStore, type LocalSnapshot, type LocalStore, type NodeStore } from './local-store.js';
import { resolveDatabase, type ResolvedDatabase } from './database.js';
import { nodePaths } from './paths.js';
import { openPgNodeStore } from './pg-local-store.js';

export type { NodeStore, SharedReplayMemory } from './local-store.js';

/** The SQLite store behind the asynchronous interface (the same calls, run at once). */
export function asNodeStore(local: LocalStore): NodeStore {
  return {
    engine: 'sqlite',
    initialized: async () => local.initialized,
    saveSettings: async (s) => local.saveSettings(s),
    settings: async () => local.settings(),
    addClient: async (id) => local.addClient(id),
    removeClient: async (id) => local.removeClient(id),
    clients: async () => local.clients(),
    upsertService: async (s) => local.upsertService(s),
    services: async () => local.services(),
    grant: async (k, c, at) => local.grant(k, c, at),
    revoke: async (k, c) => local.revoke(k, c),
    accessRights: async () => local.accessRights(),
    snapshot: async () => local.snapshot(),
    dataVersion: async () => local.dataVersion(),
    replayMemory(scope, windowMs) {
      const memory = local.replayMemory(scope, windowMs);
      return {
        // refused at once, or accepted once the turn's inserts are committed (one transaction per turn)
        accept: (client, messageId, nowMs) => memory.admit(client, messageId, nowMs),
        prune: async (nowMs) => memory.prune(nowMs),
        size: async () => memory.size,
      };
    },
    close: async () => local.close(),
  };
}

/** The node store of a node folder, on the engine node.json names (`database`). */
export async function openNodeStore(dir: string, database: ResolvedDatabase = resolveDatabase(dir)): Promise<NodeStore> {
  if (database.engine === 'postgresql') return openPgNodeStore({ dir, database });
  const path = nodePaths(dir).db;
  return asNodeStore(openLocalStore(path));
}

/** Whether a node folder holds an initialised node (SQLite: node.db exists and has settings). */
export async function nodeStoreInitialized(dir: string): Promise<boolean> {
  const database = resolveDatabase(dir);
  if (database.engine === 'sqlite' && !existsSync(nodePaths(dir).db)) return false;
  const store = await openNodeStore(dir, database);
  try {
    return await store.initialized();
  } finally {
    await store.close();
  }
}

export interface SnapshotCache {
  /** The settings in force, for the exchange hot path (no I/O). */
  current(): LocalSnapshot;
  /** Re-read the store when its change counter moved; true when the snapshot changed. */
  refresh(): Promise<boolean>;
}

export async function createSnapshotCache(store: NodeStore): Promise<SnapshotCache> {
  let version = await store.dataVersion();
  let snapshot = await store.snapshot();
  let busy = false;
  return {
    current: () => snapshot,
    async refresh() {
      if (busy) return false;
      busy = true;
      try {
        const v = await store.dataVersion();
        if (v === version) return false;
        const next = await store.snapshot();
        version = v;
        snapshot = next;
        return true;
      } finally {
        busy = false;
      }
    },
  };
}

export const notInitialized = (dir: string): MiisError => new MiisError('Config.NotInitialized', `no hay un nodo en ${dir}; ejecute «miis-node init»`);
