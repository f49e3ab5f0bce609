/**
 * Batch exchanges (lotes) end to end: central publishes the trama, Juntos' node sends a file of
 * 2,500 records in chunks of 1,000 to RENIEC's node (sql adapter over SQLite), the result file has
 * one line per input line in order, rejected lines carry their reason, one log record per message
 * and direction, `log verify` passes; a batch stopped mid-way resumes from the last acknowledged
 * chunk, and a writing service applies every record exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCentralCli } from '../../central/cli/index.js';
import { runNodeCli } from '../../node/cli/index.js';
import { centralDir, nodeDir, type ServicePlan } from '../../scripts/sandbox/provision.js';
import { BASE_AGREEMENT, CONSULTAR_PERSONA, CONVENIO, JUNTOS_CLIENT, RENIEC, faultCodeOf, postMtls, runCli, startInstance, waitFor, type Instance } from './fixture.js';
import { createSigner, signDetached } from '../../core/signature.js';
import { encodeMessage, sha256Hex } from '../../node/pipeline/batch-format.js';
import { encodeSignedMessage } from '../../node/pipeline/signed-message.js';

const PADRON = `${RENIEC}/RUPN/consultarPadron/v1`;
const REGISTRAR = `${RENIEC}/RUPN/registrarPadron/v1`;
const NS = 'http://miis.midis.gob.pe/servicios/padron';
const IDS = 2500;
const dniOf = (i: number): string => String(10_000_000 + i);
/** Lines (1-based record index) that are not valid DNIs. */
const BAD = new Set([7, 1500, 2500]);
/** Records whose DNI is not in the registry. */
const MISSING = (i: number): boolean => i % 10 === 0;

function prepare(dir: string): ServicePlan[] {
  const dbPath = join(dir, 'padron.db');
  const db = new Database(dbPath);
  db.exec('CREATE TABLE personas (dni TEXT PRIMARY KEY, nombres TEXT NOT NULL, aplicaciones INTEGER NOT NULL DEFAULT 0)');
  const put = db.prepare('INSERT INTO personas (dni, nombres) VALUES (?, ?)');
  db.transaction(() => { for (let i = 1; i <= IDS; i += 1) if (!MISSING(i)) put.run(dniOf(i), `PERSONA ${i}`); })();
  db.close();
  writeFileSync(join(dir, 'padron.sql.json'), JSON.stringify({
    database: { sqlite: dbPath }, operation: 'consultarPadron', namespace: NS, id: 'dni', mode: 'in-list', idColumn: 'dni',
    query: 'SELECT dni, nombres FROM personas WHERE dni IN (:ids)',
    response: { element: 'consultarPadronResponse', item: 'persona', found: 'encontrado' }, attributes: [{ column: 'nombres', element: 'nombres' }],
  }));
  writeFileSync(join(dir, 'registrar.sql.json'), JSON.stringify({
    database: { sqlite: dbPath }, operation: 'registrarPadron', namespace: NS, id: 'dni', write: true,
    query: 'UPDATE personas SET aplicaciones = aplicaciones + 1 WHERE dni = :id',
    response: { element: 'registrarPadronResponse', item: 'resultado', changed: 'registrado' }, attributes: [],
  }));
  const base = { provider: 'reniec', backendUrl: '', wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] };
  return [
    { ...base, id: PADRON, title: 'Padrón (lotes)', sqlConfig: join(dir, 'padron.sql.json') },
    { ...base, id: REGISTRAR, title: 'Registrar en el padrón (lotes)', sqlConfig: join(dir, 'registrar.sql.json') },
  ];
}

const trama = (id: string) => ({ id, version: 1, key: 'dni', fields: [{ name: 'dni', type: 'texto', rule: 'dni', required: true }, { name: 'nota', type: 'texto' }], chunkRecords: 1000 });

