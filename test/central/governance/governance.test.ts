/**
 * Governance rules on an in-memory registry: seed, responsible units, catalogue life cycle,
 * access requests and the global configuration, deadlines, compliance, sanctions, actas, portal;
 * and the bad inputs of issue 3, each refused with a Spanish message and nothing changed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPeruCalendar } from '../../../core/business-days.js';
import { MiisError } from '../../../core/errors.js';
import { registerMember, registerService, registerSubsystem } from '../../../central/registry/rules.js';
import type { RegistryStore } from '../../../central/registry/store.js';
import { seedCatalogue, placeholderRuc, SEED_COMPONENT_COUNT } from '../../../central/governance/catalogue-seed.js';
import { addEntity, listEntities, requireEntity } from '../../../central/governance/entities.js';
import { answerDesignation, currentUnit, listDesignations, requestDesignation } from '../../../central/governance/units.js';
import { addComponent, linkComponentService, listComponents, setComponentStatus } from '../../../central/governance/catalogue.js';
import { decideAccessRequest, fileAccessRequest, listAccessRequests } from '../../../central/governance/access-requests.js';
import { addMeeting } from '../../../central/governance/meetings.js';
import { addActa, signActa } from '../../../central/governance/actas.js';
import { renderActaHtml } from '../../../central/governance/acta-render.js';
import { computeDeadlines } from '../../../central/governance/deadlines.js';
import { computeCompliance, levelOf } from '../../../central/governance/compliance.js';
import { addSanction, listSanctions } from '../../../central/governance/sanctions.js';
import { buildPortalData, renderPortalHtml } from '../../../central/governance/portal.js';
import { buildGlobalConf } from '../../../central/conf/builder.js';
import { takeRegistrySnapshot } from '../../../central/conf/snapshot.js';
import { checkRuc } from '../../../core/peru-ids.js';
import { ctxAt, makeInstance, T0 } from '../helpers.js';

const RENIEC = '20295613620';
const JUNTOS = '20511268401';
const JUNTOS_CLIENT = `PE/GOB/${JUNTOS}/JUNTOS`;
const SERVICE = `PE/GOB/${RENIEC}/RUPN/consultarPersona/v1`;
const cal = createPeruCalendar();
const dgfo = ctxAt(T0, 'dgfo');

/** Seeded registry with RENIEC (provider, with its service) and Juntos (IPF) as members. */
async function setUp(): Promise<RegistryStore> {
  const { store } = await makeInstance();
  seedCatalogue(store, dgfo);
  registerMember(store, { memberClass: 'GOB', memberCode: RENIEC, name: 'RENIEC', role: 'RENIEC' }, dgfo);
  registerMember(store, { memberClass: 'GOB', memberCode: JUNTOS, name: 'Programa Juntos', role: 'IPF' }, dgfo);
  registerSubsystem(store, `PE/GOB/${RENIEC}/RUPN`, dgfo);
  registerSubsystem(store, JUNTOS_CLIENT, dgfo);
  registerService(store, { serviceId: SERVICE, title: 'Consultar persona' }, dgfo);
  linkComponentService(store, 'RUPN', SERVICE, dgfo);
  return store;
}

function designate(store: RegistryStore): void {
  requestDesignation(store, { entity: RENIEC, requestedAt: '2026-03-02' }, cal, dgfo);
  answerDesignation(store, { entity: RENIEC, answeredAt: '2026-03-10', unit: 'Gerencia de Registros', headName: 'Ana Quispe', headPost: 'Gerente', headContact: 'aquispe@reniec.gob.pe', headUser: 'aquispe' }, dgfo);
}

/** Run fn, expect a MiisError whose message matches, and check the audit log did not grow. */
function refused(store: RegistryStore, fn: () => unknown, message: RegExp): void {
  const before = store.listAudit().length;
  assert.throws(fn, (err: unknown) => err instanceof MiisError && message.test(err.message));
  assert.equal(store.listAudit().length, before, 'nothing changed');
}

