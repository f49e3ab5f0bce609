/**
 * Issue 9, item 4: the duplicate-id memory survives restarts, so a restart does not open a replay
 * window, on the provider (a peer resending signed bytes) and on the consumer (an IS reusing
 * xrd:id). Issue 10: on SQLite the memory is the message log's request records (the exchange does
 * not write node.db); node.db's table (PostgreSQL's, shared by instances) accepts expired entries
 * again and prunes them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { nodePaths } from '../../node/store/paths.js';
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

  it('consumer restarted, the IS reuses xrd:id → Server.ClientProxy.DuplicateMessage, nothing logged or sent', async () => {
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

  it('SQLite: an exchange writes no replay memory to node.db on either node (the request records are the memory)', async () => {
    const open = (name: 'reniec' | 'juntos'): Database.Database => new Database(nodePaths(nodeDir(inst.plan, name)).db, { readonly: true, fileMustExist: true });
    const dbs = [open('reniec'), open('juntos')];
    try {
      const version = (db: Database.Database): number => db.pragma('data_version', { simple: true }) as number;
      const before = dbs.map(version);
      const id = newId('no-node-db');
      const first = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
      assert.equal(first.status, 200, first.text);
      const again = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
      assert.equal(faultCodeOf(again.text), 'Server.ClientProxy.DuplicateMessage', again.text);
      // data_version moves when another connection (the node's) commits to node.db
      assert.deepEqual(dbs.map(version), before, 'node.db untouched by the exchanges');
      for (const db of dbs) {
        assert.equal((db.prepare('SELECT COUNT(*) AS n FROM seen_messages WHERE message_id = ?').get(id) as { n: number }).n, 0);
      }
      assert.deepEqual(sqliteLog(inst.juntos).list({ messageId: id }).map((r) => r.direction), ['request', 'response']);
      assert.deepEqual(sqliteLog(inst.reniec).list({ messageId: id }).map((r) => r.direction), ['request', 'response']);
    } finally {
      for (const db of dbs) db.close();
    }
  });
});

describe('replay memory in node.db (PostgreSQL nodes keep theirs in the node database)', () => {
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