function rollCsv(path: string): void {
  const lines = ['dni,nota'];
  for (let i = 1; i <= IDS; i += 1) lines.push(`${BAD.has(i) ? 'ABC' : dniOf(i)},n${i}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}

describe('lotes: trozos firmados y reanudables entre dos nodos', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance({
      agreements: [{ ...BASE_AGREEMENT, services: [CONSULTAR_PERSONA, PADRON, REGISTRAR] }],
      prepare,
      beforeStart: async (plan) => {
        for (const [id, service] of [['PADRON', PADRON], ['PADRON-REG', REGISTRAR]] as const) {
          const file = join(plan.dir, `${id}.json`);
          writeFileSync(file, JSON.stringify(trama(id)));
          const r = await runCli(runCentralCli, ['trama', 'add', '--dir', centralDir(plan), '--servicio', service.split('/').slice(0, 5).join('/'), '--convenio', CONVENIO, '--archivo', file, '--periodicidad', 'mensual']);
          assert.equal(r.code, 0, r.stderr);
        }
      },
    });
    // both nodes must have a configuration that carries the tramas
    for (const n of [inst.juntos, inst.reniec]) {
      await waitFor(async () => ((n.ctx.conf.latest()?.conf.tramas?.length ?? 0) >= 2 ? true : undefined), 'tramas publicadas', 15_000);
    }
  });
  after(async () => inst?.close());

  it('publica la trama en la configuración global (con su periodicidad)', () => {
    const t = inst.juntos.ctx.conf.latest()?.conf.tramas?.find((x) => x.id === 'PADRON');
    assert.equal(t?.service, `${RENIEC}/RUPN/consultarPadron`);
    assert.equal(t?.agreement, CONVENIO);
    assert.equal(t?.periodicity, 'mensual');
    assert.deepEqual(t?.fields.map((f) => f.rule), ['dni', undefined]);
  });

  it('envía 2.500 registros en 3 trozos: una línea de resultado por línea, rechazados con motivo, registro por trozo, verificación', async () => {
    const roll = join(inst.dir, 'padron.csv');
    rollCsv(roll);
    const dir = nodeDir(inst.plan, 'juntos');
    const r = await runCli(runNodeCli, ['lote', 'enviar', '--dir', dir, '--servicio', PADRON, '--convenio', CONVENIO, '--finalidad', 'FOCALIZACION', '--archivo', roll, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { id: string; trozos: number; registros: number; rechazados: number; archivos: { resultado: string; rechazados: string } };
    assert.equal(out.trozos, 3);
    assert.equal(out.registros, IDS);
    assert.equal(out.rechazados, BAD.size);
    const results = readFileSync(out.archivos.resultado, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { linea: number; id?: string; encontrado?: boolean; datos?: { nombres: string }[]; rechazado?: string });
    assert.equal(results.length, IDS);
    results.forEach((res, k) => {
      const i = k + 1;
      assert.equal(res.linea, i + 1); // line 1 is the header
      if (BAD.has(i)) assert.match(res.rechazado ?? '', /campo «dni»/);
      else if (MISSING(i)) assert.equal(res.encontrado, false);
      else assert.deepEqual(res.datos, [{ nombres: `PERSONA ${i}` }]);
    });
    const rejected = readFileSync(out.archivos.rechazados, 'utf8').trimEnd().split('\n');
    assert.equal(rejected[0], 'linea;motivo');
    assert.deepEqual(rejected.slice(1).map((l) => Number(l.split(';')[0])), [...BAD].map((i) => i + 1));
    // one record per message and direction on each side: manifest + 3 chunks, request and response
    for (const node of [inst.juntos, inst.reniec]) {
      const records = (node.ctx.log as { list(o: { limit: number }): { messageId: string; direction: string }[] }).list({ limit: 10_000 }).filter((x) => x.messageId.startsWith(`lote:${out.id}:`));
      assert.equal(records.length, 8);
    }
    for (const name of ['juntos', 'reniec']) {
      const v = await runCli(runNodeCli, ['log', 'verify', '--dir', nodeDir(inst.plan, name)]);
      assert.equal(v.code, 0, v.stdout + v.stderr);
    }
    // the same file again: the finished batch is found, not sent twice
    const again = await runCli(runNodeCli, ['lote', 'enviar', '--dir', dir, '--servicio', PADRON, '--convenio', CONVENIO, '--finalidad', 'FOCALIZACION', '--archivo', roll, '--json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { id: string }).id, out.id);
    const estado = await runCli(runNodeCli, ['lote', 'estado', out.id, '--dir', dir, '--json']);
    assert.equal((JSON.parse(estado.stdout) as { estado: string }).estado, 'terminado');
    // the provider node reported the delivery: central shows the monthly trama delivered this period
    const rows = await waitFor(async () => {
      const e = await runCli(runCentralCli, ['trama', 'entregas', '--dir', centralDir(inst.plan), '--json']);
      const list = JSON.parse(e.stdout) as { trama: string; estado: string; cliente: string; entregado: string | null }[];
      return list.some((r) => r.trama === 'PADRON v1' && r.estado === 'entregado') ? list : undefined;
    }, 'entrega informada a central');
    const padron = rows.filter((r) => r.trama === 'PADRON v1');
    // registered today: the previous period owed nothing; this period's delivery is in
    assert.deepEqual(padron.map((r) => [r.estado, r.cliente]), [['entregado', JUNTOS_CLIENT]]);
  });

  it('reanuda tras detener el nodo consumidor a mitad de lote; el servicio de escritura aplica cada registro una sola vez', async () => {
    const roll = join(inst.dir, 'registrar.jsonl');
    writeFileSync(roll, Array.from({ length: IDS }, (_, k) => JSON.stringify({ dni: dniOf(k + 1) })).join('\n'));
    const dir = nodeDir(inst.plan, 'juntos');
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let reached!: (id: string) => void;
    const atFirst = new Promise<string>((r) => { reached = r; });
    (inst.juntos.batches as NonNullable<typeof inst.juntos.batches>).afterChunk = async (id, chunk) => {
      if (chunk === 0) {
        reached(id);
        await released;
      }
    };
    const res = await fetch(`${inst.juntos.isUrl}lotes?${new URLSearchParams({ cliente: JUNTOS_CLIENT, servicio: REGISTRAR, convenio: CONVENIO, finalidad: 'FOCALIZACION', formato: 'jsonl' }).toString()}`, { method: 'POST', body: readFileSync(roll) });
    assert.equal(res.status, 202);
    const id = await atFirst;
    const closing = inst.restartNode('juntos'); // stop via the fixture: no new chunk, chunks in flight not committed
    release();
    await closing;
    const stopped = await runCli(runNodeCli, ['lote', 'estado', id, '--dir', dir, '--json']);
    const view = JSON.parse(stopped.stdout) as { estado: string; trozosHechos: number };
    assert.equal(view.estado, 'detenido');
    assert.equal(view.trozosHechos, 1);
    const resumed = await runCli(runNodeCli, ['lote', 'reanudar', id, '--dir', dir, '--salida', join(inst.dir, 'registrar'), '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const results = readFileSync(join(inst.dir, 'registrar.resultado.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { linea: number; aplicado?: boolean });
    assert.deepEqual(results.map((r) => r.linea), Array.from({ length: IDS }, (_, k) => k + 1));
    results.forEach((r, k) => assert.equal(r.aplicado, !MISSING(k + 1), `línea ${k + 1}`));
    const db = new Database(join(inst.dir, 'padron.db'), { readonly: true });
    const counts = db.prepare('SELECT aplicaciones, COUNT(*) AS n FROM personas GROUP BY aplicaciones').all() as { aplicaciones: number; n: number }[];
    db.close();
    assert.deepEqual(counts, [{ aplicaciones: 1, n: IDS - IDS / 10 }]);
  });

  it('el proveedor rechaza un trozo cuyo SHA-256 no es el del manifiesto y una versión de trama no publicada', async () => {
    const jdir = nodeDir(inst.plan, 'juntos');
    const tls = { keyPem: readFileSync(join(jdir, 'keys', 'auth-key.pem'), 'utf8'), certPem: readFileSync(join(jdir, 'auth.pem'), 'utf8'), caPems: inst.juntos.ctx.conf.latest()?.conf.trustedCas ?? [] };
    const signer = createSigner(readFileSync(join(jdir, 'keys', 'sign-key.pem'), 'utf8'), readFileSync(join(jdir, 'sign.pem'), 'utf8'));
    const post = async (message: Buffer): Promise<string | undefined> => {
      const m = encodeSignedMessage(message, signDetached(message, signer));
      const res = await postMtls(`${inst.reniec.proxyUrl}/miis/v1/lote`, m.body, m.contentType, tls);
      return faultCodeOf(res.body.toString('utf8'));
    };
    const lines = Buffer.from(`${dniOf(1)}\n`);
    const manifest = {
      format: 'miis-lote/1', type: 'manifiesto', batchId: 'prueba-0001', client: JUNTOS_CLIENT, service: PADRON, convenio: CONVENIO, finalidad: 'FOCALIZACION',
      trama: { id: 'PADRON', version: 9 }, file: { sha256: sha256Hex(lines), format: 'jsonl', records: 1 }, chunks: [{ sha256: sha256Hex(lines), records: 1, firstLine: 1 }], createdAt: new Date().toISOString(),
    };
    assert.equal(await post(encodeMessage(manifest)), 'Server.ServerProxy.UnknownTrama');
    assert.equal(await post(encodeMessage({ ...manifest, trama: { id: 'PADRON', version: 1 } })), undefined); // acknowledged
    const tampered = Buffer.from(`${dniOf(2)}\n`);
    assert.equal(await post(encodeMessage({ type: 'trozo', batchId: 'prueba-0001', chunk: 0, sha256: sha256Hex(lines) }, tampered)), 'Server.ServerProxy.InvalidBatch');
    assert.equal(await post(encodeMessage({ type: 'trozo', batchId: 'otro-lote-01', chunk: 0, sha256: sha256Hex(lines) }, lines)), 'Server.ServerProxy.InvalidBatch');
  });
});
