/**
 * `npm run bench`: exchanges per second and latency, with one load generator, for three scenarios
 * against the same backend: direct (mutual TLS), bare (two forwarding processes that only relay
 * bytes over keep-alive mutual TLS: the floor, scripts/bench/bare-forwarder.ts) and through
 * (IS → Juntos node → RENIEC node); per node process CPU milliseconds per exchange (process CPU
 * time from /proc, insensitive to other load on the machine), idle and peak RSS; a fixed-rate run
 * (BENCH_RATE exchanges/s, default 200, after one uncounted second at that rate) for the latency
 * the nodes add, next to the latency the bare forwarders add at the same rate. Prints numbers; asserts
 * nothing. `npm run bench -- --json` prints one JSON object instead (docs/performance.md).
 * Env: BENCH_SECONDS (default 10), BENCH_CONCURRENCY (default 32), BENCH_KEY (ecdsa-p256|rsa-2048),
 * BENCH_RATE, BENCH_PROFILE_DIR (write V8 CPU profiles of the child processes there), BENCH_NODE_FLAGS
 * (Node flags for the two node processes only, e.g. "--perf-basic-prof" for `perf record`),
 * BENCH_ONLY=through (only the through scenario: rps, latency and node CPU, for profiling).
 * BENCH_ONLY=rate (only the fixed-rate scenario at BENCH_RATE, direct, bare and through: the latency the nodes add).
 * BENCH_ONLY=floor (bare, the signed floor and through, alternated twice: exchanges/s and CPU per process).
 * The signed floor (`signedFloor` in the JSON): the bare forwarders with `--signed` (bare-forwarder.ts):
 * an ECDSA sign and verify and two message-log records per process and exchange, with the node's own
 * log, and nothing else (no XML, no rules): what signing and logging alone cost on this machine.
 * Last, the batch scenario: consultarPersonas with 1,000 DNI per request through both nodes
 * (BENCH_BATCH_CONCURRENCY requests in flight, default 4), in identifiers per second and node CPU
 * milliseconds per 1,000 identifiers.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpuMs, nodeFlags, spawnChild, spawnNode, statusMb, stopChildren } from './bench/children.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import { startCentral } from '../central/main.js';
import { generateSandboxData, samplesDni } from './sandbox/data.js';
import { centralDir, nodeDir, provisionInstance, type InstancePlan } from './sandbox/provision.js';
import { freeBasePort } from './sandbox/net.js';
import { JUNTOS_CLIENT, JUNTOS_RUC, RENIEC_RUC, SERVICES } from './sandbox/run.js';

const dist = fileURLToPath(new URL('../', import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? '10');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '32');
const keyAlgorithm = (process.env.BENCH_KEY ?? 'ecdsa-p256') as 'ecdsa-p256' | 'rsa-2048';
const rate = Number(process.env.BENCH_RATE ?? '200');
const json = process.argv.includes('--json');

let seq = 0;
function request(dni: string, batch?: readonly string[]): string {
  seq += 1;
  const service = batch === undefined ? 'consultarPersona' : 'consultarPersonas';
  const body = batch === undefined ? `<ren:consultarPersona><ren:dni>${dni}</ren:dni></ren:consultarPersona>` : `<ren:consultarPersonas>${batch.map((d) => `<ren:dni>${d}</ren:dni>`).join('')}</ren:consultarPersonas>`;
  return `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd" xmlns:ren="http://miis.midis.gob.pe/servicios/reniec"><SOAP-ENV:Header><xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${JUNTOS_RUC}</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client><xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${RENIEC_RUC}</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>${service}</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service><xrd:id>bench-${process.pid}-${seq}</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion><miis:convenio>CONV-001-2026</miis:convenio><miis:finalidad>FOCALIZACION</miis:finalidad></SOAP-ENV:Header><SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`;
}

interface LoadResult { readonly count: number; readonly errors: number; readonly perSecond: number; readonly p50: number; readonly p99: number }

function summarize(latencies: number[], errors: number, elapsedS: number): LoadResult {
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return { count: latencies.length, errors, perSecond: latencies.length / elapsedS, p50: q(0.5), p99: q(0.99) };
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Records in a signed-floor process's message log (read while it runs: WAL readers do not block it). */
function floorRecords(dir: string): number {
  const db = new Database(join(dir, 'messagelog.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM messages').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
const scenario = (r: LoadResult) => ({ rps: Math.round(r.perSecond), p50Ms: r2(r.p50), p99Ms: r2(r.p99), errors: r.errors });

/** The fixed-rate scenario as the JSON reports it (`fixedRate`, and the whole output of BENCH_ONLY=rate). */
function fixedRateReport(rate: number, direct: LoadResult, bare: LoadResult, through: LoadResult, floor: LoadResult) {
  return {
    ratePerSecond: rate, direct: scenario(direct), bare: scenario(bare), through: scenario(through), signedFloor: scenario(floor),
    addedP50Ms: r2(through.p50 - direct.p50), addedP99Ms: r2(through.p99 - direct.p99),
    bareAddedP50Ms: r2(bare.p50 - direct.p50), bareAddedP99Ms: r2(bare.p99 - direct.p99),
    signedFloorAddedP50Ms: r2(floor.p50 - direct.p50), signedFloorAddedP99Ms: r2(floor.p99 - direct.p99),
  };
}

/**
 * Open loop: one request every 1/perSecond s whatever the answers do, for `durationMs`, after one
 * second at the same rate that is not counted: a process that sat idle for a few seconds (the
 * scenarios before this one) runs its first few hundred exchanges 5-10x slower (cold code and
 * caches; docs/performance-log.md, «Stop 19»), which is not the steady latency at this rate.
 */
async function fixedRate(pool: Pool, dnis: readonly string[], perSecond: number, durationMs: number): Promise<LoadResult> {
  await openLoop(pool, dnis, perSecond, 1000);
  return openLoop(pool, dnis, perSecond, durationMs);
}

async function openLoop(pool: Pool, dnis: readonly string[], perSecond: number, durationMs: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  const total = Math.floor((perSecond * durationMs) / 1000);
  for (let i = 0; i < total; i += 1) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const body = request(dnis[i % dnis.length] as string);
    const start = performance.now();
    inFlight.push(pool.request({ path: '/', method: 'POST', body, headers: { 'content-type': 'text/xml; charset=utf-8' } })
      .then(async (res) => {
        const text = await res.body.text();
        if (res.statusCode !== 200 || !text.includes('<encontrado>true</encontrado>')) errors += 1;
        else latencies.push(performance.now() - start);
      }, () => { errors += 1; }));
  }
  await Promise.all(inFlight);
  return summarize(latencies, errors, (performance.now() - t0) / 1000);
}

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
  return summarize(latencies, errors, (performance.now() - t0) / 1000);
}

