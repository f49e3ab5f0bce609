/**
 * The declarative sql adapter against real databases: a SQLite file and a throwaway PostgreSQL
 * server (test/helpers/pg-server.ts). Under CI a missing PostgreSQL fails the test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MiisError } from '../../../core/errors.js';
import { readSoapMessage, type SoapMessage } from '../../../core/soap.js';
import { parseSqlAdapterConfig, readSqlAdapterConfig, type SqlAdapterConfig } from '../../../node/adapters/settings.js';
import { createSqlAdapter, renderValue } from '../../../node/adapters/sql.js';
import { compileQuery } from '../../../node/adapters/sql-query.js';
import { startPgServer, type PgServer } from '../../helpers/pg-server.js';
import { needTool } from '../../helpers/tools.js';

const NS = 'urn:miis:test';
const HEADER = '<SOAP-ENV:Header><xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client><xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20131312955</id:memberCode><id:subsystemCode>RENTAS</id:subsystemCode><id:serviceCode>op</id:serviceCode></xrd:service><xrd:id>m1</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion></SOAP-ENV:Header>';

function request(body: string): SoapMessage {
  return readSoapMessage(Buffer.from(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:t="${NS}">${HEADER}<SOAP-ENV:Body>${body}</SOAP-ENV:Body></SOAP-ENV:Envelope>`), 'request');
}

const incomeConfig = (database: SqlAdapterConfig['database'] | { sqlite: string }, over: Record<string, unknown> = {}): SqlAdapterConfig => parseSqlAdapterConfig({
  database, operation: 'consultarIngresos', namespace: NS, id: 'dni', query: 'SELECT ingreso, region FROM rentas WHERE dni = :id',
  response: {}, attributes: [
    { column: 'ingreso', element: 'superaUmbral', derive: { threshold: 1000, op: '>=' }, sensible: true },
    { column: 'ingreso', element: 'rango', derive: { bands: [{ below: 500, value: 'BAJO' }, { value: 'ALTO' }] } },
    { column: 'region', element: 'region' },
  ], ...over,
}, '/');

const deps = { now: () => new Date('2026-06-01T12:00:00Z'), maxMessageBytes: 1 << 20, service: 'PE/GOB/20131312955/RENTAS/consultarIngresos' };
const NOW_ISO = '2026-06-01T12:00:00.000Z';

describe('sql adapter: pure parts', () => {
  it('compiles named parameters for each engine, expanding :ids and leaving strings and casts alone', () => {
    assert.deepEqual(compileQuery("SELECT a FROM t WHERE x = :id AND y = ':no' AND z::text = :p", 'postgres'), { text: "SELECT a FROM t WHERE x = $1 AND y = ':no' AND z::text = $2", names: ['id', 'p'] });
    assert.deepEqual(compileQuery('SELECT a FROM t WHERE x IN (:ids) AND y = :id', 'sqlite', 3), { text: 'SELECT a FROM t WHERE x IN (?, ?, ?) AND y = ?', names: ['ids#0', 'ids#1', 'ids#2', 'id'] });
  });

  it('derives attributes without ever returning the raw value', () => {
    assert.equal(renderValue(1234.5, { threshold: 1000, op: '>=' }), 'true');
    assert.equal(renderValue(999, { threshold: 1000, op: '>=' }), 'false');
    assert.equal(renderValue('1000', { threshold: 1000, op: '>' }), 'false');
    assert.equal(renderValue(499, { bands: [{ below: 500, value: 'BAJO' }, { value: 'ALTO' }] }), 'BAJO');
    assert.equal(renderValue(501, { bands: [{ below: 500, value: 'BAJO' }, { value: 'ALTO' }] }), 'ALTO');
    assert.equal(renderValue('A', { map: { A: 'ACTIVO' }, otherwise: 'OTRO' }), 'ACTIVO');
    assert.equal(renderValue('Z', { map: { A: 'ACTIVO' }, otherwise: 'OTRO' }), 'OTRO');
    assert.equal(renderValue(null, undefined), undefined);
    assert.equal(renderValue('abc', { threshold: 1, op: '<' }), undefined);
  });

  it('refuses bad configurations with Config.InvalidAdapter naming the field', () => {
    const bad = (over: Record<string, unknown>, re: RegExp): void => {
      assert.throws(() => parseSqlAdapterConfig({ database: { sqlite: 'x.db' }, operation: 'op', namespace: NS, id: 'dni', query: 'SELECT 1', response: {}, attributes: [], ...over }, '/'),
        (err: unknown) => err instanceof MiisError && err.code === 'Config.InvalidAdapter' && re.test(err.detail));
    };
    bad({ database: {} }, /^database:/);
    bad({ mode: 'in-list' }, /^query: .*:ids/);
    bad({ mode: 'in-list', query: 'SELECT a FROM t WHERE a IN (:ids)' }, /^idColumn:/);
    bad({ attributes: [{ column: 'a', derive: { threshold: 'x' } }] }, /threshold/);
    bad({ attributes: [{ column: 'a', derive: { bands: [{ value: 'A' }, { below: 3, value: 'B' }] } }] }, /último tramo/);
    bad({ write: true, attributes: [{ column: 'a' }] }, /^attributes: una escritura/);
    bad({ otra: 1 }, /clave desconocida «otra»/);
    assert.throws(() => readSqlAdapterConfig('/nonexistent/config.json'), /no existe el archivo/);
  });
});

describe('sql adapter on SQLite', () => {
  let dir: string;
  let dbPath: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'miis-sql-'));
    dbPath = join(dir, 'rentas.db');
    const db = new Database(dbPath);
    db.exec("CREATE TABLE rentas (dni TEXT PRIMARY KEY, ingreso REAL, region TEXT); INSERT INTO rentas VALUES ('10117410', 98765.25, 'PUNO'), ('10812543', 321.5, 'LIMA');");
    db.exec('CREATE TABLE registro (dni TEXT PRIMARY KEY, programa TEXT, por TEXT, en TEXT)');
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('answers many ids per request with derived attributes, echoing the request header', async () => {
    const adapter = await createSqlAdapter(incomeConfig({ sqlite: dbPath }), deps);
    try {
      const req = request('<t:consultarIngresos><t:dni>10117410</t:dni><t:dni>10812543</t:dni><t:dni>99999999</t:dni></t:consultarIngresos>');
      const res = await adapter.call(req);
      const text = res.raw.toString('utf8');
      assert.ok(text.includes(HEADER), 'la respuesta repite la cabecera byte a byte');
      assert.equal(res.header?.id, 'm1');
      const items = res.payload?.children ?? [];
      assert.deepEqual(items.map((i) => i.children.map((c) => `${c.local}=${c.text}`).join(',')), [
        'dni=10117410,encontrado=true,superaUmbral=true,rango=ALTO,region=PUNO',
        'dni=10812543,encontrado=true,superaUmbral=false,rango=BAJO,region=LIMA',
        'dni=99999999,encontrado=false',
      ]);
      assert.equal(res.payload?.uri, NS);
      assert.ok(!text.includes('98765') && !text.includes('321.5'), 'los montos nunca salen');
    } finally {
      await adapter.engine.close();
    }
  });

  it('in-list mode runs one query for all ids', async () => {
    const c = incomeConfig({ sqlite: dbPath }, { mode: 'in-list', idColumn: 'dni', query: 'SELECT dni, ingreso, region FROM rentas WHERE dni IN (:ids)' });
    const adapter = await createSqlAdapter(c, deps);
    try {
      const res = await adapter.call(request('<t:consultarIngresos><t:dni>10812543</t:dni><t:dni>00000001</t:dni><t:dni>10117410</t:dni></t:consultarIngresos>'));
      assert.deepEqual(res.payload?.children.map((i) => `${i.children[0]?.text}:${i.children[1]?.text}`), ['10812543:true', '00000001:false', '10117410:true']);
    } finally {
      await adapter.engine.close();
    }
  });

  it('writes records in one transaction with the authenticated client and reports what changed', async () => {
    const c = parseSqlAdapterConfig({
      database: { sqlite: dbPath }, operation: 'registrar', namespace: NS, items: 'registro', id: 'dni', write: true, params: { programa: 'programa' },
      query: 'INSERT INTO registro (dni, programa, por, en) VALUES (:id, :programa, :_client, :_now) ON CONFLICT (dni) DO NOTHING', response: {}, attributes: [],
    }, '/');
    const adapter = await createSqlAdapter(c, deps);
    try {
      const body = '<t:registrar><t:registro><t:dni>10117410</t:dni><t:programa>JUNTOS</t:programa></t:registro><t:registro><t:dni>10812543</t:dni><t:programa>JUNTOS</t:programa></t:registro></t:registrar>';
      const first = await adapter.call(request(body));
      assert.deepEqual(first.payload?.children.map((i) => i.children.map((x) => x.text).join(':')), ['10117410:true', '10812543:true']);
      const again = await adapter.call(request(body));
      assert.deepEqual(again.payload?.children.map((i) => i.children[1]?.text), ['false', 'false']);
      const db = new Database(dbPath, { readonly: true });
      assert.deepEqual(db.prepare('SELECT * FROM registro ORDER BY dni').all(), [
        { dni: '10117410', programa: 'JUNTOS', por: 'PE/GOB/20511268401/JUNTOS', en: NOW_ISO },
        { dni: '10812543', programa: 'JUNTOS', por: 'PE/GOB/20511268401/JUNTOS', en: NOW_ISO },
      ]);
      db.close();
      // a malformed request is answered as the service's own SOAP fault
      const fault = await adapter.call(request('<t:registrar><t:registro><t:programa>X</t:programa></t:registro></t:registrar>'));
      assert.equal(fault.fault?.faultCode, 'SOAP-ENV:Client');
      assert.match(fault.fault?.faultString ?? '', /falta el elemento dni/);
    } finally {
      await adapter.engine.close();
    }
  });

  it('a misconfigured adapter fails at start with a Spanish reason', async () => {
    const fails = async (c: SqlAdapterConfig, re: RegExp): Promise<void> => {
      await assert.rejects(createSqlAdapter(c, deps), (err: unknown) => err instanceof MiisError && err.code === 'Config.InvalidAdapter' && re.test(err.message));
    };
    await fails(incomeConfig({ sqlite: join(dir, 'no-existe.db') }), /no se puede abrir la base SQLite/);
    await fails(incomeConfig({ sqlite: dbPath }, { query: 'SELECT ingreso FROM tabla_inexistente WHERE dni = :id' }), /la consulta no es válida.*tabla_inexistente/);
    await fails(incomeConfig({ sqlite: dbPath }, { query: 'SELECT ingreso FROM rentas WHERE dni = :id' }), /no devuelve la columna «region»/);
    await fails(incomeConfig({ sqlite: dbPath }, { query: 'SELECT ingreso, region FROM rentas WHERE dni = :otro' }), /usa :otro/);
    // the file on disk is checked too
    const file = join(dir, 'mal.json');
    writeFileSync(file, '{ "database": ');
    assert.throws(() => readSqlAdapterConfig(file), /no es JSON válido/);
  });
});


describe('sql adapter on PostgreSQL', { skip: needTool('postgresql') }, () => {
  let server: PgServer;
  let url: string;
  before(async () => {
    server = await startPgServer();
    await server.createDatabase('rentas_prueba');
    url = server.url('rentas_prueba');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("CREATE TABLE rentas (dni text PRIMARY KEY, ingreso numeric(12,2), region text); INSERT INTO rentas VALUES ('10117410', 98765.25, 'PUNO'), ('10812543', 321.50, 'LIMA')");
    await client.query('CREATE TABLE registro (dni text PRIMARY KEY, programa text, por text, en date)');
    await client.end();
  });
  after(() => server?.stop());

  it('answers per id and in-list with derived attributes, and never the amount', async () => {
    for (const over of [{}, { mode: 'in-list', idColumn: 'dni', query: 'SELECT dni, ingreso, region FROM rentas WHERE dni IN (:ids)' }]) {
      const adapter = await createSqlAdapter(incomeConfig({ postgres: url }, over), deps);
      try {
        const res = await adapter.call(request('<t:consultarIngresos><t:dni>10117410</t:dni><t:dni>10812543</t:dni><t:dni>99999999</t:dni></t:consultarIngresos>'));
        assert.deepEqual(res.payload?.children.map((i) => i.children.map((c) => `${c.local}=${c.text}`).join(',')), [
          'dni=10117410,encontrado=true,superaUmbral=true,rango=ALTO,region=PUNO',
          'dni=10812543,encontrado=true,superaUmbral=false,rango=BAJO,region=LIMA',
          'dni=99999999,encontrado=false',
        ]);
        assert.ok(!res.raw.toString().includes('98765'));
      } finally {
        await adapter.engine.close();
      }
    }
  });

  it('writes in a transaction, binding the client and Lima date', async () => {
    const c = parseSqlAdapterConfig({
      database: { postgres: url }, operation: 'registrar', namespace: NS, items: 'registro', id: 'dni', write: true, params: { programa: 'programa' },
      query: 'INSERT INTO registro (dni, programa, por, en) VALUES (:id, :programa, :_client, CAST(:_today AS date)) ON CONFLICT (dni) DO NOTHING', response: {}, attributes: [],
    }, '/');
    const adapter = await createSqlAdapter(c, deps);
    try {
      const body = '<t:registrar><t:registro><t:dni>10117410</t:dni><t:programa>JUNTOS</t:programa></t:registro></t:registrar>';
      assert.equal((await adapter.call(request(body))).payload?.children[0]?.children[1]?.text, 'true');
      assert.equal((await adapter.call(request(body))).payload?.children[0]?.children[1]?.text, 'false');
      const rows = await adapter.engine.select({ text: 'SELECT dni, programa, por, en FROM registro', names: [] }, []);
      assert.deepEqual(rows, [{ dni: '10117410', programa: 'JUNTOS', por: 'PE/GOB/20511268401/JUNTOS', en: '2026-06-01' }]);
    } finally {
      await adapter.engine.close();
    }
  });

  it('a query against a missing table or column stops the adapter at start', async () => {
    await assert.rejects(createSqlAdapter(incomeConfig({ postgres: url }, { query: 'SELECT ingreso, region FROM nada WHERE dni = :id' }), deps), /la consulta no es válida.*nada/);
    await assert.rejects(createSqlAdapter(incomeConfig({ postgres: url }, { query: 'SELECT ingreso FROM rentas WHERE dni = :id' }), deps), /no devuelve la columna «region»/);
    await assert.rejects(createSqlAdapter(incomeConfig({ postgres: server.url('no_existe') }), deps), (err: unknown) => err instanceof MiisError && err.code === 'Config.InvalidAdapter');
  });
});
