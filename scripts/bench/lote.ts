/**
 * `npm run bench:lote -- --json [--ids N]`: a roll of N DNIs (default 1,000,000) sent as a batch
 * exchange (lote) through two node processes (Juntos → RENIEC), the provider answering with the
 * sql adapter over SQLite (90 % of the DNIs are in the registry). Prints
 * { ids, seconds, idsPerSecond, chunks, logRecords, peakRssMb } (peak RSS: the larger of the two
 * nodes; both are given in peakRssMbByNode; logRecords: the consumer's records of the batch, the
 * provider logs as many). Asserts nothing. BENCH_PROFILE_DIR=/tmp/p writes V8 CPU profiles of both nodes there.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { spawnNode, statusMb, stopChildren } from './children.js';
import { startCentral } from '../../central/main.js';
import { runCentralCli } from '../../central/cli/index.js';
import { centralDir, nodeDir, provisionInstance, type InstancePlan } from '../sandbox/provision.js';
import { freeBasePort } from '../sandbox/net.js';
import { JUNTOS_CLIENT, JUNTOS_RUC, RENIEC_RUC } from '../sandbox/run.js';

const json = process.argv.includes('--json');
const idsArg = process.argv.indexOf('--ids');
const ids = idsArg >= 0 ? Number(process.argv[idsArg + 1]) : 1_000_000;
const SERVICE = `PE/GOB/${RENIEC_RUC}/RUPN/consultarPadron`;
const CONVENIO = 'CONV-LOTE-2026';
const dniOf = (i: number): string => String(10_000_000 + i);
const say = (s: string): void => void (json ? process.stderr : process.stdout).write(`${s}\n`);

async function writeRoll(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('dni\n');
  for (let i = 0; i < n; i += 10_000) {
    let block = '';
    for (let j = i; j < Math.min(n, i + 10_000); j += 1) block += `${dniOf(j)}\n`;
    if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-bench-lote-'));
  const children: ChildProcess[] = [];
  const base = await freeBasePort(5);
  const ports = { central: base, reniecIs: base + 1, reniecProxy: base + 2, juntosIs: base + 3, juntosProxy: base + 4 };
  try {
    const dbPath = join(dir, 'padron.db');
    const db = new Database(dbPath);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE personas (dni TEXT PRIMARY KEY, nombres TEXT NOT NULL, ubigeo TEXT NOT NULL) WITHOUT ROWID');
    const put = db.prepare('INSERT INTO personas VALUES (?, ?, ?)');
    db.transaction(() => { for (let i = 0; i < ids; i += 1) if (i % 10 !== 9) put.run(dniOf(i), `PERSONA ${i}`, '150101'); })();
    db.close();
    writeFileSync(join(dir, 'padron.sql.json'), JSON.stringify({
      database: { sqlite: dbPath }, operation: 'consultarPadron', namespace: 'http://miis.midis.gob.pe/servicios/padron', id: 'dni',
      mode: 'in-list', idColumn: 'dni', query: 'SELECT dni, nombres, ubigeo FROM personas WHERE dni IN (:ids)',
      response: { element: 'consultarPadronResponse', item: 'persona', found: 'encontrado' },
      attributes: [{ column: 'nombres', element: 'nombres' }, { column: 'ubigeo', element: 'ubigeo' }],
    }));
    const plan: InstancePlan = {
      dir, instance: 'PE', memberClass: 'GOB', centralUrl: `http://127.0.0.1:${ports.central}`,
      entities: [
        { nodeName: 'reniec', ruc: RENIEC_RUC, name: 'RENIEC', role: 'RENIEC', subsystems: ['RUPN'], isPort: ports.reniecIs, proxyPort: ports.reniecProxy },
        { nodeName: 'juntos', ruc: JUNTOS_RUC, name: 'JUNTOS', role: 'IPF', subsystems: ['JUNTOS'], isPort: ports.juntosIs, proxyPort: ports.juntosProxy },
      ],
      services: [{ id: `${SERVICE}/v1`, title: 'Padrón', provider: 'reniec', backendUrl: '', sqlConfig: join(dir, 'padron.sql.json'), wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] }],
      agreements: [{ id: CONVENIO, provider: `PE/GOB/${RENIEC_RUC}`, clients: [JUNTOS_CLIENT], services: [`${SERVICE}/v1`], purposes: ['FOCALIZACION'], from: '2026-01-01' }],
    };
    await provisionInstance(plan);
    const tramaFile = join(dir, 'trama.json');
    writeFileSync(tramaFile, JSON.stringify({ id: 'PADRON', version: 1, key: 'dni', fields: [{ name: 'dni', type: 'texto', rule: 'dni', required: true }] }));
    let cliOut = '';
    const code = await runCentralCli(['trama', 'add', '--dir', centralDir(plan), '--servicio', SERVICE, '--convenio', CONVENIO, '--archivo', tramaFile, '--periodicidad', 'mensual'],
      { stdout: (s) => { cliOut += s; }, stderr: (s) => { cliOut += s; } });
    if (code !== 0) throw new Error(cliOut);
    const central = await startCentral({ dir: centralDir(plan), host: '127.0.0.1', port: ports.central, clock: () => new Date() });
    const provider = await spawnNode(nodeDir(plan, 'reniec'), { profile: true });
    const consumer = await spawnNode(nodeDir(plan, 'juntos'), { profile: true });
    children.push(provider, consumer);
    const roll = join(dir, 'padron.csv');
    await writeRoll(roll, ids);
    say(`rollo de ${ids} DNI escrito; envío por lotes…`);

    const isUrl = `http://127.0.0.1:${ports.juntosIs}/`;
    const started = performance.now();
    const q = new URLSearchParams({ cliente: JUNTOS_CLIENT, servicio: `${SERVICE}/v1`, convenio: CONVENIO, finalidad: 'FOCALIZACION', formato: 'csv' });
    const { createReadStream } = await import('node:fs');
    const res = await fetch(`${isUrl}lotes?${q.toString()}`, { method: 'POST', body: createReadStream(roll) as unknown as BodyInit, duplex: 'half' } as RequestInit);
    const submitted = await res.json() as { lote?: { id: string }; error?: string };
    if (submitted.lote === undefined) throw new Error(`envío rechazado: ${JSON.stringify(submitted)}`);
    const id = submitted.lote.id;
    let view: { estado: string; trozos: number; trozosHechos: number; registrosHechos: number; error: string | null };
    for (;;) {
      view = await (await fetch(`${isUrl}lotes/${id}`)).json() as typeof view;
      if (view.estado !== 'en-curso' && view.estado !== 'pendiente') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    if (view.estado !== 'terminado') throw new Error(`el lote quedó ${view.estado}: ${view.error ?? ''}`);
    const peaks = { juntos: Math.round(statusMb(consumer.pid, 'VmHWM')), reniec: Math.round(statusMb(provider.pid, 'VmHWM')) };
    const count = (name: string): number => {
      const log = new Database(join(nodeDir(plan, name), 'messagelog.db'), { readonly: true });
      try {
        return (log.prepare("SELECT COUNT(*) AS n FROM messages WHERE message_id LIKE 'lote:%'").get() as { n: number }).n;
      } finally {
        log.close();
      }
    };
    const result = {
      ids, seconds: Math.round(seconds * 100) / 100, idsPerSecond: Math.round(ids / seconds), chunks: view.trozos,
      logRecords: count('juntos'), logRecordsProvider: count('reniec'), peakRssMb: Math.max(peaks.juntos, peaks.reniec), peakRssMbByNode: peaks,
    };
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else say(`lote de ${ids} DNI: ${result.seconds} s, ${result.idsPerSecond} DNI/s, ${result.chunks} trozos, ${result.logRecords} registros de evidencia por lado, RSS pico Juntos ${peaks.juntos} MB, RENIEC ${peaks.reniec} MB`);
    await central.close();
  } finally {
    await stopChildren(children);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:lote: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
