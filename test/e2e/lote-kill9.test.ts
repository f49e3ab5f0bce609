/**
 * Batch exchanges (lotes) surviving kill -9: RENIEC's provider node and Juntos' consumer node run as
 * separate `miis-node serve` processes; a writing sql service (each record adds 1 to a counter).
 * - the provider dies by SIGKILL at the worst point (a chunk committed in the backend, not yet
 *   recorded done in node.db; crash point MIIS_TEST_KILL_AFTER_APPLY); restarted, the batch
 *   resumes, completes, and the chunk is not applied twice (the sql adapter keeps the chunk key in
 *   the backend's own transaction);
 * - the consumer dies by SIGKILL mid-batch (provider paused with SIGSTOP so chunks are in flight);
 *   restarted, the batch resumes from the last acknowledged chunk and completes;
 * in both, the result file has one line per input line and every record was applied exactly once.
 * Then the first batch is exported (`lote exportar`) and its verify.sh passes with sh, openssl and
 * xmlsec1 alone; one changed byte in a chunk makes it fail.
 */
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCentralCli } from '../../central/cli/index.js';
import { APPLIED_TABLE } from '../../node/adapters/sql.js';
import { centralDir, nodeDir, type ServicePlan } from '../../scripts/sandbox/provision.js';
import { needTool } from '../helpers/tools.js';
import { runNodeCliProcess, spawnServe } from '../helpers/node-process.js';
import { BASE_AGREEMENT, CONSULTAR_PERSONA, CONVENIO, JUNTOS_CLIENT, RENIEC, runCli, startInstance, waitFor, type Instance } from './fixture.js';

const REGISTRAR = `${RENIEC}/RUPN/registrarPadron/v1`;
const NS = 'http://miis.midis.gob.pe/servicios/padron';
/** Records per batch; the registry holds 2 × IDS people (first batch: 1..IDS, second: IDS+1..2·IDS). */
const IDS = 2000;
const CHUNK = 250;
const KILL_AT_CHUNK = 1;
const dniOf = (i: number): string => String(10_000_000 + i);

type NodeName = 'reniec' | 'juntos';

function prepare(dir: string): ServicePlan[] {
  const dbPath = join(dir, 'padron.db');
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE personas (dni TEXT PRIMARY KEY, aplicaciones INTEGER NOT NULL DEFAULT 0)');
  const put = db.prepare('INSERT INTO personas (dni) VALUES (?)');
  db.transaction(() => { for (let i = 1; i <= 2 * IDS; i += 1) put.run(dniOf(i)); })();
  db.close();
  writeFileSync(join(dir, 'registrar.sql.json'), JSON.stringify({
    database: { sqlite: dbPath }, operation: 'registrarPadron', namespace: NS, id: 'dni', write: true,
    query: 'UPDATE personas SET aplicaciones = aplicaciones + 1 WHERE dni = :id',
    response: { element: 'registrarPadronResponse', item: 'resultado', changed: 'registrado' }, attributes: [],
  }));
  return [{ provider: 'reniec', backendUrl: '', wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT], id: REGISTRAR, title: 'Registrar en el padrón (lotes)', sqlConfig: join(dir, 'registrar.sql.json') }];
}

function sh(script: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('sh', [script], { encoding: 'utf8', timeout: 120_000 }, (err, stdout) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout }));
  });
}

interface View { estado: string; trozos: number; trozosHechos: number; error: string | null }

