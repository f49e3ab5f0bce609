/**
 * `npm run demo:ha`: high availability end to end on loopback (issue 12). Central, one consumer node
 * (Juntos, SQLite) and the RENIEC node run as TWO instances (separate `miis-node serve` processes,
 * the same node folder copied, each with its own database.instanceId) sharing one PostgreSQL
 * database (a throwaway server: initdb/pg_ctl in a temp folder), behind HAProxy in TCP pass-through
 * on the node-to-node port with health checks on each instance's GET /health. A closed-loop load
 * runs for --seconds; in the middle one provider instance is killed with SIGKILL. Afterwards every
 * exchange the information system saw answered is looked up by message id: the provider's request
 * and response records in the shared database and the consumer's in its messagelog.db
 * (`lostRecords` counts those missing any), and `miis-node log verify` checks every chain.
 *
 * Prints one JSON object:
 *   { "answered": N, "faults": N, "lostRecords": N, "chainsVerified": true, "rps": N, "rpsAfterKill": N }
 * Flags: --seconds N (default 20), --warmup N (unmeasured load first, default 5), --concurrency N (default 16), --instances 1|2 (default 2; with 1
 * nothing is killed and rpsAfterKill is null), --no-kill, --compare (one instance, then two, same
 * load, nothing killed: { "oneInstance": {…}, "twoInstances": {…} }; docs/performance.md).
 * Needs PostgreSQL (Debian package postgresql) and haproxy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { startCentral } from '../central/main.js';
import { isMainModule } from '../runtime/cli-kit.js';
import { loadPg } from '../runtime/pg.js';
import { loadLogCipher } from '../node/evidence/index.js';
import { loadEvidenceSettings } from '../node/evidence/settings.js';
import { nodePaths } from '../node/store/paths.js';
import { startReniecBackend } from './sandbox/backends.js';
import { generateSandboxData, samplesDni } from './sandbox/data.js';
import { haproxyConfig } from './sandbox/haproxy.js';
import { freePort } from './sandbox/net.js';
import { nodeOnPg, startPgServer, type PgServer } from './sandbox/pg-server.js';
import { centralDir, nodeDir, provisionInstance, type InstancePlan } from './sandbox/provision.js';
import { JUNTOS_CLIENT, JUNTOS_RUC, RENIEC_RUC, SERVICES } from './sandbox/run.js';

const dist = fileURLToPath(new URL('../', import.meta.url));
const CLI = join(dist, 'node/cli/index.js');
const CONVENIO = 'CONV-001-2026';

interface Flags { seconds: number; warmup: number; concurrency: number; instances: 1 | 2; kill: boolean; compare: boolean }

function parseFlags(argv: readonly string[]): Flags {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const v = value(name);
    const n = v === undefined ? def : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name}: un entero entre ${min} y ${max}`);
    return n;
  };
  const instances = int('--instances', 2, 1, 2) as 1 | 2;
  return { seconds: int('--seconds', 20, 2, 3600), warmup: int('--warmup', 5, 0, 600), concurrency: int('--concurrency', 16, 1, 512), instances, kill: instances === 2 && !argv.includes('--no-kill'), compare: argv.includes('--compare') };
}

export interface DemoResult {
  readonly answered: number;
  readonly faults: number;
  readonly lostRecords: number;
  readonly chainsVerified: boolean;
  readonly rps: number;
  readonly rpsAfterKill: number | null;
  /** Node processes' CPU milliseconds per exchange during the load (a killed one: until killed; not printed by default). */
  readonly cpuMsPerExchange: Record<string, number>;
}

/** User + system CPU time of a process in milliseconds (/proc/<pid>/stat, clock ticks of 10 ms); NaN once it is gone. */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** A child process whose output is kept (the last 16 KB) for error messages. */
interface Child { readonly proc: ChildProcess; output(): string }

function spawnChild(cmd: string, args: string[], readyText?: string): Promise<Child> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const child: Child = { proc, output: () => out };
    const onData = (d: Buffer): void => {
      out = (out + d.toString()).slice(-16_384);
      if (readyText !== undefined && out.includes(readyText)) resolve(child);
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code, signal) => reject(new Error(`${cmd} ${args.slice(0, 2).join(' ')} terminó (${code ?? signal}): ${out}`)));
    if (readyText === undefined) resolve(child);
  });
}

