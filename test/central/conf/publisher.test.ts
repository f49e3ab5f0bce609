import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyGlobalConf } from '../../../core/global-conf.js';
import { MiisError } from '../../../core/errors.js';
import { createGlobalConfPublisher, decidePublish } from '../../../central/conf/publisher.js';
import { registerMember } from '../../../central/registry/rules.js';
import { ctxAt, makeInstance, RUC_RENIEC, T0 } from '../helpers.js';

const MIN = 60_000;

function fakeClock(start: Date): { now: () => Date; advance: (ms: number) => void } {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (ms) => { t += ms; } };
}

test('decidePublish: first, content change, half validity, otherwise nothing', () => {
  const latest = { serial: 3, generatedAt: '2026-03-02T15:00:00.000Z', expiresAt: '2026-03-02T15:10:00.000Z', contentSha256: 'h', envelope: Buffer.alloc(0) };
  assert.equal(decidePublish(undefined, 'h', T0), 'first');
  assert.equal(decidePublish(latest, 'other', T0), 'content-changed');
  assert.equal(decidePublish(latest, 'h', new Date('2026-03-02T15:04:59.999Z')), null);
  assert.equal(decidePublish(latest, 'h', new Date('2026-03-02T15:05:00.000Z')), 'half-validity');
});

test('publisher: serial increases only when needed; envelopes verify with the anchor', async () => {
  const { store, pki, signer } = await makeInstance();
  const clock = fakeClock(T0);
  const publisher = createGlobalConfPublisher({ store, signer, clock: clock.now, validityMs: 10 * MIN });

  const first = publisher.refresh();
  assert.equal(first.published, true);
  assert.equal(first.version.serial, 1);
  const conf1 = verifyGlobalConf(first.version.envelope, pki.confCertPem);
  assert.equal(conf1.serial, 1);
  assert.equal(conf1.expiresAt, '2026-03-02T15:10:00.000Z');
  assert.deepEqual(conf1.trustedCas, [pki.caCertPem]);

  clock.advance(4 * MIN);
  const same = publisher.refresh();
  assert.equal(same.published, false);
  assert.equal(same.version.serial, 1);

  clock.advance(1 * MIN); // exactly half of the validity left
  const renewed = publisher.refresh();
  assert.equal(renewed.published, true);
  assert.equal(renewed.version.serial, 2);
  assert.equal(renewed.version.contentSha256, first.version.contentSha256);

  registerMember(store, { memberClass: 'GOB', memberCode: RUC_RENIEC, name: 'RENIEC', role: 'RENIEC' }, ctxAt(clock.now()));
  const changed = publisher.refresh();
  assert.equal(changed.published, true);
  assert.equal(changed.version.serial, 3);
  assert.deepEqual(verifyGlobalConf(changed.version.envelope, pki.confCertPem).members.map((m) => m.id), [`PE/GOB/${RUC_RENIEC}`]);
  assert.equal(publisher.preview().serial, 4);
  store.close();
});

test('current() serves the latest while valid and regenerates when it has expired', async () => {
  const { store, signer } = await makeInstance();
  const clock = fakeClock(T0);
  const publisher = createGlobalConfPublisher({ store, signer, clock: clock.now, validityMs: 10 * MIN });
  assert.equal(publisher.current().serial, 1, 'nothing published yet: current() publishes');
  clock.advance(9 * MIN);
  assert.equal(publisher.current().serial, 1, 'past half but not expired: served as is (the timer renews)');
  clock.advance(1 * MIN);
  const fresh = publisher.current();
  assert.equal(fresh.serial, 2);
  assert.equal(fresh.expiresAt, '2026-03-02T15:20:00.000Z');
  store.close();
});

test('publisher refuses a nonsensical validity', async () => {
  const { store, signer } = await makeInstance();
  assert.throws(() => createGlobalConfPublisher({ store, signer, clock: () => T0, validityMs: 5 }), (e: unknown) => e instanceof MiisError && e.code === 'Config.InvalidInput');
  store.close();
});
