import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { MiisError } from '../../core/errors.js';
import { GLOBAL_CONF_FORMAT, type GlobalConf } from '../../core/global-conf-model.js';
import { generateKeyPair, createCsr, createSelfSignedCa, issueCertificate, type KeyAlgorithm } from '../../core/pki.js';
import { createSigner, type Signer } from '../../core/signature.js';
import {
  signGlobalConf, verifyGlobalConf, validateGlobalConf, isGlobalConfExpired, SIGNED_GLOBAL_CONF_FORMAT,
} from '../../core/global-conf.js';

const NOW = new Date('2025-03-01T12:00:00Z');

let caPem = '';

function sampleConf(): GlobalConf {
  return {
    format: GLOBAL_CONF_FORMAT,
    instance: 'PE',
    serial: 7,
    generatedAt: '2025-03-01T12:00:00.000Z',
    expiresAt: '2025-03-02T12:00:00.000Z',
    members: [
      { id: 'PE/GOB/20131370998', name: 'Ministerio de Desarrollo e Inclusión Social', role: 'MIDIS' },
      { id: 'PE/GOB/20295613620', name: 'Registro Nacional de Identificación y Estado Civil', role: 'RENIEC' },
    ],
    subsystems: ['PE/GOB/20131370998/PGH', 'PE/GOB/20295613620/RUIPN'],
    nodes: [{
      name: 'reniec', owner: 'PE/GOB/20295613620', address: 'https://127.0.0.1:5500',
      authCertSha256: 'a'.repeat(64), clients: ['PE/GOB/20295613620/RUIPN'],
    }],
    services: [{ id: 'PE/GOB/20295613620/RUIPN/consultarDni/v1', title: 'Consulta de DNI' }],
    trustedCas: [caPem],
  };
}

/** A deep copy with one change, for structural-validation cases. */
function mutate(change: (c: Record<string, any>) => void): unknown {
  const copy = JSON.parse(JSON.stringify(sampleConf())) as Record<string, any>;
  change(copy);
  return copy;
}

async function confSigner(alg: KeyAlgorithm): Promise<Signer> {
  const caKeys = await generateKeyPair('rsa-2048');
  const ca = await createSelfSignedCa(caKeys, { organization: 'MIDIS', commonName: 'MIIS CA' }, { now: NOW, validDays: 3650 });
  if (caPem === '') caPem = ca;
  const keys = await generateKeyPair(alg);
  const csrPem = await createCsr(keys, { organization: 'MIDIS', commonName: 'MIIS configuración global' });
  const cert = await issueCertificate({ csrPem, profile: 'conf', ca: { certPem: ca, privateKeyPem: caKeys.privateKeyPem }, now: NOW, validDays: 365 });
  return createSigner(keys.privateKeyPem, cert);
}

function invalidConf(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MiisError, String(e));
    assert.equal(e.code, 'Config.InvalidGlobalConf');
    assert.match(e.detail, field);
    return true;
  });
}

function reEnvelope(envelope: Buffer, change: (e: Record<string, any>) => void): Buffer {
  const e = JSON.parse(envelope.toString('utf8')) as Record<string, any>;
  change(e);
  return Buffer.from(JSON.stringify(e));
}

