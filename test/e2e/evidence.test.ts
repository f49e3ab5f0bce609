/**
 * The evidence chain end to end: batch time-stamps from central's TSA, an exported exchange
 * verified with xmlsec1/openssl/sha256sum alone (the bundle's verify.sh), OCSP answered for the
 * instance CA (checked with openssl ocsp), the TSA-outage policy, and a revocation taking effect
 * within one configuration refresh.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { certificateInfo } from '../../core/pki.js';
import { DEFAULT_EVIDENCE_SETTINGS } from '../../node/evidence/settings.js';
import type { NodeEvidence } from '../../node/evidence/index.js';
import { runNodeCli } from '../../node/cli/index.js';
import { verifyLiveLog } from '../../node/evidence/log-verify.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { faultCodeOf, personaRequest, postSoap, runCli, startInstance, type Instance } from './fixture.js';
import { needTool } from '../helpers/tools.js';
import { sqliteLog } from '../helpers/node-log.js';


/** Run a tool without blocking the event loop (central and the nodes run in this process). */
function run(cmd: string, args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

const evidenceOf = (inst: Instance, name: 'juntos' | 'reniec'): NodeEvidence => inst[name].ctx.evidence as unknown as NodeEvidence;

describe('evidence chain through two nodes', { skip: needTool('xmlsec1', 'openssl', 'sha256sum') }, () => {
  let inst: Instance;
  let work: string;
  before(async () => {
    inst = await startInstance();
    work = join(inst.dir, 'work');
  });
  after(async () => {
    await inst.close();
  });

  it('time-stamps the log in batches and exports an exchange that standard tools verify', async () => {
    const id = `evidence-${Date.now()}`;
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
    assert.equal(res.status, 200, res.text);
    await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    await evidenceOf(inst, 'juntos').timestamper!.tick();
    const health = await (await fetch(new URL('health', inst.juntos.isUrl))).json() as { selladoDeTiempo: { estado: string; lotes: number }; registro: { cifrado: boolean }; certificados: { rol: string; estado: string }[] };
    assert.equal(health.selladoDeTiempo.estado, 'ok');
    assert.ok(health.selladoDeTiempo.lotes >= 1);
    assert.equal(health.registro.cifrado, true);
    assert.deepEqual(health.certificados.map((c) => [c.rol, c.estado]), [['sign', 'vigente'], ['auth', 'vigente']]);

    const cas = inst.juntos.ctx.conf.latest()!.conf.trustedCas;
    const report = verifyLiveLog(sqliteLog(inst.juntos), cas);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.unstamped, 0);

    const dir = nodeDir(inst.plan, 'juntos');
    const cli = await runCli(runNodeCli, ['log', 'verify', '--dir', dir]);
    assert.equal(cli.code, 0, cli.stderr + cli.stdout);
    assert.match(cli.stdout, /^Cadena íntegra: \d+ registros, \d+ firmas válidas, \d+ sellos de tiempo válidos$/m);

    const out = join(work, 'bundle');
    const exp = await runCli(runNodeCli, ['log', 'export', id, '--out', out, '--dir', dir]);
    assert.equal(exp.code, 0, exp.stderr + exp.stdout);
    const ok = await run('sh', [join(out, 'verify.sh')]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /request: OK/);
    assert.match(ok.stdout, /response: OK/);
    assert.match(ok.stdout, /VERIFICACIÓN COMPLETA: OK/);
    // openssl alone, as docs/verify-evidence.md shows
    const root = readFileSync(join(out, 'request.root.txt'), 'utf8').trim();
    const ts = await run('openssl', ['ts', '-verify', '-digest', root, '-token_in', '-in', join(out, 'request.tsr'), '-CAfile', join(out, 'ca.pem'), '-untrusted', join(out, 'tsa.pem')]);
    assert.match(ts.stdout, /Verification: OK/);

    // tampering: each named by the script, which exits non-zero
    const cases: [string, (b: Buffer) => Buffer, RegExp][] = [
      ['request.xml', (b) => flip(b, Math.floor(b.length / 2)), /request: el mensaje no corresponde/],
      ['response.sig.xml', (b) => flip(b, b.indexOf('SignatureValue>') + 20), /response: la firma no corresponde/],
      ['request.record.txt', (b) => Buffer.from(b.toString('utf8').replace('FOCALIZACION', 'OTRA')), /request: la prueba de inclusión no lleva a la raíz sellada/],
      ['request.tsr', (b) => flip(b, b.length - 10), /request: el sello de tiempo no es válido/],
    ];
    for (const [file, change, expected] of cases) {
      const path = join(out, file);
      const original = readFileSync(path);
      writeFileSync(path, change(original));
      const bad = await run('sh', [join(out, 'verify.sh')]);
      writeFileSync(path, original);
      assert.notEqual(bad.status, 0, `${file}: ${bad.stdout}`);
      assert.match(bad.stdout, expected, file);
    }
  });

  it('central answers OCSP for its CA, and openssl ocsp accepts the response', async () => {
    const ca = join(work, 'ca.pem');
    const cert = join(work, 'juntos-sign.pem');
    writeFileSync(ca, inst.juntos.ctx.conf.latest()!.conf.trustedCas[0]!);
    writeFileSync(cert, inst.juntos.ctx.signer.certPem);
    const r = await run('openssl', ['ocsp', '-issuer', ca, '-cert', cert, '-url', `${inst.central.url}/ocsp`, '-CAfile', ca]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr + r.stdout, /Response verify OK/);
    assert.match(r.stdout, /juntos-sign\.pem: good/);
  });

  it('TSA outage past the grace period: "refuse" stops exchanges with a named fault and /health says so', async () => {
    const dir = nodeDir(inst.plan, 'juntos');
    await inst.restartNode('juntos', {
      evidence: { ...DEFAULT_EVIDENCE_SETTINGS, timestamping: { enabled: true, url: 'http://127.0.0.1:9/tsa', intervalSec: 0.05, graceSec: 0.4, onOutage: 'refuse' } },
    });
    assert.equal((await postSoap(inst.juntos.isUrl, personaRequest(inst.dni))).status, 200, 'within the grace period exchanges go on');
    await new Promise((r) => setTimeout(r, 700));
    await evidenceOf(inst, 'juntos').timestamper!.tick();
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(faultCodeOf(res.text), 'Server.ClientProxy.TimestampUnavailable', res.text);
    const health = await (await fetch(new URL('health', inst.juntos.isUrl))).json() as { selladoDeTiempo: { estado: string; aviso: string } };
    assert.equal(health.selladoDeTiempo.estado, 'outage');
    assert.match(health.selladoDeTiempo.aviso, /RECHAZA intercambios/);

    await inst.restartNode('juntos', {
      evidence: { ...DEFAULT_EVIDENCE_SETTINGS, timestamping: { enabled: true, url: 'http://127.0.0.1:9/tsa', intervalSec: 0.05, graceSec: 0.1, onOutage: 'flag' } },
    });
    await new Promise((r) => setTimeout(r, 300));
    const flagged = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(flagged.status, 200, '"flag" keeps going');
    const h2 = await (await fetch(new URL('health', inst.juntos.isUrl))).json() as { selladoDeTiempo: { estado: string; aviso: string } };
    assert.equal(h2.selladoDeTiempo.estado, 'outage');
    assert.match(h2.selladoDeTiempo.aviso, /sigue operando/);

    // back to central's TSA: the backlog is stamped and the log verifies
    await inst.restartNode('juntos');
    await evidenceOf(inst, 'juntos').timestamper!.tick();
    const report = verifyLiveLog(sqliteLog(inst.juntos), inst.juntos.ctx.conf.latest()!.conf.trustedCas);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.unstamped, 0);
    assert.ok(dir.length > 0);
  });

  it('a revoked signing certificate is refused within one configuration refresh; OCSP says revoked', async () => {
    const before = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(before.status, 200);
    const sha = inst.juntos.ctx.signerSha256;
    const revoke = await runCli(runCentralCli, ['cert', 'revoke', sha, '--reason', 'keyCompromise', '--dir', join(inst.dir, 'central')]);
    assert.equal(revoke.code, 0, revoke.stderr + revoke.stdout);
    inst.central.app.publisher.refresh();
    assert.ok(await inst.reniec.ctx.conf.refresh());
    assert.ok(inst.reniec.ctx.conf.latest()!.conf.revokedCerts?.includes(sha));
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(faultCodeOf(res.text), 'Server.ServerProxy.IncorrectCertificate', res.text);
    assert.match(res.text, /revocado/);

    const r = await run('openssl', ['ocsp', '-issuer', join(work, 'ca.pem'), '-cert', join(work, 'juntos-sign.pem'), '-url', `${inst.central.url}/ocsp`, '-CAfile', join(work, 'ca.pem')]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /juntos-sign\.pem: revoked/);
    assert.match(r.stdout, /Reason: keyCompromise/);
    assert.equal(certificateInfo(inst.juntos.ctx.signer.certPem).sha256, sha);

    await inst.juntos.ctx.conf.refresh();
    const status = await runCli(runNodeCli, ['cert', 'status', '--dir', nodeDir(inst.plan, 'juntos')]);
    assert.notEqual(status.code, 0);
    assert.match(status.stdout, /sign\s+revocado/);
  });
});

function flip(b: Buffer, i: number): Buffer {
  const c = Buffer.from(b);
  c[i] = c[i]! ^ 0x01;
  return c;
}
