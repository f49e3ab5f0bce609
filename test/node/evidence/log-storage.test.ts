import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createLogCipher, ensureLogKeyFile } from '../../../node/evidence/log-crypto.js';
import { bodyAad, joinSignatureCert, openLogReader, openMessageLog, packSignature, splitSignatureCert, type LogRecord } from '../../../node/evidence/message-log.js';

const CERT = 'MIIBkTCB+wIJAKHHIG11bVvJMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnRlc3RjYTAeFw0yNjAxMDEwMDAwMDBa';
const sig = (i: number, cert = CERT): string => `<ds:Signature xmlns:ds="x"><ds:SignedInfo>${i}</ds:SignedInfo><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`;

function record(i: number, signature = sig(i)): LogRecord {
  return {
    side: 'client', direction: 'request', messageId: `m-${i}`, client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1',
    at: new Date(Date.parse('2026-03-02T15:00:00.000Z') + i), message: Buffer.from(`<m>${i}</m>`), signature, signerCertSha256: 'a'.repeat(64),
  };
}

describe('message log storage', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'miis-logstore-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('splits the embedded certificate out of a signature and puts the exact text back', () => {
    const s = sig(7);
    const split = splitSignatureCert(s);
    assert.ok(split !== undefined);
    assert.equal(split.certB64, CERT);
    assert.ok(!split.compact.includes(CERT));
    assert.equal(joinSignatureCert(split.compact, split.certB64), s);
    // not exactly one certificate, or not base64: kept as it is
    assert.equal(splitSignatureCert('<ds:Signature/>'), undefined);
    assert.equal(splitSignatureCert(`${sig(1)}${sig(2)}`), undefined);
    assert.equal(splitSignatureCert(sig(1, 'AB CD')), undefined);
  });

  it('stores each signing certificate once and returns the original signatures (sealed and in clear)', async () => {
    for (const sealed of [false, true]) {
      const path = join(dir, `certs-${String(sealed)}.db`);
      const cipher = sealed ? createLogCipher(ensureLogKeyFile(join(dir, 'keys.json'), new Date())) : undefined;
      const log = openMessageLog(path, { cipher });
      const odd = '<ds:Signature>no certificate</ds:Signature>';
      for (let i = 0; i < 20; i += 1) await log.append(record(i, i === 5 ? odd : sig(i)));
      const rows = log.list({ limit: 100 }).reverse();
      assert.deepEqual(rows.map((r) => r.signature), Array.from({ length: 20 }, (_, i) => (i === 5 ? odd : sig(i))));
      assert.deepEqual(log.verifyChain(), { ok: true, count: 20 });
      await log.close();
      const db = new Database(path, { readonly: true });
      assert.equal((db.prepare('SELECT COUNT(*) AS n FROM certs').get() as { n: number }).n, 1);
      const stored = db.prepare('SELECT signature FROM messages WHERE seq = 2').get() as { signature: string | Buffer };
      assert.ok(!Buffer.from(stored.signature).toString('latin1').includes(CERT.slice(0, 20)));
      db.close();
    }
  });

  it('seals with counter IVs from blocks reserved in the log before use: no IV repeats across reopenings', async () => {
    const path = join(dir, 'ivs.db');
    const cipher = createLogCipher(ensureLogKeyFile(join(dir, 'keys-iv.json'), new Date()));
    const ivs = new Set<string>();
    for (let round = 0; round < 3; round += 1) {
      const log = openMessageLog(path, { cipher });
      for (let i = 0; i < 5; i += 1) await log.append(record(round * 10 + i));
      await log.close();
    }
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT message, signature FROM messages').all() as { message: Buffer; signature: Buffer }[];
    for (const r of rows) {
      ivs.add(r.message.subarray(0, 12).toString('hex'));
      // message and signature sealed together: one IV per record, the signature column a marker byte
      assert.deepEqual([...r.signature], [0x02]);
    }
    const next = (db.prepare("SELECT value FROM log_meta WHERE key = 'iv_next:k1'").get() as { value: string }).value;
    db.close();
    assert.equal(ivs.size, 15);
    // three processes' worth of reservations, each a whole block, all committed
    assert.ok(BigInt(next) >= 3n * 5n);
    const counters = [...ivs].map((h) => BigInt(`0x${h.slice(8)}`));
    assert.ok(counters.every((c) => c < BigInt(next)));
  });
});

