/**
 * `node dist/scripts/bench/replay-in-log.js`: the replay memory's cost per exchange (issue 10, stop 18).
 * Old path: node.db `replayMemory('server').admit` (one node.db commit per event-loop turn), then the
 * request and response appends to the message log. New path: the request append carries the check
 * (`append(record, { replayWindowMs })`), then the response append. For BENCH_BATCHES exchanges
 * started in the same turn (default 1, 4, 16) it runs BENCH_EXCHANGES exchanges (default 3,000,
 * after 300 warm-up ones) on new unencrypted files and prints the process CPU time (user + system)
 * per exchange and the wall time per round of concurrent exchanges; the lowest of BENCH_ROUNDS runs
 * (default 3). It prints numbers and asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMessageLog, type LogRecord, type MessageLog } from '../../node/evidence/message-log.js';
import { openLocalStore, type ReplayMemory } from '../../node/store/local-store.js';

const EXCHANGES = Number(process.env.BENCH_EXCHANGES ?? 3000);
const BATCHES = (process.env.BENCH_BATCHES ?? '1,4,16').split(',').filter((b) => b !== '').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WINDOW = 600_000;
const CLIENT = 'PE/GOB/20511268401/JUNTOS';
const signature = `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">${'s'.repeat(1400)}</ds:Signature>`;

function record(id: string, direction: 'request' | 'response'): LogRecord {
  return {
    side: 'server', direction, messageId: id, client: CLIENT, service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1',
    userId: 'PE10117410', convenio: 'CONV-001', finalidad: 'FOCALIZACION', at: new Date(),
    message: Buffer.from(`<SOAP-ENV:Envelope>${'m'.repeat(1200)}${id}</SOAP-ENV:Envelope>`), signature, signerCertSha256: 'a'.repeat(64),
  };
}

type Exchange = (id: string) => Promise<void>;

async function oldPath(memory: ReplayMemory, log: MessageLog, id: string): Promise<void> {
  const ok = memory.admit(CLIENT, id, Date.now());
  if (ok === false || !(await ok)) throw new Error('duplicate');
  await log.append(record(id, 'request'));
  await log.append(record(id, 'response'));
}

async function newPath(log: MessageLog, id: string): Promise<void> {
  await log.append(record(id, 'request'), { replayWindowMs: WINDOW });
  await log.append(record(id, 'response'));
}

async function run(batch: number, path: 'old' | 'new'): Promise<{ cpuUs: number; wallUs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-bench-replay-'));
  const store = openLocalStore(join(dir, 'node.db'));
  const log = openMessageLog(join(dir, 'messagelog.db'));
  const memory = store.replayMemory('server', WINDOW);
  const exchange: Exchange = path === 'old' ? (id) => oldPath(memory, log, id) : (id) => newPath(log, id);
  let n = 0;
  const rounds = async (count: number): Promise<void> => {
    for (let done = 0; done < count; done += batch) {
      await Promise.all(Array.from({ length: batch }, () => exchange(`bench-${process.pid}-${(n += 1)}`)));
    }
  };
  try {
    await rounds(300);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await rounds(EXCHANGES);
    const wallNs = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(cpu0);
    return { cpuUs: (cpu.user + cpu.system) / EXCHANGES, wallUs: wallNs / 1000 / (EXCHANGES / batch) };
  } finally {
    await log.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`${EXCHANGES} exchanges (request + response records) per run, lowest of ${ROUNDS} runs`);
console.log('batch  path  CPU µs/exchange  wall µs/round');
for (const batch of BATCHES) {
  for (const path of ['old', 'new'] as const) {
    let best = { cpuUs: Infinity, wallUs: Infinity };
    for (let r = 0; r < ROUNDS; r += 1) {
      const m = await run(batch, path);
      best = { cpuUs: Math.min(best.cpuUs, m.cpuUs), wallUs: Math.min(best.wallUs, m.wallUs) };
    }
    console.log(`${String(batch).padStart(5)}  ${path}   ${best.cpuUs.toFixed(1).padStart(14)}  ${best.wallUs.toFixed(0).padStart(13)}`);
  }
}
