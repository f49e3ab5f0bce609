/**
 * miis-central node set / node remove / cert sign --node: audited, published in the next global
 * configuration; a renewed auth certificate is published next to the previous one until the
 * overlap ends (or --drop-previous), and the format stays valid for nodes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../../central/cli/index.js';
import { validateGlobalConf } from '../../../core/global-conf.js';
import type { GlobalConf } from '../../../core/global-conf-model.js';
import { certificateInfo, createCsr, generateKeyPair } from '../../../core/pki.js';
import { RUC_RENIEC, T0 } from '../helpers.js';

const RENIEC = `PE/GOB/${RUC_RENIEC}`;

describe('miis-central node lifecycle', () => {
  let root: string;
  let now = T0;
  const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runCentralCli([...args, '--dir', join(root, 'central'), '--actor', 'operador'], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, now: () => now });
    return { code, out, err };
  };
  const conf = async (): Promise<GlobalConf> => {
    const r = await cli('conf', 'show', '--json');
    assert.equal(r.code, 0, r.err);
    return validateGlobalConf(JSON.parse(r.out));
  };
  const reniec = async () => (await conf()).nodes.find((n) => n.name === 'reniec');
  const audit = async (prefix: string) => JSON.parse((await cli('audit', 'list', '--action', prefix, '--json')).out) as { actor: string; accion: string; antes: Record<string, unknown> | null; despues: Record<string, unknown> | null }[];
  let csr: string;
  let firstSha: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'miis-node-lifecycle-'));
    assert.equal((await cli('init', '--instance', 'PE', '--no-catalogue')).code, 0);
    assert.equal((await cli('member', 'add', '--class', 'GOB', '--code', RUC_RENIEC, '--name', 'RENIEC', '--role', 'RENIEC')).code, 0);
    assert.equal((await cli('subsystem', 'add', `${RENIEC}/RUPN`)).code, 0);
    csr = join(root, 'auth.csr');
    writeFileSync(csr, await createCsr(await generateKeyPair('ecdsa-p256'), { organization: 'RENIEC', commonName: 'reniec', serialNumber: RENIEC }));
    assert.equal((await cli('cert', 'sign', '--csr', csr, '--profile', 'auth', '--ip', '127.0.0.1', '--valid-days', '30', '--out', join(root, 'a1.pem'))).code, 0);
    const added = await cli('node', 'add', '--name', 'reniec', '--owner', RENIEC, '--address', 'https://127.0.0.1:5500', '--auth-cert', join(root, 'a1.pem'));
    assert.equal(added.code, 0, added.err);
    assert.equal((await cli('node', 'client', 'add', '--node', 'reniec', `${RENIEC}/RUPN`)).code, 0);
    firstSha = certificateInfo(readFileSync(join(root, 'a1.pem'), 'utf8')).sha256;
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('node set --address changes the published address and is audited', async () => {
    const r = await cli('node', 'set', 'reniec', '--address', 'https://10.0.0.5:5501');
    assert.equal(r.code, 0, r.err);
    assert.equal((await reniec())?.address, 'https://10.0.0.5:5501');
    const rows = await audit('node.set');
    assert.equal(rows.at(-1)?.actor, 'operador');
    assert.equal(rows.at(-1)?.antes?.['address'], 'https://127.0.0.1:5500');
    assert.equal(rows.at(-1)?.despues?.['address'], 'https://10.0.0.5:5501');
    assert.equal((await cli('node', 'set', 'reniec', '--address', 'http://10.0.0.5:5501')).code, 2, 'https only');
    assert.equal((await cli('node', 'set', 'reniec')).code, 2, 'nothing to change');
    assert.equal((await cli('node', 'set', 'nadie', '--address', 'https://10.0.0.6:5500')).code, 2, 'unknown node');
  });

  it('cert sign --node re-pins: both certificates are published during the overlap, the new one first', async () => {
    const r = await cli('cert', 'sign', '--csr', csr, '--profile', 'auth', '--node', 'reniec', '--overlap-hours', '24', '--ip', '127.0.0.1', '--out', join(root, 'a2.pem'));
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /Se sigue aceptando el certificado anterior/);
    const newSha = certificateInfo(readFileSync(join(root, 'a2.pem'), 'utf8')).sha256;
    const n = await reniec();
    assert.equal(n?.authCertSha256, newSha, 'old field = the current certificate (compatibility)');
    assert.deepEqual(n?.authCertsSha256, [newSha, firstSha]);
    // the overlap ends by itself: 25 hours later only the new one is published
    now = new Date(T0.getTime() + 25 * 3_600_000);
    assert.equal((await reniec())?.authCertsSha256, undefined);
    now = T0;
    assert.deepEqual((await reniec())?.authCertsSha256, [newSha, firstSha]);
    assert.equal((await cli('cert', 'sign', '--csr', csr, '--profile', 'sign', '--node', 'reniec')).code, 2, '--node only with auth');
  });

  it('node set --drop-previous stops publishing the previous certificate', async () => {
    const r = await cli('node', 'set', 'reniec', '--drop-previous');
    assert.equal(r.code, 0, r.err);
    const n = await reniec();
    assert.equal(n?.authCertsSha256, undefined);
    assert.notEqual(n?.authCertSha256, firstSha);
  });

  it('node set --auth-cert: the overlap never outlasts the previous certificate', async () => {
    const current = (await reniec())?.authCertSha256;
    assert.equal((await cli('cert', 'sign', '--csr', csr, '--profile', 'auth', '--ip', '127.0.0.1', '--out', join(root, 'a3.pem'))).code, 0);
    const r = await cli('node', 'set', 'reniec', '--auth-cert', join(root, 'a3.pem'), '--overlap-hours', '8760');
    assert.equal(r.code, 0, r.err);
    const prev = JSON.parse((await cli('node', 'list', '--json')).out)[0] as { sha256CertAuthAnterior: string; anteriorAceptadoHasta: string };
    assert.equal(prev.sha256CertAuthAnterior, current);
    assert.ok(Date.parse(prev.anteriorAceptadoHasta) <= T0.getTime() + 366 * 86_400_000);
    assert.equal((await cli('node', 'set', 'reniec', '--auth-cert', join(root, 'a3.pem'))).code, 2, 'same certificate again');
  });

  it('node remove takes the node out of the next configuration, audited with what it was', async () => {
    const r = await cli('node', 'remove', 'reniec');
    assert.equal(r.code, 0, r.err);
    assert.equal(await reniec(), undefined);
    const row = (await audit('node.remove')).at(-1);
    assert.equal(row?.antes?.['name'], 'reniec');
    assert.equal(row?.despues, null);
    assert.equal((await cli('node', 'remove', 'reniec')).code, 2);
  });

  it('the global-configuration validator accepts the list and refuses a malformed one', async () => {
    const base = await conf();
    const node = { name: 'x', owner: RENIEC, address: 'https://127.0.0.1:5500', authCertSha256: 'a'.repeat(64), clients: [] };
    assert.doesNotThrow(() => validateGlobalConf({ ...base, nodes: [{ ...node, authCertsSha256: ['a'.repeat(64), 'b'.repeat(64)] }] }));
    assert.throws(() => validateGlobalConf({ ...base, nodes: [{ ...node, authCertsSha256: ['b'.repeat(64), 'a'.repeat(64)] }] }), /authCertsSha256/);
    assert.throws(() => validateGlobalConf({ ...base, nodes: [{ ...node, authCertsSha256: ['a'.repeat(64), 'A'.repeat(64)] }] }), /authCertsSha256/);
    assert.throws(() => validateGlobalConf({ ...base, nodes: [{ ...node, authCertsSha256: ['a'.repeat(64), 'a'.repeat(64)] }] }), /authCertsSha256/);
  });
});
