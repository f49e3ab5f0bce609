/**
 * Batch exchanges (lotes) into a PostgreSQL registry: RENIEC's writing service is a sql adapter on
 * a throwaway PostgreSQL server (the nodes themselves stay on SQLite). A batch sent with
 * `lote enviar` applies every record once, with one APPLIED_TABLE row per chunk in the registry;
 * then the provider's crash window is re-enacted (the chunk committed in PostgreSQL but not recorded
 * done in node.db) and the same signed chunk is sent again: answered with the same result, nothing
 * applied twice. Under CI a missing PostgreSQL fails the test (test/helpers/tools.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { runCentralCli } from '../../central/cli/index.js';
import { createSigner, signDetached } from '../../core/signature.js';
import { APPLIED_TABLE } from '../../node/adapters/sql.js';
import { runNodeCli } from '../../node/cli/index.js';
import { encodeMessage, sha256Hex } from '../../node/pipeline/batch-format.js';
import { encodeSignedMessage } from '../../node/pipeline/signed-message.js';
import { centralDir, nodeDir, type ServicePlan } from '../../scripts/sandbox/provision.js';
import { startPgServer, type PgServer } from '../helpers/pg-server.js';
import { needTool } from '../helpers/tools.js';
import { BASE_AGREEMENT, CONSULTAR_PERSONA, CONVENIO, JUNTOS_CLIENT, RENIEC, faultCodeOf, postMtls, runCli, startInstance, waitFor, type Instance } from './fixture.js';

const REGISTRAR = `${RENIEC}/RUPN/registrarPadron/v1`;
const NS = 'http://miis.midis.gob.pe/servicios/padron';
/** Records of the batch sent with `lote enviar` (DNIs 1..IDS); the hand-made batch uses IDS+1..IDS+EXTRA. */
const IDS = 1200;
const CHUNK = 500;
const EXTRA = 30;
const dniOf = (i: number): string => String(10_000_000 + i);

