/**
 * Attack suite, family «kill9»: a node process killed with SIGKILL under load. The RENIEC provider
 * and the Juntos consumer run as separate `miis-node serve` processes (as in production and in
 * scripts/bench.ts); the test drives 16 concurrent request loops through Juntos, kills one node
 * mid-load, stops the load, and checks that every exchange the IS saw answered with HTTP 200 has
 * its request and response records in BOTH message logs (read from the SQLite files as the kill
 * left them; message ids and directions are clear columns even in an encrypted log), that both
 * hash chains verify with `log verify`, and that the restarted nodes serve a normal request.
 * The group commit resolves an append only after its batch is committed (WAL), so an answered
 * exchange cannot be missing from the log of a process that died after answering.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { after, before, describe, it } from 'node:test';
import { nodePaths } from '../../node/store/paths.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { faultCodeOf, personaRequest, postSoap, startInstance, waitFor, type Instance } from '../e2e/fixture.js';
import { newId } from './helpers.js';
import { runNodeCliProcess, spawnServe } from '../helpers/node-process.js';

const WORKERS = 16;
/** Load bounds per case: at most this many requests, for at most this long. */
const MAX_REQUESTS = 1500;
const MAX_LOAD_MS = 60_000;
/** Answered exchanges before the kill. */
const BEFORE_KILL = 100;
/** Outcomes observed after the kill before the load stops. */
const AFTER_KILL = 32;

type NodeName = 'reniec' | 'juntos';

interface Outcome {
  readonly id: string;
  /** HTTP status, or 0 when the IS got no HTTP answer (connection refused or reset). */
  readonly status: number;
  readonly fault: string | undefined;
  readonly afterKill: boolean;
}

/** message id → directions recorded, read from a node's message log file without the node. */
function loggedDirections(dir: string): Map<string, Set<string>> {
  const db = new Database(nodePaths(dir).messageLog, { readonly: true, fileMustExist: true });
  try {
    const out = new Map<string, Set<string>>();
    for (const row of db.prepare('SELECT message_id, direction FROM messages').iterate() as Iterable<{ message_id: string; direction: string }>) {
      let s = out.get(row.message_id);
      if (s === undefined) out.set(row.message_id, (s = new Set()));
      s.add(row.direction);
    }
    return out;
  } finally {
    db.close();
  }
}

