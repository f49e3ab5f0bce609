/**
 * The main job: the sandbox provisions itself on first start, writes sandbox.json, prints a curl
 * command that works, and reuses its state on the next start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { sandboxGuide, startSandbox, type SandboxInfo, SANDBOX_PORT_SPAN } from '../../scripts/sandbox/run.js';
import { freeBasePort } from '../helpers/net.js';
import { needTool } from '../helpers/tools.js';

const examples = fileURLToPath(new URL('../../../examples', import.meta.url));

function curlFromGuide(guide: string): string {
  const lines = guide.split('\n');
  const i = lines.findIndex((l) => l.trimStart().startsWith('sed -e'));
  assert.ok(i >= 0, 'la guía muestra el comando');
  return `${lines[i]?.trim().replace(/\\$/, '')} ${lines[i + 1]?.trim()}`;
}

describe('sandbox (npm start)', () => {
  it('provisions, serves the printed curl, and reuses its state on restart', { skip: needTool('curl') }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-sandbox-'));
    const basePort = await freeBasePort(SANDBOX_PORT_SPAN);
    try {
      for (const round of [1, 2]) {
        const sb = await startSandbox({ dir, basePort, persons: 12_000 });
        try {
          assert.equal(sb.provisioned, round === 1);
          const info = JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')) as SandboxInfo;
          assert.equal(info.central.url, `http://127.0.0.1:${basePort}`);
          assert.deepEqual(info.nodes.map((n) => n.name), ['reniec', 'midis', 'juntos', 'inei', 'sunat', 'pension65']);
          assert.ok(info.clients.some((c) => c.id === 'PE/GOB/20511268401/JUNTOS' && c.node === 'juntos'));
          assert.ok(info.services.some((s) => s.id.endsWith('/consultarPersona/v1') && s.provider === 'reniec' && s.wsdl.endsWith('/wsdl/reniec.wsdl')));
          assert.ok(info.samples.dni.length >= 1);
          const cmd = curlFromGuide(sandboxGuide(info, examples));
          // async: the servers run in this process, a synchronous spawn would block them
          const out = await promisify(execFile)('bash', ['-c', cmd], { encoding: 'utf8', timeout: 30_000 });
          assert.match(out.stdout, /<encontrado>true<\/encontrado>/);
          assert.match(out.stdout, new RegExp(`dni>${info.samples.dni[0]}<`));
          // the printed REST curl (X-Road REST protocol r1) through the same two nodes
          const lines = sandboxGuide(info, examples).split('\n');
          const r = lines.findIndex((l) => l.includes("-H 'X-Road-Client:"));
          assert.ok(r >= 0, 'la guía muestra el comando REST');
          const rest = await promisify(execFile)('bash', ['-c', `${lines[r]?.trim().replace(/\\$/, '')} ${lines[r + 1]?.trim()}`], { encoding: 'utf8', timeout: 30_000 });
          assert.equal((JSON.parse(rest.stdout) as { dni: string }).dni, info.samples.dni[0]);
          const wsdl = await fetch(info.services[0]?.wsdl ?? '');
          assert.equal(wsdl.status, 200);
          assert.match(await wsdl.text(), new RegExp(`location="${info.nodes[2]?.isUrl}"`));
          // monitoring: each node's /health and /metrics beside its isUrl, named in the printed guide
          assert.equal(info.basePort, basePort);
          const guide = sandboxGuide(info, examples);
          assert.ok(guide.includes(`${info.central.url}/portal`), 'the guide names the portal');
          for (const n of info.nodes) {
            assert.equal(n.healthUrl, `${n.isUrl}health`);
            assert.ok(n.metricsUrl !== null && guide.includes(n.healthUrl) && guide.includes(n.metricsUrl), n.name);
            assert.equal((await fetch(n.healthUrl)).status, 200, n.name);
            assert.match(await (await fetch(n.metricsUrl)).text(), /miis_exchanges_total/);
          }
        } finally {
          await sb.close();
        }
      }
      // another base port: refused, naming the old and the new one and how to start over
      await assert.rejects(startSandbox({ dir, basePort: basePort + 50, persons: 12_000 }), (err: Error) => {
        assert.ok(err.message.includes(`se creó con MIIS_SANDBOX_BASE_PORT=${basePort}`), err.message);
        assert.ok(err.message.includes(`ahora se pidió ${basePort + 50}`), err.message);
        assert.ok(err.message.includes(`borre la carpeta ${dir}`), err.message);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
