/**
 * Attack suite, family «header-semantics»: well-formed SOAP whose X-Road/MIIS headers lie —
 * spoofed clients, unknown providers, wrong versions, headers in the wrong namespace, agreements
 * (convenios) that do not exist or are out of force, purposes the agreement does not allow.
 * Consumer-side refusals leave no trace in either message log; provider-side refusals leave only
 * Juntos's signed outgoing request. Nothing reaches RENIEC's backend.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BASE_AGREEMENT, RENIEC, personaRequest, startInstance } from '../e2e/fixture.js';
import { Target, directions, newId } from './helpers.js';

const client = (code: string, sub: string, objectType = 'SUBSYSTEM', instance = 'PE'): string =>
  `<xrd:client id:objectType="${objectType}"><id:xRoadInstance>${instance}</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${code}</id:memberCode><id:subsystemCode>${sub}</id:subsystemCode></xrd:client>`;
const service = (code: string, sub: string, svc: string, version = 'v1', objectType = 'SERVICE'): string =>
  `<xrd:service id:objectType="${objectType}"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${code}</id:memberCode><id:subsystemCode>${sub}</id:subsystemCode><id:serviceCode>${svc}</id:serviceCode><id:serviceVersion>${version}</id:serviceVersion></xrd:service>`;

describe('attack: header-semantics', () => {
  let t: Target;
  let dni: string;
  before(async () => {
    const inst = await startInstance({
      agreements: [BASE_AGREEMENT, { ...BASE_AGREEMENT, id: 'CONV-VENCIDO', from: '2024-01-01', until: '2024-12-31' }, { ...BASE_AGREEMENT, id: 'CONV-FUTURO', from: '2099-01-01' }],
    });
    t = new Target(inst);
    dni = inst.dni;
  });
  after(async () => t?.inst.close());

  const req = (id: string, over: Parameters<typeof personaRequest>[1] = {}): string => personaRequest(dni, { id, ...over });

  /** Refused by RENIEC's node: Juntos signed and logged its request, RENIEC logged nothing. */
  const providerRefused = (id: string): void => {
    assert.deepEqual(directions(t.inst.juntos, id), ['request']);
    assert.deepEqual(directions(t.inst.reniec, id), []);
  };

  it('a client subsystem not registered on this node → Server.ClientProxy.UnknownClient', async () => {
    const id = newId('unknown-sub');
    const f = await t.isFault(req(id, { client: client('20511268401', 'OTRO') }), 'Server.ClientProxy.UnknownClient');
    assert.match(f.faultString, /20511268401\/OTRO/);
    t.nothingLogged(id);
    await t.good();
  });

  it('a client of another member (RENIEC\'s RUPN, spoofed on Juntos\'s node) → Server.ClientProxy.UnknownClient', async () => {
    const id = newId('other-member');
    await t.isFault(req(id, { client: client('20295613620', 'RUPN') }), 'Server.ClientProxy.UnknownClient');
    t.nothingLogged(id);
    await t.good();
  });

  it('a client of another X-Road instance (CL) → Server.ClientProxy.UnknownClient', async () => {
    const id = newId('other-instance');
    await t.isFault(req(id, { client: client('20511268401', 'JUNTOS', 'SUBSYSTEM', 'CL') }), 'Server.ClientProxy.UnknownClient');
    t.nothingLogged(id);
    await t.good();
  });

  it('a service of an unknown provider → Server.ClientProxy.UnknownService', async () => {
    const id = newId('unknown-provider');
    const f = await t.isFault(req(id, { service: service('20100000001', 'RUPN', 'consultarPersona') }), 'Server.ClientProxy.UnknownService');
    assert.match(f.faultString, /20100000001/);
    t.nothingLogged(id);
    await t.good();
  });

  it('a subsystem of the provider that does not exist (RUPN2) → Server.ClientProxy.UnknownService', async () => {
    // (versions are not distinguished: a node serves every version from one entry — docs/operator-guide.md 3.5)
    const id = newId('unknown-subsystem');
    await t.isFault(req(id, { service: service('20295613620', 'RUPN2', 'consultarPersona') }), 'Server.ClientProxy.UnknownService');
    t.nothingLogged(id);
    await t.good();
  });

  it('protocolVersion 5.0 → Client.InvalidProtocolVersion; an empty one → Client.InvalidHeaderField', async () => {
    for (const v of ['5.0', '']) {
      const id = newId('version');
      await t.isFault(req(id).replace('<xrd:protocolVersion>4.0<', `<xrd:protocolVersion>${v}<`), v === '' ? 'Client.InvalidHeaderField' : 'Client.InvalidProtocolVersion');
      t.nothingLogged(id);
    }
    await t.good();
  });

  it('no xrd:id → Client.MissingHeaderField; an empty xrd:id → Client.InvalidHeaderField', async () => {
    await t.isFault(req('x').replace(/<xrd:id>[^<]*<\/xrd:id>/, ''), 'Client.MissingHeaderField');
    await t.isFault(req('x').replace(/<xrd:id>[^<]*<\/xrd:id>/, '<xrd:id></xrd:id>'), 'Client.InvalidHeaderField');
    await t.good();
  });

  it('an oversized xrd:userId (10 000 characters) → Client.InvalidHeaderField', async () => {
    const id = newId('userid');
    const f = await t.isFault(req(id).replace('PE10117410', 'U'.repeat(10_000)), 'Client.InvalidHeaderField');
    assert.match(f.faultString, /userId/);
    t.nothingLogged(id);
    await t.good();
  });

  it('an oversized xrd:id (10 000 characters) → Client.InvalidHeaderField', async () => {
    await t.isFault(req('i'.repeat(10_000)), 'Client.InvalidHeaderField');
    await t.good();
  });

  it('X-Road headers in a look-alike namespace are not X-Road headers → Client.MissingHeaderField', async () => {
    const id = newId('ns-spoof');
    await t.isFault(req(id).replace('xmlns:xrd="http://x-road.eu/xsd/xroad.xsd"', 'xmlns:xrd="http://x-road.eu/xsd/xroad.xsd#"'), 'Client.MissingHeaderField');
    t.nothingLogged(id);
    await t.good();
  });

  it('identifier fields in a look-alike namespace → Client.InvalidClientIdentifier', async () => {
    const id = newId('id-ns-spoof');
    await t.isFault(req(id).replace('xmlns:id="http://x-road.eu/xsd/identifiers"', 'xmlns:id="http://x-road.eu/xsd/identifiers/"'), 'Client.InvalidClientIdentifier');
    t.nothingLogged(id);
    await t.good();
  });

  it('objectType MEMBER with a subsystem code, and SERVICE as client → Client.InvalidClientIdentifier', async () => {
    for (const ot of ['SERVICE', 'MEMBER']) {
      const id = newId('client-ot');
      await t.isFault(req(id, { client: client('20511268401', 'JUNTOS', ot) }), 'Client.InvalidClientIdentifier');
      t.nothingLogged(id);
    }
    await t.good();
  });

  it('objectType SUBSYSTEM on the service → Client.InvalidServiceIdentifier', async () => {
    const id = newId('service-ot');
    await t.isFault(req(id, { service: service('20295613620', 'RUPN', 'consultarPersona', 'v1', 'SUBSYSTEM') }), 'Client.InvalidServiceIdentifier');
    t.nothingLogged(id);
    await t.good();
  });

  it('no miis:convenio → Server.ServerProxy.MissingAgreement (refused by the provider)', async () => {
    const id = newId('no-conv');
    await t.isFault(req(id).replace(/<miis:convenio>[^<]*<\/miis:convenio>/, ''), 'Server.ServerProxy.MissingAgreement', { origin: 'reniec' });
    providerRefused(id);
    await t.good();
  });

  it('an unknown convenio → Server.ServerProxy.UnknownAgreement', async () => {
    const id = newId('unknown-conv');
    const f = await t.isFault(req(id).replace('CONV-001-2026', 'CONV-FALSO-9999'), 'Server.ServerProxy.UnknownAgreement', { origin: 'reniec' });
    assert.match(f.faultString, /CONV-FALSO-9999/);
    providerRefused(id);
    await t.good();
  });

  it('an expired convenio, and one not yet in force → Server.ServerProxy.AgreementNotInForce', async () => {
    for (const conv of ['CONV-VENCIDO', 'CONV-FUTURO']) {
      const id = newId('conv-time');
      await t.isFault(req(id).replace('CONV-001-2026', conv), 'Server.ServerProxy.AgreementNotInForce', { origin: 'reniec' });
      providerRefused(id);
    }
    await t.good();
  });

  it('a finalidad the convenio does not allow, and none at all → Server.ServerProxy.PurposeNotAllowed', async () => {
    const id = newId('purpose');
    await t.isFault(req(id).replace('FOCALIZACION', 'MARKETING'), 'Server.ServerProxy.PurposeNotAllowed', { origin: 'reniec' });
    providerRefused(id);
    const id2 = newId('no-purpose');
    await t.isFault(req(id2).replace(/<miis:finalidad>[^<]*<\/miis:finalidad>/, ''), 'Server.ServerProxy.PurposeNotAllowed', { origin: 'reniec' });
    providerRefused(id2);
    await t.good();
  });

  it('a convenio of another provider cited for RENIEC\'s service → refused by the provider', async () => {
    assert.equal(RENIEC, 'PE/GOB/20295613620');
    const id = newId('conv-other');
    // the agreement exists, but only for RENIEC; citing it with a service RENIEC does not offer fails at the consumer first
    await t.isFault(req(id, { service: service('20295613620', 'RUPN', 'consultarHogar') }), 'Server.ClientProxy.UnknownService');
    t.nothingLogged(id);
    await t.good();
  });
});
