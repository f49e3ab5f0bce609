/**
 * Attack suite, family «node-insiders»: a party that holds real keys of the instance (another
 * member's TLS or signing key, both from the provisioned temp folder) talks straight to RENIEC's
 * node-to-node port over mutual TLS and tries to pass off altered, unsigned or re-framed messages.
 * Each refusal: exact fault, logged by RENIEC, nothing in RENIEC's message log, backend untouched.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FaultCode } from '../../core/errors.js';
import { signDetached } from '../../core/signature.js';
import { encodeSignedMessage } from '../../node/pipeline/signed-message.js';
import { personaRequest, postMtls, startInstance, type MtlsIdentity } from '../e2e/fixture.js';
import { Target, directions, expectFault, expectLogged, newId, tlsIdentity, type HttpResult } from './helpers.js';

describe('attack: node-insiders', () => {
  let t: Target;
  let juntosTls: MtlsIdentity;
  let reniecTls: MtlsIdentity;
  before(async () => {
    const inst = await startInstance();
    t = new Target(inst);
    juntosTls = tlsIdentity(inst, 'juntos');
    reniecTls = tlsIdentity(inst, 'reniec');
  });
  after(async () => t?.inst.close());

  const raw = (id: string): Buffer => Buffer.from(personaRequest(t.inst.dni, { id }), 'utf8');
  const sign = (bytes: Buffer): string => signDetached(bytes, t.inst.juntos.ctx.signer);

  /** Refused by RENIEC with `code`; RENIEC logged the fault and not the message; the backend saw nothing. */
  async function refused(id: string | undefined, send: () => Promise<HttpResult>, code: FaultCode): Promise<void> {
    await t.backendUntouched(async () => {
      const res = await send();
      expectLogged(t.inst.reniec, expectFault(res, code));
    });
    if (id !== undefined) assert.deepEqual(directions(t.inst.reniec, id), []);
  }

  const post = async (body: Buffer, contentType: string, tls: MtlsIdentity = juntosTls): Promise<HttpResult> => {
    const res = await postMtls(t.proxyUrl, body, contentType, tls);
    return { status: res.status, text: res.body.toString('utf8') };
  };

  it('a correctly signed request from Juntos\'s TLS identity is served (the baseline the other cases break)', async () => {
    const id = newId('baseline');
    const before = t.backendRequests;
    const res = await t.sendSigned(raw(id), juntosTls);
    assert.equal(res.status, 200, res.text);
    assert.match(res.contentType ?? '', /^multipart\/related/);
    assert.equal(t.backendRequests, before + 1);
    assert.deepEqual(directions(t.inst.reniec, id), ['request', 'response']);
  });

  it('another member\'s TLS certificate (RENIEC\'s own) carrying a Juntos request → Server.ServerProxy.SslAuthenticationFailed', async () => {
    const id = newId('other-tls');
    await refused(id, () => t.sendSigned(raw(id), reniecTls), 'Server.ServerProxy.SslAuthenticationFailed');
    await t.good();
  });

  it('another member\'s signing key (RENIEC\'s) on a Juntos request → Server.ServerProxy.IncorrectCertificate', async () => {
    const id = newId('other-sign');
    await refused(id, () => t.sendSigned(raw(id), juntosTls, (b) => signDetached(b, t.inst.reniec.ctx.signer)), 'Server.ServerProxy.IncorrectCertificate');
    await t.good();
  });

  it('bytes altered after signing (another DNI) → Server.ServerProxy.InvalidSignatureValue', async () => {
    const id = newId('altered');
    const bytes = raw(id);
    const signature = sign(bytes);
    const altered = Buffer.from(bytes.toString('utf8').replace(`<dni>${t.inst.dni}</dni>`, '<dni>00000001</dni>'), 'utf8');
    assert.notDeepEqual(altered, bytes);
    const msg = encodeSignedMessage(altered, signature);
    await refused(id, () => post(msg.body, msg.contentType), 'Server.ServerProxy.InvalidSignatureValue');
    await t.good();
  });

  it('one byte of whitespace added after signing → Server.ServerProxy.InvalidSignatureValue', async () => {
    const id = newId('ws');
    const bytes = raw(id);
    const msg = encodeSignedMessage(Buffer.concat([bytes, Buffer.from('\n')]), sign(bytes));
    await refused(id, () => post(msg.body, msg.contentType), 'Server.ServerProxy.InvalidSignatureValue');
    await t.good();
  });

  it('the signature part removed (a one-part multipart) → Server.ServerProxy.InvalidMessage', async () => {
    const id = newId('no-sig');
    const bytes = raw(id);
    const body = Buffer.concat([Buffer.from('--b\r\nContent-Type: text/xml\r\n\r\n'), bytes, Buffer.from('\r\n--b--\r\n')]);
    await refused(id, () => post(body, 'multipart/related; type="text/xml"; boundary=b'), 'Server.ServerProxy.InvalidMessage');
    await t.good();
  });

  it('an empty signature part → refused (Server.ServerProxy.InvalidSignatureValue)', async () => {
    const id = newId('empty-sig');
    const msg = encodeSignedMessage(raw(id), '');
    await refused(id, () => post(msg.body, msg.contentType), 'Server.ServerProxy.InvalidSignatureValue');
    await t.good();
  });

  it('signature algorithm downgraded to rsa-sha1 → Server.ServerProxy.InvalidSignatureValue', async () => {
    const id = newId('sha1');
    const bytes = raw(id);
    const sig = sign(bytes).replace(/(<ds:SignatureMethod Algorithm=")[^"]+"/, '$1http://www.w3.org/2000/09/xmldsig#rsa-sha1"');
    assert.match(sig, /rsa-sha1/);
    const msg = encodeSignedMessage(bytes, sig);
    await refused(id, () => post(msg.body, msg.contentType), 'Server.ServerProxy.InvalidSignatureValue');
    await t.good();
  });

  it('signature method «none» (empty SignatureValue) → Server.ServerProxy.InvalidSignatureValue', async () => {
    const id = newId('none');
    const bytes = raw(id);
    const sig = sign(bytes)
      .replace(/(<ds:SignatureMethod Algorithm=")[^"]+"/, '$1none"')
      .replace(/<ds:SignatureValue>[^<]*<\/ds:SignatureValue>/, '<ds:SignatureValue></ds:SignatureValue>');
    const msg = encodeSignedMessage(bytes, sig);
    await refused(id, () => post(msg.body, msg.contentType), 'Server.ServerProxy.InvalidSignatureValue');
    await t.good();
  });

  it('digest method switched to SHA-1 → Server.ServerProxy.InvalidSignatureValue', async () => {
    const id = newId('digest');
    const bytes = raw(id);
    const sig = sign(bytes).replace(/(<ds:DigestMethod Algorithm=")[^"]+"/, '$1http://www.w3.org/2000/09/xmldsig#sha1"');
    assert.match(sig, /xmldsig#sha1/);
    const msg = encodeSignedMessage(bytes, sig);
    await refused(id, () => post(msg.body, msg.contentType), 'Server.ServerProxy.InvalidSignatureValue');
    await t.good();
  });

  it('a third, extra MIME part after the signature → Server.ServerProxy.InvalidMessage', async () => {
    const id = newId('extra-part');
    const bytes = raw(id);
    const msg = encodeSignedMessage(bytes, sign(bytes));
    const boundary = /boundary=(\S+)/.exec(msg.contentType)?.[1] as string;
    const body = Buffer.from(msg.body.toString('latin1').replace(`--${boundary}--`, `--${boundary}\r\nContent-Type: text/plain\r\n\r\nextra\r\n--${boundary}--`), 'latin1');
    await refused(id, () => post(body, msg.contentType), 'Server.ServerProxy.InvalidMessage');
    await t.good();
  });

  it('a boundary in the content type that is not the one in the body → Server.ServerProxy.InvalidMessage', async () => {
    const id = newId('boundary');
    const bytes = raw(id);
    const msg = encodeSignedMessage(bytes, sign(bytes));
    await refused(id, () => post(msg.body, 'multipart/related; type="text/xml"; boundary=otro-limite'), 'Server.ServerProxy.InvalidMessage');
    await t.good();
  });

  it('preamble bytes before the first boundary → Server.ServerProxy.InvalidMessage', async () => {
    const id = newId('preamble');
    const bytes = raw(id);
    const msg = encodeSignedMessage(bytes, sign(bytes));
    await refused(id, () => post(Buffer.concat([Buffer.from('preambulo\r\n'), msg.body]), msg.contentType), 'Server.ServerProxy.InvalidMessage');
    await t.good();
  });

  it('a plain SOAP body (no multipart) with Juntos\'s TLS identity → Server.ServerProxy.InvalidMessage', async () => {
    const id = newId('plain');
    await refused(id, () => post(raw(id), 'text/xml; charset=utf-8'), 'Server.ServerProxy.InvalidMessage');
    await t.good();
  });

  it('a valid signed message replayed byte for byte → Server.ServerProxy.DuplicateMessage', async () => {
    const id = newId('replay');
    const bytes = raw(id);
    const msg = encodeSignedMessage(bytes, sign(bytes));
    const first = await post(msg.body, msg.contentType);
    assert.equal(first.status, 200, first.text);
    await t.backendUntouched(async () => {
      expectLogged(t.inst.reniec, expectFault(await post(msg.body, msg.contentType), 'Server.ServerProxy.DuplicateMessage'));
    });
    assert.deepEqual(directions(t.inst.reniec, id), ['request', 'response']);
    await t.good();
  });

  it('no client certificate: the TLS handshake is refused and nothing is processed', async () => {
    const before = t.backendRequests;
    const anonymous = { ...juntosTls, keyPem: undefined as unknown as string, certPem: undefined as unknown as string };
    const msg = encodeSignedMessage(raw(newId('anon')), 'x');
    await assert.rejects(postMtls(t.proxyUrl, msg.body, msg.contentType, anonymous));
    assert.equal(t.backendRequests, before);
    await t.good();
  });

  it('Juntos\'s certificate presented with a key that is not its own: the TLS handshake is refused', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    // a certificate that is Juntos's but paired with another key: the handshake cannot prove possession
    const stranger: MtlsIdentity = { ...juntosTls, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const msg = encodeSignedMessage(raw(newId('stranger')), 'x');
    await assert.rejects(postMtls(t.proxyUrl, msg.body, msg.contentType, stranger));
    await t.good();
  });

  it('GET and other paths on the node-to-node port → 404 with no processing', async () => {
    const before = t.backendRequests;
    const res = await postMtls(`${t.inst.reniec.proxyUrl}/../miis/v1/message/x`, Buffer.from('x'), 'text/xml', juntosTls);
    assert.equal(res.status, 404);
    assert.equal(t.backendRequests, before);
    await t.good();
  });
});