async function stopChild(c: Child | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (c === undefined || c.proc.exitCode !== null || c.proc.signalCode !== null) return;
  const exited = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill(signal);
  await exited;
}

function request(dni: string, id: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd" xmlns:ren="http://miis.midis.gob.pe/servicios/reniec"><SOAP-ENV:Header><xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${JUNTOS_RUC}</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client><xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${RENIEC_RUC}</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service><xrd:id>${id}</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion><miis:convenio>${CONVENIO}</miis:convenio><miis:finalidad>FOCALIZACION</miis:finalidad></SOAP-ENV:Header><SOAP-ENV:Body><ren:consultarPersona><ren:dni>${dni}</ren:dni></ren:consultarPersona></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

/** Message ids whose request or response record is missing in `present` (id → directions seen). */
function missing(ids: readonly string[], present: ReadonlyMap<string, Set<string>>): number {
  return ids.filter((id) => { const d = present.get(id); return d === undefined || !d.has('request') || !d.has('response'); }).length;
}

export async function runDemo(flags: Flags, log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): Promise<DemoResult> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-demo-ha-'));
  const children: Child[] = [];
  let pg: PgServer | undefined;
  let central: Awaited<ReturnType<typeof startCentral>> | undefined;
  let backend: Awaited<ReturnType<typeof startReniecBackend>> | undefined;
  let pool: Pool | undefined;
  try {
    log(`PostgreSQL en una carpeta temporal (initdb, pg_ctl)…`);
    pg = await startPgServer();
    await pg.createDatabase('reniec');
    const data = generateSandboxData();
    backend = await startReniecBackend({ data });
    const [centralPort, front, juntosIs, juntosProxy, seedIs, seedProxy] = await Promise.all(Array.from({ length: 6 }, () => freePort())) as number[];
    const plan: InstancePlan = {
      dir, instance: 'PE', memberClass: 'GOB', centralUrl: `http://127.0.0.1:${centralPort}`,
      entities: [
        // one RENIEC node, published at HAProxy's address; its instances run behind it
        { nodeName: 'reniec', ruc: RENIEC_RUC, name: 'RENIEC', role: 'RENIEC', subsystems: ['RUPN'], isPort: seedIs as number, proxyPort: seedProxy as number, address: `https://127.0.0.1:${front}` },
        { nodeName: 'juntos', ruc: JUNTOS_RUC, name: 'JUNTOS', role: 'IPF', subsystems: ['JUNTOS'], isPort: juntosIs as number, proxyPort: juntosProxy as number },
      ],
      services: [{ id: SERVICES.consultarPersona, title: 'Consultar persona', provider: 'reniec', backendUrl: backend.url, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] }],
      agreements: [{ id: CONVENIO, provider: `PE/GOB/${RENIEC_RUC}`, clients: [JUNTOS_CLIENT], services: [SERVICES.consultarPersona], purposes: ['FOCALIZACION'], from: '2026-01-01' }],
    };
    log('Aprovisionando central, el nodo de Juntos y el nodo de RENIEC…');
    await provisionInstance(plan);
    central = await startCentral({ dir: centralDir(plan), host: '127.0.0.1', port: centralPort as number, clock: () => new Date() });

    // the operator's move: RENIEC's node folder (keys, certificates, anchor, log keys) on each
    // instance, one database; the log key is made once, before copying (every instance needs the same)
    const source = nodeDir(plan, 'reniec');
    loadLogCipher(source, loadEvidenceSettings(source), new Date());
    const names = Array.from({ length: flags.instances }, (_, i) => `reniec-${i + 1}`);
    const instances: { name: string; dir: string; isPort: number; proxyPort: number }[] = [];
    for (const [n, name] of names.entries()) {
      const idir = join(dir, 'instances', name);
      const [isPort, proxyPort] = [await freePort(), await freePort()];
      // settings, clients, services and access rights copied into the database once
      await nodeOnPg(source, idir, pg.url('reniec'), name, n === 0, { isPort, proxyPort });
      instances.push({ name, dir: idir, isPort, proxyPort });
    }

    log(`Iniciando ${instances.length} instancia(s) de RENIEC, el nodo de Juntos y HAProxy…`);
    const providers = new Map<string, Child>();
    for (const i of instances) {
      const c = await spawnChild(process.execPath, [CLI, 'serve', '--dir', i.dir, '--log-format', 'json'], 'sistemas de información en');
      children.push(c);
      providers.set(i.name, c);
    }
    const juntosDir = nodeDir(plan, 'juntos');
    const consumer = await spawnChild(process.execPath, [CLI, 'serve', '--dir', juntosDir, '--log-format', 'json'], 'sistemas de información en');
    children.push(consumer);
    const cfg = join(dir, 'haproxy.cfg');
    // faster health checks than the sample's
    writeFileSync(cfg, haproxyConfig(front as number, instances, { maxconn: 1024, timeoutSeconds: 65, check: { interMs: 500, fall: 2, rise: 2 } }));
    children.push(await spawnChild('haproxy', ['-db', '-f', cfg]));

    const dnis = samplesDni(data, 2000);
    const run = `demo-${process.pid}-${Date.now()}`;
    pool = new Pool(`http://127.0.0.1:${juntosIs}`, { connections: flags.concurrency, keepAliveTimeout: 60_000 });
    const post = async (id: string, dni: string): Promise<boolean> => {
      try {
        const res = await pool!.request({ path: '/', method: 'POST', body: request(dni, id), headers: { 'content-type': 'text/xml; charset=utf-8' } });
        const text = await res.body.text();
        return res.statusCode === 200 && text.includes('<encontrado>true</encontrado>');
      } catch {
        return false;
      }
    };
    // warm-up: the first exchange through HAProxy (nodes downloading the configuration, first TLS)
    const deadline = Date.now() + 60_000;
    let n = 0;
    while (!(await post(`${run}-warm-${(n += 1)}`, dnis[0] as string))) {
      if (Date.now() > deadline) throw new Error(`ningún intercambio pasó por HAProxy en 60 s:\n${consumer.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // then --warmup seconds of the same load, not measured (every process compiled and its caches
    // filled: a cold instance on a busy 2-core machine is slow for seconds); its exchanges are checked too
    const warmed: string[] = [];
    const warmEnd = performance.now() + flags.warmup * 1000;
    await Promise.all(Array.from({ length: flags.concurrency }, async () => {
      while (performance.now() < warmEnd) {
        const id = `${run}-warm-${(n += 1)}`;
        if (await post(id, dnis[n % dnis.length] as string)) warmed.push(id);
      }
    }));

    log(`Carga durante ${flags.seconds} s con ${flags.concurrency} solicitudes en curso${flags.kill ? '; a la mitad, SIGKILL a reniec-1' : ''}…`);
    const answered: { id: string; at: number }[] = [];
    let faults = 0;
    let seq = 0;
    // CPU time of the node processes over the load (docs/performance-log.md, «High availability»)
    const watched = [...[...providers.entries()].map(([name, c]) => [name, c.proc.pid] as const), ['juntos', consumer.proc.pid] as const];
    const cpuOf = (): Record<string, number> => Object.fromEntries(watched.map(([name, pid]) => [name, cpuMs(pid)]));
    const cpuBefore = cpuOf();
    const t0 = performance.now();
    const end = t0 + flags.seconds * 1000;
    let killedAt: number | undefined;
    const killer = flags.kill ? setTimeout(() => {
      killedAt = performance.now();
      providers.get('reniec-1')?.proc.kill('SIGKILL');
      log('reniec-1: SIGKILL');
    }, (flags.seconds * 1000) / 2) : undefined;
    await Promise.all(Array.from({ length: flags.concurrency }, async () => {
      while (performance.now() < end) {
        seq += 1;
        const id = `${run}-${seq}`;
        if (await post(id, dnis[seq % dnis.length] as string)) answered.push({ id, at: performance.now() });
        else faults += 1;
      }
    }));
    const elapsed = (performance.now() - t0) / 1000;
    const cpuAfter = cpuOf();
    if (killer !== undefined) clearTimeout(killer);
    await pool.close();
    pool = undefined;

    log('Deteniendo los nodos y buscando cada intercambio respondido en los registros…');
    for (const c of [...children].reverse()) await stopChild(c);
    const ids = [...warmed, ...answered.map((a) => a.id)];
    // provider side: the shared database, every instance
    const client = new (loadPg().Client)({ connectionString: pg.url('reniec') });
    await client.connect();
    const provider = new Map<string, Set<string>>();
    try {
      const rows = (await client.query<{ message_id: string; direction: string }>(
        "SELECT message_id, direction FROM miis_log.messages WHERE side = 'server' AND message_id = ANY($1)", [ids])).rows;
      for (const r of rows) provider.set(r.message_id, (provider.get(r.message_id) ?? new Set()).add(r.direction));
    } finally {
      await client.end();
    }
    // consumer side: its messagelog.db
    const consumerLog = new Map<string, Set<string>>();
    const db = new Database(nodePaths(juntosDir).messageLog, { readonly: true });
    try {
      const q = db.prepare<[string], { direction: string }>("SELECT direction FROM messages WHERE side = 'client' AND message_id = ?");
      for (const id of ids) consumerLog.set(id, new Set(q.all(id).map((r) => r.direction)));
    } finally {
      db.close();
    }
    const lostProvider = missing(ids, provider);
    const lostConsumer = missing(ids, consumerLog);
    if (lostProvider + lostConsumer > 0) log(`sin registro completo: ${lostProvider} en el proveedor, ${lostConsumer} en el consumidor`);

    // every chain: both RENIEC instances in the shared database, and the consumer's
    const verify = (d: string): unknown => {
      const r = spawnSync(process.execPath, [CLI, 'log', 'verify', '--dir', d, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      if (r.status !== 0) log(`log verify --dir ${d}: código ${r.status}\n${r.stdout.slice(0, 4000)}${r.stderr}`);
      return r.status === 0 ? JSON.parse(r.stdout) as unknown : undefined;
    };
    const shared = verify((instances[0] as { dir: string }).dir) as { instancia: string; informe: { ok: boolean; registros: number } }[] | undefined;
    const own = verify(juntosDir) as { ok: boolean } | undefined;
    const chainsVerified = shared !== undefined && shared.length >= 1 && shared.every((r) => r.informe.ok) && own?.ok === true;
    if (shared !== undefined) log(`cadenas: ${shared.map((r) => `${r.instancia} ${r.informe.registros} registros ${r.informe.ok ? 'ok' : 'MAL'}`).join(', ')}; juntos ${own?.ok === true ? 'ok' : 'MAL'}`);

    const after = killedAt === undefined ? undefined : answered.filter((a) => a.at >= (killedAt as number)).length / ((t0 + elapsed * 1000 - killedAt) / 1000);
    return {
      answered: answered.length, faults, lostRecords: lostProvider + lostConsumer, chainsVerified,
      rps: Math.round(answered.length / elapsed), rpsAfterKill: after === undefined ? null : Math.round(after),
      cpuMsPerExchange: Object.fromEntries(Object.keys(cpuBefore).map((k) => [k, Math.round(((cpuAfter[k] ?? NaN) - (cpuBefore[k] ?? NaN)) / Math.max(1, answered.length + faults) * 100) / 100])),
    };
  } finally {
    await pool?.close().catch(() => undefined);
    for (const c of [...children].reverse()) await stopChild(c).catch(() => undefined);
    await central?.close().catch(() => undefined);
    await backend?.close().catch(() => undefined);
    pg?.stop();
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.compare) {
    const one = await runDemo({ ...flags, instances: 1, kill: false });
    const two = await runDemo({ ...flags, instances: 2, kill: false });
    const pick = (r: DemoResult) => ({ answered: r.answered, faults: r.faults, lostRecords: r.lostRecords, chainsVerified: r.chainsVerified, rps: r.rps, cpuMsPerExchange: r.cpuMsPerExchange });
    process.stdout.write(`${JSON.stringify({ seconds: flags.seconds, concurrency: flags.concurrency, oneInstance: pick(one), twoInstances: pick(two) })}\n`);
    return;
  }
  const { cpuMsPerExchange, ...result } = await runDemo(flags);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  log(`CPU por intercambio (ms): ${JSON.stringify(cpuMsPerExchange)}`);
}

if (isMainModule(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`demo:ha: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
