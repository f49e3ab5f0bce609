/**
 * Tramas at central: registered with an agreement that covers the service, versions never
 * rewritten, the highest published in the global configuration (and accepted by the node-side
 * validation); deliveries by periodicity: on time, late (counted once), not delivered, due.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiisError } from '../../../core/errors.js';
import { validateGlobalConf } from '../../../core/global-conf.js';
import { addAgreement } from '../../../central/registry/agreements.js';
import { addTrama } from '../../../central/registry/tramas.js';
import { deliverySchedule } from '../../../central/governance/deliveries.js';
import { computeCompliance } from '../../../central/governance/compliance.js';
import { computeDeadlines } from '../../../central/governance/deadlines.js';
import { createGlobalConfPublisher } from '../../../central/conf/publisher.js';
import { registerMember, registerService, registerSubsystem } from '../../../central/registry/rules.js';
import { RUC_MIDIS, RUC_RENIEC, T0, ctxAt, makeInstance } from '../helpers.js';

const RENIEC = `PE/GOB/${RUC_RENIEC}`;
const MIDIS = `PE/GOB/${RUC_MIDIS}`;
const SERVICE = `${RENIEC}/RUPN/consultarPadron`;
const DEF = { id: 'PADRON', version: 1, key: 'dni', fields: [{ name: 'dni', type: 'texto', rule: 'dni', required: true }] };

async function setUp() {
  const inst = await makeInstance();
  const ctx = ctxAt(T0);
  registerMember(inst.store, { memberClass: 'GOB', memberCode: RUC_RENIEC, name: 'RENIEC', role: 'RENIEC' }, ctx);
  registerMember(inst.store, { memberClass: 'GOB', memberCode: RUC_MIDIS, name: 'MIDIS', role: 'MIDIS' }, ctx);
  registerSubsystem(inst.store, `${RENIEC}/RUPN`, ctx);
  registerSubsystem(inst.store, `${MIDIS}/PGH`, ctx);
  registerService(inst.store, { serviceId: `${SERVICE}/v1`, title: 'Padrón' }, ctx);
  registerService(inst.store, { serviceId: `${RENIEC}/RUPN/otro/v1`, title: 'Otro' }, ctx);
  addAgreement(inst.store, { id: 'CONV-1', provider: RENIEC, clients: [`${MIDIS}/PGH`], services: [`${SERVICE}/v1`], purposes: ['FOCALIZACION'], validFrom: '2026-01-01' }, ctx);
  return inst;
}

const deliver = (store: Awaited<ReturnType<typeof setUp>>['store'], batch: string, completedAt: string): void => {
  store.db.prepare(`INSERT INTO batch_deliveries (provider, batch_id, client, service, agreement, trama_id, trama_version, file_sha256, records, chunks, received_at, completed_at, reported_at, signer_sha256)
    VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)`).run(RENIEC, batch, `${MIDIS}/PGH`, SERVICE, 'CONV-1', 'PADRON', 1, 'a', 1, 1, completedAt, completedAt, completedAt, 'b');
};

describe('central tramas', () => {
  it('registers a trama under the agreement, refuses a rewritten version or an uncovered service, publishes the highest version', async () => {
    const { store, signer } = await setUp();
    const t = addTrama(store, { definition: DEF, service: SERVICE, agreement: 'CONV-1', periodicity: 'mensual' }, ctxAt(T0));
    assert.equal(t.periodicity, 'mensual');
    assert.throws(() => addTrama(store, { definition: DEF, service: SERVICE, agreement: 'CONV-1' }, ctxAt(T0)), (e: unknown) => e instanceof MiisError && e.code === 'Config.Duplicate');
    assert.throws(() => addTrama(store, { definition: { ...DEF, id: 'OTRA' }, service: `${RENIEC}/RUPN/otro`, agreement: 'CONV-1' }, ctxAt(T0)), /no cubre/);
    assert.throws(() => addTrama(store, { definition: { ...DEF, version: 2, key: 'x' }, service: SERVICE, agreement: 'CONV-1' }, ctxAt(T0)), /key/);
    addTrama(store, { definition: { ...DEF, version: 2 }, service: SERVICE, agreement: 'CONV-1', periodicity: 'mensual' }, ctxAt(T0));
    const conf = createGlobalConfPublisher({ store, signer, clock: () => T0 }).preview();
    assert.deepEqual(conf.tramas?.map((x) => x.version), [2]);
    validateGlobalConf(JSON.parse(JSON.stringify(conf)));
    assert.ok(store.listAudit().some((e) => e.action === 'trama.add'));
  });

  it('tells each period on time, late (once), not delivered, delivered or due', async () => {
    const { store } = await setUp();
    addTrama(store, { definition: DEF, service: SERVICE, agreement: 'CONV-1', periodicity: 'mensual' }, ctxAt(T0)); // registered 2026-03-02
    // March ends after the registration: it is owed; April is the current period
    assert.deepEqual(deliverySchedule(store, '2026-04-10').map((r) => [r.period, r.status]), [['2026-03-01 a 2026-03-31', 'no-entregado'], ['2026-04-01 a 2026-04-30', 'pendiente']]);
    deliver(store, 'b1', '2026-04-05T15:00:00Z'); // March's delivery, late: April still due
    assert.deepEqual(deliverySchedule(store, '2026-04-10').map((r) => r.status), ['tarde', 'pendiente']);
    deliver(store, 'b2', '2026-04-20T15:00:00Z');
    assert.deepEqual(deliverySchedule(store, '2026-04-21').map((r) => r.status), ['tarde', 'entregado']);
    assert.deepEqual(deliverySchedule(store, '2026-05-02').map((r) => r.status), ['a-tiempo', 'pendiente']);
    // plazos: May's delivery is due on its last day
    const due = computeDeadlines(store, '2026-05-02', { isBusinessDay: (d: string) => ![0, 6].includes(new Date(`${d}T12:00:00Z`).getUTCDay()), holidayName: () => undefined }).filter((d) => d.kind === 'entrega-lote');
    assert.deepEqual(due.map((d) => [d.dueAt, d.status, d.responsible]), [['2026-05-31', 'en-plazo', `${MIDIS}/PGH`]]);
  });

  it('compliance counts the deliveries the client owes: on time met, late or not delivered missed, the current period only once delivered', async () => {
    const { store } = await setUp();
    const cal = { isBusinessDay: (d: string) => ![0, 6].includes(new Date(`${d}T12:00:00Z`).getUTCDay()), holidayName: () => undefined };
    addTrama(store, { definition: DEF, service: SERVICE, agreement: 'CONV-1', periodicity: 'mensual' }, ctxAt(T0));
    const deliveries = (today: string) => computeCompliance(store, today, cal, { entity: RUC_MIDIS })[0]!.facts
      .filter((f) => f.obligation.startsWith('entrega por lotes')).map((f) => [f.dueAt, f.met, f.agreementId]);
    assert.deepEqual(deliveries('2026-04-10'), [['2026-03-31', false, 'CONV-1']], 'March not delivered: missed; April still in time');
    deliver(store, 'b1', '2026-04-05T15:00:00Z');
    assert.deepEqual(deliveries('2026-04-10'), [['2026-03-31', false, 'CONV-1']], 'March delivered late: still missed');
    deliver(store, 'b2', '2026-04-20T15:00:00Z');
    assert.deepEqual(deliveries('2026-05-02'), [['2026-04-30', true, 'CONV-1']], 'April on time: met');
    // the provider owes nothing here
    assert.deepEqual(computeCompliance(store, '2026-05-02', cal, { entity: RUC_RENIEC })[0]!.facts.filter((f) => f.obligation.startsWith('entrega por lotes')), []);
  });
});
