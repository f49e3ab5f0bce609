/**
 * The SQLite replay memory's hot-path answer (`admit`): one transaction per event-loop turn, a
 * duplicate refused whether it is committed, pending in the same turn (at once), or taken by
 * another connection before the turn's commit; an accepted id is in node.db when the promise
 * resolves.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openLocalStore } from '../../../node/store/local-store.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'miis-admit-'));
  dirs.push(dir);
  return join(dir, 'node.db');
}

describe('replay memory admit (SQLite)', () => {
  it('refuses an id pending in the same turn at once, accepts each new id once it is committed', async () => {
    const path = freshPath();
    const store = openLocalStore(path);
    const reader = openLocalStore(path);
    try {
      const m = store.replayMemory('server', 60_000);
      const first = m.admit('PE/GOB/1/X', 'id-1', 1000);
      const other = m.admit('PE/GOB/1/X', 'id-2', 1000);
      assert.ok(first instanceof Promise);
      assert.equal(m.admit('PE/GOB/1/X', 'id-1', 1000), false, 'pending in this turn');
      assert.equal(reader.replayMemory('server', 60_000).size, 0, 'not committed before the turn ends');
      assert.deepEqual(await Promise.all([first, other]), [true, true]);
      assert.equal(reader.replayMemory('server', 60_000).size, 2, 'both committed when the promises resolve');
      assert.equal(await m.admit('PE/GOB/1/X', 'id-1', 2000), false, 'committed');
      assert.equal(await m.admit('PE/GOB/1/Y', 'id-1', 2000), true, 'another client');
      assert.equal(await m.admit('PE/GOB/1/X', 'id-1', 61_001), true, 'window over');
    } finally {
      reader.close();
      store.close();
    }
  });

  it('an id another connection committed before the turn\'s commit is refused by that commit', async () => {
    const path = freshPath();
    const a = openLocalStore(path);
    const b = openLocalStore(path);
    try {
      const pending = a.replayMemory('server', 60_000).admit('PE/GOB/1/X', 'id-1', 1000);
      assert.ok(pending instanceof Promise);
      assert.equal(b.replayMemory('server', 60_000).accept('PE/GOB/1/X', 'id-1', 1000), true);
      assert.equal(await pending, false);
    } finally {
      a.close();
      b.close();
    }
  });

  it('a failed commit rejects the turn\'s requests and forgets their ids', async () => {
    const path = freshPath();
    const store = openLocalStore(path);
    const m = store.replayMemory('server', 60_000);
    const pending = m.admit('PE/GOB/1/X', 'id-1', 1000);
    store.close();
    await assert.rejects(pending as Promise<boolean>);
  });
});
