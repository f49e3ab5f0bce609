/**
 * SIGTERM drains: a real `miis-node serve` child process (the RENIEC provider) receives SIGTERM
 * while its backend holds four exchanges; it stops accepting, the held exchanges complete with
 * HTTP 200 at the consumer, the message log holds them, and the process exits 0.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runNodeCli } from '../../node/cli/index.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { CONSULTAR_PERSONA, freePort, personaRequest, postSoap, runCli, startInstance, waitFor, type Instance } from './fixture.js';

const CLI = fileURLToPath(new URL('../../node/cli/index.js', import.meta.url));
const N = 4;

describe('miis-node serve: SIGTERM drains in-flight exchanges', () => {
  let inst: Instance;
  let slow: Server;
  let child: ChildProcess | undefined;
  const held: { body: Buffer; res: ServerResponse }[] = [];

  before(async () => {
    inst = await startInstance();
    // a backend that holds every request until the test releases it, then answers with the real one
    slow = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => held.push({ body: Buffer.concat(chunks), res }));
    });
    const port = await freePort();
    await new Promise<void>((r) => slow.listen(port, '127.0.0.1', r));
    await inst.reniec.close();
    const dir = nodeDir(inst.plan, 'reniec');
    const r = await runCli(runNodeCli, ['service', 'add', CONSULTAR_PERSONA, '--backend', `http://127.0.0.1:${port}/`, '--wsdl', 'reniec.wsdl', '--dir', dir]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));
    await inst.close();
  });

  it('the held requests complete with 200, the log has them, and the process exits 0', async () => {
    const dir = nodeDir(inst.plan, 'reniec');
    const proc = spawn(process.execPath, [CLI, 'serve', '--dir', dir, '--drain-seconds', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stdout?.on('data', (c: Buffer) => { stdout += c.toString(); });
    proc.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    await waitFor(async () => (stdout.includes('Nodo reniec:') ? true : undefined), `serve arranca (${stderr})`, 20_000);

    const answers = Array.from({ length: N }, () => postSoap(inst.juntos.isUrl, personaRequest(inst.dni)));
    await waitFor(async () => (held.length === N ? true : undefined), 'el backend recibe las consultas', 20_000);

    proc.kill('SIGTERM');
    await waitFor(async () => (stderr.includes(`se esperan ${N} intercambios en curso`) ? true : undefined), `el nodo empieza a drenar (${stderr})`, 20_000);
    assert.equal(proc.exitCode, null, 'the node waits for the exchanges in flight');

    for (const h of held.splice(0)) {
      const real = await fetch(inst.backend.url, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8' }, body: new Uint8Array(h.body) });
      h.res.writeHead(real.status, { 'content-type': real.headers.get('content-type') ?? 'text/xml' });
      h.res.end(Buffer.from(await real.arrayBuffer()));
    }
    const results = await Promise.all(answers);
    for (const r of results) assert.equal(r.status, 200, r.text);
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /Nodo reniec detenido/);

    const log = await runCli(runNodeCli, ['log', 'list', '--json', '--limit', '100', '--dir', dir]);
    assert.equal(log.code, 0, log.stderr);
    const rows = JSON.parse(log.stdout) as { direccion: string }[];
    assert.equal(rows.filter((r) => r.direccion === 'response').length, N, 'every drained response is in the provider log');
  });
});
