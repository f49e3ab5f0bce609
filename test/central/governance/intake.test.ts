/**
 * New sources an IPF asks for (6.6.1.2, 6.6.2.3, 8.2): the request becomes a tracked component
 * «identificado» with its requester; DGFO's evaluation deadline, then incorporation with the
 * designation and first-meeting deadlines, appear in plazos and in compliance; bad requests are
 * refused with nothing changed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createPeruCalendar } from '../../../core/business-days.js';
import { MiisError } from '../../../core/errors.js';
import { registerMember, registerSubsystem } from '../../../central/registry/rules.js';
import type { RegistryStore } from '../../../central/registry/store.js';
import { seedCatalogue } from '../../../central/governance/catalogue-seed.js';
import { addEntity } from '../../../central/governance/entities.js';
import { getComponent, setComponentStatus } from '../../../central/governance/catalogue.js';
import { listSourceRequests, requestNewSource } from '../../../central/governance/intake.js';
import { computeDeadlines } from '../../../central/governance/deadlines.js';
import { computeCompliance } from '../../../central/governance/compliance.js';
import { answerDesignation, requestDesignation } from '../../../central/governance/units.js';
import { buildPortalData } from '../../../central/governance/portal.js';
import { runCentralCli } from '../../../central/cli/index.js';
import { ctxAt, makeInstance, T0 } from '../helpers.js';

const RENIEC = '20295613620';
const JUNTOS = '20511268401';
const JUNTOS_CLIENT = `PE/GOB/${JUNTOS}/JUNTOS`;
const NEW_ENTITY = '20512333797';
const cal = createPeruCalendar();
const dgfo = ctxAt(T0, 'dgfo');

async function setUp(): Promise<RegistryStore> {
  const { store } = await makeInstance();
  seedCatalogue(store, dgfo);
  registerMember(store, { memberClass: 'GOB', memberCode: RENIEC, name: 'RENIEC', role: 'RENIEC' }, dgfo);
  registerMember(store, { memberClass: 'GOB', memberCode: JUNTOS, name: 'Programa Juntos', role: 'IPF' }, dgfo);
  registerSubsystem(store, JUNTOS_CLIENT, dgfo);
  registerSubsystem(store, `PE/GOB/${RENIEC}/RUPN`, dgfo);
  addEntity(store, { ruc: NEW_ENTITY, name: 'Registro de Organizaciones Sociales', role: 'PRODUCTORA_INFORMACION_SOCIAL' }, dgfo);
  return store;
}

function refused(store: RegistryStore, fn: () => unknown, message: RegExp): void {
  const before = store.listAudit().length;
  assert.throws(fn, (err: unknown) => err instanceof MiisError && message.test(err.message));
  assert.equal(store.listAudit().length, before, 'nothing changed');
}

const request = { entity: NEW_ENTITY, requester: JUNTOS_CLIENT, description: 'Integrantes de comedores populares, para verificar la participación de los hogares', family: 'criterios-elegibilidad', personal: true, filedAt: '2026-11-20' };

describe('new sources requested by IPFs', () => {
  it('a request is a tracked component «identificado» with its requester and DGFO deadline (30 business days)', async () => {
    const store = await setUp();
    const r = requestNewSource(store, request, cal, dgfo);
    assert.equal(r.id, 'NF-2026-0001');
    assert.equal(r.status, 'identificado');
    assert.equal(r.requester, JUNTOS_CLIENT);
    assert.equal(r.evaluationDue, '2027-01-07', '2026-11-20 + 30 business days (DOMAIN.md vector)');
    const c = getComponent(store, 'NF-2026-0001')!;
    assert.equal(c.entityRuc, NEW_ENTITY);
    assert.match(c.source ?? '', /Requerimiento NF-2026-0001 de PE\/GOB\/20511268401\/JUNTOS \(6\.6\.2\.3\)/);
    assert.deepEqual(store.listAudit().slice(-2).map((a) => a.action), ['component.add', 'source.request']);
    const open = computeDeadlines(store, '2026-12-01', cal).filter((d) => d.kind === 'evaluar-fuente');
    assert.deepEqual(open.map((d) => [d.responsible, d.dueAt, d.status]), [['DGFO', '2027-01-07', 'en-plazo']]);
    assert.equal(computeDeadlines(store, '2027-01-08', cal).find((d) => d.kind === 'evaluar-fuente')?.status, 'vencido');
    // not yet due: nothing to evaluate; past due and not evaluated: missed
    assert.equal(computeCompliance(store, '2026-12-01', cal, { entity: NEW_ENTITY })[0]!.facts.length, 0);
    const late = computeCompliance(store, '2027-01-08', cal, { entity: NEW_ENTITY })[0]!;
    assert.deepEqual([late.met, late.missed], [0, 1]);
    assert.match(late.facts[0]!.obligation, /evaluación de la fuente nueva NF-2026-0001/);
  });

  it('follows the source through evaluation, incorporation (designation, first meeting) and availability', async () => {
    const store = await setUp();
    requestNewSource(store, { ...request, code: 'COMEDORES' }, cal, dgfo);
    setComponentStatus(store, 'COMEDORES', 'en-evaluacion', { date: '2026-11-25' }, dgfo);
    assert.equal(buildPortalData(store, T0).components.find((c) => c.code === 'COMEDORES')?.statusLabel, 'En evaluación');
    refused(store, () => setComponentStatus(store, 'COMEDORES', 'en-incorporacion', {}, dgfo), /informe técnico/);
    setComponentStatus(store, 'COMEDORES', 'en-incorporacion', { technicalReport: 'Informe Nº 020-2026-MIDIS/DGFO/DDF', date: '2026-12-15' }, dgfo);
    const [r] = listSourceRequests(store);
    assert.deepEqual([r!.status, r!.evaluationStartedAt, r!.evaluatedAt, r!.availableAt], ['en-incorporacion', '2026-11-25', '2026-12-15', null]);
    let plazos = computeDeadlines(store, '2026-12-16', cal, { entity: NEW_ENTITY });
    assert.deepEqual(plazos.map((d) => d.kind), ['solicitar-designacion'], 'evaluated: DGFO now asks the entity for a responsible unit (7.1.1)');
    assert.match(plazos[0]!.subject, /incorporación de COMEDORES \(NF-2026-0001\)/);
    const met = computeCompliance(store, '2027-03-01', cal, { entity: NEW_ENTITY })[0]!;
    assert.deepEqual([met.met, met.missed], [1, 0]);
    requestDesignation(store, { entity: NEW_ENTITY, requestedAt: '2026-12-17' }, cal, dgfo);
    assert.deepEqual(computeDeadlines(store, '2026-12-18', cal, { entity: NEW_ENTITY }).map((d) => d.kind), ['responder-designacion']);
    answerDesignation(store, { entity: NEW_ENTITY, answeredAt: '2026-12-22', unit: 'Oficina de Tecnologías de la Información', headName: 'Luis Huamán', headPost: 'Jefe', headContact: 'lhuaman@example.gob.pe', headUser: 'lhuaman' }, dgfo);
    assert.deepEqual(computeDeadlines(store, '2026-12-23', cal, { entity: NEW_ENTITY }).map((d) => d.kind), ['primera-reunion']);
    setComponentStatus(store, 'COMEDORES', 'disponible', { date: '2027-02-01' }, dgfo);
    assert.equal(listSourceRequests(store, { status: 'disponible' })[0]?.availableAt, '2027-02-01');
  });

  it('a discarded source needs its report, leaves the portal and the deadlines', async () => {
    const store = await setUp();
    requestNewSource(store, request, cal, dgfo);
    refused(store, () => setComponentStatus(store, 'NF-2026-0001', 'descartado', {}, dgfo), /informe técnico/);
    setComponentStatus(store, 'NF-2026-0001', 'descartado', { technicalReport: 'Informe Nº 021-2026-MIDIS/DGFO/DDF', date: '2026-12-01' }, dgfo);
    refused(store, () => setComponentStatus(store, 'NF-2026-0001', 'en-evaluacion', {}, dgfo), /descartado/);
    assert.equal(buildPortalData(store, T0).components.some((c) => c.code === 'NF-2026-0001'), false);
    assert.deepEqual(computeDeadlines(store, '2027-06-01', cal, { entity: NEW_ENTITY }), []);
  });

  it('refuses requests that are not an IPF requirement, or for what the catalogue already has', async () => {
    const store = await setUp();
    refused(store, () => requestNewSource(store, { ...request, requester: `PE/GOB/${RENIEC}/RUPN` }, cal, dgfo), /no está a cargo de una intervención pública focalizada/);
    refused(store, () => requestNewSource(store, { ...request, requester: 'PE/GOB/20511268401/OTRO' }, cal, dgfo), /no está registrado/);
    refused(store, () => requestNewSource(store, { ...request, code: 'RUPN' }, cal, dgfo), /ya está en el catálogo/);
    refused(store, () => requestNewSource(store, { ...request, family: 'afiliacion-egreso' }, cal, dgfo), /6\.6\.3/);
    refused(store, () => requestNewSource(store, { ...request, entity: '20100255325' }, cal, dgfo), /no está registrada/);
    refused(store, () => requestNewSource(store, { ...request, program: 'JUNTOS' }, cal, dgfo), /Registro Nacional de Programas Sociales/);
    refused(store, () => requestNewSource(store, { ...request, description: '' }, cal, dgfo), /descripción/);
  });
});

describe('catalogue request on the command line', () => {
  it('records the request and lists its follow-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-intake-'));
    try {
      const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
        let out = '';
        let err = '';
        const code = await runCentralCli([...args, '--dir', join(dir, 'c'), '--actor', 'dgfo'], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, now: () => T0 });
        return { code, out, err };
      };
      assert.equal((await cli('init', '--instance', 'PE', '--key-algorithm', 'ecdsa-p256', '--name', 'MIDIS DGFO')).code, 0);
      assert.equal((await cli('member', 'add', '--class', 'GOB', '--code', JUNTOS, '--name', 'Programa Juntos', '--role', 'IPF')).code, 0);
      assert.equal((await cli('subsystem', 'add', JUNTOS_CLIENT)).code, 0);
      assert.equal((await cli('entity', 'add', '--ruc', NEW_ENTITY, '--name', 'Registro de Organizaciones Sociales', '--role', 'PRODUCTORA_INFORMACION_SOCIAL')).code, 0);
      const r = await cli('catalogue', 'request', '--entidad', NEW_ENTITY, '--solicitante', JUNTOS_CLIENT, '--descripcion', 'Integrantes de comedores populares', '--date', '2026-11-20');
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /Pedido NF-2026-0001 registrado: componente NF-2026-0001 \(identificado\).*hasta el 2027-01-07/);
      const list = JSON.parse((await cli('catalogue', 'requests', '--json')).out) as { id: string; solicitante: string; estado: string }[];
      assert.deepEqual(list.map((x) => [x.id, x.solicitante, x.estado]), [['NF-2026-0001', JUNTOS_CLIENT, 'identificado']]);
      assert.equal((await cli('component', 'status', 'NF-2026-0001', 'en-evaluacion', '--date', '2026-11-23')).code, 0);
      const plazos = await cli('plazos', '--today', '2026-11-24', '--json');
      assert.match(plazos.out, /evaluar-fuente/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
