import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyDetached } from '../../core/signature.js';
import { JUNTOS_CLIENT, personaRequest, postSoap, startInstance, type Instance } from './fixture.js';
import { sqliteLog } from '../helpers/node-log.js';

describe('exchange through two nodes over mutual TLS', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance();
  });
  after(async () => {
    await inst.close();
  });

  it('returns RENIEC data to Juntos and both nodes log the signed exchange', async () => {
    const id = `exchange-${Date.now()}`;
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, new RegExp(`<dni>${inst.dni}</dni>`));
    assert.match(res.text, /<encontrado>true<\/encontrado>/);
    assert.match(res.text, /requestHash[^>]*algorithmId="http:\/\/www.w3.org\/2001\/04\/xmlenc#sha512"/);
    for (const node of [inst.juntos, inst.reniec]) {
      const records = sqliteLog(node).list({ messageId: id });
      assert.deepEqual(records.map((r) => r.direction), ['request', 'response'], node.name);
      for (const r of records) {
        assert.equal(r.client, JUNTOS_CLIENT);
        assert.equal(r.convenio, 'CONV-001-2026');
        assert.equal(r.finalidad, 'FOCALIZACION');
        assert.equal(r.userId, 'PE10117410');
        const v = verifyDetached(r.message, r.signature);
        assert.ok(v.ok, `${node.name} ${r.direction}: ${v.ok ? '' : v.reason}`);
      }
      assert.deepEqual(sqliteLog(node).verifyChain(), { ok: true, count: sqliteLog(node).list({ limit: 1000 }).length });
    }
    // the response the IS received is byte for byte the one the provider signed
    const providerResponse = sqliteLog(inst.reniec).list({ messageId: id })[1];
    assert.equal(res.text, providerResponse?.message.toString('utf8'));
  });

  it('answers an unknown DNI with encontrado=false through the nodes', async () => {
    const res = await postSoap(inst.juntos.isUrl, personaRequest('00000001'));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<encontrado>false<\/encontrado>/);
  });

  it('serves many concurrent exchanges over pooled connections', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => postSoap(inst.juntos.isUrl, personaRequest(inst.dni))));
    assert.deepEqual(results.map((r) => r.status), Array(50).fill(200));
  });
});
