/**
 * Issue 9, item 4: the duplicate-id memory is kept in node.db, so a restart does not open a
 * replay window, on the provider (a peer resending signed bytes) and on the consumer (an IS
 * reusing xrd:id). Expired entries are accepted again and pruned.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signDetached } from '../../core/signature.js';
import { encodeSignedMessage } from '../../node/pipeline/signed-message.js';
import { NODE_DB_MIGRATIONS } from '../../node/store/migrations.js';
import { openLocalStore } from '../../node/store/local-store.js';
import { faultCodeOf, personaRequest, postMtls, postSoap, startInstance, type Instance } from '../e2e/fixture.js';
import { expectGood, juntosTls, newId } from './hardening-helpers.js';
import { sqliteLog } from '../helpers/node-log.js';

describe('hardening: replay memory survives restarts', () => {
  let inst: Instance;

  before(async () => {
    inst = await startInstance();
  });
  after(async () => {
    await inst.close();
  });

  it('provider restarted between two identical signed messages → the second gets Server.ServerProxy.DuplicateMessage', async () => {
    const id = newId('replay-provider');
    const raw = Buffer.from(personaRequest(inst.dni, { id }), 'utf8');
    const msg = encodeSignedMessage(raw, signDetached(raw, inst.juntos.ctx.signer));
    const url = `${inst.reniec.proxyUrl}/miis/v1/message`;
    const first = await postMtls(url, msg.body, msg.contentType, juntosTls(inst));
    assert.equal(first.status, 200, first.body.toString('utf8'));
    const afterFirst = inst.backend.requests;
    await inst.restartNode('reniec');
    const second = await postMtls(url, msg.body, msg.contentType, juntosTls(inst));
    const text = second.body.toString('utf8');
    assert.equal(faultCodeOf(text), 'Server.ServerProxy.DuplicateMessage', text);
    assert.equal(inst.backend.requests, afterFirst, 'the replay did not reach the backend');
    assert.deepEqual(sqliteLog(inst.reniec).list({ messageId: id }).map((r) => r.direction), ['request', 'response']);
    await expectGood(inst);
  });

  it('consumer restarted, the IS reuses xrd:id → Server.ClientProxy.DuplicateMessage, nothing signed or sent', async () => {
    const id = newId('replay-consumer');
    const first = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
    assert.equal(first.status, 200, first.text);
    const afterFirst = inst.backend.requests;
    await inst.restartNode('juntos');
    const second = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
    assert.equal(faultCodeOf(second.text), 'Server.ClientProxy.DuplicateMessage', second.text);
    assert.equal(inst.backend.requests, afterFirst);
    assert.deepEqual(sqliteLog(inst.juntos).list({ messageId: id }).map((r) => r.direction), ['request', 'response']);
    await expectGood(inst);
  });
});

describe('replay memory in node.db', () => {
  it('refuses within the window, accepts after it, prunes expired rows, per scope', () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-replay-'));
    try {
      const store = openLocalStore(join(dir, 'node.db'));
      assert.ok(NODE_DB_MIGRATIONS.some((m) => m.note.startsWith('replay memory')));
      const server = store.replayMemory('server', 1000);
      const client = store.replayMemory('client', 1000);
      assert.equal(server.accept('PE/GOB/1/A', 'x', 10_000), true);
      assert.equal(server.accept('PE/GOB/1/A', 'x', 10_999), false);
      assert.equal(server.accept('PE/GOB/1/B', 'x', 10_999), true, 'another client');
      assert.equal(client.accept('PE/GOB/1/A', 'x', 10_999), true, 'another scope');
      assert.equal(server.accept('PE/GOB/1/A', 'x', 11_000), true, 'expired: accepted again');
      assert.equal(server.prune(11_999), 1, 'B expired at 11 999');
      assert.equal(server.size, 1);
      store.close();
      const reopened = openLocalStore(join(dir, 'node.db'));
      const again = reopened.replayMemory('server', 1000);
      assert.equal(again.accept('PE/GOB/1/A', 'x', 11_500), false, 'remembered after reopening');
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
