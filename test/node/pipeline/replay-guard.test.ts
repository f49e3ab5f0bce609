import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createReplayGuard } from '../../../node/pipeline/replay-guard.js';

const C1 = 'PE/GOB/20511268401/JUNTOS';
const C2 = 'PE/GOB/20545565359/PGH';

describe('replay guard', () => {
  it('refuses the same id from the same client within the window, and only then', () => {
    const g = createReplayGuard({ windowMs: 1000, maxEntries: 100 });
    assert.equal(g.accept(C1, 'a', 0), true);
    assert.equal(g.accept(C1, 'a', 500), false);
    assert.equal(g.accept(C1, 'a', 1000), false, 'the window edge is still inside');
    assert.equal(g.accept(C2, 'a', 500), true, 'another client may use the same id');
    assert.equal(g.accept(C1, 'b', 500), true);
    assert.equal(g.accept(C1, 'a', 1001), true, 'after the window the id is free again');
    assert.equal(g.accept(C1, 'a', 1500), false, 'and is remembered from its new first use');
  });

  it('client and id are not confused by concatenation', () => {
    const g = createReplayGuard({ windowMs: 1000, maxEntries: 100 });
    assert.equal(g.accept('ab', 'c', 0), true);
    assert.equal(g.accept('a', 'bc', 0), true);
  });

  it('never holds more than maxEntries and forgets the oldest first', () => {
    const g = createReplayGuard({ windowMs: 3_600_000, maxEntries: 100 });
    for (let i = 0; i < 1000; i += 1) {
      assert.equal(g.accept(C1, `m${i}`, i), true);
      assert.ok(g.size <= 100, `size ${g.size} after ${i + 1}`);
    }
    assert.equal(g.size, 100);
    assert.equal(g.accept(C1, 'm999', 1000), false, 'the newest are remembered');
    assert.equal(g.accept(C1, 'm900', 1000), false);
    assert.equal(g.accept(C1, 'm0', 1000), true, 'the oldest were dropped');
  });

  it('drops expired entries as it goes', () => {
    const g = createReplayGuard({ windowMs: 1000, maxEntries: 100_000 });
    for (let i = 0; i < 1023; i += 1) g.accept(C1, `old${i}`, 0);
    assert.equal(g.size, 1023);
    g.accept(C1, 'new', 5000);
    assert.equal(g.size, 1);
  });
});