describe('lotes: kill -9 de cualquiera de los nodos a mitad de lote', () => {
  let inst: Instance;
  const procs = new Map<NodeName, ChildProcess>();
  const ids: string[] = [];

  async function spawnNode(name: NodeName, env: Record<string, string> = {}): Promise<ChildProcess> {
    const proc = await spawnServe(nodeDir(inst.plan, name), name, env);
    procs.set(name, proc);
    return proc;
  }

  const exitOf = (proc: ChildProcess): Promise<NodeJS.Signals | null> =>
    proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve(proc.signalCode) : new Promise((r) => proc.once('exit', (_c, sig) => r(sig)));

  const isUrl = (): string => inst.juntos.isUrl;
  const view = async (id: string): Promise<View> => (await fetch(`${isUrl()}lotes/${id}`)).json() as Promise<View>;

  /** Resume (again after each failure, e.g. the provider still starting) until the batch is finished. */
  async function resumeUntilDone(id: string): Promise<void> {
    await waitFor(async () => {
      const v = await view(id);
      if (v.estado === 'terminado') return true;
      if (v.estado === 'detenido' || v.estado === 'fallido') await fetch(`${isUrl()}lotes/${id}/reanudar`, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 200));
      return undefined;
    }, `lote ${id} terminado`, 90_000);
  }

  /** The result file has one line per input line, in order, each record applied. */
  async function checkResult(id: string, first: number): Promise<void> {
    const text = await (await fetch(`${isUrl()}lotes/${id}/resultado`)).text();
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { linea: number; id: string; aplicado?: boolean });
    assert.equal(lines.length, IDS);
    lines.forEach((l, k) => {
      assert.equal(l.linea, k + 1);
      assert.equal(l.id, dniOf(first + k));
      assert.equal(l.aplicado, true, `línea ${k + 1}`);
    });
  }

  /** applications → people, over the DNIs first..first+IDS-1. */
  function applications(first: number): Record<number, number> {
    const db = new Database(join(inst.dir, 'padron.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT aplicaciones, COUNT(*) AS n FROM personas WHERE dni BETWEEN ? AND ? GROUP BY aplicaciones').all(dniOf(first), dniOf(first + IDS - 1)) as { aplicaciones: number; n: number }[];
      return Object.fromEntries(rows.map((r) => [r.aplicaciones, r.n]));
    } finally {
      db.close();
    }
  }

  async function submit(first: number): Promise<string> {
    const body = Array.from({ length: IDS }, (_, k) => JSON.stringify({ dni: dniOf(first + k) })).join('\n');
    const q = new URLSearchParams({ cliente: JUNTOS_CLIENT, servicio: REGISTRAR, convenio: CONVENIO, finalidad: 'FOCALIZACION', formato: 'jsonl', trozo: String(CHUNK) });
    const res = await fetch(`${isUrl()}lotes?${q.toString()}`, { method: 'POST', body });
    const out = await res.json() as { lote?: { id: string } };
    assert.equal(res.status, 202, JSON.stringify(out));
    return (out.lote as { id: string }).id;
  }

  before(async () => {
    inst = await startInstance({
      agreements: [{ ...BASE_AGREEMENT, services: [CONSULTAR_PERSONA, REGISTRAR] }],
      prepare,
      beforeStart: async (plan) => {
        const file = join(plan.dir, 'PADRON-REG.json');
        writeFileSync(file, JSON.stringify({ id: 'PADRON-REG', version: 1, key: 'dni', fields: [{ name: 'dni', type: 'texto', rule: 'dni', required: true }] }));
        const r = await runCli(runCentralCli, ['trama', 'add', '--dir', centralDir(plan), '--servicio', REGISTRAR.split('/').slice(0, 5).join('/'), '--convenio', CONVENIO, '--archivo', file, '--periodicidad', 'mensual']);
        assert.equal(r.code, 0, r.stderr);
        // time-stamp often, so that the export does not wait a minute
        for (const n of ['reniec', 'juntos'] as const) writeFileSync(join(nodeDir(plan, n), 'evidence.json'), JSON.stringify({ timestamping: { intervalSec: 1 } }));
      },
    });
    for (const n of [inst.juntos, inst.reniec]) {
      await waitFor(async () => ((n.ctx.conf.latest()?.conf.tramas?.length ?? 0) >= 1 ? true : undefined), 'trama publicada', 15_000);
    }
    // the fixture's in-process nodes make way for real processes on the same folders and ports
    await inst.reniec.close();
    await inst.juntos.close();
    await spawnNode('juntos');
  });
  after(async () => {
    for (const [, proc] of procs) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGCONT');
        const gone = exitOf(proc);
        proc.kill('SIGKILL');
        await gone;
      }
    }
    await inst?.close();
  });

  it('proveedor muerto (SIGKILL) tras aplicar un trozo y antes de anotarlo: reanuda, termina y no lo aplica dos veces', async () => {
    const provider = await spawnNode('reniec', { MIIS_TEST_KILL_AFTER_APPLY: String(KILL_AT_CHUNK) });
    const id = await submit(1);
    ids.push(id);
    assert.equal(await exitOf(provider), 'SIGKILL');
    procs.delete('reniec');
    // the crash hit the window: the chunk is committed in the backend (with its key) but not done in node.db
    const backend = new Database(join(inst.dir, 'padron.db'), { readonly: true });
    const keyed = backend.prepare(`SELECT COUNT(*) AS n FROM ${APPLIED_TABLE} WHERE lote = ? AND trozo = ?`).get(id, KILL_AT_CHUNK) as { n: number };
    const applied = backend.prepare('SELECT COUNT(*) AS n FROM personas WHERE dni BETWEEN ? AND ? AND aplicaciones = 1')
      .get(dniOf(1 + KILL_AT_CHUNK * CHUNK), dniOf((KILL_AT_CHUNK + 1) * CHUNK)) as { n: number };
    backend.close();
    assert.equal(keyed.n, 1);
    assert.equal(applied.n, CHUNK);
    const nodeDb = new Database(join(nodeDir(inst.plan, 'reniec'), 'node.db'), { readonly: true });
    const marked = nodeDb.prepare('SELECT COUNT(*) AS n FROM batch_chunks_done WHERE batch_id = ? AND chunk = ?').get(id, KILL_AT_CHUNK) as { n: number };
    nodeDb.close();
    assert.equal(marked.n, 0);
    await waitFor(async () => ((await view(id)).estado !== 'en-curso' ? true : undefined), 'el consumidor deja el lote', 60_000);
    await spawnNode('reniec');
    await resumeUntilDone(id);
    await checkResult(id, 1);
    assert.deepEqual(applications(1), { 1: IDS });
  });

  it('consumidor muerto (SIGKILL) con trozos en vuelo (y el proveedor que los retenía): reanuda desde el último trozo confirmado y cada registro se aplica una vez', async () => {
    // the provider answers the first chunk and keeps the others in flight (test-only hold), whatever the machine's speed
    const running = procs.get('reniec') as ChildProcess;
    const stoppedProvider = exitOf(running);
    running.kill('SIGKILL');
    await stoppedProvider;
    procs.delete('reniec');
    const provider = await spawnNode('reniec', { MIIS_TEST_HOLD_FROM_CHUNK: '1' });
    const id = await submit(IDS + 1);
    ids.push(id);
    await waitFor(async () => ((await view(id)).trozosHechos >= 1 ? true : undefined), 'primer trozo confirmado', 60_000);
    const before = await view(id);
    assert.notEqual(before.estado, 'terminado');
    assert.ok(before.trozosHechos < before.trozos);
    const consumer = procs.get('juntos') as ChildProcess;
    const gone = exitOf(consumer);
    consumer.kill('SIGKILL');
    assert.equal(await gone, 'SIGKILL');
    procs.delete('juntos');
    const providerGone = exitOf(provider);
    provider.kill('SIGKILL');
    await providerGone;
    procs.delete('reniec');
    await spawnNode('reniec');
    await spawnNode('juntos');
    const stopped = await view(id);
    assert.equal(stopped.estado, 'detenido');
    assert.ok(stopped.trozosHechos >= before.trozosHechos && stopped.trozosHechos < stopped.trozos, JSON.stringify(stopped));
    await resumeUntilDone(id);
    await checkResult(id, IDS + 1);
    assert.deepEqual(applications(IDS + 1), { 1: IDS });
  });

  it('el lote exportado se verifica solo con sh, openssl y xmlsec1; un byte cambiado en un trozo se detecta', { skip: needTool('openssl', 'xmlsec1') }, async () => {
    const id = ids[0];
    assert.ok(id !== undefined);
    const out = join(inst.dir, 'lote-exportado');
    const dir = nodeDir(inst.plan, 'juntos');
    // the last records are time-stamped within about a second
    const exported = await waitFor(async () => {
      const r = await runNodeCliProcess(['lote', 'exportar', id, '--out', out, '--dir', dir, '--json']);
      if (r.code === 0) return r;
      assert.match(r.stderr, /sello de tiempo/);
      await new Promise((res) => setTimeout(res, 500));
      return undefined;
    }, 'lote exportado', 30_000);
    assert.equal((JSON.parse(exported.stdout) as { trozos: number }).trozos, IDS / CHUNK);
    const ok = await sh(join(out, 'verify.sh'));
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /manifiesto: OK/);
    assert.match(ok.stdout, new RegExp(`trozo-${KILL_AT_CHUNK}: OK`));
    assert.match(ok.stdout, new RegExp(`LOTE VERIFICADO: OK \\(${IDS / CHUNK} trozos\\)`));
    // one byte of one chunk's records changed
    const chunkFile = join(out, 'trozo-3', 'request.xml');
    const bytes = readFileSync(chunkFile);
    const at = bytes.length - 5; // inside the last record's DNI
    bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
    writeFileSync(chunkFile, bytes);
    const bad = await sh(join(out, 'verify.sh'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /FALLA: trozo-3/);
    assert.doesNotMatch(bad.stdout, /LOTE VERIFICADO/);
  });
});