describe('attack: kill -9 under load', () => {
  let inst: Instance;
  let diagnostic: (message: string) => void = () => undefined;
  const procs = new Map<NodeName, ChildProcess>();

  /** Start `miis-node serve` for a node and wait until it listens. */
  async function spawnNode(name: NodeName): Promise<ChildProcess> {
    const proc = await spawnServe(nodeDir(inst.plan, name), name);
    procs.set(name, proc);
    return proc;
  }

  async function stopNode(name: NodeName, signal: 'SIGKILL' | 'SIGTERM'): Promise<number | null> {
    const proc = procs.get(name);
    assert.ok(proc !== undefined && proc.exitCode === null, `${name} is running`);
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => proc.once('exit', (code, sig) => r([code, sig])));
    proc.kill(signal);
    const [code, sig] = await exited;
    procs.delete(name);
    if (signal === 'SIGKILL') assert.equal(sig, 'SIGKILL');
    return code;
  }

  before(async () => {
    inst = await startInstance();
    // the fixture's in-process nodes make way for real processes on the same folders and ports
    await inst.reniec.close();
    await inst.juntos.close();
    await spawnNode('reniec');
    await spawnNode('juntos');
  });
  after(async () => {
    for (const [, proc] of procs) {
      if (proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await gone;
      }
    }
    await inst?.close();
  });

  async function good(): Promise<void> {
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id: newId('k9-ok') }));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<encontrado>true<\/encontrado>/);
  }

  /**
   * 16 loops of consultarPersona through Juntos; kill `victim` once BEFORE_KILL exchanges were
   * answered, keep the load on until AFTER_KILL more outcomes came back, then stop it.
   */
  async function loadAndKill(victim: NodeName): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    let killed = false;
    let stop = false;
    let sent = 0;
    const deadline = Date.now() + MAX_LOAD_MS;
    const worker = async (): Promise<void> => {
      while (!stop && sent < MAX_REQUESTS && Date.now() < deadline) {
        sent += 1;
        const id = newId('k9');
        const afterKill = killed;
        try {
          const res = await fetch(inst.juntos.isUrl, {
            method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: personaRequest(inst.dni, { id }), signal: AbortSignal.timeout(40_000),
          });
          const text = await res.text();
          const ok = res.status === 200 && text.includes('<encontrado>true</encontrado>');
          outcomes.push({ id, status: ok ? 200 : res.status === 200 ? -1 : res.status, fault: faultCodeOf(text), afterKill: afterKill || killed });
        } catch {
          outcomes.push({ id, status: 0, fault: undefined, afterKill: afterKill || killed });
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const workers = Promise.all(Array.from({ length: WORKERS }, worker));
    try {
      await waitFor(async () => (outcomes.filter((o) => o.status === 200).length >= BEFORE_KILL ? true : undefined), `${BEFORE_KILL} intercambios antes de matar ${victim}`, MAX_LOAD_MS);
      killed = true;
      await stopNode(victim, 'SIGKILL');
      await waitFor(async () => (outcomes.filter((o) => o.afterKill).length >= AFTER_KILL ? true : undefined), `${AFTER_KILL} respuestas tras matar ${victim}`, 30_000);
    } finally {
      stop = true;
      await workers;
    }
    assert.ok(sent <= MAX_REQUESTS + WORKERS);
    diagnostic(`${victim}: ${outcomes.filter((o) => o.status === 200).length} answered with 200, ${outcomes.filter((o) => o.afterKill).length} outcomes after the kill, ${outcomes.length} requests`);
    return outcomes;
  }

  /** Every exchange answered with 200 is in both logs; both chains verify; the restarted node serves. */
  async function checkLogsAndRecover(outcomes: readonly Outcome[], victim: NodeName, survivor: NodeName): Promise<void> {
    // the survivor stops normally (SIGTERM drains: exit 0) so both log files can be read as left
    assert.equal(await stopNode(survivor, 'SIGTERM'), 0, `${survivor} exits 0 on SIGTERM`);
    const answered = outcomes.filter((o) => o.status === 200).map((o) => o.id);
    assert.equal(outcomes.filter((o) => o.status === -1).length, 0, 'no HTTP 200 without the answer');
    for (const name of ['juntos', 'reniec'] as const) {
      const logged = loggedDirections(nodeDir(inst.plan, name));
      const missing = answered.filter((id) => !(logged.get(id)?.has('request') === true && logged.get(id)?.has('response') === true));
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${answered.length} answered exchanges lack a record in ${name}'s log`);
    }
    const verified = await Promise.all((['juntos', 'reniec'] as const).map(async (name) => [name, await runNodeCliProcess(['log', 'verify', '--dir', nodeDir(inst.plan, name)])] as const));
    for (const [name, v] of verified) {
      assert.equal(v.code, 0, `${name}: ${v.stdout}${v.stderr}`);
      assert.match(v.stdout, /^Cadena íntegra: \d+ registros/m, name);
    }
    // both back: the killed node restarts on its folder as the kill left it
    await Promise.all([spawnNode(victim), spawnNode(survivor)]);
    await good();
  }

  it('SIGKILL the provider (RENIEC) mid-load: the IS gets NetworkError faults, answered exchanges are in both logs, both chains verify', async (t) => {
    diagnostic = (m) => t.diagnostic(m);
    await good();
    const outcomes = await loadAndKill('reniec');
    const after = outcomes.filter((o) => o.afterKill && o.status !== 200);
    assert.ok(after.length > 0, 'requests failed after the kill');
    // Juntos is alive: the IS always gets a SOAP fault from it, never a dropped connection
    assert.deepEqual([...new Set(after.map((o) => o.fault))], ['Server.ClientProxy.NetworkError'], JSON.stringify(after.slice(0, 3)));
    await checkLogsAndRecover(outcomes, 'reniec', 'juntos');
  });

  it('SIGKILL the consumer (Juntos) mid-load: the IS loses its connections, answered exchanges are in both logs, both chains verify', async (t) => {
    diagnostic = (m) => t.diagnostic(m);
    await good();
    const outcomes = await loadAndKill('juntos');
    const after = outcomes.filter((o) => o.afterKill && o.status !== 200);
    assert.ok(after.length > 0 && after.every((o) => o.status === 0), `the IS has no HTTP answer after the kill: ${JSON.stringify(after.slice(0, 3))}`);
    await checkLogsAndRecover(outcomes, 'juntos', 'reniec');
  });
});
