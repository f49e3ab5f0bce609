/**
 * V8 heap settings of a node process (`miis-node serve`), for its peak memory under load.
 *
 * Under load V8 grows the young generation to its default maximum (two 16 MB semi-spaces) and
 * lets the old generation reach about four times what survived the last full collection before
 * the next one: both together were ~45-60 MB of a node's 130-160 MB peak, while what the node
 * keeps alive is ~13 MB (docs/performance-log.md, «Stop 20»). Two settings bring the peak down
 * without costing CPU per exchange in the measurements there:
 *
 * - `--max-semi-space-size` (MB) can only be given when Node starts: it is on the first line of the
 *   `miis-node` command (`#!/usr/bin/env -S node …`, kept equal to NODE_START_FLAGS by
 *   test/runtime/heap-tuning.test.ts), so the installed command and the systemd unit
 *   (`ExecStart=/usr/bin/miis-node serve`) get it; `node dist/node/cli/index.js` does not.
 * - the old generation's growth factor (`--heap-growing-percent`) is read by V8 at every full
 *   collection, so `serve` sets it when it starts, unless the operator gave one.
 */
import { setFlagsFromString } from 'node:v8';

/** Node flags on the `miis-node` command's first line (and of the benchmarks' node processes). */
export const NODE_START_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/** Old generation limit: 1.5 × what survived the last full collection (V8's default goes up to 4 ×). */
export const HEAP_GROWING_PERCENT = 50;

const GROWING_FLAG = '--heap-growing-percent';

/** Whether Node's command line or NODE_OPTIONS already sets the growth factor (the operator's choice wins). */
export function growthGiven(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  // V8 accepts `-` and `_` alike in flag names
  const given = (a: string): boolean => a.split('=', 1)[0]?.replaceAll('_', '-') === GROWING_FLAG;
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some(given);
}

/** Set the old generation's growth factor for a serving node; returns whether it was set here. */
export function tuneServeHeap(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): boolean {
  if (growthGiven(execArgv, nodeOptions)) return false;
  setFlagsFromString(`${GROWING_FLAG}=${HEAP_GROWING_PERCENT}`);
  return true;
}