/** Closed loop of 1,000-DNI consultarPersonas requests for `durationMs`; CPU of the node processes per 1,000 identifiers. */
async function batchLoad(pool: Pool, dnis: readonly string[], durationMs: number, pids: (number | undefined)[]): Promise<{ requests: number; errors: number; idsPerSecond: number; p50Ms: number; cpuMsPer1000Ids: number[] }> {
  const batch = dnis.slice(0, 1000);
  const inFlight = Number(process.env.BENCH_BATCH_CONCURRENCY ?? '4');
  const latencies: number[] = [];
  let errors = 0;
  const before = pids.map(cpuMs);
  const end = performance.now() + durationMs;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (performance.now() < end) {
      const s = performance.now();
      const res = await pool.request({ path: '/', method: 'POST', body: request('', batch), headers: { 'content-type': 'text/xml; charset=utf-8' } });
      const text = await res.body.text();
      const found = text.split('<encontrado>true</encontrado>').length - 1;
      if (res.statusCode !== 200 || found !== batch.length) errors += 1;
      else latencies.push(performance.now() - s);
    }
  }));
  const elapsedS = (performance.now() - t0) / 1000;
  const r = summarize(latencies, errors, elapsedS);
  const ids = Math.max(1, (r.count + errors) * batch.length);
  return { requests: r.count, errors, idsPerSecond: Math.round((r.count * batch.length) / elapsedS), p50Ms: Math.round(r.p50), cpuMsPer1000Ids: pids.map((pid, i) => Math.round(((cpuMs(pid) - (before[i] as number)) / ids) * 1000 * 100) / 100) };
}

