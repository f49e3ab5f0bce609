import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInstancePki } from '../../central/pki/ca.js';
import { answerTimeStampRequest, issueTsaCertificate } from '../../central/pki/tsa.js';
import { generateKeyPair } from '../../core/pki.js';
import { createTimeStampRequest, hasTimeStampingUsage, tokenFromResponse, verifyTimeStampToken } from '../../core/tsp.js';
import { certDer } from '../../core/pki.js';
import { needTool } from '../helpers/tools.js';

const T0 = new Date('2026-03-02T15:00:00.000Z');

async function setup(alg: 'ecdsa-p256' | 'rsa-2048' = 'ecdsa-p256') {
  const pki = await createInstancePki({ instance: 'PE', operatorName: 'MIDIS DGFO', keyAlgorithm: alg, now: T0 });
  const ca = { certPem: pki.caCertPem, privateKeyPem: pki.caKeys.privateKeyPem };
  const keys = await generateKeyPair(alg);
  const tsa = { privateKeyPem: keys.privateKeyPem, certPem: await issueTsaCertificate(ca, keys, { now: T0, operatorName: 'MIDIS DGFO', instance: 'PE' }) };
  return { pki, tsa };
}

const digestOf = (s: string): Buffer => createHash('sha256').update(s).digest();

test('a token over a digest verifies; another digest, a flipped byte or an untrusted CA are named', async () => {
  const { pki, tsa } = await setup();
  const digest = digestOf('lote 1');
  const resp = answerTimeStampRequest(createTimeStampRequest(digest, 42n), tsa, new Date(T0.getTime() + 60_000));
  const ok = verifyTimeStampToken(resp, digest, [pki.caCertPem]);
  assert.equal(ok.ok, true);
  assert.equal(ok.ok && ok.genTime.toISOString(), '2026-03-02T15:01:00.000Z');
  assert.ok(hasTimeStampingUsage(certDer(tsa.certPem)));

  const other = verifyTimeStampToken(resp, digestOf('lote 2'), [pki.caCertPem]);
  assert.deepEqual(other, { ok: false, reason: 'el sello de tiempo corresponde a otro resumen' });

  const token = tokenFromResponse(resp);
  let detected = 0;
  for (let i = 0; i < token.length; i += 1) {
    const bad = Buffer.from(token);
    bad[i] = bad[i]! ^ 0x01;
    if (!verifyTimeStampToken(bad, digest, [pki.caCertPem]).ok) detected += 1;
    else assert.fail(`byte ${i} modificado y el sello sigue siendo válido`);
  }
  assert.ok(detected > 10);

  const stranger = await setup();
  const untrusted = verifyTimeStampToken(resp, digest, [stranger.pki.caCertPem]);
  assert.equal(untrusted.ok, false);
  assert.match(!untrusted.ok ? untrusted.reason : '', /certificado de la TSA/);
});

test('a wrong-usage certificate cannot act as TSA (sign profile has no timeStamping EKU)', async () => {
  const { pki } = await setup();
  assert.equal(hasTimeStampingUsage(certDer(pki.confCertPem)), false);
});

test('a malformed request gets a rejection, not a token', async () => {
  const { tsa } = await setup();
  const resp = answerTimeStampRequest(Buffer.from('no es DER'), tsa, T0);
  assert.throws(() => tokenFromResponse(resp), /rechazó/);
});

for (const alg of ['ecdsa-p256', 'rsa-2048'] as const) {
  test(`openssl ts -verify accepts the token (${alg}) and rejects another digest`, { skip: needTool('openssl') }, async () => {
    const { pki, tsa } = await setup(alg);
    const dir = mkdtempSync(join(tmpdir(), 'miis-tsp-'));
    const digest = digestOf('raíz del lote');
    writeFileSync(join(dir, 'ca.pem'), pki.caCertPem);
    writeFileSync(join(dir, 'tsa.pem'), tsa.certPem);
    writeFileSync(join(dir, 'token.tsr'), answerTimeStampRequest(createTimeStampRequest(digest), tsa, new Date()));
    const out = execFileSync('openssl', ['ts', '-verify', '-digest', digest.toString('hex'), '-in', join(dir, 'token.tsr'),
      '-CAfile', join(dir, 'ca.pem'), '-untrusted', join(dir, 'tsa.pem')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out, /Verification: OK/);
    assert.throws(() => execFileSync('openssl', ['ts', '-verify', '-digest', digestOf('otro').toString('hex'), '-in', join(dir, 'token.tsr'),
      '-CAfile', join(dir, 'ca.pem'), '-untrusted', join(dir, 'tsa.pem')], { stdio: 'pipe' }));
    // an openssl-made request is answered too
    writeFileSync(join(dir, 'data.bin'), 'datos');
    const req = execFileSync('openssl', ['ts', '-query', '-data', join(dir, 'data.bin'), '-sha256', '-cert']);
    writeFileSync(join(dir, 'r2.tsr'), answerTimeStampRequest(req, tsa, new Date()));
    const out2 = execFileSync('openssl', ['ts', '-verify', '-data', join(dir, 'data.bin'), '-in', join(dir, 'r2.tsr'),
      '-CAfile', join(dir, 'ca.pem'), '-untrusted', join(dir, 'tsa.pem')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(out2, /Verification: OK/);
  });
}