describe('stored body formats', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'miis-logformat-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('seals message and signature in one value, and still reads records sealed apart (format 1) and in clear', async () => {
    const path = join(dir, 'formats.db');
    const cipher = createLogCipher(ensureLogKeyFile(join(dir, 'keys.json'), new Date()));
    const log = openMessageLog(path, { cipher });
    const originals = [0, 1, 2, 3].map((i) => record(i));
    for (const r of originals) await log.append(r);
    await log.close();
    // rewrite seq 2 as an older log stored it (two seals) and seq 3 in clear (before encryption)
    const db = new Database(path);
    const hashOf = (seq: number): string => (db.prepare('SELECT hash FROM messages WHERE seq = ?').get(seq) as { hash: string }).hash;
    const compact = (i: number): string => splitSignatureCert(originals[i]!.signature)!.compact;
    const h2 = hashOf(2);
    db.prepare('UPDATE messages SET message = ?, signature = ? WHERE seq = 2')
      .run(cipher.seal(originals[1]!.message, bodyAad(h2, 'm')), cipher.seal(packSignature(compact(1)), bodyAad(h2, 's')));
    db.prepare('UPDATE messages SET message = ?, signature = ?, key_id = NULL WHERE seq = 3').run(originals[2]!.message, compact(2));
    db.close();
    const again = openMessageLog(path, { cipher });
    const rows = again.list({ limit: 10 }).reverse();
    assert.deepEqual(rows.map((r) => [r.message.toString('utf8'), r.signature]), originals.map((r) => [r.message.toString('utf8'), r.signature]));
    assert.deepEqual(again.verifyChain(), { ok: true, count: 4 });
    await again.close();
    // the reader of log verify's worker threads opens all three
    const reader = openLogReader(path, cipher);
    const bodies = [...reader.range(1, 5)].map((r) => reader.openBody(r));
    reader.close();
    assert.deepEqual(bodies.map((b) => [b.message.toString('utf8'), b.signature]), originals.map((r) => [r.message.toString('utf8'), r.signature]));
  });

  it('detects an altered or moved one-seal body', async () => {
    const path = join(dir, 'tamper.db');
    const cipher = createLogCipher(ensureLogKeyFile(join(dir, 'keys-t.json'), new Date()));
    const log = openMessageLog(path, { cipher });
    for (let i = 0; i < 3; i += 1) await log.append(record(i));
    await log.close();
    const db = new Database(path);
    const body = (seq: number): Buffer => (db.prepare('SELECT message FROM messages WHERE seq = ?').get(seq) as { message: Buffer }).message;
    const check = (): unknown => {
      const l = openMessageLog(path, { cipher });
      const v = l.verifyChain();
      void l.close();
      return v;
    };
    const original = body(2);
    const flipped = Buffer.from(original);
    flipped[20]! ^= 1;
    db.prepare('UPDATE messages SET message = ? WHERE seq = 2').run(flipped);
    assert.deepEqual(check(), { ok: false, seq: 2, reason: 'el contenido del registro fue modificado' });
    // another record's (valid) sealed body: bound to its own record hash
    db.prepare('UPDATE messages SET message = ? WHERE seq = 2').run(body(3));
    assert.deepEqual(check(), { ok: false, seq: 2, reason: 'el contenido del registro fue modificado' });
    // the one-seal value read as the older format (marker replaced): its AAD names the format
    db.prepare('UPDATE messages SET message = ?, signature = ? WHERE seq = 2').run(original, original);
    assert.deepEqual(check(), { ok: false, seq: 2, reason: 'el contenido del registro fue modificado' });
    db.prepare("UPDATE messages SET signature = X'02' WHERE seq = 2").run();
    assert.deepEqual(check(), { ok: true, count: 3 });
    db.close();
  });
});

describe('stored signature packing', () => {
  it('replaces the fixed phrases by tokens behind a marker byte and reads unmarked (older) values as text', async () => {
    const { packSignature, unpackSignature } = await import('../../../node/evidence/message-log.js');
    const { createSigner, signDetached } = await import('../../../core/signature.js');
    const { createSelfSignedCa, generateKeyPair } = await import('../../../core/pki.js');
    const keys = await generateKeyPair('ecdsa-p256');
    const signer = createSigner(keys.privateKeyPem, await createSelfSignedCa(keys, { organization: 'X', commonName: 'Y' }, { now: new Date(), validDays: 1 }));
    const text = splitSignatureCert(signDetached(Buffer.from('<m/>'), signer))!.compact;
    const packed = packSignature(text);
    assert.equal(packed[0], 0x01);
    assert.ok(packed.length < 200, String(packed.length));
    assert.equal(unpackSignature(packed), text);
    assert.equal(unpackSignature(Buffer.from(text, 'utf8')), text);
    // phrases out of the usual order or repeated: some stay as text, the value still reads back exactly
    const odd = text.replace('<ds:SignedInfo', '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo') + text;
    assert.equal(unpackSignature(packSignature(odd)), odd);
    assert.ok(packSignature(odd).length < Buffer.byteLength(odd));
    // text that already holds control characters is not XML: stored as it is and read back
    assert.equal(unpackSignature(packSignature('a\u0011b')), 'a\u0011b');
  });
});