describe('catalogue seed', () => {
  it('seeds the 5 core databases and the 15 Anexo 01 sources, idempotently, with valid RUCs', async () => {
    const { store } = await makeInstance();
    assert.deepEqual(seedCatalogue(store, dgfo), { entities: 14, components: 20 });
    assert.equal(SEED_COMPONENT_COUNT, 20);
    assert.deepEqual(seedCatalogue(store, dgfo), { entities: 0, components: 0 });
    const entities = listEntities(store);
    for (const e of entities) assert.ok(checkRuc(e.ruc).ok, e.ruc);
    assert.deepEqual(entities.filter((e) => !e.rucPlaceholder).map((e) => e.ruc).sort(), ['20295613620', '20545565359']);
    assert.equal(placeholderRuc(1).slice(0, 10), '2099999001');
    assert.equal(listComponents(store, { family: 'identificacion' }).length, 3);
    assert.equal(listComponents(store, { status: 'identificado' }).length, 15);
  });
});

describe('responsible units', () => {
  it('computes the 15-business-day due date and keeps the history when a unit is replaced', async () => {
    const store = await setUp();
    const d = requestDesignation(store, { entity: RENIEC, requestedAt: '2026-07-20' }, cal, dgfo);
    assert.equal(d.dueAt, '2026-08-14');
    answerDesignation(store, { entity: RENIEC, answeredAt: '2026-07-30', unit: 'Unidad A', headName: 'Ana', headPost: 'Jefa', headContact: 'a@x.pe' }, dgfo);
    answerDesignation(store, { entity: RENIEC, answeredAt: '2026-09-01', unit: 'Unidad B', headName: 'Beto', headPost: 'Jefe', headContact: 'b@x.pe' }, dgfo);
    assert.equal(currentUnit(store, RENIEC)?.unit, 'Unidad B');
    assert.deepEqual(listDesignations(store, { entity: RENIEC }).map((x) => [x.unit, x.status]), [['Unidad A', 'reemplazada'], ['Unidad B', 'vigente']]);
    assert.equal(listComponents(store, { entity: RENIEC })[0]?.responsibleUnit?.unit, 'Unidad B');
  });

  it('counts decreed non-working days', async () => {
    const store = await setUp();
    const d = requestDesignation(store, { entity: RENIEC, requestedAt: '2026-07-20' }, createPeruCalendar({ extraNonWorkingDays: ['2026-07-24'] }), dgfo);
    assert.equal(d.dueAt, '2026-08-17');
  });
});

describe('catalogue life cycle', () => {
  it('allows only valid transitions and needs a technical report to incorporate', async () => {
    const store = await setUp();
    refused(store, () => setComponentStatus(store, 'AFILIADOS-SIS', 'disponible', {}, dgfo), /no puede pasar a «disponible»; desde «identificado» solo se permite: en-evaluacion, en-incorporacion, descartado/);
    refused(store, () => setComponentStatus(store, 'AFILIADOS-SIS', 'en-incorporacion', {}, dgfo), /informe técnico/);
    assert.equal(setComponentStatus(store, 'AFILIADOS-SIS', 'en-incorporacion', { technicalReport: 'Informe Nº 005-2026-MIDIS/DGFO/DDF' }, dgfo).status, 'en-incorporacion');
    assert.equal(setComponentStatus(store, 'AFILIADOS-SIS', 'disponible', {}, dgfo).status, 'disponible');
    assert.equal(setComponentStatus(store, 'AFILIADOS-SIS', 'suspendido', {}, dgfo).status, 'suspendido');
    assert.equal(setComponentStatus(store, 'AFILIADOS-SIS', 'disponible', {}, dgfo).status, 'disponible');
    const audit = store.listAudit().filter((a) => a.action === 'component.status');
    assert.deepEqual(audit.map((a) => [(a.before as { status: string }).status, (a.after as { status: string }).status]), [
      ['identificado', 'en-incorporacion'], ['en-incorporacion', 'disponible'], ['disponible', 'suspendido'], ['suspendido', 'disponible'],
    ]);
  });

  it('refuses a service of another entity and a sensitive component without personal data', async () => {
    const store = await setUp();
    refused(store, () => linkComponentService(store, 'PGH', SERVICE, dgfo), /es del RUC 20295613620, pero el componente PGH lo administra el RUC 20545565359/);
    refused(store, () => addComponent(store, { code: 'X-1', name: 'x', entity: RENIEC, description: 'x', legalBasis: 'x', family: 'identificacion', referenceUnit: 'persona', personal: false, sensitive: true }, dgfo), /--personales|datos personales/);
  });
});

