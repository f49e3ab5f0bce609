/**
 * A throwaway PostgreSQL server for tests and the HA demo (npm run demo:ha): initdb into a temp folder (as the postgres user when
 * running as root, since initdb refuses root), trust authentication on 127.0.0.1 and a free port,
 * stopped with pg_ctl. Debian package: postgresql (.ci/run installs it).
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createServer } from 'node:net';

/** A TCP port free on loopback right now (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

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
