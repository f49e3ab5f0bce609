/**
 * `npm run bench`: exchanges per second and latency through client node + provider node (each in
 * its own process, real mutual TLS between them), against the same load sent directly to the same
 * backend over mutual TLS; plus each node's peak memory. Prints numbers; asserts nothing.
 * Env: BENCH_SECONDS (default 10), BENCH_CONCURRENCY (default 32), BENCH_KEY (ecdsa-p256|rsa-2048),
 * BENCH_PROFILE_DIR (write V8 CPU profiles of the child processes there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startCentral } from '../central/main.js';
import { generateSandboxData, samplesDni } from './sandbox/data.js';
import { centralDir, nodeDir, provisionInstance, type InstancePlan } from './sandbox/provision.js';
import { JUNTOS_CLIENT, JUNTOS_RUC, RENIEC_RUC, SERVICES } from './sandbox/run.js';

const dist = fileURLToPath(new URL('../', import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? '10');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '32');
const keyAlgorithm = (process.env.BENCH_KEY ?? 'ecdsa-p256') as 'ecdsa-p256' | 'rsa-2048';
const base = 47_000 + Math.floor(Math.random() * 1000) * 10;

function spawnChild(args: string[], readyText: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const profile = process.env.BENCH_PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`];
    const child = spawn(process.execPath, [...profile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(readyText)) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => reject(new Error(`${args[0]} terminó (${code}): ${out}`)));
  });
}

function peakRssMb(pid: number | undefined): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

let seq = 0;
function request(dni: string): string {
  seq += 1;
  return `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd" xmlns:ren="http://miis.midis.gob.pe/servicios/reniec"><SOAP-ENV:Header><xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${JUNTOS_RUC}</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client><xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${RENIEC_RUC}</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service><xrd:id>bench-${process.pid}-${seq}</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion><miis:convenio>CONV-001-2026</miis:convenio><miis:finalidad>FOCALIZACION</miis:finalidad></SOAP-ENV:Header><SOAP-ENV:Body><ren:consultarPersona><ren:dni>${dni}</ren:dni></ren:consultarPersona></SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

interface LoadResult { readonly count: number; readonly errors: number; readonly perSecond: number; readonly p50: number; readonly p99: number }

async function load(pool: Pool, dnis: readonly string[], durationMs: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + durationMs;
  const worker = async (w: number) => {
    let i = w;
    while (performance.now() < end) {
      const body = request(dnis[i % dnis.length] as string);
      i += concurrency;
      const t0 = performance.now();
      const res = await pool.request({ path: '/', method: 'POST', body, headers: { 'content-type': 'text/xml; charset=utf-8' } });
      const text = await res.body.text();
      if (res.statusCode !== 200 || !text.includes('<encontrado>true</encontrado>')) errors += 1;
      else latencies.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { count: latencies.length, errors, perSecond: latencies.length / elapsed, p50: q(0.5), p99: q(0.99) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-bench-'));
  const children: ChildProcess[] = [];
  const ports = { central: base, backend: base + 1, backendTls: base + 2, reniecIs: base + 3, reniecProxy: base + 4, juntosIs: base + 5, juntosProxy: base + 6 };
  try {
    const plan: InstancePlan = {
      dir, instance: 'PE', memberClass: 'GOB', centralUrl: `http://127.0.0.1:${ports.central}`, keyAlgorithm,
      entities: [
        { nodeName: 'reniec', ruc: RENIEC_RUC, name: 'RENIEC', role: 'RENIEC', subsystems: ['RUPN'], isPort: ports.reniecIs, proxyPort: ports.reniecProxy },
        { nodeName: 'juntos', ruc: JUNTOS_RUC, name: 'JUNTOS', role: 'IPF', subsystems: ['JUNTOS'], isPort: ports.juntosIs, proxyPort: ports.juntosProxy },
      ],
      services: [{ id: SERVICES.consultarPersona, title: 'Consultar persona', provider: 'reniec', backendUrl: `http://127.0.0.1:${ports.backend}/`, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] }],
      // the agreement the benchmark requests cite (the provider refuses requests without one)
      agreements: [{ id: 'CONV-001-2026', provider: `PE/GOB/${RENIEC_RUC}`, clients: [JUNTOS_CLIENT], services: [SERVICES.consultarPersona], purposes: ['FOCALIZACION'], from: '2026-01-01' }],
    };
    await provisionInstance(plan);
    const central = await startCentral({ dir: centralDir(plan), host: '127.0.0.1', port: ports.central, clock: () => new Date() });
    const reniecDir = nodeDir(plan, 'reniec');
    const juntosDir = nodeDir(plan, 'juntos');
    const caPem = join(centralDir(plan), 'ca.pem');
    children.push(await spawnChild([join(dist, 'scripts/bench/backend-process.js'), String(ports.backend), String(ports.backendTls), join(reniecDir, 'keys/auth-key.pem'), join(reniecDir, 'auth.pem'), caPem], 'ready'));
    const provider = await spawnChild([join(dist, 'node/cli/index.js'), 'serve', '--dir', reniecDir], 'sistemas de información en');
    const consumer = await spawnChild([join(dist, 'node/cli/index.js'), 'serve', '--dir', juntosDir], 'sistemas de información en');
    children.push(provider, consumer);

    const dnis = samplesDni(generateSandboxData(), 2000);
    const viaNodes = new Pool(`http://127.0.0.1:${ports.juntosIs}`, { connections: concurrency, keepAliveTimeout: 60_000 });
    const direct = new Pool(`https://127.0.0.1:${ports.backendTls}`, {
      connections: concurrency, keepAliveTimeout: 60_000,
      connect: { key: readFileSync(join(juntosDir, 'keys/auth-key.pem')), cert: readFileSync(join(juntosDir, 'auth.pem')), ca: readFileSync(caPem), minVersion: 'TLSv1.3', servername: 'localhost' },
    });
    process.stdout.write(`MIIS bench: ${seconds} s por escenario, concurrencia ${concurrency}, claves ${keyAlgorithm}, ${process.env.HOSTNAME ?? ''}\n`);
    await load(direct, dnis, 1500);
    const d = await load(direct, dnis, seconds * 1000);
    await load(viaNodes, dnis, 1500);
    const m = await load(viaNodes, dnis, seconds * 1000);
    const row = (name: string, r: LoadResult) => `${name.padEnd(34)} ${r.perSecond.toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.count).padStart(8)} ${String(r.errors).padStart(6)}`;
    process.stdout.write(`${'escenario'.padEnd(34)} ${'interc/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'total'.padStart(8)} ${'errores'.padStart(6)}\n`);
    process.stdout.write(`${row('directo al backend (TLS mutuo)', d)}\n${row('IS → nodo Juntos → nodo RENIEC', m)}\n`);
    process.stdout.write(`razón (a través de nodos / directo): ${(m.perSecond / d.perSecond).toFixed(2)}\n`);
    process.stdout.write(`memoria pico: nodo cliente (juntos) ${peakRssMb(consumer.pid).toFixed(0)} MB, nodo proveedor (reniec) ${peakRssMb(provider.pid).toFixed(0)} MB\n`);
    await viaNodes.close();
    await direct.close();
    await central.close();
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
