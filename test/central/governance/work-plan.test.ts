/**
 * The first meeting's work plan (7.1.3) tracked by deadlines and compliance; the DGFO Director as a
 * required signer of actas (7.1.4); the first meeting held late counted late, and meetings
 * scheduled in the future neither held nor missed. In-memory registry, and the CLI for the
 * commands' output and --json shape.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addBusinessDays, createPeruCalendar } from '../../../core/business-days.js';
import { MiisError } from '../../../core/errors.js';
import { registerMember, registerService, registerSubsystem } from '../../../central/registry/rules.js';
import type { RegistryStore } from '../../../central/registry/store.js';
import { seedCatalogue } from '../../../central/governance/catalogue-seed.js';
import { answerDesignation, requestDesignation } from '../../../central/governance/units.js';
import { linkComponentService } from '../../../central/governance/catalogue.js';
import { addMeeting, operatingSince } from '../../../central/governance/meetings.js';
import { addActa, isDgfoDirector, signActa } from '../../../central/governance/actas.js';
import { computeDeadlines } from '../../../central/governance/deadlines.js';
import { computeCompliance } from '../../../central/governance/compliance.js';
import { addActivity, completeActivity, listActivities, setActivity } from '../../../central/governance/work-plan.js';
import { runCentralCli } from '../../../central/cli/index.js';
import { ctxAt, makeInstance, T0 } from '../helpers.js';

const RENIEC = '20295613620';
const JUNTOS = '20511268401';
const SERVICE = `PE/GOB/${RENIEC}/RUPN/consultarPersona/v1`;
const cal = createPeruCalendar();
const dgfo = ctxAt(T0, 'dgfo');
const ANSWERED = '2026-03-10';
const FIRST_DUE = addBusinessDays(ANSWERED, 30, cal);
const PEOPLE = ['MIDIS|Luis Torres|Director General de Focalización', 'ENTIDAD|Ana Quispe|Gerente'];

async function setUp(): Promise<RegistryStore> {
  const { store } = await makeInstance();
  seedCatalogue(store, dgfo);
  registerMember(store, { memberClass: 'GOB', memberCode: RENIEC, name: 'RENIEC', role: 'RENIEC' }, dgfo);
  registerMember(store, { memberClass: 'GOB', memberCode: JUNTOS, name: 'Programa Juntos', role: 'IPF' }, dgfo);
  registerSubsystem(store, `PE/GOB/${RENIEC}/RUPN`, dgfo);
  registerService(store, { serviceId: SERVICE, title: 'Consultar persona' }, dgfo);
  linkComponentService(store, 'RUPN', SERVICE, dgfo);
  requestDesignation(store, { entity: RENIEC, requestedAt: '2026-03-02' }, cal, dgfo);
  answerDesignation(store, { entity: RENIEC, answeredAt: ANSWERED, unit: 'Gerencia de Registros', headName: 'Ana Quispe', headPost: 'Gerente', headContact: 'c', headUser: 'aquispe' }, dgfo);
  return store;
}

function refused(store: RegistryStore, fn: () => unknown, message: RegExp): void {
  const before = store.listAudit().length;
  assert.throws(fn, (err: unknown) => err instanceof MiisError && message.test(err.message), String(message));
  assert.equal(store.listAudit().length, before, 'nothing changed');
}

const firstMeetingFact = (store: RegistryStore, today: string) =>
  computeCompliance(store, today, cal, { entity: RENIEC })[0]!.facts.find((f) => f.obligation.startsWith('primera reunión'));

describe('first meeting: held late, scheduled in the future', () => {
  it('a first meeting held after its due date is reported late (missed), not on time', async () => {
    const store = await setUp();
    const late = addBusinessDays(FIRST_DUE, 5, cal);
    addMeeting(store, { entity: RENIEC, date: late, participants: PEOPLE, agenda: ['Alcances'], agreements: [] }, dgfo);
    const fact = firstMeetingFact(store, addBusinessDays(late, 1, cal));
    assert.deepEqual([fact?.dueAt, fact?.doneAt, fact?.met], [FIRST_DUE, late, false]);
  });
  it('a first meeting held in time is met', async () => {
    const store = await setUp();
    addMeeting(store, { entity: RENIEC, date: FIRST_DUE, participants: PEOPLE, agenda: ['Alcances'], agreements: [] }, dgfo);
    assert.equal(firstMeetingFact(store, addBusinessDays(FIRST_DUE, 1, cal))?.met, true);
  });
  it('a meeting scheduled in the future is neither held nor missed; the deadline stays open until it is held', async () => {
    const store = await setUp();
    const today = addBusinessDays(ANSWERED, 5, cal);
    const scheduled = addBusinessDays(ANSWERED, 20, cal);
    addMeeting(store, { entity: RENIEC, date: scheduled, participants: PEOPLE, agenda: ['Alcances'], agreements: [] }, dgfo);
    assert.equal(firstMeetingFact(store, today), undefined, 'not evaluable yet: not held');
    assert.equal(operatingSince(store, RENIEC, today), null);
    const open = computeDeadlines(store, today, cal, { entity: RENIEC }).find((d) => d.kind === 'primera-reunion');
    assert.match(open?.subject ?? '', new RegExp(`programada el ${scheduled}`));
    // past its due date the still-unheld meeting is missed, not counted as held
    const after = addBusinessDays(FIRST_DUE, 1, cal);
    const laterStore = await setUp();
    addMeeting(laterStore, { entity: RENIEC, date: addBusinessDays(after, 10, cal), participants: PEOPLE, agenda: ['x'], agreements: [] }, dgfo);
    const fact = firstMeetingFact(laterStore, after);
    assert.deepEqual([fact?.doneAt, fact?.met], [null, false]);
    // once its day comes it is held and the MIIS operates for the entity (8.1)
    assert.equal(operatingSince(store, RENIEC, scheduled), scheduled);
    assert.equal(computeDeadlines(store, scheduled, cal, { entity: RENIEC }).some((d) => d.kind === 'primera-reunion'), false);
  });
});

describe('work plan (7.1.3)', () => {
  it('activities with owner, unit and due date feed plazos and compliance; late ones are missed', async () => {
    const store = await setUp();
    const m = addMeeting(store, { entity: RENIEC, date: '2026-04-15', participants: PEOPLE, agenda: ['Plan de trabajo'], agreements: [] }, dgfo);
    const a1 = addActivity(store, { meeting: m.id, activity: 'Definir la trama', owner: 'ENTIDAD', dueAt: '2026-05-15' }, dgfo);
    const a2 = addActivity(store, { meeting: m.id, activity: 'Publicar el servicio', owner: 'DGFO', dueAt: '2026-05-20' }, dgfo);
    const a3 = addActivity(store, { meeting: m.id, activity: 'Pruebas', owner: `PE/GOB/${RENIEC}`, unit: 'Oficina de Tecnología', dueAt: '2026-05-25' }, dgfo);
    assert.deepEqual([a1.owner, a1.ownerUnit], ['ENTIDAD', 'Gerencia de Registros'], 'the designated unit by default');
    assert.deepEqual([a2.owner, a2.ownerUnit], ['DGFO', 'Dirección General de Focalización']);
    assert.deepEqual([a3.owner, a3.ownerUnit], ['ENTIDAD', 'Oficina de Tecnología']);
    const open = computeDeadlines(store, '2026-05-10', cal, { entity: RENIEC }).filter((d) => d.kind === 'actividad-plan');
    assert.deepEqual(open.map((d) => [d.dueAt, d.responsible]), [['2026-05-15', 'RENIEC (Gerencia de Registros)'], ['2026-05-20', 'DGFO'], ['2026-05-25', 'RENIEC (Oficina de Tecnología)']]);

    completeActivity(store, a1.id, '2026-05-14', '2026-05-14', dgfo);
    completeActivity(store, a2.id, '2026-05-22', '2026-05-22', dgfo);
    setActivity(store, a3.id, { dueAt: '2026-05-26' }, dgfo);
    const today = '2026-05-28';
    assert.deepEqual(listActivities(store, today).map((a) => [a.id, a.status]), [[a1.id, 'cumplida'], [a2.id, 'cumplida-fuera-de-plazo'], [a3.id, 'vencida']]);
    assert.deepEqual(computeDeadlines(store, today, cal, { entity: RENIEC }).filter((d) => d.kind === 'actividad-plan').map((d) => [d.dueAt, d.status]), [['2026-05-26', 'vencido']]);
    const facts = computeCompliance(store, today, cal, { entity: RENIEC })[0]!.facts.filter((f) => f.obligation.startsWith('actividad'));
    assert.deepEqual(facts.map((f) => f.met), [true, false, false]);
    assert.match(facts[1]!.obligation, /Publicar el servicio \(obligación de DGFO\)/);
  });
  it('refuses an owner outside the meeting, a due date before the meeting, a future or repeated completion', async () => {
    const store = await setUp();
    const m = addMeeting(store, { entity: RENIEC, date: '2026-04-15', participants: PEOPLE, agenda: ['Plan'], agreements: [] }, dgfo);
    refused(store, () => addActivity(store, { meeting: m.id, activity: 'x', owner: JUNTOS, dueAt: '2026-05-01' }, dgfo), /es entre la DGFO y la entidad con RUC 20295613620/);
    refused(store, () => addActivity(store, { meeting: m.id, activity: 'x', owner: 'nadie', dueAt: '2026-05-01' }, dgfo), /responsable no válido: «nadie»/);
    refused(store, () => addActivity(store, { meeting: m.id, activity: 'x', owner: 'DGFO', dueAt: '2026-04-01' }, dgfo), /antes de la reunión/);
    refused(store, () => addActivity(store, { meeting: 99, activity: 'x', owner: 'DGFO', dueAt: '2026-05-01' }, dgfo), /la reunión 99/);
    const a = addActivity(store, { meeting: m.id, activity: 'x', owner: 'DGFO', dueAt: '2026-05-01' }, dgfo);
    refused(store, () => completeActivity(store, a.id, '2026-05-02', '2026-04-20', dgfo), /es futura/);
    refused(store, () => setActivity(store, a.id, {}, dgfo), /indique qué cambiar/);
    completeActivity(store, a.id, '2026-04-20', '2026-04-20', dgfo);
    refused(store, () => completeActivity(store, a.id, '2026-04-21', '2026-04-21', dgfo), /ya se cumplió el 2026-04-20/);
  });
});

describe('the DGFO Director signs every acta (7.1.4)', () => {
  const services = [{ service: SERVICE, requestTrama: [{ field: 'dni', type: 'texto(8)', required: true }], periodicity: 'diaria', exchangeForm: 'servicio-web' }];
  it('recognises the Director by post, not the director of another unit', () => {
    for (const post of ['Director', 'Directora General de Focalización', 'Director de la Dirección General de Focalización', 'Director General de Focalizacion (DGFO)']) assert.ok(isDgfoDirector({ side: 'MIDIS', post }), post);
    for (const [side, post] of [['MIDIS', 'Director de Diseño de Focalización'], ['MIDIS', 'Especialista'], ['ENTIDAD', 'Director']] as const) assert.ok(!isDgfoDirector({ side, post }), `${side} ${post}`);
  });
  it('no acta for a meeting without the Director; with the Director, not signed until the Director signs', async () => {
    const store = await setUp();
    const without = addMeeting(store, { entity: RENIEC, date: '2026-04-15', participants: ['MIDIS|Carla Mendoza|Especialista', 'ENTIDAD|Ana Quispe|Gerente'], agenda: ['x'], agreements: [] }, dgfo);
    refused(store, () => addActa(store, without.id, { services }, dgfo), /no tiene entre sus participantes al Director General de Focalización, que firma el acta \(7\.1\.4\).*--participant "MIDIS\|Nombre\|Director General de Focalización"/);
    const m = addMeeting(store, { entity: RENIEC, date: '2026-04-16', participants: [...PEOPLE, 'MIDIS|Carla Mendoza|Especialista'], agenda: ['x'], agreements: [] }, dgfo);
    addActa(store, m.id, { services }, dgfo);
    assert.equal(signActa(store, '01-2026', { signer: 'Ana Quispe', signedAt: '2026-04-16' }, dgfo).status, 'borrador');
    assert.equal(signActa(store, '01-2026', { signer: 'Carla Mendoza', signedAt: '2026-04-16' }, dgfo).status, 'borrador');
    assert.equal(signActa(store, '01-2026', { signer: 'Luis Torres', signedAt: '2026-04-17' }, dgfo).status, 'firmada');
  });
});

describe('CLI: plan commands, acta sign and agreement add --acta', () => {
  it('plan add|set|done|list with --json {"ok":true,…}; an agreement citing an unsigned acta is refused', async () => {
    const root = mkdtempSync(join(tmpdir(), 'miis-plan-'));
    try {
      const dir = join(root, 'central');
      const now = () => new Date('2026-05-28T15:00:00Z');
      const cli = async (...argv: string[]) => {
        let out = '';
        let err = '';
        const code = await runCentralCli([...argv, '--dir', dir, '--actor', 'dgfo'], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, now });
        return { code, out, err };
      };
      const ok = async (...argv: string[]) => {
        const r = await cli(...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.err}`);
        return r.out;
      };
      await ok('init', '--instance', 'PE', '--name', 'MIDIS DGFO');
      await ok('member', 'add', '--class', 'GOB', '--code', RENIEC, '--name', 'RENIEC', '--role', 'RENIEC');
      await ok('subsystem', 'add', `PE/GOB/${RENIEC}/RUPN`);
      await ok('service', 'add', SERVICE, '--title', 'Consultar persona');
      await ok('unit', 'request', '--entity', RENIEC, '--date', '2026-03-02');
      await ok('unit', 'answer', '--entity', RENIEC, '--date', ANSWERED, '--unit', 'Gerencia de Registros', '--head', 'Ana Quispe', '--post', 'Gerente', '--contact', 'c');
      const late = addBusinessDays(FIRST_DUE, 2, cal);
      assert.match(await ok('meeting', 'add', '--entity', RENIEC, '--date', late, '--participant', PEOPLE[0]!, '--participant', PEOPLE[1]!, '--agenda', 'Plan de trabajo'),
        new RegExp(`Reunión 1 registrada .* primera reunión FUERA DE PLAZO \\(vencía el ${FIRST_DUE}\\)`));
      assert.match(await ok('meeting', 'add', '--entity', RENIEC, '--date', '2026-07-01', '--agenda', 'Seguimiento'), /Reunión 2 programada/);
      const added = JSON.parse(await ok('plan', 'add', '--meeting', '1', '--activity', 'Definir la trama', '--owner', 'ENTIDAD', '--due', '2026-05-20', '--json'));
      assert.deepEqual(added, { ok: true, id: 1, reunion: 1, ruc: RENIEC, actividad: 'Definir la trama', responsable: 'ENTIDAD', unidad: 'Gerencia de Registros', vence: '2026-05-20', cumplida: null, estado: 'vencida' });
      assert.match(await ok('plan', 'add', '--meeting', '1', '--activity', 'Publicar', '--owner', 'DGFO', '--due', '2026-06-10'), /Actividad 2 agregada .* a cargo de DGFO \(Dirección General de Focalización\), vence el 2026-06-10/);
      assert.equal(JSON.parse(await ok('plan', 'set', '2', '--due', '2026-06-12', '--json')).vence, '2026-06-12');
      assert.match(await ok('plan', 'done', '1', '--date', '2026-05-22'), /Actividad 1 cumplida el 2026-05-22 — FUERA DE PLAZO \(vencía el 2026-05-20\)/);
      const list = await ok('plan', 'list', '--entity', RENIEC);
      assert.match(list, /cumplida-fuera-de-plazo/);
      assert.match(list, /pendiente\s+2026-06-12/);
      const plazos = JSON.parse(await ok('plazos', '--json', '--entity', RENIEC)) as { tipo: string; vence: string }[];
      assert.deepEqual(plazos.map((p) => [p.tipo, p.vence]), [['actividad-plan', '2026-06-12']]);
      const bad = await cli('plan', 'add', '--meeting', '1', '--activity', 'x', '--owner', 'nadie', '--due', '2026-06-01');
      assert.equal(bad.code, 2);
      assert.match(bad.err, /responsable no válido: «nadie»/);

      const actaFile = join(root, 'acta.json');
      writeFileSync(actaFile, JSON.stringify({ services: [{ service: SERVICE, requestTrama: [{ field: 'dni', type: 'texto(8)', required: true }], periodicity: 'diaria', exchangeForm: 'servicio-web' }] }));
      await ok('acta', 'add', '--meeting', '1', '--file', actaFile);
      const first = JSON.parse(await ok('acta', 'sign', '01-2026', '--signer', 'Ana Quispe', '--date', late, '--json'));
      assert.deepEqual(first, { ok: true, numero: 'ACTA Nº 01-2026-MIDIS/DGFO', estado: 'borrador', firmas: 1, faltan: ['Luis Torres (Director General de Focalización)'], convenio: null });
      const cited = await cli('agreement', 'add', '--id', 'CONV-1', '--provider', `PE/GOB/${RENIEC}`, '--from', '2026-06-01', '--acta', '01-2026');
      assert.equal(cited.code, 2);
      assert.match(cited.err, /no está firmada \(1 firma\); falta la firma del Director General de Focalización \(7\.1\.4\)/);
      assert.match(await ok('acta', 'sign', '01-2026', '--signer', 'Luis Torres', '--date', late), /FIRMADA por todos/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