describe('global configuration signing', () => {
  let rsa: Signer;
  let ec: Signer;
  let otherEc: Signer;

  before(async () => {
    rsa = await confSigner('rsa-2048');
    ec = await confSigner('ecdsa-p256');
    otherEc = await confSigner('ecdsa-p256');
  });

  it('signs and verifies with RSA and ECDSA anchors; result equals the input and is frozen', () => {
    for (const signer of [rsa, ec]) {
      const envelope = signGlobalConf(sampleConf(), signer);
      const parsed = JSON.parse(envelope.toString('utf8'));
      assert.equal(parsed.format, SIGNED_GLOBAL_CONF_FORMAT);
      assert.equal(parsed.algorithm, signer.algorithm);
      const conf = verifyGlobalConf(envelope, signer.certPem);
      assert.deepEqual(conf, sampleConf());
      assert.ok(Object.isFrozen(conf) && Object.isFrozen(conf.nodes[0]));
    }
  });

  it('signature is plain OpenSSL form over the payload bytes (independent node:crypto check)', () => {
    for (const signer of [rsa, ec]) {
      const env = JSON.parse(signGlobalConf(sampleConf(), signer).toString('utf8'));
      const payload = Buffer.from(env.payload, 'base64');
      assert.deepEqual(JSON.parse(payload.toString('utf8')), sampleConf());
      const key = new crypto.X509Certificate(signer.certPem).publicKey;
      assert.ok(crypto.verify('sha256', payload, key, Buffer.from(env.signature, 'base64')));
    }
  });

  it('refuses a tampered payload or signature', () => {
    const envelope = signGlobalConf(sampleConf(), ec);
    const tampered = reEnvelope(envelope, (e) => {
      const p = Buffer.from(e.payload, 'base64');
      p[p.indexOf('"serial":7') + 9] = '8'.charCodeAt(0);
      e.payload = p.toString('base64');
    });
    invalidConf(() => verifyGlobalConf(tampered, ec.certPem), /firma no es válida/);
    const badSig = reEnvelope(envelope, (e) => {
      const s = Buffer.from(e.signature, 'base64');
      s[s.length - 1] = s[s.length - 1]! ^ 1;
      e.signature = s.toString('base64');
    });
    invalidConf(() => verifyGlobalConf(badSig, ec.certPem), /firma no es válida/);
    // a raw byte changed in the envelope itself
    const raw = Buffer.from(envelope);
    raw[raw.indexOf('"payload":"') + 20] ^= 0x01;
    assert.throws(() => verifyGlobalConf(raw, ec.certPem), (e: unknown) => e instanceof MiisError && e.code === 'Config.InvalidGlobalConf');
  });

  it('refuses a wrong anchor, even when the signer hash field is forged to match it', () => {
    const envelope = signGlobalConf(sampleConf(), ec);
    invalidConf(() => verifyGlobalConf(envelope, otherEc.certPem), /distinto del ancla/);
    invalidConf(() => verifyGlobalConf(envelope, rsa.certPem), /distinto del ancla/);
    const forged = reEnvelope(envelope, (e) => {
      e.signerCertSha256 = crypto.createHash('sha256').update(new crypto.X509Certificate(otherEc.certPem).raw).digest('hex');
    });
    invalidConf(() => verifyGlobalConf(forged, otherEc.certPem), /firma no es válida/);
    invalidConf(() => verifyGlobalConf(envelope, 'basura'), /ancla/);
  });

  it('refuses unknown algorithm, format, fields, non-JSON and oversized envelopes', () => {
    const envelope = signGlobalConf(sampleConf(), rsa);
    invalidConf(() => verifyGlobalConf(reEnvelope(envelope, (e) => { e.algorithm = 'rsa-sha1'; }), rsa.certPem), /algoritmo/);
    invalidConf(() => verifyGlobalConf(reEnvelope(envelope, (e) => { e.algorithm = 'ecdsa-sha256'; }), rsa.certPem), /algoritmo/);
    invalidConf(() => verifyGlobalConf(reEnvelope(envelope, (e) => { e.format = 'otro/1'; }), rsa.certPem), /formato/);
    invalidConf(() => verifyGlobalConf(reEnvelope(envelope, (e) => { e.extra = 1; }), rsa.certPem), /campo desconocido/);
    invalidConf(() => verifyGlobalConf(reEnvelope(envelope, (e) => { e.payload = '***'; }), rsa.certPem), /payload/);
    invalidConf(() => verifyGlobalConf(Buffer.from('no es json'), rsa.certPem), /JSON/);
    invalidConf(() => verifyGlobalConf(envelope, rsa.certPem, { maxBytes: envelope.length - 1 }), /supera/);
    assert.equal(verifyGlobalConf(envelope, rsa.certPem, { maxBytes: envelope.length }).serial, 7);
  });

  it('refuses a correctly signed payload that is structurally invalid', () => {
    const bad = { ...sampleConf(), serial: -1 };
    const payload = Buffer.from(JSON.stringify(bad));
    const envelope = reEnvelope(signGlobalConf(sampleConf(), ec), (e) => {
      e.payload = payload.toString('base64');
      e.signature = ec.sign(payload).toString('base64');
    });
    invalidConf(() => verifyGlobalConf(envelope, ec.certPem), /serial/);
  });

  it('signGlobalConf refuses an invalid configuration', () => {
    invalidConf(() => signGlobalConf({ ...sampleConf(), instance: '' }, rsa), /instance/);
  });

  it('expiry: expired at and after expiresAt', () => {
    const conf = sampleConf();
    assert.equal(isGlobalConfExpired(conf, new Date('2025-03-02T11:59:59.999Z')), false);
    assert.equal(isGlobalConfExpired(conf, new Date('2025-03-02T12:00:00.000Z')), true);
    assert.equal(isGlobalConfExpired(conf, new Date('2026-01-01T00:00:00Z')), true);
  });

  it('validates every field and names it in the reason', () => {
    assert.deepEqual(validateGlobalConf(sampleConf()), sampleConf());
    const cases: Array<[(c: Record<string, any>) => void, RegExp]> = [
      [(c) => { c.format = 'miis-globalconf/2'; }, /format/],
      [(c) => { delete c.nodes; }, /falta el campo nodes/],
      [(c) => { c.unexpected = true; }, /campo desconocido «unexpected»/],
      [(c) => { c.instance = 'P E'; }, /instance/],
      [(c) => { c.serial = 1.5; }, /serial/],
      [(c) => { c.serial = '7'; }, /serial/],
      [(c) => { c.generatedAt = 'ayer'; }, /generatedAt/],
      [(c) => { c.expiresAt = '2025-03-01T11:00:00Z'; }, /expiresAt/],
      [(c) => { c.expiresAt = '2025-13-40T00:00:00Z'; }, /expiresAt/],
      [(c) => { c.members = {}; }, /members/],
      [(c) => { c.members[1].id = 'PE/GOB'; }, /members\[1\]\.id/],
      [(c) => { c.members[1].id = 'PE/GOB/20295613620/RUIPN'; }, /members\[1\]\.id/],
      [(c) => { c.members[1].id = 'EE/GOB/20295613620'; }, /members\[1\]\.id.*otra instancia/],
      [(c) => { c.members[1].id = c.members[0].id; }, /members\[1\]\.id: miembro duplicado/],
      [(c) => { c.members[0].name = ''; }, /members\[0\]\.name/],
      [(c) => { c.members[0].role = 5; }, /members\[0\]\.role/],
      [(c) => { c.members[0].extra = 'x'; }, /members\[0\]: campo desconocido/],
      [(c) => { c.subsystems[0] = 'PE/GOB/20131370998'; }, /subsystems\[0\]/],
      [(c) => { c.subsystems.push(c.subsystems[0]); }, /subsystems\[2\]: subsistema duplicado/],
      [(c) => { c.nodes[0].name = 'nodo con espacios'; }, /nodes\[0\]\.name/],
      [(c) => { c.nodes.push({ ...c.nodes[0] }); }, /nodes\[1\]\.name: nodo duplicado/],
      [(c) => { c.nodes[0].owner = 'PE/GOB/x y'; }, /nodes\[0\]\.owner/],
      [(c) => { c.nodes[0].address = 'http://127.0.0.1:5500'; }, /nodes\[0\]\.address/],
      [(c) => { c.nodes[0].address = 'no es url'; }, /nodes\[0\]\.address/],
      [(c) => { c.nodes[0].authCertSha256 = 'A'.repeat(64); }, /nodes\[0\]\.authCertSha256/],
      [(c) => { c.nodes[0].authCertSha256 = 'ab'; }, /nodes\[0\]\.authCertSha256/],
      [(c) => { c.nodes[0].clients = ['PE/GOB/20295613620']; }, /nodes\[0\]\.clients\[0\]/],
      [(c) => { c.services[0].id = 'PE/GOB/20295613620/RUIPN'; }, /services\[0\]\.id/],
      [(c) => { c.services[0].title = ' '; }, /services\[0\]\.title/],
      [(c) => { c.services.push({ ...c.services[0] }); }, /services\[1\]\.id: servicio duplicado/],
      [(c) => { c.trustedCas = ['no es un certificado']; }, /trustedCas\[0\]/],
      [(c) => { c.trustedCas = [5]; }, /trustedCas\[0\]/],
    ];
    for (const [change, field] of cases) invalidConf(() => validateGlobalConf(mutate(change)), field);
    invalidConf(() => validateGlobalConf(null), /configuración/);
    invalidConf(() => validateGlobalConf([]), /configuración/);
  });

  it('shared nodes: `members` lists the hosted members; a shared node serves only its owner\'s and their subsystems', () => {
    const shared = mutate((c) => {
      c.nodes[0].members = ['PE/GOB/20131370998'];
      c.nodes[0].clients.push('PE/GOB/20131370998/PGH');
    }) as GlobalConf;
    assert.deepEqual(validateGlobalConf(shared).nodes[0]?.members, ['PE/GOB/20131370998']);
    const cases: Array<[(c: Record<string, any>) => void, RegExp]> = [
      [(c) => { c.nodes[0].members = []; }, /nodes\[0\]\.members: se omite/],
      [(c) => { c.nodes[0].members = ['PE/GOB/20295613620']; }, /nodes\[0\]\.members\[0\]: .*igual al propietario/],
      [(c) => { c.nodes[0].members = ['PE/GOB/20131370998', 'PE/GOB/20131370998']; }, /nodes\[0\]\.members\[1\]: .*repetido/],
      [(c) => { c.nodes[0].members = ['PE/GOB/20131370998/PGH']; }, /nodes\[0\]\.members\[0\]/],
      [(c) => { c.nodes[0].members = ['PE/GOB/20131370998']; c.nodes[0].clients.push('PE/GOB/20100000001/X'); }, /nodes\[0\]\.clients\[1\]: .*no es del propietario ni de un miembro alojado/],
    ];
    for (const [change, field] of cases) invalidConf(() => validateGlobalConf(mutate(change)), field);
  });
});
