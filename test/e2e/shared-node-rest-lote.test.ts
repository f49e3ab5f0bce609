/**
 * Shared node (issue 14 item 8), REST and lotes: node A (the fixture's Juntos node) also hosts
 * M2 = a municipality with its own signing key (same set-up as shared-node.test.ts). Through two
 * real nodes: a REST request from M2's subsystem is signed with M2's key; a REST service owned by
 * M2 answers signed with M2's key (its error answers too); a lote sent by M2's subsystem is signed
 * with M2's key and delivered; a lote to M2's service is answered signed with M2's key, and its
 * delivery is reported to central signed by M2.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCentralCli } from '../../central/cli/index.js';
import { runNodeCli } from '../../node/cli/index.js';
import { rucCheckDigit } from '../../core/peru-ids.js';
import { certificateInfo } from '../../core/pki.js';
import { centralDir, nodeDir, type ServicePlan } from '../../scripts/sandbox/provision.js';
import { BASE_AGREEMENT, CONSULTAR_PERSONA, JUNTOS_CLIENT, PERSONAS_REST, RENIEC, runCli, startInstance, waitFor, type Instance } from './fixture.js';
import { sqliteLog } from '../helpers/node-log.js';

const M2_RUC = `2017753973${rucCheckDigit('2017753973')}`;
const M2 = `PE/GOB/${M2_RUC}`;
const M2_CLIENT = `${M2}/ULE`;
const M2_NAME = 'Municipalidad Provincial del Cusco';
const M2_AGREEMENT = 'CONV-M2-2026';
const RUPN = `${RENIEC}/RUPN`;
const PADRON = `${RENIEC}/RUPN/consultarPadron/v1`;
const M2_REST = `${M2_CLIENT}/personas`;
const M2_PADRON = `${M2_CLIENT}/consultarPadron/v1`;
const NS = 'http://miis.midis.gob.pe/servicios/padron';
const dniOf = (i: number): string => String(10_000_000 + i);
const RECORDS = 5;

function prepare(dir: string): ServicePlan[] {
  const dbPath = join(dir, 'padron.db');
  const db = new Database(dbPath);
  db.exec('CREATE TABLE personas (dni TEXT PRIMARY KEY, nombres TEXT NOT NULL)');
  const put = db.prepare('INSERT INTO personas (dni, nombres) VALUES (?, ?)');
  for (let i = 1; i <= RECORDS; i += 1) put.run(dniOf(i), `PERSONA ${i}`);
  db.close();
  writeFileSync(join(dir, 'padron.sql.json'), JSON.stringify({
    database: { sqlite: dbPath }, operation: 'consultarPadron', namespace: NS, id: 'dni', mode: 'in-list', idColumn: 'dni',
    query: 'SELECT dni, nombres FROM personas WHERE dni IN (:ids)',
    response: { element: 'consultarPadronResponse', item: 'persona', found: 'encontrado' }, attributes: [{ column: 'nombres', element: 'nombres' }],
  }));
  return [{ id: PADRON, title: 'Padrón (lotes)', provider: 'reniec', backendUrl: '', wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT], sqlConfig: join(dir, 'padron.sql.json') }];
}

const tramaFile = (dir: string, id: string): string => {
  const file = join(dir, `${id}.json`);
  writeFileSync(file, JSON.stringify({ id, version: 1, key: 'dni', fields: [{ name: 'dni', type: 'texto', rule: 'dni', required: true }], chunkRecords: 2 }));
  return file;
};

const signerRows = (node: Instance['reniec'], side: 'client' | 'server', direction: 'request' | 'response') => sqliteLog(node).list({ limit: 10_000 })
  .filter((r) => r.side === side && r.direction === direction);

describe('shared node: REST and lotes of a hosted member are signed with that member\'s key', () => {
  let inst: Instance;
  let aDir: string;
  let m2Sha: string;
  const central = (...argv: string[]) => runCli(runCentralCli, [...argv, '--dir', centralDir(inst.plan)]);
  const nodeA = (...argv: string[]) => runCli(runNodeCli, [...argv, '--dir', aDir]);
  const nodeB = (...argv: string[]) => runCli(runNodeCli, [...argv, '--dir', nodeDir(inst.plan, 'reniec')]);
  const ok = async (run: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> => {
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    inst = await startInstance({ rest: true, agreements: [{ ...BASE_AGREEMENT, services: [CONSULTAR_PERSONA, PERSONAS_REST, PADRON] }], prepare });
    aDir = nodeDir(inst.plan, 'juntos');
    // M2 hosted on node A: key, CSR, certificate; at central a member served by node A, with a client subsystem
    await ok(central('member', 'add', '--class', 'GOB', '--code', M2_RUC, '--name', M2_NAME, '--role', 'GOBIERNO_LOCAL'));
    await ok(central('subsystem', 'add', M2_CLIENT));
    await ok(nodeA('member', 'add', M2, '--name', M2_NAME));
    const certFile = join(inst.dir, 'm2-sign.pem');
    await ok(central('cert', 'sign', '--csr', join(aDir, 'members', M2.replaceAll('/', '_'), 'sign.csr'), '--profile', 'sign', '--out', certFile));
    await ok(nodeA('member', 'cert-import', M2, '--sign', certFile));
    m2Sha = certificateInfo(readFileSync(certFile, 'utf8')).sha256;
    await ok(central('node', 'member', 'add', '--node', 'juntos', M2));
    await ok(central('node', 'client', 'add', '--node', 'juntos', M2_CLIENT));
    await ok(nodeA('client', 'add', M2_CLIENT));
    // consumer side: M2 may use RENIEC's REST service and its padrón by lotes
    await ok(central('agreement', 'add', '--id', M2_AGREEMENT, '--provider', RENIEC, '--client', M2_CLIENT, '--service', PERSONAS_REST, '--service', PADRON,
      '--purpose', 'FOCALIZACION', '--from', '2026-01-01'));
    await ok(central('trama', 'add', '--servicio', PADRON.split('/').slice(0, 5).join('/'), '--convenio', M2_AGREEMENT, '--archivo', tramaFile(inst.dir, 'PADRON-M2'), '--periodicidad', 'mensual'));
    await ok(nodeB('acl', 'grant', PERSONAS_REST, M2_CLIENT));
    await ok(nodeB('acl', 'grant', PADRON, M2_CLIENT));
    // provider side: M2 serves a REST service and its padrón (lotes) on node A, used by RENIEC's RUPN
    await ok(central('service', 'add', M2_REST, '--title', 'Personas (REST, ULE)'));
    await ok(central('service', 'add', M2_PADRON, '--title', 'Padrón (lotes, ULE)'));
    await ok(central('agreement', 'add', '--id', 'CONV-ULE-2026', '--provider', M2, '--client', RUPN, '--service', M2_REST, '--service', M2_PADRON,
      '--purpose', 'FOCALIZACION', '--from', '2026-01-01'));
    await ok(central('trama', 'add', '--servicio', M2_PADRON.split('/').slice(0, 5).join('/'), '--convenio', 'CONV-ULE-2026', '--archivo', tramaFile(inst.dir, 'PADRON-ULE'), '--periodicidad', 'mensual'));
    await ok(nodeA('service', 'add', M2_REST, '--adapter', 'rest', '--backend', `${inst.backend.url}personas`, '--timeout', '10000'));
    await ok(nodeA('service', 'add', M2_PADRON, '--adapter', 'sql', '--sql-config', join(inst.dir, 'padron.sql.json'), '--timeout', '10000'));
    await ok(nodeA('acl', 'grant', M2_REST, RUPN));
    await ok(nodeA('acl', 'grant', M2_PADRON, RUPN));

    inst.central.app.publisher.refresh();
    await inst.juntos.ctx.conf.refresh();
    await inst.reniec.ctx.conf.refresh();
    await inst.juntos.reload();
    for (const n of [inst.juntos, inst.reniec]) {
      await waitFor(async () => ((n.ctx.conf.latest()?.conf.tramas?.length ?? 0) >= 2 ? true : undefined), 'tramas publicadas', 15_000);
    }
    await waitFor(async () => (inst.juntos.ctx.local().clients.includes(M2_CLIENT) && inst.juntos.ctx.local().services.size >= 2 ? true : undefined), 'node A takes up M2');
    assert.ok(inst.juntos.ctx.hostedSigning?.(M2) !== undefined, 'node A signs for M2');
    assert.notEqual(m2Sha, inst.juntos.ctx.signerSha256);
  });
  after(async () => {
    await inst?.close();
  });

  it('REST consumer: a request from M2\'s subsystem is signed with M2\'s key and served; the provider logs M2\'s certificate', async () => {
    const id = `m2-rest-${process.pid}`;
    const res = await fetch(new URL(`r1/${PERSONAS_REST}/${inst.dni}`, inst.juntos.isUrl), {
      headers: { 'x-road-client': M2_CLIENT, 'x-road-id': id, 'x-miis-convenio': M2_AGREEMENT, 'x-miis-finalidad': 'FOCALIZACION' },
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal((JSON.parse(text) as { dni: string }).dni, inst.dni);
    const provider = sqliteLog(inst.reniec).list({ messageId: id }).map((r) => [r.direction, r.signerCertSha256]);
    assert.deepEqual(provider, [['request', m2Sha], ['response', inst.reniec.ctx.signerSha256]]);
    const consumer = sqliteLog(inst.juntos).list({ messageId: id }).map((r) => [r.direction, r.signerCertSha256]);
    assert.deepEqual(consumer, [['request', m2Sha], ['response', inst.reniec.ctx.signerSha256]]);
  });

  it('REST provider: M2\'s service answers signed with M2\'s key and RENIEC\'s node accepts it; an error answer is logged with M2\'s key too', async () => {
    const id = `m2-rest-svc-${process.pid}`;
    const res = await fetch(new URL(`r1/${M2_REST}/${inst.dni}`, inst.reniec.isUrl), {
      headers: { 'x-road-client': RUPN, 'x-road-id': id, 'x-miis-convenio': 'CONV-ULE-2026', 'x-miis-finalidad': 'FOCALIZACION' },
    });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal((JSON.parse(text) as { dni: string }).dni, inst.dni);
    assert.deepEqual(sqliteLog(inst.reniec).list({ messageId: id }).map((r) => [r.direction, r.signerCertSha256]), [['request', inst.reniec.ctx.signerSha256], ['response', m2Sha]]);
    assert.deepEqual(sqliteLog(inst.juntos).list({ messageId: id }).map((r) => [r.direction, r.signerCertSha256]), [['request', inst.reniec.ctx.signerSha256], ['response', m2Sha]]);

    // getOpenAPI of a service M2 does not have: node A answers an X-Road error and logs it signed with M2's key
    const errId = `m2-openapi-${process.pid}`;
    const bad = await fetch(new URL(`r1/${M2_CLIENT}/getOpenAPI?serviceCode=noExiste`, inst.reniec.isUrl), { headers: { 'x-road-client': RUPN, 'x-road-id': errId } });
    assert.equal(bad.headers.get('x-road-error'), 'Server.ServerProxy.UnknownService', await bad.text());
    const logged = sqliteLog(inst.juntos).list({ messageId: errId }).map((r) => [r.direction, r.signerCertSha256, r.fault ?? null]);
    assert.deepEqual(logged, [['request', inst.reniec.ctx.signerSha256, null], ['response', m2Sha, 'Server.ServerProxy.UnknownService']]);
  });

  it('lote consumer: a lote sent by M2\'s subsystem is signed with M2\'s key and delivered', async () => {
    const file = join(inst.dir, 'm2-padron.jsonl');
    writeFileSync(file, Array.from({ length: RECORDS }, (_, k) => JSON.stringify({ dni: dniOf(k + 1) })).join('\n'));
    const r = await nodeA('lote', 'enviar', '--cliente', M2_CLIENT, '--servicio', PADRON, '--convenio', M2_AGREEMENT, '--finalidad', 'FOCALIZACION', '--archivo', file, '--json');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { id: string; trozos: number; registros: number; archivos: { resultado: string } };
    assert.deepEqual([out.trozos, out.registros], [3, RECORDS]);
    const results = readFileSync(out.archivos.resultado, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { encontrado?: boolean });
    assert.deepEqual(results.map((x) => x.encontrado), Array.from({ length: RECORDS }, () => true));
    const mine = (rows: ReturnType<typeof signerRows>) => rows.filter((x) => x.messageId.startsWith(`lote:${out.id}:`)).map((x) => x.signerCertSha256);
    assert.deepEqual(mine(signerRows(inst.reniec, 'server', 'request')), Array.from({ length: 4 }, () => m2Sha));
    assert.deepEqual(mine(signerRows(inst.juntos, 'client', 'request')), Array.from({ length: 4 }, () => m2Sha));
  });

  it('lote provider: a lote to M2\'s service is answered signed with M2\'s key and accepted by RENIEC\'s node', async () => {
    const file = join(inst.dir, 'ule-padron.jsonl');
    writeFileSync(file, Array.from({ length: RECORDS }, (_, k) => JSON.stringify({ dni: dniOf(k + 1) })).join('\n'));
    const r = await nodeB('lote', 'enviar', '--cliente', RUPN, '--servicio', M2_PADRON, '--convenio', 'CONV-ULE-2026', '--finalidad', 'FOCALIZACION', '--archivo', file, '--json');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { id: string; registros: number };
    assert.equal(out.registros, RECORDS);
    const mine = (rows: ReturnType<typeof signerRows>) => rows.filter((x) => x.messageId.startsWith(`lote:${out.id}:`)).map((x) => x.signerCertSha256);
    assert.deepEqual(mine(signerRows(inst.juntos, 'server', 'response')), Array.from({ length: 4 }, () => m2Sha));
    assert.deepEqual(mine(signerRows(inst.reniec, 'client', 'response')), Array.from({ length: 4 }, () => m2Sha));
    // node A reported both deliveries to central: RENIEC's padrón for M2 (signed by RENIEC), M2's padrón for RUPN (signed by M2)
    const rows = await waitFor(async () => {
      const e = await central('trama', 'entregas', '--json');
      const list = JSON.parse(e.stdout) as { trama: string; estado: string; cliente: string }[];
      return list.filter((x) => x.estado === 'entregado').length >= 2 ? list : undefined;
    }, 'entregas informadas a central');
    assert.deepEqual(rows.filter((x) => x.estado === 'entregado').map((x) => [x.trama, x.cliente]).sort(), [['PADRON-M2 v1', M2_CLIENT], ['PADRON-ULE v1', RUPN]]);
  });
});
