/**
 * Renewing a node's TLS certificate and changing its address while exchanges run without pause:
 * a loop of requests from Juntos to RENIEC during the whole procedure, zero failed exchanges.
 *
 * Certificate: central re-pins (cert sign --node) and publishes both hashes → consumers have the
 * list → the node imports the new certificate and serves it without restart → central drops the
 * previous one. Address: the node listens on the new port too → central publishes it → consumers
 * have it → the node lets go of the old port (reload = SIGHUP), finishing what was in flight.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { runNodeCli } from '../../node/cli/index.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { certificateInfo } from '../../core/pki.js';
import { freePort, personaRequest, runCli, startInstance, waitFor, type Instance } from './fixture.js';

/** SHA-256 of the certificate a TLS server presents now (new connection). */
function servedCertSha256(port: number, tls: { keyPem: string; certPem: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, key: tls.keyPem, cert: tls.certPem, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.destroy();
      resolve(createHash('sha256').update(raw).digest('hex'));
    });
    socket.once('error', reject);
  });
}

describe('renewal of a node certificate and address change under continuous traffic', () => {
  let inst: Instance;
  let centralDir: string;
  let reniecDir: string;
  const central = (...argv: string[]) => runCli(runCentralCli, [...argv, '--dir', centralDir]);
  const node = (...argv: string[]) => runCli(runNodeCli, [...argv, '--dir', reniecDir]);
  const publish = (): void => void inst.central.app.publisher.refresh();
  const juntosSees = (check: (n: { address: string; authCertSha256: string; authCertsSha256?: readonly string[] }) => boolean, what: string) =>
    waitFor(async () => {
      publish();
      const n = inst.juntos.ctx.conf.latest()?.nodeByName.get('reniec');
      return n !== undefined && check(n) ? true : undefined;
    }, `Juntos descarga la configuración: ${what}`, 20_000);

  before(async () => {
    inst = await startInstance();
    centralDir = join(inst.dir, 'central');
    reniecDir = nodeDir(inst.plan, 'reniec');
    await inst.restartNode('juntos', { confIntervalMs: 100 });
  });
  after(async () => inst.close());

  it('no exchange fails', async () => {
    let stop = false;
    const outcomes: { status: number; text: string }[] = [];
    const loop = async (): Promise<void> => {
      for (let i = 0; i < 20_000 && !stop; i += 1) {
        // bounded: an exchange that never answers counts as failed instead of hanging the test
        const res = await fetch(inst.juntos.isUrl, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: personaRequest(inst.dni), signal: AbortSignal.timeout(30_000) })
          .then(async (r) => ({ status: r.status, text: await r.text() }), (err: unknown) => ({ status: 0, text: String(err) }));
        outcomes.push(res);
      }
    };
    const loops = [loop(), loop()];
    const okCount = (): number => outcomes.filter((o) => o.status === 200).length;
    const progress = async (n: number, what: string): Promise<void> => {
      const target = okCount() + n;
      await waitFor(async () => (okCount() >= target ? true : undefined), what, 20_000);
    };
    try {
      await progress(5, 'tráfico inicial');
      const oldSha = certificateInfo(readFileSync(join(reniecDir, 'auth.pem'), 'utf8')).sha256;

      // 1. certificate: central issues and re-pins; both hashes are published
      const newCert = join(inst.dir, 'reniec-auth-new.pem');
      const signed = await central('cert', 'sign', '--csr', join(reniecDir, 'auth.csr'), '--profile', 'auth', '--node', 'reniec', '--ip', '127.0.0.1', '--dns', 'localhost', '--out', newCert);
      assert.equal(signed.code, 0, signed.stderr);
      assert.match(signed.stderr, /Se sigue aceptando el certificado anterior/);
      const newSha = certificateInfo(readFileSync(newCert, 'utf8')).sha256;
      await juntosSees((n) => n.authCertSha256 === newSha && n.authCertsSha256?.includes(oldSha) === true, 'ambos certificados publicados');
      await progress(5, 'tráfico con ambos certificados publicados');

      // 2. the node imports it (no warning: central pins it) and serves it without restart
      const imported = await node('cert', 'import', '--auth', newCert);
      assert.equal(imported.code, 0, imported.stderr);
      assert.doesNotMatch(imported.stderr, /aviso/);
      const proxyPort = inst.reniec.proxyPorts()[0] as number;
      await waitFor(async () => ((await servedCertSha256(proxyPort, inst.juntos.ctx.auth)) === newSha ? true : undefined), 'RENIEC sirve el certificado nuevo');
      await progress(5, 'tráfico con el certificado nuevo');

      // 3. central stops accepting the previous one
      assert.equal((await central('node', 'set', 'reniec', '--drop-previous')).code, 0);
      await juntosSees((n) => n.authCertsSha256 === undefined && n.authCertSha256 === newSha, 'solo el certificado nuevo');
      await progress(5, 'tráfico tras retirar el certificado anterior');

      // 4. address: new port served first, then published, then the old one let go
      const newPort = await freePort();
      assert.equal((await node('address', 'set', '--proxy-port', String(newPort))).code, 0);
      await waitFor(async () => (inst.reniec.proxyPorts().includes(newPort) ? true : undefined), 'RENIEC escucha en el puerto nuevo');
      const moved = await central('node', 'set', 'reniec', '--address', `https://127.0.0.1:${newPort}`);
      assert.equal(moved.code, 0, moved.stderr);
      await juntosSees((n) => n.address === `https://127.0.0.1:${newPort}`, 'dirección nueva');
      await progress(5, 'tráfico hacia la dirección nueva');
      await inst.reniec.reload();
      assert.deepEqual(inst.reniec.proxyPorts(), [newPort]);
      await progress(10, 'tráfico tras cerrar el puerto anterior');
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    const failed = outcomes.filter((o) => o.status !== 200);
    assert.equal(failed.length, 0, `fallidos: ${failed.length} de ${outcomes.length}; primero: ${failed[0]?.text.slice(0, 600)}`);
    assert.ok(outcomes.length >= 40);

    // the health of the node says whether central publishes its local TLS certificate
    const health = async () => (await (await fetch(`${inst.reniec.isUrl}health`)).json()) as { certificadoTls: { sha256: string; publicadoPorCentral: boolean | null } };
    await inst.reniec.ctx.conf.refresh(); // RENIEC's own copy of the configuration (its interval is 30 s)
    assert.deepEqual((await health()).certificadoTls, { sha256: certificateInfo(readFileSync(join(reniecDir, 'auth.pem'), 'utf8')).sha256, publicadoPorCentral: true });
    // a certificate central has not pinned: import warns (in Spanish) and /health flags it
    const unpinned = join(inst.dir, 'reniec-auth-unpinned.pem');
    assert.equal((await central('cert', 'sign', '--csr', join(reniecDir, 'auth.csr'), '--profile', 'auth', '--ip', '127.0.0.1', '--out', unpinned)).code, 0);
    const warned = await node('cert', 'import', '--auth', unpinned);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(warned.stderr, /aviso: central todavía no publica este certificado para el nodo reniec/);
    await waitFor(async () => ((await health()).certificadoTls.publicadoPorCentral === false ? true : undefined), '/health marca el certificado no publicado');
  });
});