describe('lotes hacia un registro PostgreSQL: cada trozo se aplica una sola vez', { skip: needTool('postgresql') }, () => {
  let server: PgServer;
  let inst: Instance;
  let db: pg.Client;

  before(async () => {
    server = await startPgServer();
    await server.createDatabase('padron');
    db = new pg.Client({ connectionString: server.url('padron') });
    await db.connect();
    await db.query(`CREATE TABLE personas (dni text PRIMARY KEY, aplicaciones integer NOT NULL DEFAULT 0);
      INSERT INTO personas (dni) SELECT (10000000 + g)::text FROM generate_series(1, ${IDS + EXTRA}) AS g`);
    inst = await startInstance({
      agreements: [{ ...BASE_AGREEMENT, services: [CONSULTAR_PERSONA, REGISTRAR] }],
      prepare: (dir): ServicePlan[] => {
        writeFileSync(join(dir, 'registrar.sql.json'), JSON.stringify({
          database: { postgres: server.url('padron') }, operation: 'registrarPadron', namespace: NS, id: 'dni', write: true,
          query: 'UPDATE personas SET aplicaciones = aplicaciones + 1 WHERE dni = :id',
          response: { element: 'registrarPadronResponse', item: 'resultado', changed: 'registrado' }, attributes: [],
        }));
        return [{ provider: 'reniec', backendUrl: '', wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT], id: REGISTRAR, title: 'Registrar en el padrón (lotes)', sqlConfig: join(dir, 'registrar.sql.json') }];
      },
      beforeStart: async (plan) => {
        const file = join(plan.dir, 'PADRON-REG.json');
        writeFileSync(file, JSON.stringify({ id: 'PADRON-REG', version: 1, key: 'dni', fields: [{ name: 'dni', type: 'texto', rule: 'dni', required: true }] }));
        const r = await runCli(runCentralCli, ['trama', 'add', '--dir', centralDir(plan), '--servicio', REGISTRAR.split('/').slice(0, 5).join('/'), '--convenio', CONVENIO, '--archivo', file, '--periodicidad', 'mensual']);
        assert.equal(r.code, 0, r.stderr);
      },
    });
    for (const n of [inst.juntos, inst.reniec]) {
      await waitFor(async () => ((n.ctx.conf.latest()?.conf.tramas?.length ?? 0) >= 1 ? true : undefined), 'trama publicada', 15_000);
    }
  });
  after(async () => {
    await inst?.close();
    await db?.end().catch(() => undefined);
    server?.stop();
  });

  /** applications → people over DNIs first..last. */
  async function applications(first: number, last: number): Promise<Record<number, number>> {
    const rows = (await db.query('SELECT aplicaciones, COUNT(*)::int AS n FROM personas WHERE dni BETWEEN $1 AND $2 GROUP BY aplicaciones', [dniOf(first), dniOf(last)])).rows as { aplicaciones: number; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.aplicaciones, r.n]));
  }
  const keys = async (batchId: string): Promise<number[]> =>
    ((await db.query(`SELECT trozo FROM ${APPLIED_TABLE} WHERE lote = $1 AND cliente = $2 ORDER BY trozo`, [batchId, JUNTOS_CLIENT])).rows as { trozo: number }[]).map((r) => r.trozo);

  it('lote enviar: cada registro se aplica una vez en PostgreSQL, una marca por trozo; el mismo archivo otra vez no se reenvía', async () => {
    const roll = join(inst.dir, 'registrar.jsonl');
    writeFileSync(roll, Array.from({ length: IDS }, (_, k) => JSON.stringify({ dni: dniOf(k + 1) })).join('\n'));
    const dir = nodeDir(inst.plan, 'juntos');
    const args = ['lote', 'enviar', '--dir', dir, '--servicio', REGISTRAR, '--convenio', CONVENIO, '--finalidad', 'FOCALIZACION', '--archivo', roll, '--trozo', String(CHUNK), '--json'];
    const r = await runCli(runNodeCli, args);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { id: string; trozos: number; archivos: { resultado: string } };
    assert.equal(out.trozos, Math.ceil(IDS / CHUNK));
    const results = readFileSync(out.archivos.resultado, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { linea: number; aplicado?: boolean });
    assert.equal(results.length, IDS);
    results.forEach((res, k) => assert.equal(res.aplicado, true, `línea ${k + 1}`));
    assert.deepEqual(await applications(1, IDS), { 1: IDS });
    assert.deepEqual(await keys(out.id), [0, 1, 2]);
    const again = await runCli(runNodeCli, args);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { id: string }).id, out.id);
    assert.deepEqual(await applications(1, IDS), { 1: IDS });
  });

  it('el mismo trozo firmado otra vez, también tras perder su registro en node.db (caída del proveedor): misma respuesta, nada aplicado dos veces', async () => {
    const jdir = nodeDir(inst.plan, 'juntos');
    const tls = { keyPem: readFileSync(join(jdir, 'keys', 'auth-key.pem'), 'utf8'), certPem: readFileSync(join(jdir, 'auth.pem'), 'utf8'), caPems: inst.juntos.ctx.conf.latest()?.conf.trustedCas ?? [] };
    const signer = createSigner(readFileSync(join(jdir, 'keys', 'sign-key.pem'), 'utf8'), readFileSync(join(jdir, 'sign.pem'), 'utf8'));
    const post = async (message: Buffer): Promise<{ fault: string | undefined; applied: number }> => {
      const m = encodeSignedMessage(message, signDetached(message, signer));
      const res = await postMtls(`${inst.reniec.proxyUrl}/miis/v1/lote`, m.body, m.contentType, tls);
      const text = res.body.toString('utf8');
      return { fault: faultCodeOf(text), applied: text.split('"aplicado":true').length - 1 };
    };
    const batchId = 'lote-pg-reenvio-01';
    const lines = Buffer.from(Array.from({ length: EXTRA }, (_, k) => `${JSON.stringify({ dni: dniOf(IDS + 1 + k) })}\n`).join(''));
    const manifest = {
      format: 'miis-lote/1', type: 'manifiesto', batchId, client: JUNTOS_CLIENT, service: REGISTRAR, convenio: CONVENIO, finalidad: 'FOCALIZACION',
      trama: { id: 'PADRON-REG', version: 1 }, file: { sha256: sha256Hex(lines), format: 'jsonl', records: EXTRA },
      chunks: [{ sha256: sha256Hex(lines), records: EXTRA, firstLine: 1 }], createdAt: new Date().toISOString(),
    };
    assert.equal((await post(encodeMessage(manifest))).fault, undefined);
    const chunk = encodeMessage({ type: 'trozo', batchId, chunk: 0, sha256: sha256Hex(lines) }, lines);
    assert.deepEqual(await post(chunk), { fault: undefined, applied: EXTRA });
    assert.deepEqual(await applications(IDS + 1, IDS + EXTRA), { 1: EXTRA });
    // sent again: the provider's node.db knows it
    assert.deepEqual(await post(chunk), { fault: undefined, applied: EXTRA });
    assert.deepEqual(await applications(IDS + 1, IDS + EXTRA), { 1: EXTRA });
    // the crash window: committed in PostgreSQL, not recorded in node.db (as a provider killed between the two)
    const nodeDb = new Database(join(nodeDir(inst.plan, 'reniec'), 'node.db'));
    const forgotten = nodeDb.prepare('DELETE FROM batch_chunks_done WHERE batch_id = ? AND chunk = 0').run(batchId).changes;
    nodeDb.close();
    assert.equal(forgotten, 1);
    // sent again: the registry's own key stops it and the stored counts answer
    assert.deepEqual(await post(chunk), { fault: undefined, applied: EXTRA });
    assert.deepEqual(await applications(IDS + 1, IDS + EXTRA), { 1: EXTRA });
    assert.deepEqual(await keys(batchId), [0]);
  });
});
