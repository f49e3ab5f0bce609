/**
 * Signing-key rotation without downtime: `miis-node cert rotate` while Juntos's node serves,
 * central signs the new CSR, `miis-node cert import --sign` activates it and the SAME running node
 * signs with the new key (no restart). Exchanges before, during and after succeed; records name
 * the old and then the new certificate; `miis-node log verify` still verifies the old ones.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { certificateInfo } from '../../core/pki.js';
import { runNodeCli } from '../../node/cli/index.js';
import type { NodeEvidence } from '../../node/evidence/index.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { personaRequest, postSoap, runCli, startInstance, waitFor, type Instance } from './fixture.js';
import { sqliteLog } from '../helpers/node-log.js';

describe('signing-key rotation without downtime', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance();
  });
  after(async () => {
    await inst.close();
  });

  it('rotates while serving: old and new exchanges succeed and both verify', async () => {
    const dir = nodeDir(inst.plan, 'juntos');
    const running = inst.juntos;
    const oldSha = running.ctx.signerSha256;
    const oldKey = readFileSync(join(dir, 'keys', 'sign-key.pem'), 'utf8');
    const exchange = async (id: string): Promise<void> => {
      const r = await postSoap(running.isUrl, personaRequest(inst.dni, { id }));
      assert.equal(r.status, 200, r.text);
    };
    const signerOf = (id: string): string | undefined => sqliteLog(running).list({ messageId: id }).find((r) => r.side === 'client' && r.direction === 'request')?.signerCertSha256;

    await exchange('rot-before');
    const rotate = await runCli(runNodeCli, ['cert', 'rotate', '--dir', dir]);
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.ok(existsSync(join(dir, 'sign.next.csr')) && existsSync(join(dir, 'keys', 'sign-key.next.pem')));
    const again = await runCli(runNodeCli, ['cert', 'rotate', '--dir', dir]);
    assert.notEqual(again.code, 0, 'a pending rotation is not silently replaced');
    assert.match(again.stderr, /rotación en curso/);

    await exchange('rot-pending'); // the current key keeps signing until the new certificate is imported
    assert.equal(signerOf('rot-pending'), oldSha);

    const newCert = join(inst.dir, 'juntos-sign-new.pem');
    const signed = await runCli(runCentralCli, ['cert', 'sign', '--csr', join(dir, 'sign.next.csr'), '--profile', 'sign', '--out', newCert, '--dir', join(inst.dir, 'central')]);
    assert.equal(signed.code, 0, signed.stderr);
    const newSha = certificateInfo(readFileSync(newCert, 'utf8')).sha256;
    // a certificate for neither key is refused
    const wrong = await runCli(runNodeCli, ['cert', 'import', '--sign', join(nodeDir(inst.plan, 'reniec'), 'sign.pem'), '--dir', dir]);
    assert.notEqual(wrong.code, 0);

    const imported = await runCli(runNodeCli, ['cert', 'import', '--sign', newCert, '--dir', dir]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /Rotación completada/);
    assert.equal(readFileSync(join(dir, 'keys', 'sign-key.previous.pem'), 'utf8'), oldKey, 'the old key is kept');
    assert.equal(certificateInfo(readFileSync(join(dir, 'sign.previous.pem'), 'utf8')).sha256, oldSha, 'the old certificate is kept');
    assert.ok(!existsSync(join(dir, 'sign.next.csr')));

    await waitFor(async () => (running.ctx.signerSha256 === newSha ? true : undefined), 'el nodo en marcha firma con la clave nueva', 5000);
    assert.equal(inst.juntos, running, 'no restart');
    await exchange('rot-after');
    assert.equal(signerOf('rot-before'), oldSha);
    assert.equal(signerOf('rot-after'), newSha, 'records after the switch name the new certificate');

    const health = await (await fetch(new URL('health', running.isUrl))).json() as { certificados: { rol: string; estado: string }[] };
    assert.deepEqual(health.certificados.map((c) => [c.rol, c.estado]), [['sign', 'vigente'], ['auth', 'vigente'], ['sign-previous', 'vigente']]);

    await (running.ctx.evidence as unknown as NodeEvidence).timestamper!.tick();
    const verify = await runCli(runNodeCli, ['log', 'verify', '--dir', dir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const m = /Cadena íntegra: (\d+) registros, (\d+) firmas válidas/.exec(verify.stdout);
    assert.ok(m !== null, verify.stdout);
    assert.equal(m[1], m[2], 'every record signature verifies, before and after the rotation');
  });
});
