/**
 * Issue 9, item 3: the node-to-node port's TLS settings are one object, used for the first secure
 * context and for every reload after a global-configuration change: TLS 1.2 is refused before and
 * after a reload.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { centralDir } from '../../scripts/sandbox/provision.js';
import { needTool } from '../helpers/tools.js';
import { CONSULTAR_PERSONA, JUNTOS_CLIENT, RENIEC, runCli, startInstance, type Instance, type MtlsIdentity } from '../e2e/fixture.js';
import { expectGood, juntosTls } from './hardening-helpers.js';

/** Try a TLS handshake with the given version range; resolves with the negotiated protocol or the error. */
function handshake(port: number, tls: MtlsIdentity, version: { minVersion: 'TLSv1.2' | 'TLSv1.3'; maxVersion: 'TLSv1.2' | 'TLSv1.3' }): Promise<{ ok: true; protocol: string | null } | { ok: false; error: string }> {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1', port, key: tls.keyPem, cert: tls.certPem, ca: [...tls.caPems], rejectUnauthorized: false, ...version,
    }, () => {
      const protocol = socket.getProtocol();
      socket.destroy();
      resolve({ ok: true, protocol });
    });
    socket.on('error', (err) => resolve({ ok: false, error: err.message }));
  });
}

/** openssl s_client in a child process (asynchronous: the node under test runs in this process). */
function sClient(port: number, work: string, flag: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', flag, '-connect', `127.0.0.1:${port}`, '-cert', join(work, 'cert.pem'), '-key', join(work, 'key.pem')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString('utf8'); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString('utf8'); });
    const timer = setTimeout(() => child.kill(), 20_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end();
  });
}

describe('hardening: TLS settings survive a global-configuration reload', () => {
  let inst: Instance;
  let tls: MtlsIdentity;
  let port: number;
  let work: string;

  before(async () => {
    inst = await startInstance();
    tls = juntosTls(inst);
    port = Number(new URL(inst.reniec.proxyUrl).port);
    work = mkdtempSync(join(tmpdir(), 'miis-hard-tls-'));
    writeFileSync(join(work, 'cert.pem'), tls.certPem);
    writeFileSync(join(work, 'key.pem'), tls.keyPem);
  });
  after(async () => {
    await inst.close();
    rmSync(work, { recursive: true, force: true });
  });

  const reload = async (): Promise<void> => {
    const before = inst.reniec.ctx.conf.latest()?.conf.serial ?? 0;
    const added = await runCli(runCentralCli, ['agreement', 'add', '--id', `CONV-TLS-${Date.now()}`, '--provider', RENIEC, '--client', JUNTOS_CLIENT, '--service', CONSULTAR_PERSONA, '--purpose', 'OTRA', '--from', '2026-01-01', '--dir', centralDir(inst.plan)]);
    assert.equal(added.code, 0, added.stderr);
    inst.central.app.publisher.refresh();
    assert.equal(await inst.reniec.ctx.conf.refresh(), true, 'RENIEC took a new configuration');
    assert.ok((inst.reniec.ctx.conf.latest()?.conf.serial ?? 0) > before);
  };

  it('node:tls with maxVersion TLSv1.2 is refused before and after a configuration reload; TLS 1.3 still works', async () => {
    const first = await handshake(port, tls, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.equal(first.ok, false, 'TLS 1.2 refused at start');
    await reload();
    const v12 = await handshake(port, tls, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.equal(v12.ok, false, `TLS 1.2 refused after a reload: ${JSON.stringify(v12)}`);
    const v13 = await handshake(port, tls, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    assert.deepEqual(v13, { ok: true, protocol: 'TLSv1.3' });
    await expectGood(inst);
  });

  it('openssl s_client -tls1_2 with the client certificate fails after a reload; -tls1_3 connects', { skip: needTool('openssl') }, async () => {
    await reload();
    const v12 = await sClient(port, work, '-tls1_2');
    assert.notEqual(v12.status, 0, `TLS 1.2 connected: ${v12.stdout.slice(-600)}`);
    assert.match(v12.stdout, /Cipher is \(NONE\)/, 'no cipher negotiated');
    const v13 = await sClient(port, work, '-tls1_3');
    assert.equal(v13.status, 0, v13.stderr);
    assert.match(v13.stdout, /TLSv1\.3/);
    await expectGood(inst);
  });
});