interface Measured { readonly result: LoadResult; readonly cpuMsPerExchange: number[] }

/** A load run plus the CPU time the given processes spent on it, per exchange. */
async function measured(pool: Pool, dnis: readonly string[], durationMs: number, pids: (number | undefined)[]): Promise<Measured> {
  const before = pids.map(cpuMs);
  const result = await load(pool, dnis, durationMs);
  const exchanges = Math.max(1, result.count + result.errors);
  return { result, cpuMsPerExchange: pids.map((pid, i) => (cpuMs(pid) - (before[i] as number)) / exchanges) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-bench-'));
  const children: ChildProcess[] = [];
  const base = await freeBasePort(11);
  const ports = { central: base, backend: base + 1, backendTls: base + 2, reniecIs: base + 3, reniecProxy: base + 4, juntosIs: base + 5, juntosProxy: base + 6, bareEdge: base + 7, bareInner: base + 8, floorEdge: base + 9, floorInner: base + 10 };
  try {
    const plan: InstancePlan = {
      dir, instance: 'PE', memberClass: 'GOB', centralUrl: `http://127.0.0.1:${ports.central}`, keyAlgorithm,
      entities: [
        { nodeName: 'reniec', ruc: RENIEC_RUC, name: 'RENIEC', role: 'RENIEC', subsystems: ['RUPN'], isPort: ports.reniecIs, proxyPort: ports.reniecProxy },
        { nodeName: 'juntos', ruc: JUNTOS_RUC, name: 'JUNTOS', role: 'IPF', subsystems: ['JUNTOS'], isPort: ports.juntosIs, proxyPort: ports.juntosProxy },
      ],
      services: [
        { id: SERVICES.consultarPersona, title: 'Consultar persona', provider: 'reniec', backendUrl: `http://127.0.0.1:${ports.backend}/`, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] },
        { id: SERVICES.consultarPersonas, title: 'Consultar personas (lote)', provider: 'reniec', backendUrl: `http://127.0.0.1:${ports.backend}/`, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] },
      ],
      // the agreement the benchmark requests cite (the provider refuses requests without one); up to
      // 1,000 DNI per request, each checked as a DNI by the provider node
      agreements: [{ id: 'CONV-001-2026', provider: `PE/GOB/${RENIEC_RUC}`, clients: [JUNTOS_CLIENT], services: [SERVICES.consultarPersona, SERVICES.consultarPersonas], purposes: ['FOCALIZACION'], from: '2026-01-01', maxIds: 1000, validate: ['dni:dni'] }],
    };
    await provisionInstance(plan);
    const central = await startCentral({ dir: centralDir(plan), host: '127.0.0.1', port: ports.central, clock: () => new Date() });
    const reniecDir = nodeDir(plan, 'reniec');
    const juntosDir = nodeDir(plan, 'juntos');
    const caPem = join(centralDir(plan), 'ca.pem');
    children.push(await spawnChild([join(dist, 'scripts/bench/backend-process.js'), String(ports.backend), String(ports.backendTls), join(reniecDir, 'keys/auth-key.pem'), join(reniecDir, 'auth.pem'), caPem], 'ready', { profile: true }));
    const provider = await spawnNode(reniecDir, { profile: true });
    const consumer = await spawnNode(juntosDir, { profile: true });
    children.push(provider, consumer);
    /**
     * Two forwarders in a row, with Juntos' and RENIEC's TLS identities as the nodes have them (the
     * inner one calls the backend): bare (nothing else: the floor), or signed (signing, verifying and
     * logging as a node would, with the nodes' Node flags; each with a log folder under `dir`).
     */
    const forwarders = async (edgePort: number, innerPort: number, signed: boolean): Promise<{ edge: ChildProcess; inner: ChildProcess }> => {
      const script = join(dist, 'scripts/bench/bare-forwarder.js');
      const signing = (name: string, peerDir: string): string[] => {
        if (!signed) return [];
        mkdirSync(join(dir, name));
        return ['--signed', join(dir, name), join(peerDir, 'auth.pem')];
      };
      const flags = signed ? nodeFlags() : [];
      const inner = await spawnChild([...flags, script, 'inner', String(innerPort), `https://127.0.0.1:${ports.backendTls}/`,
        join(reniecDir, 'keys/auth-key.pem'), join(reniecDir, 'auth.pem'), caPem, ...signing('floor-inner', juntosDir)], 'ready', { profile: true });
      children.push(inner);
      const edge = await spawnChild([...flags, script, 'edge', String(edgePort), `https://127.0.0.1:${innerPort}/`,
        join(juntosDir, 'keys/auth-key.pem'), join(juntosDir, 'auth.pem'), caPem, ...signing('floor-edge', reniecDir)], 'ready', { profile: true });
      children.push(edge);
      return { edge, inner };
    };
    const { edge: bareEdge, inner: bareInner } = await forwarders(ports.bareEdge, ports.bareInner, false);
    const { edge: floorEdge, inner: floorInner } = await forwarders(ports.floorEdge, ports.floorInner, true);
    const nodePids = { juntos: consumer.pid, reniec: provider.pid, 'bare-edge': bareEdge.pid, 'bare-inner': bareInner.pid };
    const idleRss = Object.fromEntries(Object.entries(nodePids).map(([n, pid]) => [n, statusMb(pid, 'VmRSS')]));

    const dnis = samplesDni(generateSandboxData(), 2000);
    const viaNodes = new Pool(`http://127.0.0.1:${ports.juntosIs}`, { connections: concurrency, keepAliveTimeout: 60_000 });
    const viaBare = new Pool(`http://127.0.0.1:${ports.bareEdge}`, { connections: concurrency, keepAliveTimeout: 60_000 });
    const viaFloor = new Pool(`http://127.0.0.1:${ports.floorEdge}`, { connections: concurrency, keepAliveTimeout: 60_000 });
    const direct = new Pool(`https://127.0.0.1:${ports.backendTls}`, {
      connections: concurrency, keepAliveTimeout: 60_000,
      connect: { key: readFileSync(join(juntosDir, 'keys/auth-key.pem')), cert: readFileSync(join(juntosDir, 'auth.pem')), ca: readFileSync(caPem), minVersion: 'TLSv1.3', servername: 'localhost' },
    });
    const closePools = (): Promise<unknown> => Promise.all([viaBare.close(), viaFloor.close(), viaNodes.close(), direct.close(), central.close()]);
    const say = (line: string): void => { if (!json) process.stdout.write(`${line}\n`); };
    say(`MIIS bench: ${seconds} s por escenario, concurrencia ${concurrency}, claves ${keyAlgorithm}, ${process.env.HOSTNAME ?? ''}`);
    if (process.env.BENCH_ONLY === 'through') {
      await load(viaNodes, dnis, 1500);
      const only = await measured(viaNodes, dnis, seconds * 1000, [consumer.pid, provider.pid]);
      process.stdout.write(`${JSON.stringify({ through: { rps: Math.round(only.result.perSecond), p50Ms: only.result.p50, p99Ms: only.result.p99, errors: only.result.errors }, cpuMsPerExchange: { juntos: only.cpuMsPerExchange[0], reniec: only.cpuMsPerExchange[1] } })}\n`);
      await closePools();
      return;
    }
    if (process.env.BENCH_ONLY === 'floor') {
      const runs: Record<string, unknown>[] = [];
      for (let round = 0; round < 2; round += 1) {
        for (const [name, pool, pids] of [['bare', viaBare, [bareEdge.pid, bareInner.pid]], ['signedFloor', viaFloor, [floorEdge.pid, floorInner.pid]], ['through', viaNodes, [consumer.pid, provider.pid]]] as const) {
          await load(pool, dnis, 1500);
          const r = await measured(pool, dnis, seconds * 1000, [...pids]);
          runs.push({ scenario: name, ...scenario(r.result), cpuMsPerExchange: r.cpuMsPerExchange.map(r2) });
        }
      }
      process.stdout.write(`${JSON.stringify(runs)}\n`);
      await closePools();
      return;
    }
    if (process.env.BENCH_ONLY === 'rate') {
      await load(viaNodes, dnis, 1500);
      await load(direct, dnis, 1500);
      await load(viaBare, dnis, 1500);
      await load(viaFloor, dnis, 1500);
      const onlyD = await fixedRate(direct, dnis, rate, seconds * 1000);
      const onlyB = await fixedRate(viaBare, dnis, rate, seconds * 1000);
      const onlyF = await fixedRate(viaFloor, dnis, rate, seconds * 1000);
      const onlyM = await fixedRate(viaNodes, dnis, rate, seconds * 1000);
      process.stdout.write(`${JSON.stringify(fixedRateReport(rate, onlyD, onlyB, onlyM, onlyF))}\n`);
      await closePools();
      return;
    }
    await load(direct, dnis, 1500);
    const d = await load(direct, dnis, seconds * 1000);
    await load(viaBare, dnis, 1500);
    const b = await measured(viaBare, dnis, seconds * 1000, [bareEdge.pid, bareInner.pid]);
    await load(viaFloor, dnis, 1500);
    const f = await measured(viaFloor, dnis, seconds * 1000, [floorEdge.pid, floorInner.pid]);
    await load(viaNodes, dnis, 1500);
    const m = await measured(viaNodes, dnis, seconds * 1000, [consumer.pid, provider.pid]);
    const fixedS = Math.min(seconds, 5) * 1000;
    const fd = await fixedRate(direct, dnis, rate, fixedS);
    const fb = await fixedRate(viaBare, dnis, rate, fixedS);
    const ff = await fixedRate(viaFloor, dnis, rate, fixedS);
    const fm = await fixedRate(viaNodes, dnis, rate, fixedS);
    // peaks of the single-DNI scenarios, before the batch scenario's ~450 KB responses
    const peakRss = Object.fromEntries(Object.entries(nodePids).map(([n, pid]) => [n, statusMb(pid, 'VmHWM')]));
    const batch = await batchLoad(viaNodes, dnis, fixedS, [consumer.pid, provider.pid]);
    const cpu: Record<string, number> = { juntos: m.cpuMsPerExchange[0] as number, reniec: m.cpuMsPerExchange[1] as number, 'bare-edge': b.cpuMsPerExchange[0] as number, 'bare-inner': b.cpuMsPerExchange[1] as number };
    const report = {
      scenarios: { direct: scenario(d), bare: scenario(b.result), through: scenario(m.result) },
      nodes: Object.fromEntries(Object.entries(nodePids).map(([n, pid]) => [n, { cpuMsPerExchange: r2(cpu[n] as number), idleRssMb: Math.round(idleRss[n] as number), peakRssMb: Math.round(peakRss[n] as number), peakRssWithBatchMb: Math.round(statusMb(pid, 'VmHWM')) }])),
      ratios: { throughOverDirect: r2(m.result.perSecond / d.perSecond), throughOverBare: r2(m.result.perSecond / b.result.perSecond) },
      signedFloor: {
        ...scenario(f.result), cpuMsPerExchange: { edge: r2(f.cpuMsPerExchange[0] as number), inner: r2(f.cpuMsPerExchange[1] as number) },
        throughOverSignedFloor: r2(m.result.perSecond / f.result.perSecond),
        // what the floor's processes logged so far (warm-up, measured run and fixed rate: 2 records per exchange)
        logRecords: { edge: floorRecords(join(dir, 'floor-edge')), inner: floorRecords(join(dir, 'floor-inner')) },
      },
      fixedRate: fixedRateReport(rate, fd, fb, fm, ff),
      batch: { idsPerRequest: 1000, ...batch, cpuMsPer1000Ids: { juntos: batch.cpuMsPer1000Ids[0], reniec: batch.cpuMsPer1000Ids[1] } },
    };
    if (json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      const row = (name: string, r: LoadResult) => `${name.padEnd(34)} ${r.perSecond.toFixed(0).padStart(8)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.count).padStart(8)} ${String(r.errors).padStart(6)}`;
      say(`${'escenario'.padEnd(34)} ${'interc/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'total'.padStart(8)} ${'errores'.padStart(6)}`);
      say(row('directo al backend (TLS mutuo)', d));
      say(row('reenvío mínimo (2 procesos)', b.result));
      say(row('reenvío firmado y registrado (piso)', f.result));
      say(row('IS → nodo Juntos → nodo RENIEC', m.result));
      say(`razón a través de nodos / directo: ${report.ratios.throughOverDirect}; a través de nodos / reenvío mínimo: ${report.ratios.throughOverBare}`);
      say(`piso firmado: CPU ${report.signedFloor.cpuMsPerExchange.edge.toFixed(2)} / ${report.signedFloor.cpuMsPerExchange.inner.toFixed(2)} ms/intercambio (borde / interno); a través de nodos / piso firmado: ${report.signedFloor.throughOverSignedFloor}; registros en sus registros de mensajes: ${report.signedFloor.logRecords.edge} / ${report.signedFloor.logRecords.inner}`);
      for (const [n, v] of Object.entries(report.nodes)) say(`proceso ${n.padEnd(11)} CPU ${v.cpuMsPerExchange.toFixed(2)} ms/intercambio, RSS en reposo ${v.idleRssMb} MB, pico ${v.peakRssMb} MB (${v.peakRssWithBatchMb} MB tras el lote)`);
      say(`a ${rate} interc/s: directo p50 ${fd.p50.toFixed(2)} ms p99 ${fd.p99.toFixed(2)} ms; a través de nodos p50 ${fm.p50.toFixed(2)} ms p99 ${fm.p99.toFixed(2)} ms (añadido p50 ${report.fixedRate.addedP50Ms} ms, p99 ${report.fixedRate.addedP99Ms} ms; errores ${fd.errors}/${fm.errors}); reenvío mínimo p50 ${fb.p50.toFixed(2)} ms p99 ${fb.p99.toFixed(2)} ms (añadido p50 ${report.fixedRate.bareAddedP50Ms} ms, p99 ${report.fixedRate.bareAddedP99Ms} ms; errores ${fb.errors}); piso firmado añade p50 ${report.fixedRate.signedFloorAddedP50Ms} ms, p99 ${report.fixedRate.signedFloorAddedP99Ms} ms (errores ${ff.errors})`);
      say(`lote consultarPersonas (1000 DNI): ${batch.idsPerSecond} DNI/s, ${batch.requests} solicitudes, p50 ${batch.p50Ms} ms, errores ${batch.errors}; CPU por 1000 DNI: Juntos ${batch.cpuMsPer1000Ids[0]} ms, RENIEC ${batch.cpuMsPer1000Ids[1]} ms`);
    }
    await closePools();
  } finally {
    await stopChildren(children);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
