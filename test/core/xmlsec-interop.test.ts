/**
 * Third-party verifiability: our detached signatures must verify with Debian's xmlsec1, our
 * SignedInfo must equal lxml's exclusive c14n of it, and the signed global configuration must
 * verify with `openssl dgst`. Real binaries, no mocks. xmlsec1 and openssl checks are skipped
 * only when the binary is absent (CI installs them).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { GLOBAL_CONF_FORMAT, type GlobalConf } from '../../core/global-conf-model.js';
import { generateKeyPair, createCsr, createSelfSignedCa, issueCertificate, type KeyAlgorithm } from '../../core/pki.js';
import { createSigner, signDetached, type Signer } from '../../core/signature.js';
import { signGlobalConf } from '../../core/global-conf.js';
import { needTool } from '../helpers/tools.js';


function run(cmd: string, args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

interface Material { signer: Signer; caPem: string }

// xmlsec1 checks certificate validity against the wall clock, so these certificates are
// issued at the real current time.
async function makeMaterial(alg: KeyAlgorithm, profile: 'sign' | 'conf'): Promise<Material> {
  const now = new Date();
  const caKeys = await generateKeyPair(alg);
  const caPem = await createSelfSignedCa(caKeys, { organization: 'MIDIS', commonName: 'MIIS CA de prueba' }, { now, validDays: 30 });
  const keys = await generateKeyPair(alg);
  const csrPem = await createCsr(keys, { organization: 'RENIEC', commonName: 'RENIEC firma', serialNumber: 'PE/GOB/20295613620' });
  const certPem = await issueCertificate({ csrPem, profile, ca: { certPem: caPem, privateKeyPem: caKeys.privateKeyPem }, now, validDays: 30 });
  return { signer: createSigner(keys.privateKeyPem, certPem), caPem };
}

const MESSAGE = Buffer.from('<?xml version="1.0" encoding="UTF-8"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">\r\n  <SOAP-ENV:Body>Ñandú &amp; año</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n', 'utf8');

describe('third-party verification of detached signatures', () => {
  let dir = '';
  const material: Partial<Record<KeyAlgorithm, Material>> = {};

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'miis-xmlsec-'));
    material['rsa-2048'] = await makeMaterial('rsa-2048', 'sign');
    material['ecdsa-p256'] = await makeMaterial('ecdsa-p256', 'sign');
  });
  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const alg of ['rsa-2048', 'ecdsa-p256'] as const) {
    it(`xmlsec1 verifies a ${alg} signature and fails when one byte changes`, { skip: needTool('xmlsec1') }, () => {
      const m = material[alg]!;
      const d = fs.mkdtempSync(path.join(dir, `${alg}-`));
      fs.writeFileSync(path.join(d, 'cert.pem'), m.signer.certPem);
      fs.writeFileSync(path.join(d, 'ca.pem'), m.caPem);
      fs.writeFileSync(path.join(d, 'stored-message.xml'), MESSAGE);
      fs.writeFileSync(path.join(d, 'signature.xml'), signDetached(MESSAGE, m.signer));
      // The command documented in certs/README.md and ARCHITECTURE.md (works for RSA and ECDSA).
      const verify = (msg: string, cert = 'cert.pem'): { status: number | null; out: string } => run('xmlsec1',
        ['--verify', '--pubkey-cert-pem', cert, '--enabled-key-data', 'rsa', '--url-map:message.xml', msg, 'signature.xml'], d);
      const ok = verify('stored-message.xml');
      assert.equal(ok.status, 0, ok.out);
      assert.match(ok.out, /^OK$/m);

      for (const offset of [0, 100, MESSAGE.length - 1]) {
        const tampered = Buffer.from(MESSAGE);
        tampered[offset] = tampered[offset]! ^ 0x01;
        fs.writeFileSync(path.join(d, 'tampered.xml'), tampered);
        const bad = verify('tampered.xml');
        assert.notEqual(bad.status, 0, `offset ${offset}: ${bad.out}`);
      }
      // A different key must not verify it.
      const other = material[alg === 'rsa-2048' ? 'ecdsa-p256' : 'rsa-2048']!;
      fs.writeFileSync(path.join(d, 'other.pem'), other.signer.certPem);
      assert.notEqual(verify('stored-message.xml', 'other.pem').status, 0);
      // Chain check through the embedded certificate, trusting only the CA.
      const chained = run('xmlsec1', ['--verify', '--trusted-pem', 'ca.pem', '--url-map:message.xml', 'stored-message.xml', 'signature.xml'], d);
      assert.equal(chained.status, 0, chained.out);
      fs.writeFileSync(path.join(d, 'other-ca.pem'), other.caPem);
      const foreign = run('xmlsec1', ['--verify', '--trusted-pem', 'other-ca.pem', '--url-map:message.xml', 'stored-message.xml', 'signature.xml'], d);
      assert.notEqual(foreign.status, 0, foreign.out);
    });
  }

  it('our SignedInfo equals lxml exclusive c14n of it (independent canonicaliser)', { skip: needTool('lxml') }, () => {
    for (const alg of ['rsa-2048', 'ecdsa-p256'] as const) {
      const doc = signDetached(MESSAGE, material[alg]!.signer);
      const file = path.join(dir, `c14n-${alg}.xml`);
      fs.writeFileSync(file, doc);
      const script = [
        'import sys, lxml.etree as E',
        'root = E.parse(sys.argv[1]).getroot()',
        "si = root.find('{http://www.w3.org/2000/09/xmldsig#}SignedInfo')",
        "sys.stdout.buffer.write(E.tostring(si, method='c14n', exclusive=True, with_comments=False))",
      ].join('\n');
      const r = spawnSync('/usr/bin/python3', ['-c', script, file]);
      assert.equal(r.status, 0, r.stderr.toString());
      const ours = /<ds:SignedInfo[\s\S]*<\/ds:SignedInfo>/.exec(doc)![0];
      assert.equal(r.stdout.toString('utf8'), ours);
    }
  });
});

describe('third-party verification of the signed global configuration', () => {
  let dir = '';
  const conf: GlobalConf = {
    format: GLOBAL_CONF_FORMAT, instance: 'PE', serial: 1,
    generatedAt: '2025-03-01T12:00:00Z', expiresAt: '2025-03-02T12:00:00Z',
    members: [{ id: 'PE/GOB/20131370998', name: 'MIDIS', role: 'MIDIS' }],
    subsystems: ['PE/GOB/20131370998/PGH'], nodes: [], services: [], trustedCas: [],
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'miis-openssl-'));
  });
  after(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const alg of ['rsa-2048', 'ecdsa-p256'] as const) {
    it(`openssl dgst verifies a ${alg} conf signature and rejects a changed payload`, { skip: needTool('openssl') }, async () => {
      const m = await makeMaterial(alg, 'conf');
      const d = fs.mkdtempSync(path.join(dir, `${alg}-`));
      fs.writeFileSync(path.join(d, 'conf.pem'), m.signer.certPem);
      fs.writeFileSync(path.join(d, 'globalconf.signed.json'), signGlobalConf(conf, m.signer));
      // The steps documented in certs/README.md.
      const extract = 'const fs=require("fs");const e=JSON.parse(fs.readFileSync("globalconf.signed.json","utf8"));'
        + 'fs.writeFileSync("payload.json",Buffer.from(e.payload,"base64"));fs.writeFileSync("sig.der",Buffer.from(e.signature,"base64"));';
      assert.equal(run(process.execPath, ['-e', extract], d).status, 0);
      const pub = run('openssl', ['x509', '-in', 'conf.pem', '-pubkey', '-noout'], d);
      assert.equal(pub.status, 0, pub.out);
      fs.writeFileSync(path.join(d, 'pub.pem'), pub.out);
      const ok = run('openssl', ['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'sig.der', 'payload.json'], d);
      assert.equal(ok.status, 0, ok.out);
      assert.match(ok.out, /Verified OK/);
      const payload = fs.readFileSync(path.join(d, 'payload.json'));
      payload[payload.indexOf('"serial":1') + 9] = '2'.charCodeAt(0);
      fs.writeFileSync(path.join(d, 'payload.json'), payload);
      const bad = run('openssl', ['dgst', '-sha256', '-verify', 'pub.pem', '-signature', 'sig.der', 'payload.json'], d);
      assert.notEqual(bad.status, 0, bad.out);
      assert.match(bad.out, /Verification failure/);
    });
  }
});
