/**
 * The PostgreSQL message log under a database that restarts or stops (issue 12): the writer's own
 * connection (holding the advisory lock on the instance's chain) is replaced, so appends after a
 * restart succeed; while the database is down an append fails with MessageLogUnavailable (the
 * exchange is never answered without its record) and the next one after it comes back succeeds;
 * the chain stays whole. Also: instances sharing the log must hold the same log keys.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MiisError } from '../../../core/errors.js';
import { createLogCipher, ensureLogKeyFile } from '../../../node/evidence/log-crypto.js';
import type { LogRecord } from '../../../node/evidence/message-log.js';
import { openPgMessageLog } from '../../../node/evidence/pg-message-log.js';
import type { ResolvedDatabase } from '../../../node/store/database.js';
import { startPgServer, type PgServer } from '../../helpers/pg-server.js';
import { needTool } from '../../helpers/tools.js';

const T0 = Date.parse('2026-03-02T15:00:00Z');

function record(id: string, side: LogRecord['side'] = 'server'): LogRecord {
  return {
    side, direction: 'request', messageId: id, client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1',
    at: new Date(T0), message: Buffer.from(`<m>${id}</m>`), signature: '<ds:Signature/>', signerCertSha256: 'a'.repeat(64),
  };
}

describe('PostgreSQL message log: restart and outage under a running writer', { skip: needTool('postgresql') }, () => {
  let server: PgServer;
  let dir: string;
  const db = (name: string, instanceId: string): Extract<ResolvedDatabase, { engine: 'postgresql' }> =>
    ({ engine: 'postgresql', url: server.url(name), password: undefined, instanceId, display: name });

  before(async () => {
    server = await startPgServer();
    await server.createDatabase('relog');
    await server.createDatabase('keys');
    dir = mkdtempSync(join(tmpdir(), 'miis-pglog-'));
  });
  after(() => {
    server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('appends after pg_ctl restart; a batch while the database is down fails with MessageLogUnavailable; later ones succeed', async () => {
    const errors: unknown[] = [];
    const log = await openPgMessageLog({ database: db('relog', 'a'), onWriteError: (e) => errors.push(e) });
    try {
      await log.append(record('m-1'));
      await server.restart();
      await log.append(record('m-2')); // a new writer connection, not a fault
      assert.equal(errors.length, 0);
      await server.halt();
      for (const side of ['server', 'client'] as const) {
        await assert.rejects(log.append(record(`m-down-${side}`, side)), (err: unknown) => {
          assert.ok(err instanceof MiisError);
          assert.equal(err.code, side === 'server' ? 'Server.ServerProxy.MessageLogUnavailable' : 'Server.ClientProxy.MessageLogUnavailable');
          return true;
        });
      }
      assert.equal(errors.length, 2, 'each failed batch reported to the node log');
      await server.resume();
      await log.append(record('m-3'));
      const ids = (await log.list({ limit: 10 })).map((r) => r.messageId).sort();
      assert.deepEqual(ids, ['m-1', 'm-2', 'm-3']);
      assert.deepEqual(await log.verifyChains(), [{ instanceId: 'a', ok: true, count: 3 }]);
      assert.equal(await log.lastSeq(), 3);
    } finally {
      await log.close();
    }
  });

  it('an instance whose log key differs from the one the others use is refused, in Spanish', async () => {
    const now = new Date(T0);
    const cipherA = createLogCipher(ensureLogKeyFile(join(dir, 'a-keys.json'), now));
    const cipherB = createLogCipher(ensureLogKeyFile(join(dir, 'b-keys.json'), now)); // also "k1", another key
    const a = await openPgMessageLog({ database: db('keys', 'a'), cipher: cipherA });
    try {
      await a.append(record('k-1'));
      await assert.rejects(openPgMessageLog({ database: db('keys', 'b'), cipher: cipherB }), /la clave del registro k1 de esta instancia .* copie el mismo keys\/log-keys\.json/);
      // the same key file on the second instance: accepted, and it reads the first one's records
      const b = await openPgMessageLog({ database: db('keys', 'b'), cipher: createLogCipher(ensureLogKeyFile(join(dir, 'a-keys.json'), now)) });
      try {
        await b.append(record('k-2'));
        assert.deepEqual((await b.verifyChains()).map((v) => v.ok), [true, true]);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
    }
  });
});
