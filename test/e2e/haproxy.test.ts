/**
 * HAProxy in front of a member's nodes (deploy/haproxy/haproxy.cfg): RENIEC's two nodes publish ONE
 * node-to-node address, an HAProxy TCP pass-through frontend on loopback (mutual TLS ends at the
 * nodes), health-checked through each node's IS port (GET /health). Exchanges keep succeeding when
 * either node is stopped. Also checks that the shipped sample configuration is valid.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { haproxyConfig } from '../../scripts/sandbox/haproxy.js';
import { needTool } from '../helpers/tools.js';
import { freePort, personaRequest, postSoap } from './fixture.js';
import { startHaInstance, type HaInstance } from './ha-fixture.js';

const SAMPLE = fileURLToPath(new URL('../../../deploy/haproxy/haproxy.cfg', import.meta.url));

describe('HAProxy (TCP pass-through) in front of two nodes of the provider member', { skip: needTool('haproxy') }, () => {
  let ha: HaInstance;
  let proxy: ChildProcess | undefined;
  let output = '';
  let front = 0;

  /** Wait until HAProxy reports a server state change (its own log line; no fixed sleep). */
  const waitForState = async (server: string, state: 'UP' | 'DOWN'): Promise<void> => {
    const pattern = new RegExp(`${server} is ${state}`);
    const start = output.length;
    const deadline = Date.now() + 15_000;
    while (!pattern.test(output.slice(start))) {
      if (Date.now() > deadline) throw new Error(`HAProxy no informó «${server} is ${state}»:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  before(async () => {
    front = await freePort();
    ha = await startHaInstance({ sharedAddress: () => `https://127.0.0.1:${front}` });
    const nodes = (['reniec-a', 'reniec-b'] as const).map((name) => ({
      name, proxyPort: ha.proxyPorts[name], isPort: (ha.plan.entities.find((e) => e.nodeName === name)?.isPort) as number,
    }));
    const cfg = join(ha.dir, 'haproxy.cfg');
    // the sample's node-to-node part, with fast health checks
    writeFileSync(cfg, haproxyConfig(front, nodes, { maxconn: 256, timeoutSeconds: 30, check: { interMs: 200, fall: 1, rise: 1 } }));
    proxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    proxy.stdout?.on('data', (d: Buffer) => { output += d.toString(); });
    proxy.stderr?.on('data', (d: Buffer) => { output += d.toString(); });
  });
  after(async () => {
    if (proxy !== undefined && proxy.exitCode === null) {
      const exited = new Promise((r) => proxy?.once('exit', r));
      proxy.kill('SIGTERM');
      await exited;
    }
    await ha?.close();
  });

  const exchange = () => postSoap(ha.node('juntos').isUrl, personaRequest(ha.dni));
  const served = () => ({ a: ha.backendA.requests, b: ha.backendB.requests });

  it('the shipped sample configuration is valid for haproxy', () => {
    const r = spawnSync('haproxy', ['-c', '-f', SAMPLE], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });

  it('both nodes publish the HAProxy address; exchanges pass through it (TLS ends at the nodes)', async () => {
    const view = ha.node('juntos').ctx.conf.current();
    assert.deepEqual(view.conf.nodes.filter((n) => n.owner === 'PE/GOB/20295613620').map((n) => n.address), [`https://127.0.0.1:${front}`, `https://127.0.0.1:${front}`]);
    // HAProxy is up once an exchange goes through it
    let first: { status: number; text: string } | undefined;
    const deadline = Date.now() + 15_000;
    while (first?.status !== 200 && Date.now() < deadline) {
      first = await exchange();
      if (first.status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(first?.status, 200, `${first?.text}\n${output}`);
    // a few in parallel: several connections, spread over both nodes
    const results = await Promise.all(Array.from({ length: 8 }, () => exchange()));
    for (const r of results) assert.equal(r.status, 200, r.text);
    const s = served();
    assert.equal(s.a + s.b, 9);
  });

  for (const [down, up] of [['reniec-a', 'reniec-b'], ['reniec-b', 'reniec-a']] as const) {
    it(`${down} stopped: HAProxy marks it down and every exchange goes through ${up}`, async () => {
      if (!ha.isRunning(up)) {
        await ha.start(up);
        await waitForState(up, 'UP');
      }
      await ha.stop(down);
      await waitForState(down, 'DOWN');
      const before = served();
      for (let i = 0; i < 5; i += 1) {
        const r = await exchange();
        assert.equal(r.status, 200, r.text);
        assert.match(r.text, /consultarPersonaResponse/);
      }
      const now = served();
      const key = (name: string) => (name === 'reniec-a' ? 'a' : 'b');
      assert.equal(now[key(down)], before[key(down)], `${down} is stopped: its backend saw nothing`);
      assert.equal(now[key(up)], before[key(up)] + 5);
    });
  }
});
