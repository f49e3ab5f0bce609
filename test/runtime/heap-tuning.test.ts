import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packageVersion } from '../../runtime/version.js';
import { growthGiven, HEAP_GROWING_PERCENT, NODE_START_FLAGS } from '../../runtime/heap-tuning.js';

const NODE_CLI = fileURLToPath(new URL('../../node/cli/index.js', import.meta.url));
const TUNING = fileURLToPath(new URL('../../runtime/heap-tuning.js', import.meta.url));

/** V8's heap size limit (MB) of a fresh `node <flags>`. */
function heapLimitMb(flags: readonly string[]): number {
  const out = execFileSync(process.execPath, [...flags, '-e', 'process.stdout.write(String(require("node:v8").getHeapStatistics().heap_size_limit))'], { encoding: 'utf8' });
  return Number(out) / 1048576;
}

describe('runtime/heap-tuning', () => {
  it('the miis-node command starts Node with NODE_START_FLAGS (its first line)', () => {
    const first = readFileSync(NODE_CLI, 'utf8').split('\n', 1)[0];
    assert.equal(first, `#!/usr/bin/env -S node ${NODE_START_FLAGS.join(' ')}`);
    // run through that line, as the installed command (npm makes bins executable; so does this test)
    chmodSync(NODE_CLI, statSync(NODE_CLI).mode | 0o111);
    assert.equal(execFileSync(NODE_CLI, ['--version'], { encoding: 'utf8' }).trim(), packageVersion());
  });

  it('NODE_START_FLAGS shrink the young generation of this Node (heap limit 3 × semi-space lower)', () => {
    const semi = Number(/^--max-semi-space-size=(\d+)$/.exec(NODE_START_FLAGS[0] ?? '')?.[1]);
    assert.ok(semi > 0 && semi < 16, `semi-space ${semi} MB`);
    // V8 counts the young generation as three semi-spaces in the heap limit (16 MB each at most by default on 64-bit)
    assert.equal(heapLimitMb(['--max-semi-space-size=16']) - heapLimitMb(NODE_START_FLAGS), 3 * (16 - semi));
  });

  it('serve sets the old generation growth factor at run time, and V8 applies it', () => {
    // a child that calls tuneServeHeap, then keeps promoting objects so V8 runs full collections
    const script = `import { tuneServeHeap } from ${JSON.stringify(new URL(`file://${TUNING}`).href)};
      if (!tuneServeHeap([], undefined)) process.exit(3);
      const keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 200000) keep.splice(0, 100000); }`;
    const out = execFileSync(process.execPath, ['--trace-gc-verbose', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const factors = [...out.matchAll(/\[HeapController\] Limit: old size: \d+ KB, new limit: \d+ KB \(([\d.]+)\)/g)].map((m) => Number(m[1]));
    assert.ok(factors.length > 0, 'no full collection in the trace');
    for (const f of factors) assert.equal(f, 1 + HEAP_GROWING_PERCENT / 100);
  });

  it('an operator’s own growth factor (command line or NODE_OPTIONS) is left alone', () => {
    assert.equal(growthGiven(['--heap-growing-percent=80'], undefined), true);
    assert.equal(growthGiven([], '--max-old-space-size=512 --heap-growing-percent=20'), true);
    assert.equal(growthGiven(['--heap_growing_percent=20'], ''), true);
    assert.equal(growthGiven(['--max-semi-space-size=4'], '--inspect'), false);
    assert.equal(growthGiven([], undefined), false);
  });
});
