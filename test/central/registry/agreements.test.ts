import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MiisError } from '../../../core/errors.js';
import { validateGlobalConf } from '../../../core/global-conf.js';
import { addAgreement, listAgreements } from '../../../central/registry/agreements.js';
import { createGlobalConfPublisher } from '../../../central/conf/publisher.js';
import { registerMember, registerService, registerSubsystem } from '../../../central/registry/rules.js';
import { RUC_MIDIS, RUC_RENIEC, T0, ctxAt, makeInstance } from '../helpers.js';

const RENIEC = `PE/GOB/${RUC_RENIEC}`;
const MIDIS = `PE/GOB/${RUC_MIDIS}`;
const SERVICE = `${RENIEC}/RUPN/consultarPersona`;

async function setUp() {
  const inst = await makeInstance();
  const ctx = ctxAt(T0);
  registerMember(inst.store, { memberClass: 'GOB', memberCode: RUC_RENIEC, name: 'RENIEC', role: 'RENIEC' }, ctx);
  registerMember(inst.store, { memberClass: 'GOB', memberCode: RUC_MIDIS, name: 'MIDIS', role: 'MIDIS' }, ctx);
  registerSubsystem(inst.store, `${RENIEC}/RUPN`, ctx);
  registerSubsystem(inst.store, `${MIDIS}/PGH`, ctx);
  registerService(inst.store, { serviceId: `${SERVICE}/v1`, title: 'Consultar persona' }, ctx);
  return inst;
}

const base = { id: 'CONV-001-2026', provider: RENIEC, clients: [`${MIDIS}/PGH`], services: [`${SERVICE}/v1`], purposes: ['FOCALIZACION'], validFrom: '2026-01-01' };

describe('central agreements', () => {
  it('adds an agreement (service keys without version), audits it and publishes it in the global configuration', async () => {
    const { store, signer } = await setUp();
    const a = addAgreement(store, { ...base, validUntil: '2026-12-31', maxIdsPerRequest: 100, validations: [{ field: 'dni', rule: 'dni' }] }, ctxAt(T0, 'ana'));
    assert.deepEqual(a.services, [SERVICE]);
    assert.deepEqual(listAgreements(store), [a]);
    assert.ok(store.listAudit().some((e) => e.action === 'agreement.add' && e.actor === 'ana'));
    const conf = createGlobalConfPublisher({ store, signer, clock: () => T0 }).preview();
    assert.deepEqual(conf.agreements, [a]);
    validateGlobalConf(JSON.parse(JSON.stringify(conf)));
  });

  it('leaves agreements out of the configuration when there are none', async () => {
    const { store, signer } = await setUp();
    assert.equal('agreements' in createGlobalConfPublisher({ store, signer, clock: () => T0 }).preview(), false);
  });

  it('refuses unknown members, clients, services, bad dates, purposes and duplicates', async () => {
    const { store } = await setUp();
    const code = (input: Partial<typeof base> & { validUntil?: string }): string => {
      try {
        addAgreement(store, { ...base, ...input }, ctxAt(T0));
        return 'ok';
      } catch (err) {
        return err instanceof MiisError ? `${err.code}: ${err.detail}` : String(err);
      }
    };
    assert.match(code({ provider: 'PE/GOB/20512333797' }), /^Config.NotFound: el miembro proveedor/);
    assert.match(code({ clients: ['PE/GOB/20545565359/OTRO'] }), /^Config.NotFound: el cliente/);
    assert.match(code({ services: [`${RENIEC}/RUPN/otro`] }), /^Config.NotFound: el servicio/);
    assert.match(code({ services: [`${MIDIS}/PGH/consultarCSE`] }), /no es del proveedor/);
    assert.match(code({ validFrom: '2026-02-30' }), /fecha de inicio/);
    assert.match(code({ validUntil: '2025-12-31' }), /fecha de fin/);
    assert.match(code({ purposes: ['focalizacion'] }), /finalidad no válida/);
    assert.match(code({ clients: [] }), /al menos un cliente/);
    assert.equal(code({}), 'ok');
    assert.match(code({}), /^Config.Duplicate/);
    // a member as client covers its subsystems
    assert.equal(code({ id: 'CONV-002', clients: [MIDIS] }), 'ok');
  });
});