describe('access requests', () => {
  it('grants through the designated unit: access right and agreement reach the global configuration', async () => {
    const store = await setUp();
    designate(store);
    const r = fileAccessRequest(store, { client: JUNTOS_CLIENT, component: 'RUPN', purpose: 'focalizacion', legalBasis: 'Ley Nº 30435', filedAt: '2026-03-27', channel: 'dgfo' }, cal, dgfo);
    assert.equal(r.dueAt, '2026-04-14');
    assert.equal(r.purpose, 'FOCALIZACION');
    const granted = decideAccessRequest(store, { id: r.id, grant: true, decidedAt: '2026-04-06', agreementId: 'CONV-001-2026' }, ctxAt(T0, 'aquispe'));
    assert.equal(granted.status, 'otorgada');
    const conf = buildGlobalConf(takeRegistrySnapshot(store), { instance: 'PE', trustedCas: [], serial: 2, now: T0, validityMs: 60_000 });
    assert.deepEqual(conf.accessRights, [{ service: `PE/GOB/${RENIEC}/RUPN/consultarPersona`, client: JUNTOS_CLIENT }]);
    assert.deepEqual(conf.agreements?.map((a) => [a.id, a.provider, a.clients, a.purposes, a.validFrom]), [['CONV-001-2026', `PE/GOB/${RENIEC}`, [JUNTOS_CLIENT], ['FOCALIZACION'], '2026-04-06']]);
  });

  it('a denial needs a reason and publishes nothing', async () => {
    const store = await setUp();
    designate(store);
    const r = fileAccessRequest(store, { client: JUNTOS_CLIENT, component: 'RUPN', purpose: 'FOCALIZACION', legalBasis: 'Ley Nº 30435', filedAt: '2026-03-27', channel: 'dgfo' }, cal, dgfo);
    refused(store, () => decideAccessRequest(store, { id: r.id, grant: false, decidedAt: '2026-04-06' }, ctxAt(T0, 'aquispe')), /motivo de la denegación/);
    assert.equal(decideAccessRequest(store, { id: r.id, grant: false, reason: 'Finalidad ajena a la focalización', decidedAt: '2026-04-06' }, ctxAt(T0, 'Ana Quispe')).status, 'denegada');
    assert.equal(takeRegistrySnapshot(store).accessRights?.length, 0);
  });
});

