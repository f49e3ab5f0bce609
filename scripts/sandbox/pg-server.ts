/**
 * A throwaway PostgreSQL server for tests and the HA demo (npm run demo:ha): initdb into a temp folder (as the postgres user when
 * running as root, since initdb refuses root), trust authentication on 127.0.0.1 and a free port,
 * stopped with pg_ctl. Debian package: postgresql (.ci/run installs it). Also `nodeOnPg`: a node folder
 * moved onto such a database.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './net.js';
import { readNodeConfig } from '../../node/store/node-config.js';
import { openNodeStore } from '../../node/store/node-store.js';

export interface PgServer {
  readonly port: number;
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  /** pg_ctl restart (fast): every open connection is cut, the server comes back on the same port. */
  restart(): Promise<void>;
  /** pg_ctl stop (fast), keeping the data: connections are refused until `resume`. */
  halt(): Promise<void>;
  resume(): Promise<void>;
  stop(): void;
}

/** bin folder of the newest installed PostgreSQL with initdb and pg_ctl, or undefined. */
export function findPgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}


export async function startPgServer(): Promise<PgServer> {
  const bin = findPgBin();
  if (bin === undefined) throw new Error('PostgreSQL no está instalado (apt-get install -y postgresql)');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'miis-pg-'));
  const run = (cmd: string, args: string[]): void => {
    const full = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] as const : [join(bin, cmd), args] as const;
    execFileSync(full[0], [...full[1]], { stdio: 'pipe', timeout: 60_000 });
  };
  const runAsync = async (cmd: string, args: string[]): Promise<void> => {
    const full = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] as const : [join(bin, cmd), args] as const;
    await promisify(execFile)(full[0], [...full[1]], { timeout: 60_000 });
  };
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  const url = (database: string): string => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  return {
    port, url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
    },
    // asynchronous, so the processes using the server (this one included) see it go as they would
    restart: () => runAsync('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-m', 'fast', '-o', options, 'restart']),
    halt: () => runAsync('pg_ctl', ['-D', data, '-w', '-t', '60', '-m', 'fast', 'stop']),
    resume: () => runAsync('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']),
    stop() {
      const args = ['-D', data, '-w', '-m', 'fast', 'stop'];
      if (asRoot) spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), ...args], { stdio: 'pipe' });
      else spawnSync(join(bin, 'pg_ctl'), args, { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A node moved onto PostgreSQL, as an operator does it: the node folder `source` copied to `dir`
 * without its SQLite files, node.json pointing at `url` as instance `instanceId` (IS and proxy ports
 * `ports`, default 0: any free port), and (unless `copyStore` is false: a further instance of a node
 * already moved) the store's settings, clients, services and access rights copied into the database.
 */
export async function nodeOnPg(source: string, dir: string, url: string, instanceId: string, copyStore = true, ports: { isPort: number; proxyPort: number } = { isPort: 0, proxyPort: 0 }): Promise<void> {
  cpSync(source, dir, { recursive: true, filter: (f) => !/(node|messagelog)\.db(-wal|-shm)?$/.test(f) });
  writeFileSync(join(dir, 'node.json'), JSON.stringify({ ...readNodeConfig(source), isPort: ports.isPort, proxyPort: ports.proxyPort, database: { engine: 'postgresql', url, instanceId } }));
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
