/**
 * Amend and end at central (issue 14 items 1–2): agreements ended early and superseded by a new
 * acta, rights revoked, members / subsystems / services removed only when nothing depends on
 * them, one record (one name) per entity, a provisional RUC replaced with its history; each
 * change audited and reflected in the next global configuration.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPeruCalendar } from '../../../core/business-days.js';
import { MiisError } from '../../../core/errors.js';
import { limaDateTime } from '../../../core/iso-date.js';
import { addAgreement, agreementChain, endAgreement, listAgreementRecords, listAgreements } from '../../../central/registry/agreements.js';
import { removeMember, removeService, removeSubsystem } from '../../../central/registry/removals.js';
import { registerNode, registerService, registerSubsystem } from '../../../central/registry/rules.js';
import { CENTRAL_MIGRATIONS } from '../../../central/registry/migrations.js';
import { openSqliteRegistryStore, type RegistryStore } from '../../../central/registry/store.js';
import { seedCatalogue, seedEntityRucs } from '../../../central/governance/catalogue-seed.js';
import { changeEntityRuc, getEntity, listEntities, registerMemberEntity, requireEntity, setMemberEntity, updateEntity } from '../../../central/governance/entities.js';
import { answerDesignation, listDesignations, requestDesignation } from '../../../central/governance/units.js';
import { addComponent, linkComponentService, listComponents } from '../../../central/governance/catalogue.js';
import { decideAccessRequest, fileAccessRequest, revokeAccess } from '../../../central/governance/access-requests.js';
import { addMeeting, listMeetings, requireMeeting } from '../../../central/governance/meetings.js';
import { addActa, signActa, type ActaInput } from '../../../central/governance/actas.js';
import { renderActaHtml, withArticle } from '../../../central/governance/acta-render.js';
import { addSanction, listSanctions } from '../../../central/governance/sanctions.js';
import { takeRegistrySnapshot } from '../../../central/conf/snapshot.js';
import { plural } from '../../../central/cli/governance.js';
import { ctxAt, issueAuthCert, makeInstance, T0 } from '../helpers.js';

const RENIEC_RUC = '20295613620';
const JUNTOS_RUC = '20511268401';
const RENIEC = `PE/GOB/${RENIEC_RUC}`;
const JUNTOS = `PE/GOB/${JUNTOS_RUC}`;
const JUNTOS_CLIENT = `${JUNTOS}/JUNTOS`;
const SERVICE = `${RENIEC}/RUPN/consultarPersona/v1`;
const KEY = `${RENIEC}/RUPN/consultarPersona`;
const cal = createPeruCalendar();
const dgfo = ctxAt(T0, 'dgfo');

async function setUp(): Promise<RegistryStore> {
  const { store } = await makeInstance();
  seedCatalogue(store, dgfo);
  registerMemberEntity(store, { memberClass: 'GOB', memberCode: RENIEC_RUC }, dgfo);
  registerMemberEntity(store, { memberClass: 'GOB', memberCode: JUNTOS_RUC, name: 'Programa Juntos', role: 'IPF' }, dgfo);
  registerSubsystem(store, `${RENIEC}/RUPN`, dgfo);
  registerSubsystem(store, JUNTOS_CLIENT, dgfo);
  registerService(store, { serviceId: SERVICE, title: 'Consultar persona' }, dgfo);
  linkComponentService(store, 'RUPN', SERVICE, dgfo);
  return store;
}

const agreement = { id: 'CONV-001-2026', provider: RENIEC, clients: [JUNTOS_CLIENT], services: [KEY], purposes: ['FOCALIZACION'], validFrom: '2026-01-01' };

function refused(store: RegistryStore, fn: () => unknown, message: RegExp): void {
  const before = store.listAudit().length;
  assert.throws(fn, (err: unknown) => err instanceof MiisError && message.test(err.message), `expected ${message}`);
  assert.equal(store.listAudit().length, before, 'nothing changed');
}

describe('agreement end', () => {
  it('ends early: history keeps date and reason, the configuration publishes validUntil = that date; audited; refused twice', async () => {
    const store = await setUp();
    addAgreement(store, { ...agreement, validUntil: '2026-12-31' }, dgfo);
    refused(store, () => endAgreement(store, { id: 'CONV-001-2026', date: '2026-06-30', reason: '  ' }, dgfo), /motivo/);
    refused(store, () => endAgreement(store, { id: 'CONV-001-2026', date: '2027-01-15', reason: 'x' }, dgfo), /vence el 2026-12-31.*--supersedes/);
    refused(store, () => endAgreement(store, { id: 'CONV-001-2026', date: '2025-12-30', reason: 'x' }, dgfo), /a lo sumo el 2025-12-31/);
    refused(store, () => endAgreement(store, { id: 'NO-EXISTE', date: '2026-06-30', reason: 'x' }, dgfo), /el convenio NO-EXISTE/);
    const r = endAgreement(store, { id: 'CONV-001-2026', date: '2026-06-30', reason: 'Resolución por mutuo acuerdo' }, ctxAt(T0, 'ana'));
    assert.equal(r.endedOn, '2026-06-30');
    assert.equal(r.agreement.validUntil, '2026-12-31', 'the agreed end stays in the history');
    assert.deepEqual(listAgreements(store).map((a) => [a.id, a.validUntil]), [['CONV-001-2026', '2026-06-30']]);
    assert.deepEqual(takeRegistrySnapshot(store).agreements?.map((a) => a.validUntil), ['2026-06-30']);
    const audit = store.listAudit().filter((e) => e.action === 'agreement.end');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.actor, 'ana');
    refused(store, () => endAgreement(store, { id: 'CONV-001-2026', date: '2026-05-30', reason: 'otra vez' }, dgfo), /ya terminó el 2026-06-30/);
  });

  it('an agreement ended before it started leaves the configuration but stays in the history', async () => {
    const store = await setUp();
    addAgreement(store, { ...agreement, validFrom: '2026-09-01' }, dgfo);
    endAgreement(store, { id: 'CONV-001-2026', date: '2026-08-31', reason: 'No llegó a regir' }, dgfo);
    assert.deepEqual(listAgreements(store), []);
    assert.equal(listAgreementRecords(store).length, 1);
  });
});

describe('removals', () => {
  it('member remove is refused naming its subsystems, nodes and agreements in force; succeeds once they are gone', async () => {
    const { store, pki } = await makeInstance();
    registerMemberEntity(store, { memberClass: 'GOB', memberCode: RENIEC_RUC, name: 'RENIEC', role: 'RENIEC' }, dgfo);
    registerMemberEntity(store, { memberClass: 'GOB', memberCode: JUNTOS_RUC, name: 'Programa Juntos', role: 'IPF' }, dgfo);
    registerSubsystem(store, `${RENIEC}/RUPN`, dgfo);
    registerSubsystem(store, JUNTOS_CLIENT, dgfo);
    registerService(store, { serviceId: SERVICE, title: 'Consultar persona' }, dgfo);
    registerNode(store, { name: 'juntos', ownerId: JUNTOS, address: 'https://127.0.0.1:5501', authCertPem: await issueAuthCert(pki, 'Programa Juntos') }, dgfo);
    store.addNodeClient('juntos', JUNTOS_CLIENT, dgfo);
    addAgreement(store, agreement, dgfo);
    refused(store, () => removeMember(store, JUNTOS, dgfo), /no se puede dar de baja el miembro PE\/GOB\/20511268401 \(Programa Juntos\): tiene 1 subsistema \(PE\/GOB\/20511268401\/JUNTOS\).*tiene 1 nodo \(juntos\).*1 convenio vigente lo nombra \(CONV-001-2026\)/);
    refused(store, () => removeSubsystem(store, JUNTOS_CLIENT, dgfo), /1 convenio vigente lo nombra \(CONV-001-2026\)/);
    refused(store, () => removeSubsystem(store, `${RENIEC}/RUPN`, dgfo), /ofrece 1 servicio \(PE\/GOB\/20295613620\/RUPN\/consultarPersona\/v1\)/);
    refused(store, () => removeService(store, SERVICE, dgfo), /1 convenio vigente lo cubre \(CONV-001-2026\)/);
    // ended yesterday (Lima): no longer in force
    endAgreement(store, { id: 'CONV-001-2026', date: '2026-03-01', reason: 'Fin' }, dgfo);
    const s = removeSubsystem(store, JUNTOS_CLIENT, dgfo);
    assert.deepEqual(s.nodes, ['juntos']);
    assert.deepEqual(store.getNode('juntos')?.clients, []);
    refused(store, () => removeMember(store, JUNTOS, dgfo), /tiene 1 nodo \(juntos\)/);
    store.db.prepare('DELETE FROM nodes WHERE name = ?').run('juntos');
    const m = removeMember(store, JUNTOS, dgfo);
    assert.equal(m.id, JUNTOS);
    assert.equal(store.getMember(JUNTOS), undefined);
    assert.ok(getEntity(store, JUNTOS_RUC) !== undefined, 'the entity and its history stay in the catalogue');
    assert.ok(store.listAudit().some((e) => e.action === 'member.remove'));
    assert.equal(takeRegistrySnapshot(store).members.some((x) => x.id === JUNTOS), false);
  });

  it('service remove unlinks it from its components; refused while a granted right names it', async () => {
    const store = await setUp();
    assert.deepEqual(listComponents(store, { entity: RENIEC_RUC }).find((c) => c.code === 'RUPN')?.services, [SERVICE]);
    const r = removeService(store, SERVICE, dgfo);
    assert.deepEqual(r.components, ['RUPN']);
    assert.deepEqual(listComponents(store).find((c) => c.code === 'RUPN')?.services, []);
    assert.equal(store.getService(SERVICE), undefined);
  });
});

function designate(store: RegistryStore): void {
  requestDesignation(store, { entity: RENIEC_RUC, requestedAt: '2026-03-02' }, cal, dgfo);
  answerDesignation(store, { entity: RENIEC_RUC, answeredAt: '2026-03-10', unit: 'Gerencia de Registros', headName: 'Ana Quispe', headPost: 'Gerente', headContact: 'aquispe@reniec.gob.pe', headUser: 'aquispe' }, dgfo);
}

describe('access revoke', () => {
  it('by request id or by client and service: the right leaves the configuration; only the designated unit; a wider grant is refused by pair', async () => {
    const store = await setUp();
    designate(store);
    const unitCtx = ctxAt(T0, 'aquispe');
    const req = fileAccessRequest(store, { client: JUNTOS_CLIENT, component: 'RUPN', service: SERVICE, purpose: 'FOCALIZACION', legalBasis: 'Ley Nº 30435', filedAt: '2026-03-27', channel: 'dgfo' }, cal, dgfo);
    decideAccessRequest(store, { id: req.id, grant: true, decidedAt: '2026-04-06', agreementId: 'CONV-SA-1' }, unitCtx);
    assert.deepEqual(takeRegistrySnapshot(store).accessRights, [{ service: KEY, client: JUNTOS_CLIENT }]);
    refused(store, () => revokeAccess(store, { ref: req.id, date: '2026-05-01', reason: 'Fin' }, dgfo), /no actúa por la unidad designada/);
    refused(store, () => revokeAccess(store, { ref: req.id, date: '2026-04-01', reason: 'Fin' }, unitCtx), /anterior al otorgamiento/);
    refused(store, () => revokeAccess(store, { ref: JUNTOS_CLIENT, service: `${RENIEC}/RUPN/otro`, date: '2026-05-01', reason: 'Fin' }, unitCtx), /un acceso otorgado en central/);
    const [r] = revokeAccess(store, { ref: JUNTOS_CLIENT, service: SERVICE, date: '2026-05-01', reason: 'Convenio resuelto' }, unitCtx);
    assert.equal(r?.status, 'revocada');
    assert.equal(r?.revokedOn, '2026-05-01');
    assert.deepEqual(takeRegistrySnapshot(store).accessRights, []);
    assert.ok(store.listAudit().some((e) => e.action === 'access.revoke' && e.actor === 'aquispe'));
    refused(store, () => revokeAccess(store, { ref: req.id, date: '2026-05-02', reason: 'otra vez' }, unitCtx), /está «revocada»/);
    // a new request after the revocation is allowed; a component-wide one cannot be revoked by pair
    registerService(store, { serviceId: `${RENIEC}/RUPN/consultarFoto/v1`, title: 'Foto' }, dgfo);
    linkComponentService(store, 'RUPN', `${RENIEC}/RUPN/consultarFoto/v1`, dgfo);
    const wide = fileAccessRequest(store, { client: JUNTOS_CLIENT, component: 'RUPN', purpose: 'FOCALIZACION', legalBasis: 'Ley Nº 30435', filedAt: '2026-05-04', channel: 'dgfo' }, cal, dgfo);
    decideAccessRequest(store, { id: wide.id, grant: true, decidedAt: '2026-05-05', agreementId: 'CONV-SA-2' }, unitCtx);
    refused(store, () => revokeAccess(store, { ref: JUNTOS_CLIENT, service: SERVICE, date: '2026-05-06', reason: 'x' }, unitCtx), new RegExp(`${wide.id} otorga también ${RENIEC}/RUPN/consultarFoto; revóquela entera`));
    revokeAccess(store, { ref: wide.id, date: '2026-05-06', reason: 'x' }, unitCtx);
    assert.deepEqual(takeRegistrySnapshot(store).accessRights, []);
  });
});

describe('acta that supersedes an agreement', () => {
  const actaFile = (over: Partial<ActaInput>): ActaInput => ({
    services: [{ service: SERVICE, requestTrama: [{ field: 'dni', type: 'texto(8)', required: true }], periodicity: 'diaria', exchangeForm: 'servicio-web', validations: ['dni:dni'] }],
    clients: [JUNTOS_CLIENT], purposes: ['FOCALIZACION'], ...over,
  });
  const meeting = (store: RegistryStore, date: string) =>
    addMeeting(store, { entity: RENIEC_RUC, date, participants: ['MIDIS|Luis Torres|Director', 'ENTIDAD|Ana Quispe|Gerente'], agenda: ['Convenio'], agreements: [] }, dgfo);
  const signAll = (store: RegistryStore, n: string, date: string) => {
    signActa(store, n, { signer: 'Luis Torres', signedAt: date }, dgfo);
    return signActa(store, n, { signer: 'Ana Quispe', signedAt: date }, dgfo);
  };

  it('when the new acta is signed the old agreement ends the day before the new one starts; the history shows the chain', async () => {
    const store = await setUp();
    const m1 = meeting(store, '2026-04-15');
    addActa(store, m1.id, actaFile({ validFrom: '2026-04-15', convenio: 'CONV-RENIEC-2026' }), dgfo);
    signAll(store, '01-2026', '2026-04-15');
    const m2 = meeting(store, '2026-09-01');
    refused(store, () => addActa(store, m2.id, actaFile({ validFrom: '2026-09-01', supersedes: 'NO-EXISTE' }), dgfo), /«NO-EXISTE» que se reemplaza/);
    refused(store, () => addActa(store, m2.id, actaFile({ validFrom: '2026-04-01', supersedes: 'CONV-RENIEC-2026' }), dgfo), /la nueva debe empezar después/);
    refused(store, () => addActa(store, m2.id, actaFile({ validFrom: '2026-09-01', clients: [], supersedes: 'CONV-RENIEC-2026' }), dgfo), /sin clientes/);
    // by acta number: the agreement that acta registered
    const draft = addActa(store, m2.id, actaFile({ validFrom: '2026-10-01', convenio: 'CONV-RENIEC-2026-B', purposes: ['FOCALIZACION', 'AFILIACION'] , supersedes: '01-2026' }), dgfo);
    assert.equal(draft.supersedes, 'CONV-RENIEC-2026');
    assert.deepEqual(listAgreements(store).map((a) => [a.id, a.validUntil ?? null]), [['CONV-RENIEC-2026', null]], 'nothing ends before the signature');
    const signed = signAll(store, '02-2026', '2026-09-02');
    assert.equal(signed.agreementId, 'CONV-RENIEC-2026-B');
    assert.deepEqual(listAgreements(store).map((a) => [a.id, a.validFrom, a.validUntil ?? null]), [
      ['CONV-RENIEC-2026', '2026-04-15', '2026-09-30'],
      ['CONV-RENIEC-2026-B', '2026-10-01', null],
    ]);
    const chain = agreementChain(store, 'CONV-RENIEC-2026-B');
    assert.deepEqual(chain.map((r) => r.agreement.id), ['CONV-RENIEC-2026', 'CONV-RENIEC-2026-B']);
    assert.equal(chain[0]?.supersededBy, 'CONV-RENIEC-2026-B');
    assert.match(chain[0]?.endReason ?? '', /Reemplazado por el ACTA Nº 02-2026-MIDIS\/DGFO/);
    assert.equal(chain[1]?.supersedes, 'CONV-RENIEC-2026');
    assert.deepEqual(agreementChain(store, 'CONV-RENIEC-2026').map((r) => r.agreement.id), ['CONV-RENIEC-2026', 'CONV-RENIEC-2026-B']);
    const html = renderActaHtml(signed, requireMeeting(store, signed.meetingId), requireEntity(store, RENIEC_RUC));
    assert.match(html, /ENTRE EL REGISTRO NACIONAL DE IDENTIFICACIÓN Y ESTADO CIVIL \(RENIEC\) Y EL MIDIS/);
    assert.match(html, /reemplaza el convenio <code>CONV-RENIEC-2026<\/code>, que rige hasta el día anterior/);
  });
});

describe('one record per entity', () => {
  it('member add takes the catalogue entity name and role; a different name renames both; member set and entity set keep them equal', async () => {
    const { store } = await makeInstance();
    seedCatalogue(store, dgfo);
    const r = registerMemberEntity(store, { memberClass: 'GOB', memberCode: RENIEC_RUC }, dgfo);
    assert.equal(r.member.name, 'Registro Nacional de Identificación y Estado Civil');
    assert.equal(r.member.role, 'RENIEC');
    assert.equal(r.renamed, null);
    const j = registerMemberEntity(store, { memberClass: 'GOB', memberCode: JUNTOS_RUC, name: 'Programa Juntos', role: 'IPF' }, dgfo);
    assert.equal(getEntity(store, JUNTOS_RUC)?.name, 'Programa Juntos', 'a member that was not an entity becomes one');
    assert.equal(j.entity.role, 'IPF');
    assert.throws(() => registerMemberEntity(store, { memberClass: 'GOB', memberCode: '20512333797' }, dgfo), /indique --name y --role/);
    const midisRuc = seedEntityRucs().get('MIDIS')!.ruc;
    const m = registerMemberEntity(store, { memberClass: 'GOB', memberCode: midisRuc, name: 'MIDIS' }, dgfo);
    assert.deepEqual(m.renamed, { from: 'Ministerio de Desarrollo e Inclusión Social', to: 'MIDIS' });
    assert.equal(getEntity(store, midisRuc)?.name, 'MIDIS');
    setMemberEntity(store, `PE/GOB/${midisRuc}`, { name: 'Ministerio de Desarrollo e Inclusión Social' }, dgfo);
    assert.equal(getEntity(store, midisRuc)?.name, 'Ministerio de Desarrollo e Inclusión Social');
    updateEntity(store, RENIEC_RUC, { name: 'RENIEC' }, dgfo);
    assert.equal(store.getMember(RENIEC)?.name, 'RENIEC');
    assert.ok(store.listAudit().some((e) => e.action === 'member.update'));
    for (const member of store.listMembers()) assert.equal(getEntity(store, member.memberCode)?.name, member.name);
  });

  it('entity set --ruc moves a provisional RUC with its components, designations, meetings, actas and sanctions in one audited change', async () => {
    const { store } = await makeInstance();
    seedCatalogue(store, dgfo);
    const old = seedEntityRucs().get('INEI')!.ruc;
    const INEI = '20151942629';
    requestDesignation(store, { entity: old, requestedAt: '2026-03-02' }, cal, dgfo);
    addMeeting(store, { entity: old, date: '2026-04-15', participants: ['MIDIS|Luis|Director', 'ENTIDAD|Eva|Jefa'], agenda: ['x'], agreements: [] }, dgfo);
    addSanction(store, { entity: old, infraction: 'x', resolution: 'R.D. 1', date: '2026-05-01' }, dgfo);
    addComponent(store, { code: 'ENAHO', name: 'ENAHO', entity: old, description: 'Encuesta', legalBasis: 'Ley', family: 'criterios-elegibilidad', referenceUnit: 'hogar', personal: true, sensitive: false }, dgfo);
    refused(store, () => changeEntityRuc(store, old, RENIEC_RUC, dgfo), /la entidad con RUC 20295613620/);
    refused(store, () => changeEntityRuc(store, old, '20151942620', dgfo), /20151942620/);
    const ch = changeEntityRuc(store, old, INEI, ctxAt(T0, 'ana'));
    assert.deepEqual(ch.moved, { componentes: 2, designaciones: 1, reuniones: 1, actas: 0, sanciones: 1 });
    assert.equal(getEntity(store, old), undefined);
    assert.equal(getEntity(store, INEI)?.rucPlaceholder, false);
    assert.deepEqual(listComponents(store, { entity: INEI }).map((c) => c.code).sort(), ['ENAHO', 'MARCO-CENSAL']);
    assert.equal(listDesignations(store, { entity: INEI }).length, 1);
    assert.equal(listMeetings(store, { entity: INEI }).length, 1);
    assert.equal(listSanctions(store, { entity: INEI }).length, 1);
    assert.ok(store.listAudit().some((e) => e.action === 'entity.ruc' && e.actor === 'ana'));
    // a member's RUC is in its certificates: refused
    registerMemberEntity(store, { memberClass: 'GOB', memberCode: INEI }, dgfo);
    refused(store, () => changeEntityRuc(store, INEI, '20512333797', dgfo), /ya es el miembro PE\/GOB\/20151942629/);
    assert.equal(listEntities(store).filter((e) => e.ruc === INEI).length, 1);
  });

  it('migration 7 gives every member its entity and one name (the member name wins)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-mig7-'));
    try {
      const path = join(dir, 'central.db');
      const db = new Database(path);
      db.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
      for (const m of CENTRAL_MIGRATIONS.filter((x) => x.version <= 6)) {
        if (typeof m.up === 'string') db.exec(m.up);
        else m.up(db);
        db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
      }
      db.prepare("INSERT INTO members VALUES ('PE/GOB/20295613620', 'PE', 'GOB', '20295613620', 'RENIEC', 'RENIEC', '2026-01-01T00:00:00Z')").run();
      db.prepare("INSERT INTO members VALUES ('PE/GOB/20511268401', 'PE', 'GOB', '20511268401', 'Programa Juntos', 'IPF', '2026-01-01T00:00:00Z')").run();
      db.prepare("INSERT INTO gov_entities (ruc, name, role, created_at) VALUES ('20295613620', 'Registro Nacional de Identificación y Estado Civil', 'RENIEC', '2026-01-01T00:00:00Z')").run();
      db.close();
      const store = openSqliteRegistryStore(path);
      try {
        assert.equal(getEntity(store, '20295613620')?.name, 'RENIEC');
        assert.equal(getEntity(store, '20511268401')?.name, 'Programa Juntos');
        assert.equal(getEntity(store, '20511268401')?.role, 'IPF');
      } finally {
        store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Spanish details', () => {
  it('articles in the acta title, singular and plural, Lima time', () => {
    assert.equal(withArticle('Municipalidad Distrital de Ate'), 'la Municipalidad Distrital de Ate');
    assert.equal(withArticle('Registro Nacional de Identificación y Estado Civil'), 'el Registro Nacional de Identificación y Estado Civil');
    assert.equal(withArticle('Superintendencia Nacional de Salud'), 'la Superintendencia Nacional de Salud');
    assert.equal(withArticle('Programa Juntos'), 'el Programa Juntos');
    assert.equal(withArticle('XYZ'), 'XYZ', 'unknown gender: neutral, no article');
    assert.equal(plural(1, 'firma', 'firmas'), '1 firma');
    assert.equal(plural(2, 'servicio', 'servicios'), '2 servicios');
    assert.equal(limaDateTime('2026-03-02T15:00:00.000Z'), '2026-03-02 10:00');
  });
});
