/**
 * `npm run bench:log-stall`: how long the message log blocks the event loop under a steady load,
 * with SQLite's own WAL checkpoints (in the commit that crosses 1,000 pages) and with the node's
 * checkpointer (node/evidence/checkpointer.ts: a worker thread). For each mode it appends
 * BENCH_RATE exchanges per second (two ~3 KB records each, a request then its response, as the
 * nodes do) for BENCH_SECONDS, and prints the append latency (p50, p99, max), the event-loop delay
 * (p99, max: perf_hooks.monitorEventLoopDelay) and the CPU per exchange of the process (all threads)
 * and of its main thread (Linux: /proc). It prints numbers
 * and asserts nothing. Env: BENCH_RATE (default 400), BENCH_SECONDS (default 10), BENCH_ROUNDS (2).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startLogCheckpointer } from '../../node/evidence/checkpointer.js';
import { threadCpuMs } from './children.js';
import { createLogCipher, ensureLogKeyFile } from '../../node/evidence/log-crypto.js';
import { openMessageLog, type LogRecord } from '../../node/evidence/message-log.js';

const RATE = Number(process.env.BENCH_RATE ?? 400);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);

function record(n: number, direction: 'request' | 'response'): LogRecord {
  return {
    side: 'server', direction, messageId: `stall-${n}`, client: 'PE/GOB/20511268401/JUNTOS',
    service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', at: new Date(), userId: 'PE10117410', convenio: 'CONV-001-2026', finalidad: 'FOCALIZACION',
    message: Buffer.from(`<m>${String(40000000 + n)}${'x'.repeat(1400)}</m>`), signature: `<ds:Signature>${'s'.repeat(1500)}${n}</ds:Signature>`,
    signerCertSha256: 'c'.repeat(64),
  };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};

async function run(mode: 'sqlite' | 'worker'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-stall-'));
  const cipher = createLogCipher(ensureLogKeyFile(join(dir, 'keys.json'), new Date()));
  const path = join(dir, 'messagelog.db');
  const log = openMessageLog(path, { cipher });
  const ck = mode === 'worker' ? startLogCheckpointer({ log, path, info: (l) => process.stdout.write(`${l}\n`), intervalMs: Number(process.env.BENCH_CKPT_MS ?? 1000) }) : undefined;
  const latencies: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const cpu0 = process.cpuUsage();
  const main0 = threadCpuMs(process.pid, process.pid);
  loop.enable();
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < SECONDS * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * RATE);
    for (; n < due; n += 1) {
      const t = performance.now();
      const i = n;
      inFlight.push(log.append(record(i, 'request')).then(() => log.append(record(i, 'response'))).then(() => { latencies.push(performance.now() - t); }));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  const mainUs = (threadCpuMs(process.pid, process.pid) - main0) * 1000;
  const status = ck?.status();
  const walMb = statSync(`${path}-wal`).size / 1048576;
  await ck?.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  const ms = (x: number) => x.toFixed(2).padStart(7);
  return `${mode.padEnd(7)} ${String(n).padStart(6)}  ${ms(pct(latencies, 0.5))} ${ms(pct(latencies, 0.99))} ${ms(Math.max(...latencies))}   ${ms(loop.percentile(99) / 1e6)} ${ms(loop.max / 1e6)}   ${(((cpu.user + cpu.system) / n)).toFixed(1).padStart(6)} ${(mainUs / n).toFixed(1).padStart(6)}`
    + `   WAL ${walMb.toFixed(1)} MB` + (status === undefined ? '' : `, ${status.checkpoints} checkpoints in the worker (${status.restarts} WAL restarts, longest hold ${status.longestHoldMs.toFixed(1)} ms)`);
}

async function main(): Promise<void> {
  console.log(`message log under ${RATE} exchanges/s (2 records each) for ${SECONDS} s; node ${process.version}`);
  console.log('mode    exchanges  append+append ms: p50     p99     max   loop delay ms: p99   max   µs CPU/exchange: process, main thread');
  for (let r = 0; r < ROUNDS; r += 1) {
    for (const mode of ['sqlite', 'worker'] as const) console.log(await run(mode));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
