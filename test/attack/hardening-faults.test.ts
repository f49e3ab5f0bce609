/**
 * Issue 9, item 7: the fault log is bounded. Repeated faults from one source (the IS's address,
 * a peer's certificate) are stored up to a budget per minute and counted beyond it; every
 * suppressed fault still reaches the IS as a SOAP fault with its UUID. Old fault rows follow the
 * message retention.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runNodeCli } from '../../node/cli/index.js';
import { DEFAULT_FAULTS_PER_MINUTE, openMessageLog } from '../../node/evidence/message-log.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { faultCodeOf, runCli, startInstance, type Instance } from '../e2e/fixture.js';
import { expectGood, UUID } from './hardening-helpers.js';
import { sqliteLog } from '../helpers/node-log.js';

const FLOOD = 5_000;

describe('hardening: fault flood from one IS', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance();
  });
  after(async () => {
    await inst.close();
  });

  it(`${FLOOD} malformed requests: each gets a fault with a UUID, the fault table grows by at most the budget, the counter shows all`, async () => {
    const log = sqliteLog(inst.juntos);
    const rowsBefore = log.faults(1_000_000).length;
    const countBefore = log.faultBudget().reduce((n, r) => n + r.stored + r.suppressed, 0);
    const backendBefore = inst.backend.requests;
    let sent = 0;
    let withUuid = 0;
    const worker = async (): Promise<void> => {
      while (sent < FLOOD) {
        sent += 1;
        const res = await fetch(inst.juntos.isUrl, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<SOAP-ENV:Envelope xmlns:SOAP-ENV="x"><no-cierra>' });
        const text = await res.text();
        if (faultCodeOf(text) === 'Client.InvalidXml' && UUID.test(text)) withUuid += 1;
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.equal(withUuid, FLOOD, 'every request got a SOAP fault with a faultDetail UUID');

    const budget = log.faultBudget().filter((r) => r.source.startsWith('ip:'));
    const minutes = new Set(budget.map((r) => r.minute)).size;
    assert.ok(minutes >= 1 && minutes <= 3, `${minutes} minutes`);
    const rowsAdded = log.faults(1_000_000).length - rowsBefore;
    assert.ok(rowsAdded <= minutes * (DEFAULT_FAULTS_PER_MINUTE + 1), `${rowsAdded} fault rows for ${FLOOD} faults in ${minutes} minute(s)`);
    const counted = log.faultBudget().reduce((n, r) => n + r.stored + r.suppressed, 0) - countBefore;
    assert.equal(counted, FLOOD, 'stored + suppressed = every fault');
    assert.equal(inst.backend.requests, backendBefore);

    const cli = await runCli(runNodeCli, ['log', 'faults', '--dir', nodeDir(inst.plan, 'juntos')]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /\d+ más suprimidas \(fuente ip:/);
    await expectGood(inst);
  });
});

describe('fault log retention and budget (message log)', () => {
  it('purgeFaultsBefore removes old faults and counters; the budget is per source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-faults-'));
    try {
      const log = openMessageLog(join(dir, 'messagelog.db'), { faultsPerMinute: 2 });
      const at = (iso: string) => new Date(iso);
      const fault = (iso: string, source: string): void => log.recordFault({ faultId: randomUUID(), code: 'Client.InvalidXml', side: 'client', at: at(iso), detail: 'x' }, source);
      for (let i = 0; i < 5; i += 1) fault('2026-01-01T10:00:10Z', 'ip:a');
      fault('2026-01-01T10:00:20Z', 'ip:b');
      assert.equal(log.faults(100).length, 2 + 1 + 1, 'a: 2 stored + 1 aggregate; b: 1');
      assert.match(log.faults(100).find((f) => f.detail.includes('suprimidas'))?.detail ?? '', /^3 más suprimidas \(fuente ip:a, minuto 2026-01-01T10:00\)/);
      fault('2026-01-01T10:01:00Z', 'ip:a');
      assert.equal(log.faults(100).length, 5, 'a new minute, a new budget');
      fault('2026-03-01T10:00:00Z', 'ip:a');
      assert.equal(log.purgeFaultsBefore(at('2026-02-01T00:00:00Z')), 5);
      assert.equal(log.faults(100).length, 1);
      assert.deepEqual(log.faultBudget().map((r) => r.minute), ['2026-03-01T10:00']);
      await log.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
