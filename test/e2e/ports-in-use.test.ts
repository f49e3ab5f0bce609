import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MiisError } from '../../core/errors.js';
import { faultCodeOf, personaRequest, postSoap, startInstance, type Instance } from './fixture.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { runNodeCliProcess } from '../helpers/node-process.js';

/** Listen on 127.0.0.1:port (the port a node wants), so the node finds it taken. */
function hold(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

const release = (s: Server) => new Promise((r) => s.close(r));

describe('a port taken at start stops the node with a message that names it (it does not hang half started)', () => {
  let inst: Instance;
  before(async () => { inst = await startInstance(); });
  after(async () => { await inst.close(); });

  const exchangeWorks = async () => {
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(res.status, 200, faultCodeOf(res.text) ?? '');
  };

  it('proxy port taken: Config.InvalidInput naming proxyPort; once freed the same folder starts and serves', async () => {
    const proxyPort = Number(new URL(inst.juntos.proxyUrl).port);
    await inst.juntos.close();
    const holder = await hold(proxyPort);
    try {
      await assert.rejects(inst.restartNode('juntos'), (err: unknown) => {
        assert.ok(err instanceof MiisError);
        assert.equal(err.code, 'Config.InvalidInput');
        assert.match(err.message, new RegExp(`puerto entre nodos 127\\.0\\.0\\.1:${proxyPort}.*proxyPort`));
        return true;
      });
    } finally {
      await release(holder);
    }
    // the failed start closed its stores and timers: the same folder opens again at once
    await inst.restartNode('juntos');
    await exchangeWorks();
  });

  it('miis-node serve with its proxy port taken exits with code 2 and the message (the process does not stay up)', async () => {
    const proxyPort = Number(new URL(inst.juntos.proxyUrl).port);
    await inst.juntos.close();
    const holder = await hold(proxyPort);
    try {
      const run = await runNodeCliProcess(['serve', '--dir', nodeDir(inst.plan, 'juntos')]);
      assert.equal(run.code, 2, run.stderr); // a configuration error (Config.InvalidInput), as every CLI command
      assert.match(run.stderr, new RegExp(`no se pudo abrir el puerto entre nodos 127\\.0\\.0\\.1:${proxyPort}`));
    } finally {
      await release(holder);
    }
    await inst.restartNode('juntos');
    await exchangeWorks();
  });

  it('metrics port taken: the node stops, the IS and proxy ports are free again', async () => {
    const holder = await hold(0);
    const port = (holder.address() as { port: number }).port;
    const isPort = Number(new URL(inst.juntos.isUrl).port);
    try {
      await assert.rejects(inst.restartNode('juntos', { metricsPort: port }), /no se pudo abrir el puerto de métricas 127\.0\.0\.1:\d+ \(metricsPort en node\.json\)/);
      // the IS listener it had opened is closed again: the port can be bound
      await release(await hold(isPort));
    } finally {
      await release(holder);
    }
    await inst.restartNode('juntos');
    await exchangeWorks();
  });
});
