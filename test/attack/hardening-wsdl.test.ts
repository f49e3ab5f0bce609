/**
 * Issue 9, item 8: served WSDL names the node's configured IS address as soap:address, never
 * the request's Host header.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { checkPublicUrl, isPublicUrlOf } from '../../node/store/local-store.js';
import { startInstance, type Instance } from '../e2e/fixture.js';
import { expectGood } from './hardening-helpers.js';

function getWithHost(url: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('hardening: no reflected input in served WSDL', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance();
  });
  after(async () => {
    await inst.close();
  });

  it('Host: evil"><x gets the configured address', async () => {
    const res = await getWithHost(new URL('wsdl/reniec.wsdl', inst.reniec.isUrl).href, 'evil"><x');
    assert.equal(res.status, 200, res.text);
    assert.doesNotMatch(res.text, /evil/);
    const addresses = [...res.text.matchAll(/soap:address location="([^"]*)"/g)].map((m) => m[1]);
    assert.ok(addresses.length > 0);
    for (const a of addresses) assert.equal(a, inst.reniec.isUrl);
    await expectGood(inst);
  });

  it('the public address: default from isHost/isPort, configured value checked', () => {
    assert.equal(isPublicUrlOf({ isHost: '10.0.0.5', isPort: 8080 }), 'http://10.0.0.5:8080/');
    assert.equal(isPublicUrlOf({ isHost: '::1', isPort: 8080 }), 'http://[::1]:8080/');
    assert.equal(isPublicUrlOf({ isHost: '10.0.0.5', isPort: 8080, isPublicUrl: 'https://miis.reniec.gob.pe/' }), 'https://miis.reniec.gob.pe/');
    assert.equal(checkPublicUrl('https://miis.reniec.gob.pe'), 'https://miis.reniec.gob.pe/');
    assert.equal(checkPublicUrl('http://x/?a="><b'), undefined);
    assert.equal(checkPublicUrl('javascript:alert(1)'), undefined);
    assert.equal(checkPublicUrl('http://u:p@x/'), undefined);
  });
});
