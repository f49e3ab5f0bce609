/**
 * consultarPersonas (wsdl/reniec.wsdl): 1,000 DNI in one request through both nodes, within the
 * agreement's maximum of identifiers per request; one more is refused by the provider node.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { samplesDni } from '../../scripts/sandbox/data.js';
import { BATCH_AGREEMENT, faultCodeOf, personasRequest, postSoap, startInstance, type Instance } from './fixture.js';

describe('consultarPersonas: a batch of 1,000 DNI through two nodes', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance({ batch: true, agreements: [BATCH_AGREEMENT] });
  });
  after(async () => {
    await inst.close();
  });

  it('1,000 DNI in one request: one result per DNI, in order, all found', async () => {
    const known = samplesDni(inst.data, 500);
    const dnis = [...known, ...known.slice().reverse()];
    const r = await postSoap(inst.juntos.isUrl, personasRequest(dnis));
    assert.equal(r.status, 200, r.text.slice(0, 500));
    const results = [...r.text.matchAll(/<resultado><dni>(\d+)<\/dni><encontrado>(true|false)<\/encontrado>/g)];
    assert.equal(results.length, 1000);
    assert.deepEqual(results.map((m) => m[1]), dnis);
    assert.ok(results.every((m) => m[2] === 'true'));
    assert.equal([...r.text.matchAll(/<persona>/g)].length, 1000);
  });

  it('1,001 DNI exceed the agreement: TooManyIds from the provider node', async () => {
    const dnis = samplesDni(inst.data, 500);
    const r = await postSoap(inst.juntos.isUrl, personasRequest([...dnis, ...dnis, dnis[0]!]));
    assert.equal(faultCodeOf(r.text), 'Server.ServerProxy.TooManyIds', r.text.slice(0, 500));
    assert.match(r.text, /1001 \(máximo 1000 por solicitud\)/);
  });
});