describe('bad input is refused in Spanish and changes nothing', () => {
  it('unknown entity', async () => {
    const store = await setUp();
    refused(store, () => requestDesignation(store, { entity: '20512333797', requestedAt: '2026-03-02' }, cal, dgfo), /la entidad con RUC 20512333797 no está registrada/);
  });
  it('an invalid RUC says the expected check digit', async () => {
    const store = await setUp();
    refused(store, () => requestDesignation(store, { entity: '20295613621', requestedAt: '2026-03-02' }, cal, dgfo), /se esperaba 0/);
  });
  it('unknown component', async () => {
    const store = await setUp();
    refused(store, () => fileAccessRequest(store, { client: JUNTOS_CLIENT, component: 'NO-EXISTE', purpose: 'FOCALIZACION', legalBasis: 'x', filedAt: '2026-03-27', channel: 'dgfo' }, cal, dgfo), /el componente «NO-EXISTE» no está en el catálogo/);
  });
  it('a due date on an invalid date', async () => {
    const store = await setUp();
    refused(store, () => requestDesignation(store, { entity: RENIEC, requestedAt: '2026-02-30' }, cal, dgfo), /Fecha no válida: «2026-02-30»/);
    refused(store, () => fileAccessRequest(store, { client: JUNTOS_CLIENT, component: 'RUPN', purpose: 'FOCALIZACION', legalBasis: 'x', filedAt: '2026-13-01', channel: 'dgfo' }, cal, dgfo), /Fecha no válida/);
  });
  it('an acta without participants', async () => {
    const store = await setUp();
    const m = addMeeting(store, { entity: RENIEC, date: '2026-04-15', participants: [], agenda: ['Alcances del MIIS'], agreements: [] }, dgfo);
    refused(store, () => addActa(store, m.id, { services: [{ service: SERVICE, requestTrama: [{ field: 'dni', type: 'texto(8)', required: true }], periodicity: 'diaria', exchangeForm: 'servicio-web' }] }, dgfo), /no tiene participantes del MIDIS/);
  });
  it('a grant by someone who is not the designated unit (and before any designation)', async () => {
    const store = await setUp();
    const r = fileAccessRequest(store, { client: JUNTOS_CLIENT, component: 'RUPN', purpose: 'FOCALIZACION', legalBasis: 'x', filedAt: '2026-03-27', channel: 'dgfo' }, cal, dgfo);
    refused(store, () => decideAccessRequest(store, { id: r.id, grant: true, decidedAt: '2026-04-01' }, ctxAt(T0, 'aquispe')), /no tiene unidad responsable designada/);
    designate(store);
    refused(store, () => decideAccessRequest(store, { id: r.id, grant: true, decidedAt: '2026-04-01' }, ctxAt(T0, 'dgfo')), /«dgfo» no actúa por la unidad designada de Registro Nacional de Identificación y Estado Civil \(Gerencia de Registros/);
    assert.equal(listAccessRequests(store)[0]?.status, 'pendiente');
  });
  it('a duplicate request, a duplicate designation request and a duplicate entity', async () => {
    const store = await setUp();
    const input = { client: JUNTOS_CLIENT, component: 'RUPN', purpose: 'FOCALIZACION', legalBasis: 'x', filedAt: '2026-03-27', channel: 'dgfo' } as const;
    fileAccessRequest(store, input, cal, dgfo);
    refused(store, () => fileAccessRequest(store, input, cal, dgfo), /Ya existe: una solicitud de PE\/GOB\/20511268401\/JUNTOS para RUPN \(SA-2026-0001, pendiente\)/);
    requestDesignation(store, { entity: RENIEC, requestedAt: '2026-03-02' }, cal, dgfo);
    refused(store, () => requestDesignation(store, { entity: RENIEC, requestedAt: '2026-03-03' }, cal, dgfo), /solicitud de designación pendiente/);
    refused(store, () => addEntity(store, { ruc: RENIEC, name: 'RENIEC', role: 'RENIEC' }, dgfo), /Ya existe: la entidad con RUC 20295613620/);
  });
  it('an access request for a component not yet available', async () => {
    const store = await setUp();
    refused(store, () => fileAccessRequest(store, { client: JUNTOS_CLIENT, component: 'AFILIADOS-SIS', purpose: 'FOCALIZACION', legalBasis: 'x', filedAt: '2026-03-27', channel: 'dgfo' }, cal, dgfo), /solo se puede pedir acceso a componentes disponibles/);
  });
});

describe('deadlines and compliance', () => {
  it('lists overdue and upcoming obligations and turns late answers into a lower level', async () => {
    const store = await setUp();
    requestDesignation(store, { entity: RENIEC, requestedAt: '2026-03-02' }, cal, dgfo); // due 2026-03-23
    const open = computeDeadlines(store, '2026-03-25', cal, { entity: RENIEC });
    assert.deepEqual(open.map((d) => [d.kind, d.dueAt, d.status, d.businessDaysLeft]), [['responder-designacion', '2026-03-23', 'vencido', -2]]);
    answerDesignation(store, { entity: RENIEC, answeredAt: '2026-03-25', unit: 'U', headName: 'Ana', headPost: 'G', headContact: 'c' }, dgfo);
    const next = computeDeadlines(store, '2026-03-25', cal, { entity: RENIEC });
    assert.deepEqual(next.map((d) => [d.kind, d.status]), [['primera-reunion', 'en-plazo']]);
    const c = computeCompliance(store, '2026-03-25', cal, { entity: RENIEC })[0]!;
    assert.deepEqual([c.met, c.missed, c.level], [0, 1, 'bajo']);
    assert.equal(levelOf(9, 1), 'alto');
    assert.equal(levelOf(2, 1), 'medio');
    assert.equal(levelOf(0, 0), 'sin-datos');
  });

  it('records sanctions under Art. 21 of Ley 30435 and counts them per entity', async () => {
    const store = await setUp();
    const s = addSanction(store, { entity: RENIEC, infraction: 'No otorgó el acceso en plazo', resolution: 'R.D. Nº 015-2026-MIDIS/DGFO', date: '2026-06-01' }, dgfo);
    assert.match(s.legalBasis, /Artículo 21 de la Ley Nº 30435/);
    refused(store, () => addSanction(store, { entity: RENIEC, infraction: 'x', resolution: 'R.D. Nº 015-2026-MIDIS/DGFO', date: '2026-06-01' }, dgfo), /Ya existe/);
    assert.equal(listSanctions(store).length, 1);
    assert.equal(computeCompliance(store, '2026-06-02', cal, { entity: RENIEC })[0]?.sanctions, 1);
    assert.equal(listComponents(store).find((c) => c.code === 'REG-SANCIONES')?.status, 'disponible');
  });
});

describe('actas and portal', () => {
  it('numbers actas per year, needs every participant to sign, and renders the Anexo 02 layout', async () => {
    const store = await setUp();
    const m = addMeeting(store, { entity: RENIEC, date: '2026-04-15', startTime: '10:00', endTime: '12:00', participants: ['MIDIS|Luis Torres|Director', 'ENTIDAD|Ana Quispe|Gerente'], agenda: ['Alcances'], agreements: ['Plan de trabajo'] }, dgfo);
    const a = addActa(store, m.id, { services: [{ service: SERVICE, requestTrama: [{ field: 'dni', type: 'texto(8)', required: true }], periodicity: 'diaria', exchangeForm: 'transferencia-archivos', validations: ['dni:dni'] }] }, dgfo);
    assert.equal(a.number, 'ACTA Nº 01-2026-MIDIS/DGFO');
    refused(store, () => signActa(store, '01-2026', { signer: 'Pedro Nadie', signedAt: '2026-04-15' }, dgfo), /no participó en la reunión/);
    assert.equal(signActa(store, '01-2026', { signer: 'Luis Torres', signedAt: '2026-04-15' }, dgfo).status, 'borrador');
    const signed = signActa(store, 'ACTA Nº 01-2026-MIDIS/DGFO', { signer: 'ana quispe', signedAt: '2026-04-15' }, dgfo);
    assert.equal(signed.status, 'firmada');
    assert.equal(signed.agreementId, null, 'an acta without clients records standards only');
    const html = renderActaHtml(signed, m, requireEntity(store, RENIEC));
    assert.match(html, /Periodicidad variable vía transferencia de archivos/);
    assert.match(html, /Firmado el 2026-04-15/);
    assert.doesNotMatch(html, /Pendiente de firma/);
  });

  it('publishes the catalogue with escaped text, available components first', async () => {
    const store = await setUp();
    designate(store);
    addComponent(store, { code: 'XSS', name: '<script>alert(1)</script>', entity: RENIEC, description: 'd', legalBasis: 'l', family: 'identificacion', referenceUnit: 'persona', personal: false, sensitive: false }, dgfo);
    const data = buildPortalData(store, T0);
    assert.equal(data.components.length, 21);
    assert.deepEqual(data.components.slice(0, 5).map((c) => c.status), Array(5).fill('disponible'));
    const html = renderPortalHtml(data);
    assert.ok(!html.includes('<script>alert(1)</script>'));
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /Gerencia de Registros/);
  });
});
