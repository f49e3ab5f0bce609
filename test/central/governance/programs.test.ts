/**
 * The Registro Nacional de Programas Sociales (RPS): register, update and close programmes,
 * refuse bad input with nothing changed, publish them (portal, global configuration that nodes
 * accept, omitted while there are none), and let agreements and access requests cite them (CLI).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MiisError } from '../../../core/errors.js';
import { validateGlobalConf } from '../../../core/global-conf.js';
import { registerMember } from '../../../central/registry/rules.js';
import type { RegistryStore } from '../../../central/registry/store.js';
import { seedCatalogue } from '../../../central/governance/catalogue-seed.js';
import { openSqliteRegistryStore } from '../../../central/registry/store.js';
import { addProgram, checkProgramCitation, citedProgram, listPrograms, setProgram } from '../../../central/governance/programs.js';
import { buildPortalData, renderPortalHtml } from '../../../central/governance/portal.js';
import { buildGlobalConf } from '../../../central/conf/builder.js';
import { takeRegistrySnapshot } from '../../../central/conf/snapshot.js';
import { runCentralCli } from '../../../central/cli/index.js';
import { ctxAt, makeInstance, T0 } from '../helpers.js';

const RENIEC = '20295613620';
const JUNTOS = '20511268401';
const dgfo = ctxAt(T0, 'dgfo');
const JUNTOS_PROGRAM = {
  code: 'juntos', name: 'Programa Nacional de Apoyo Directo a los más Pobres - JUNTOS', ciasRef: 'Acta Nº 01-2026-CIAS', ciasDate: '2026-02-10',
  entity: JUNTOS, targetPopulation: 'Hogares en pobreza con gestantes, niñas, niños o adolescentes', interventionType: 'transferencia monetaria condicionada',
};

async function setUp(): Promise<RegistryStore> {
  const { store } = await makeInstance();
  seedCatalogue(store, dgfo);
  registerMember(store, { memberClass: 'GOB', memberCode: RENIEC, name: 'RENIEC', role: 'RENIEC' }, dgfo);
  registerMember(store, { memberClass: 'GOB', memberCode: JUNTOS, name: 'Programa Juntos', role: 'IPF' }, dgfo);
  return store;
}

function refused(store: RegistryStore, fn: () => unknown, message: RegExp): void {
  const before = store.listAudit().length;
  assert.throws(fn, (err: unknown) => err instanceof MiisError && message.test(err.message));
  assert.equal(store.listAudit().length, before, 'nothing changed');
}

const conf = (store: RegistryStore) => buildGlobalConf(takeRegistrySnapshot(store), { instance: 'PE', trustedCas: [], serial: 2, now: T0, validityMs: 60_000 });

describe('RPS', () => {
  it('registers, updates and closes a programme; audited; bad input refused with nothing changed', async () => {
    const store = await setUp();
    assert.equal(conf(store).programs, undefined, 'no programmes: the field is omitted (older nodes keep working)');
    const p = addProgram(store, JUNTOS_PROGRAM, dgfo);
    assert.equal(p.code, 'JUNTOS');
    assert.equal(p.status, 'activo');
    assert.equal(store.listAudit().at(-1)?.action, 'program.add');
    refused(store, () => addProgram(store, JUNTOS_PROGRAM, dgfo), /ya existe|programa JUNTOS/);
    refused(store, () => addProgram(store, { ...JUNTOS_PROGRAM, code: 'P65', ciasDate: '2026-02-30' }, dgfo), /Fecha no válida/);
    refused(store, () => addProgram(store, { ...JUNTOS_PROGRAM, code: 'X', entity: JUNTOS }, dgfo), /código de programa/);
    refused(store, () => addProgram(store, { ...JUNTOS_PROGRAM, code: 'P65', entity: '20512333797' }, dgfo), /no está registrada/);
    refused(store, () => addProgram(store, { ...JUNTOS_PROGRAM, code: 'P65', targetPopulation: ' ' }, dgfo), /población objetivo/);
    const s = setProgram(store, 'JUNTOS', { status: 'suspendido', targetPopulation: 'Hogares en pobreza extrema' }, ctxAt(T0, 'dgfo'));
    assert.deepEqual([s.status, s.targetPopulation], ['suspendido', 'Hogares en pobreza extrema']);
    refused(store, () => setProgram(store, 'JUNTOS', { status: 'pausado' }, dgfo), /estado de programa no válido/);
    setProgram(store, 'JUNTOS', { status: 'cerrado' }, dgfo);
    refused(store, () => setProgram(store, 'JUNTOS', { status: 'activo' }, dgfo), /cerrado/);
    refused(store, () => checkProgramCitation(store, 'JUNTOS'), /cerrado/);
    assert.equal(listPrograms(store, { status: 'cerrado' }).length, 1);
    assert.equal(conf(store).programs, undefined, 'closed programmes are not published');
  });

  it('publishes programmes in the global configuration (valid for nodes) and on the portal', async () => {
    const store = await setUp();
    addProgram(store, JUNTOS_PROGRAM, dgfo);
    const c = conf(store);
    assert.deepEqual(c.programs, [{
      code: 'JUNTOS', name: JUNTOS_PROGRAM.name, administrator: JUNTOS, ciasApproval: 'Acta Nº 01-2026-CIAS', ciasDate: '2026-02-10',
      targetPopulation: JUNTOS_PROGRAM.targetPopulation, interventionType: JUNTOS_PROGRAM.interventionType, status: 'activo',
    }]);
    validateGlobalConf(JSON.parse(JSON.stringify(c)));
    assert.throws(() => validateGlobalConf({ ...c, programs: [{ ...c.programs![0], administrator: '123' }] }), /administrator/);
    assert.throws(() => validateGlobalConf({ ...c, programs: [{ ...c.programs![0], extra: 1 }] }), /campo desconocido/);
    assert.throws(() => validateGlobalConf({ ...c, programs: [c.programs![0], c.programs![0]] }), /duplicado/);
    const portal = buildPortalData(store, T0);
    assert.equal(portal.programs[0]?.code, 'JUNTOS');
    assert.equal(portal.programs[0]?.entity.name, 'Programa Juntos');
    const html = renderPortalHtml(portal);
    assert.match(html, /Registro Nacional de Programas Sociales/);
    assert.match(html, /transferencia monetaria condicionada/);
  });

  it('a citation must name a programme of the client entity', async () => {
    const store = await setUp();
    addProgram(store, JUNTOS_PROGRAM, dgfo);
    assert.equal(checkProgramCitation(store, 'juntos', [JUNTOS]).code, 'JUNTOS');
    assert.throws(() => checkProgramCitation(store, 'JUNTOS', [RENIEC]), /lo administra el RUC 20511268401/);
    assert.throws(() => checkProgramCitation(store, 'QALIWARMA'), /no está en el Registro Nacional de Programas Sociales/);
  });
});

describe('RPS on the command line', () => {
  it('programa add|list|set|show; agreement add --programa and access request --programa are checked and recorded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-rps-'));
    try {
      const cliAs = async (actor: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> => {
        let out = '';
        let err = '';
        const code = await runCentralCli([...args, '--dir', join(dir, 'c'), '--actor', actor], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, now: () => T0 });
        return { code, out, err };
      };
      const cli = (...args: string[]) => cliAs('dgfo', ...args);
      assert.equal((await cli('init', '--instance', 'PE', '--key-algorithm', 'ecdsa-p256', '--name', 'MIDIS DGFO')).code, 0);
      for (const [code, name, role] of [[RENIEC, 'RENIEC', 'RENIEC'], [JUNTOS, 'Programa Juntos', 'IPF']] as const) {
        assert.equal((await cli('member', 'add', '--class', 'GOB', '--code', code, '--name', name, '--role', role)).code, 0);
      }
      assert.equal((await cli('subsystem', 'add', `PE/GOB/${JUNTOS}/JUNTOS`)).code, 0);
      assert.equal((await cli('subsystem', 'add', `PE/GOB/${RENIEC}/RUPN`)).code, 0);
      assert.equal((await cli('service', 'add', `PE/GOB/${RENIEC}/RUPN/consultarPersona/v1`, '--title', 'Consultar persona')).code, 0);
      const add = await cli('programa', 'add', '--code', 'JUNTOS', '--name', 'Programa Juntos', '--cias', 'Acta Nº 01-2026-CIAS', '--cias-date', '2026-02-10',
        '--entity', JUNTOS, '--population', 'Hogares en pobreza', '--type', 'transferencia monetaria condicionada');
      assert.equal(add.code, 0, add.err);
      assert.match(add.out, /Programa JUNTOS registrado en el RPS/);
      const list = await cli('programa', 'list', '--json');
      assert.equal((JSON.parse(list.out) as { codigo: string; nombreEntidad: string }[])[0]?.nombreEntidad, 'Programa Juntos');
      assert.equal((await cli('programa', 'set', 'JUNTOS', '--status', 'suspendido')).code, 0);
      assert.match((await cli('programa', 'show', 'JUNTOS')).out, /suspendido/);
      assert.equal((await cli('programa', 'set', 'JUNTOS', '--status', 'activo')).code, 0);
      const agreement = ['agreement', 'add', '--id', 'CONV-9', '--provider', `PE/GOB/${RENIEC}`, '--client', `PE/GOB/${JUNTOS}/JUNTOS`,
        '--service', `PE/GOB/${RENIEC}/RUPN/consultarPersona`, '--purpose', 'FOCALIZACION', '--from', '2026-01-01'];
      const bad = await cli(...agreement, '--programa', 'PENSION65');
      assert.equal(bad.code, 2);
      assert.match(bad.err, /no está en el Registro Nacional de Programas Sociales/);
      assert.equal(JSON.parse((await cli('agreement', 'list', '--json')).out).length, 0, 'nothing registered');
      const ok = await cli(...agreement, '--programa', 'JUNTOS');
      assert.equal(ok.code, 0, ok.err);
      const req = await cli('access', 'request', '--client', `PE/GOB/${RENIEC}/RUPN`, '--component', 'RUPN', '--purpose', 'FOCALIZACION', '--legal-basis', 'Ley 30435', '--programa', 'JUNTOS');
      assert.equal(req.code, 2);
      assert.match(req.err, /lo administra el RUC 20511268401/);
      // a granted request that cited a programme: the agreement it registers serves that programme
      assert.equal((await cli('component', 'link', 'RUPN', `PE/GOB/${RENIEC}/RUPN/consultarPersona/v1`)).code, 0);
      assert.equal((await cli('unit', 'request', '--entity', RENIEC, '--date', '2026-03-02')).code, 0);
      assert.equal((await cli('unit', 'answer', '--entity', RENIEC, '--date', '2026-03-02', '--unit', 'Gerencia de Registros', '--head', 'Ana Quispe', '--post', 'Gerente', '--contact', 'aquispe@reniec.gob.pe', '--user', 'aquispe')).code, 0);
      const filed = await cli('access', 'request', '--client', `PE/GOB/${JUNTOS}/JUNTOS`, '--component', 'RUPN', '--purpose', 'FOCALIZACION', '--legal-basis', 'Ley 30435', '--date', '2026-03-02', '--programa', 'JUNTOS');
      assert.equal(filed.code, 0, filed.err);
      assert.match(filed.out, /programa JUNTOS/);
      const granted = await cliAs('aquispe', 'access', 'grant', 'SA-2026-0001', '--agreement', 'CONV-10', '--date', '2026-03-02');
      assert.equal(granted.code, 0, granted.err);
      const shown = await cli('conf', 'show', '--json');
      assert.deepEqual((JSON.parse(shown.out) as { programs: { code: string }[] }).programs.map((p) => p.code), ['JUNTOS']);
      assert.match((await cli('conf', 'show')).out, /Programas del RPS \(1\)/);
      const store = openSqliteRegistryStore(join(dir, 'c', 'central.db'));
      try {
        assert.equal(citedProgram(store, 'convenio', 'CONV-9'), 'JUNTOS');
        assert.equal(citedProgram(store, 'solicitud-acceso', 'SA-2026-0001'), 'JUNTOS');
        assert.equal(citedProgram(store, 'convenio', 'CONV-10'), 'JUNTOS');
        assert.equal(store.db.prepare('SELECT COUNT(*) AS n FROM gov_program_links').pluck().get(), 3, 'the refused request cited nothing');
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
