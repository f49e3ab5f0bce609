/**
 * `npm run bench:rss`: memory of a node process (`miis-node serve`), printed as one JSON object:
 * - `importMb`: RSS of a fresh process after importing what `serve` loads (node/cli/index.js) and
 *   a full garbage collection, next to `baselineMb` (Node alone) and `httpsMb` (Node + node:https);
 * - per node (juntos = consumer, reniec = provider): `idleRssMb` 5 s after it reports ready, and
 *   `peakRssMb` (VmHWM) after a closed-loop load of BENCH_CONCURRENCY (default 32) exchanges in
 *   flight for BENCH_SECONDS (default 8) through both nodes, after 1 s of warm-up; with
 *   `cpuMsPerExchange` (process CPU time from /proc) to weigh a memory setting against its CPU.
 * RSS is a memory measure: unlike throughput it barely depends on other load on the machine.
 * Env: BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_IDLE_SECONDS (default 5: when idle RSS is read), BENCH_NODE_FLAGS (extra Node flags for the two node
 * processes, e.g. "--max-semi-space-size=4", to compare).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { cpuMs, nodeFlags, spawnChild, spawnNode, statusMb, stopChildren } from './children.js';
import { freePort } from '../sandbox/net.js';
import { startCentral } from '../../central/main.js';
import { generateSandboxData, samplesDni } from '../sandbox/data.js';
import { centralDir, nodeDir, provisionInstance, type InstancePlan } from '../sandbox/provision.js';
import { JUNTOS_CLIENT, JUNTOS_RUC, RENIEC_RUC, SERVICES } from '../sandbox/run.js';

const dist = fileURLToPath(new URL('../../', import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? '8');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '32');
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? '5');

/** RSS in MB of a fresh `node --expose-gc` after `code` ran and a full collection. */
function rssAfter(code: string): number {
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', `${code}\nglobalThis.gc(); globalThis.gc(); process.stdout.write(String(process.memoryUsage.rss()));`], { encoding: 'utf8' });
  return Math.round((Number(out) / 1048576) * 10) / 10;
}

let seq = 0;
function request(dni: string): string {
  seq += 1;
  return `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd" xmlns:ren="http://miis.midis.gob.pe/servicios/reniec"><SOAP-ENV:Header><xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${JUNTOS_RUC}</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client><xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${RENIEC_RUC}</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service><xrd:id>rss-${process.pid}-${seq}</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion><miis:convenio>CONV-001-2026</miis:convenio><miis:finalidad>FOCALIZACION</miis:finalidad></SOAP-ENV:Header><SOAP-ENV:Body><ren:consultarPersona><ren:dni>${dni}</ren:dni></ren:consultarPersona></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

async function load(pool: Pool, dnis: readonly string[], durationMs: number): Promise<{ exchanges: number; errors: number }> {
  let exchanges = 0;
  let errors = 0;
  const end = performance.now() + durationMs;
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    for (let i = w; performance.now() < end; i += concurrency) {
      const res = await pool.request({ path: '/', method: 'POST', body: request(dnis[i % dnis.length] as string), headers: { 'content-type': 'text/xml; charset=utf-8' } });
      const text = await res.body.text();
      if (res.statusCode !== 200 || !text.includes('<encontrado>true</encontrado>')) errors += 1;
      else exchanges += 1;
    }
  }));
  return { exchanges, errors };
}

async function main(): Promise<void> {
  const cli = pathToFileURL(join(dist, 'node/cli/index.js')).href;
  const imports = {
    baselineMb: rssAfter(''),
    httpsMb: rssAfter(`await import('node:https');`),
    importMb: rssAfter(`await import(${JSON.stringify(cli)});`),
  };

  const dir = mkdtempSync(join(tmpdir(), 'miis-rss-'));
  const children: ChildProcess[] = [];
  const [central, backend, backendTls, reniecIs, reniecProxy, juntosIs, juntosProxy] = await Promise.all(Array.from({ length: 7 }, freePort));
  const ports = { central, backend, backendTls, reniecIs, reniecProxy, juntosIs, juntosProxy } as Record<string, number>;
  let closeCentral = async (): Promise<void> => undefined;
  try {
    const plan: InstancePlan = {
      dir, instance: 'PE', memberClass: 'GOB', centralUrl: `http://127.0.0.1:${ports.central}`, keyAlgorithm: 'ecdsa-p256',
      entities: [
        { nodeName: 'reniec', ruc: RENIEC_RUC, name: 'RENIEC', role: 'RENIEC', subsystems: ['RUPN'], isPort: ports.reniecIs, proxyPort: ports.reniecProxy },
        { nodeName: 'juntos', ruc: JUNTOS_RUC, name: 'JUNTOS', role: 'IPF', subsystems: ['JUNTOS'], isPort: ports.juntosIs, proxyPort: ports.juntosProxy },
      ],
      services: [{ id: SERVICES.consultarPersona, title: 'Consultar persona', provider: 'reniec', backendUrl: `http://127.0.0.1:${ports.backend}/`, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] }],
      agreements: [{ id: 'CONV-001-2026', provider: `PE/GOB/${RENIEC_RUC}`, clients: [JUNTOS_CLIENT], services: [SERVICES.consultarPersona], purposes: ['FOCALIZACION'], from: '2026-01-01' }],
    };
    await provisionInstance(plan);
    const centralServer = await startCentral({ dir: centralDir(plan), host: '127.0.0.1', port: ports.central, clock: () => new Date() });
    closeCentral = () => centralServer.close();
    const reniecDir = nodeDir(plan, 'reniec');
    const juntosDir = nodeDir(plan, 'juntos');
    children.push(await spawnChild([join(dist, 'scripts/bench/backend-process.js'), String(ports.backend), String(ports.backendTls),
      join(reniecDir, 'keys/auth-key.pem'), join(reniecDir, 'auth.pem'), join(centralDir(plan), 'ca.pem')], 'ready'));
    const reniec = await spawnNode(reniecDir);
    children.push(reniec);
    const juntos = await spawnNode(juntosDir);
    children.push(juntos);
    const pids = { juntos: juntos.pid, reniec: reniec.pid };
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idle = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, statusMb(pid, 'VmRSS')]));

    const pool = new Pool(`http://127.0.0.1:${ports.juntosIs}`, { connections: concurrency, keepAliveTimeout: 60_000 });
    const dnis = samplesDni(generateSandboxData(), 2000);
    await load(pool, dnis, 1000);
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuMs(pid)]));
    const r = await load(pool, dnis, seconds * 1000);
    const perExchange = (n: string, pid: number | undefined) => Math.round(((cpuMs(pid) - (cpuBefore[n] as number)) / Math.max(1, r.exchanges + r.errors)) * 100) / 100;
    const nodes = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, {
      idleRssMb: idle[n], peakRssMb: statusMb(pid, 'VmHWM'), afterLoadRssMb: statusMb(pid, 'VmRSS'), cpuMsPerExchange: perExchange(n, pid),
    }]));
    process.stdout.write(`${JSON.stringify({ node: process.version, flags: nodeFlags(), imports, idleSeconds, concurrency, seconds, exchanges: r.exchanges, errors: r.errors, nodes }, null, 2)}\n`);
    await pool.close();
  } finally {
    await closeCentral();
    await stopChildren(children);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:rss: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
