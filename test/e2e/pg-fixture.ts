/** A fixture node moved onto PostgreSQL, as an operator does it (tests of issue 12). */
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNodeConfig } from '../../node/store/node-config.js';
import { openNodeStore } from '../../node/store/node-store.js';

/**
 * Copy a fixture node onto PostgreSQL: the node folder without its SQLite files, and (unless
 * `copyStore` is false: a further instance of a node already moved) the store's rows.
 */
export async function nodeOnPg(source: string, dir: string, url: string, instanceId: string, copyStore = true): Promise<void> {
  cpSync(source, dir, { recursive: true, filter: (f) => !/(node|messagelog)\.db(-wal|-shm)?$/.test(f) });
  writeFileSync(join(dir, 'node.json'), JSON.stringify({ ...readNodeConfig(source), isPort: 0, proxyPort: 0, database: { engine: 'postgresql', url, instanceId } }));
  if (!copyStore) return;
  const from = await openNodeStore(source);
  const to = await openNodeStore(dir);
  try {
    await to.saveSettings(await from.settings());
    for (const c of await from.clients()) await to.addClient(c);
    for (const s of await from.services()) await to.upsertService(s);
    for (const r of await from.accessRights()) await to.grant(r.serviceKey, r.client, new Date(r.grantedAt));
  } finally {
    await from.close();
    await to.close();
  }
}
