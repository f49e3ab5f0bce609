import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { createInstancePki } from '../../../central/pki/ca.js';
import { answerTimeStampRequest, issueTsaCertificate } from '../../../central/pki/tsa.js';
import { hashTreeRoot, inclusionProof, rootFromProof } from '../../../core/hash-tree.js';
import { createCsr, generateKeyPair, issueCertificate } from '../../../core/pki.js';
import { createSigner, signDetached, verifyDetached, type Signer } from '../../../core/signature.js';
import type { TsaMaterial } from '../../../core/tsp.js';
import { createArchiver } from '../../../node/evidence/archiver.js';
import { createLogCipher, ensureLogKeyFile, readLogKeyFile, rotateLogKey } from '../../../node/evidence/log-crypto.js';
import { verifyArchive, verifyLiveLog, verifyLiveLogParallel } from '../../../node/evidence/log-verify.js';
import { openMessageLog, type LogRecord, type MessageLog } from '../../../node/evidence/message-log.js';
import { createTimestamper, type TsaPost } from '../../../node/evidence/timestamper.js';

const T0 = new Date('2026-03-02T15:00:00.000Z');
let caPem: string;
let tsa: TsaMaterial;
let signer: Signer;
let signerSha: string;

before(async () => {
  const pki = await createInstancePki({ instance: 'PE', operatorName: 'MIDIS DGFO', keyAlgorithm: 'ecdsa-p256', now: T0 });
  caPem = pki.caCertPem;
  const ca = { certPem: pki.caCertPem, privateKeyPem: pki.caKeys.privateKeyPem };
  const tk = await generateKeyPair('ecdsa-p256');
  tsa = { privateKeyPem: tk.privateKeyPem, certPem: await issueTsaCertificate(ca, tk, { now: T0, operatorName: 'MIDIS DGFO', instance: 'PE' }) };
  const sk = await generateKeyPair('ecdsa-p256');
  const cert = await issueCertificate({ csrPem: await createCsr(sk, { organization: 'RENIEC', commonName: '20295613620', serialNumber: 'PE/GOB/20295613620' }), profile: 'sign', ca, now: T0, validDays: 365 });
  signer = createSigner(sk.privateKeyPem, cert);
  signerSha = createHash('sha256').update(Buffer.from(cert.split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64')).digest('hex');
});

const inProcessTsa = (now: () => Date): TsaPost => async (_url, body) => answerTimeStampRequest(body, tsa, now());
const deadTsa: TsaPost = async () => {
  throw new Error('conexión rechazada');
};

function record(i: number, service = 'PE/GOB/20295613620/RUPN/consultarPersona/v1'): LogRecord {
  const message = Buffer.from(`<m>${i} DNI 4${String(i).padStart(7, '0')} ñ</m>`, 'utf8');
  return {
    side: 'server', direction: i % 2 === 0 ? 'request' : 'response', messageId: `m-${Math.floor(i / 2)}`, client: 'PE/GOB/20511268401/JUNTOS',
    service, at: new Date(T0.getTime() + i * 1000), message, signature: signDetached(message, signer), signerCertSha256: signerSha,
  };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'miis-evidence-'));
}

async function seededLog(dir: string, n: number, opts: { encrypt?: boolean; sensitive?: string } = {}): Promise<MessageLog> {
  const cipher = opts.encrypt === false ? undefined : createLogCipher(ensureLogKeyFile(join(dir, 'log-keys.json'), T0));
  const log = openMessageLog(join(dir, 'messagelog.db'), { cipher, metadataOnly: opts.sensitive === undefined ? undefined : (s) => s.startsWith(opts.sensitive!) });
  for (let i = 0; i < n; i++) await log.append(record(i));
  return log;
}

async function stamp(log: MessageLog, post: TsaPost = inProcessTsa(() => new Date(T0.getTime() + 3_600_000))): Promise<void> {
  const ts = createTimestamper({ log, url: 'http://tsa.invalid/tsa', trustedCas: () => [caPem], now: () => T0, intervalMs: 1000, graceMs: 5000, onOutage: 'refuse', post });
  await ts.tick();
  assert.equal(ts.status().lastError, null);
}

describe('hash tree', () => {
  it('every leaf proves into the root, for every size up to 9', () => {
    for (let n = 1; n <= 9; n++) {
      const leaves = Array.from({ length: n }, (_, i) => createHash('sha256').update(String(i)).digest('hex'));
      const root = hashTreeRoot(leaves);
      for (let i = 0; i < n; i++) assert.equal(rootFromProof(leaves[i]!, inclusionProof(leaves, i)), root);
      if (n > 1) assert.notEqual(rootFromProof(leaves[0]!.replace(/^./, 'f'), inclusionProof(leaves, 0)), root);
    }
  });
});

describe('encrypted message log', () => {
  it('keeps bodies sealed at rest, metadata queryable, list() decrypts, and the chain verifies without opening bodies', async () => {
    const dir = tmp();
    const log = await seededLog(dir, 4);
    const rows = log.list({ limit: 10 }).reverse();
    assert.equal(rows[1]!.message.toString('utf8'), record(1).message.toString('utf8'));
    assert.ok(verifyDetached(rows[1]!.message, rows[1]!.signature).ok);
    assert.equal(rows[1]!.keyId, 'k1');
    await log.close();
    const db = new Database(join(dir, 'messagelog.db'), { readonly: true });
    const raw = db.prepare('SELECT message, signature, message_id, client FROM messages WHERE seq = 2').get() as { message: Buffer; signature: string; message_id: string; client: string };
    db.close();
    assert.equal(raw.message_id, 'm-0');
    assert.equal(raw.client, 'PE/GOB/20511268401/JUNTOS');
    assert.ok(!raw.message.includes(Buffer.from('DNI')), 'el mensaje no está en claro');
    assert.ok(!raw.signature.includes('Signature'), 'la firma no está en claro');
    // without the key: the chain (metadata + digests) still verifies
    const keyless = openMessageLog(join(dir, 'messagelog.db'));
    assert.deepEqual(keyless.verifyChain(), { ok: true, count: 4 });
    await keyless.close();
  });

  it('rotation: new records use the new key, old records stay readable', async () => {
    const dir = tmp();
    const log = await seededLog(dir, 2);
    await log.close();
    assert.equal(rotateLogKey(join(dir, 'log-keys.json'), T0), 'k2');
    assert.equal(statSync(join(dir, 'log-keys.json')).mode & 0o777, 0o600);
    const log2 = openMessageLog(join(dir, 'messagelog.db'), { cipher: createLogCipher(readLogKeyFile(join(dir, 'log-keys.json'))) });
    await log2.append(record(2));
    const rows = log2.list({ limit: 10 }).reverse();
    assert.deepEqual(rows.map((r) => r.keyId), ['k1', 'k1', 'k2']);
    assert.deepEqual(rows.map((r) => r.message.toString('utf8')), [0, 1, 2].map((i) => record(i).message.toString('utf8')));
    await log2.close();
  });

  it('a corrupted key file is detected and named', async () => {
    const dir = tmp();
    const path = join(dir, 'log-keys.json');
    ensureLogKeyFile(path, T0);
    const text = readFileSync(path, 'utf8');
    const key = /"key": "([^"]+)"/.exec(text)![1]!;
    const flipped = (key[0] === 'A' ? 'B' : 'A') + key.slice(1);
    writeFileSync(path, text.replace(key, flipped));
    assert.throws(() => readLogKeyFile(path), /clave k1 no coincide con su valor de control/);
    writeFileSync(path, '{ roto');
    assert.throws(() => readLogKeyFile(path), /está dañado: no es JSON válido/);
  });

  it('a flipped byte in a sealed body is named by log verify, with its record', async () => {
    const dir = tmp();
    const log = await seededLog(dir, 4);
    await stamp(log);
    await log.close();
    const db = new Database(join(dir, 'messagelog.db'));
    const row = db.prepare('SELECT message FROM messages WHERE seq = 3').get() as { message: Buffer };
    const bad = Buffer.from(row.message);
    bad[20] = bad[20]! ^ 0x01;
    db.prepare('UPDATE messages SET message = ? WHERE seq = 3').run(bad);
    db.close();
    const log2 = openMessageLog(join(dir, 'messagelog.db'), { cipher: createLogCipher(readLogKeyFile(join(dir, 'log-keys.json'))) });
    const r = verifyLiveLog(log2, [caPem]);
    assert.equal(r.ok, false);
    assert.deepEqual(r.problems.map((p) => p.seq), [3]);
    assert.match(r.problems[0]!.reason, /contenido cifrado fue alterado/);
    await log2.close();
  });

  it('sensitive services keep metadata and digests only; the chain and stamps still verify', async () => {
    const dir = tmp();
    const log = await seededLog(dir, 4, { sensitive: 'PE/GOB/20295613620/RUPN/' });
    await stamp(log);
    const rows = log.list({ limit: 10 });
    assert.ok(rows.every((r) => !r.bodyKept && r.message.length === 0 && r.signature === ''));
    assert.equal(rows[0]!.messageSha256, createHash('sha256').update(record(3).message).digest('hex'));
    const r = verifyLiveLog(log, [caPem]);
    assert.equal(r.ok, true, JSON.stringify(r.problems));
    assert.equal(r.signatures, 0);
    assert.equal(r.timestamps, 1);
    await log.close();
  });
});

describe('time-stamping and live verification', () => {
  it('one token covers a batch; verify checks chain, signatures and stamps', async () => {
    const dir = tmp();
    const log = await seededLog(dir, 5);
    await stamp(log);
    await log.append(record(5));
    await stamp(log);
    assert.deepEqual(log.timestamps().map((t) => [t.firstSeq, t.lastSeq]), [[1, 5], [6, 6]]);
    const r = verifyLiveLog(log, [caPem]);
    assert.deepEqual({ ok: r.ok, records: r.records, signatures: r.signatures, timestamps: r.timestamps, unstamped: r.unstamped }, { ok: true, records: 6, signatures: 6, timestamps: 2, unstamped: 0 });
    await log.close();
  });

  it('a token for another hash is named', async () => {
    const dir = tmp();
    const log = await seededLog(dir, 3);
    const other = openMessageLog(join(tmp(), 'other.db'));
    await other.append(record(9));
    await stamp(other);
    const foreign = other.timestamps()[0]!;
    log.addTimestamp({ firstSeq: 1, lastSeq: 3, root: hashTreeRoot(log.rawRecords(1, 3).map((x) => x.hash)), token: foreign.token, genTime: foreign.genTime });
    const r = verifyLiveLog(log, [caPem]);
    assert.equal(r.ok, false);
    assert.match(r.problems.map((p) => p.reason).join('\n'), /sello de los registros 1–3: el sello de tiempo corresponde a otro resumen/);
    await log.close();
    await other.close();
  });

  it('outage: within grace it only fails; past grace "refuse" blocks and "flag" reports', async () => {
    const dir = tmp();
    const log = await seededLog(dir, 1);
    let now = new Date(T0.getTime() + 1000);
    for (const policy of ['refuse', 'flag'] as const) {
      const ts = createTimestamper({ log, url: 'http://x/tsa', trustedCas: () => [caPem], now: () => now, intervalMs: 1000, graceMs: 60_000, onOutage: policy, post: deadTsa });
      now = new Date(T0.getTime() + 30_000);
      await ts.tick();
      assert.equal(ts.status().state, 'failing');
      ts.check('Server.ClientProxy.TimestampUnavailable');
      now = new Date(T0.getTime() + 120_000);
      await ts.tick();
      assert.equal(ts.status().state, 'outage');
      if (policy === 'refuse') assert.throws(() => ts.check('Server.ClientProxy.TimestampUnavailable'), (e: Error & { code?: string }) => e.code === 'Server.ClientProxy.TimestampUnavailable');
      else ts.check('Server.ClientProxy.TimestampUnavailable');
    }
    // the TSA is back: the backlog is stamped and the gate opens
    const ts = createTimestamper({ log, url: 'http://x/tsa', trustedCas: () => [caPem], now: () => now, intervalMs: 1000, graceMs: 60_000, onOutage: 'refuse', post: inProcessTsa(() => now) });
    await ts.tick();
    assert.equal(ts.status().state, 'ok');
    ts.check('Server.ClientProxy.TimestampUnavailable');
    await log.close();
  });
});

describe('archives and retention', () => {
  async function archived(opts: { encrypt?: boolean } = {}): Promise<{ dir: string; log: MessageLog; adir: string }> {
    const dir = tmp();
    const log = await seededLog(dir, 4);
    await stamp(log);
    const adir = join(dir, 'archives');
    const cipher = createLogCipher(readLogKeyFile(join(dir, 'log-keys.json')));
    const archiver = createArchiver({ log, dir: adir, cipher, settings: { retentionDays: 0, encrypt: opts.encrypt === true }, now: () => T0 });
    assert.equal(archiver.run()?.index, 1);
    for (let i = 4; i < 7; i++) await log.append(record(i));
    assert.equal(archiver.run(), undefined, 'unstamped records are not archived');
    await stamp(log);
    assert.equal(archiver.run()?.index, 2);
    return { dir, log, adir };
  }

  it('each archive verifies offline, names the previous one, and unstamped records wait', async () => {
    const { log, adir } = await archived();
    const r1 = verifyArchive(join(adir, 'miis-log-000001.manifest.json'), [caPem]);
    const r2 = verifyArchive(join(adir, 'miis-log-000002.jsonl'), [caPem]);
    assert.equal(r1.ok, true, JSON.stringify(r1.problems));
    assert.equal(r2.ok, true, JSON.stringify(r2.problems));
    assert.deepEqual([r1.records, r1.timestamps, r2.records, r2.timestamps], [4, 1, 3, 1]);
    assert.equal(r2.manifest?.previousManifest, 'miis-log-000001.manifest.json');
    await log.close();
  });

  it('a flipped byte anywhere in an archive data file is detected', async () => {
    const { log, adir } = await archived();
    const path = join(adir, 'miis-log-000001.jsonl');
    const original = readFileSync(path);
    for (const offset of [0, 50, Math.floor(original.length / 2), original.length - 2]) {
      const bad = Buffer.from(original);
      bad[offset] = bad[offset]! ^ 0x01;
      writeFileSync(path, bad);
      const r = verifyArchive(path, [caPem]);
      assert.equal(r.ok, false, `offset ${offset}`);
      assert.match(r.problems[0]!.reason, /no corresponde al SHA-256 de su manifiesto/);
    }
    await log.close();
  });

  it('a removed record is named even when the attacker also fixes the manifest digest', async () => {
    const { log, adir } = await archived();
    const path = join(adir, 'miis-log-000001.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(1, 1); // drop record 2
    const text = lines.join('\n');
    writeFileSync(path, text);
    const mpath = join(adir, 'miis-log-000001.manifest.json');
    const m = JSON.parse(readFileSync(mpath, 'utf8'));
    m.fileSha256 = createHash('sha256').update(text).digest('hex');
    writeFileSync(mpath, JSON.stringify(m));
    const r = verifyArchive(mpath, [caPem]);
    assert.equal(r.ok, false);
    const text2 = r.problems.map((p) => `${p.seq ?? '-'}: ${p.reason}`).join('\n');
    assert.match(text2, /3: falta el registro 2/);
    assert.match(text2, /declara 4 registros y el archivo tiene 3/);
    // and the next archive no longer links to this manifest
    const r2 = verifyArchive(join(adir, 'miis-log-000002.manifest.json'), [caPem]);
    assert.match(r2.problems.map((p) => p.reason).join('\n'), /no es el que este archivo enlaza/);
    await log.close();
  });

  it('reordered archives are detected (the link to the previous archive breaks)', async () => {
    const { log, adir } = await archived();
    for (const ext of ['jsonl', 'manifest.json']) {
      renameSync(join(adir, `miis-log-000001.${ext}`), join(adir, `tmp.${ext}`));
      renameSync(join(adir, `miis-log-000002.${ext}`), join(adir, `miis-log-000001.${ext}`));
      renameSync(join(adir, `tmp.${ext}`), join(adir, `miis-log-000002.${ext}`));
    }
    const r = verifyArchive(join(adir, 'miis-log-000001.manifest.json'), [caPem]);
    const all = [r, verifyArchive(join(adir, 'miis-log-000002.manifest.json'), [caPem])].flatMap((x) => x.problems.map((p) => p.reason)).join('\n');
    assert.match(all, /falta el archivo de datos|no es el que este archivo enlaza|no continúa la cadena/);
    await log.close();
  });

  it('an encrypted archive needs the node key; with it, it verifies', async () => {
    const { dir, log, adir } = await archived({ encrypt: true });
    assert.ok(readdirSync(adir).includes('miis-log-000001.jsonl.enc'));
    assert.ok(!readFileSync(join(adir, 'miis-log-000001.jsonl.enc')).includes(Buffer.from('messageId')));
    assert.match(verifyArchive(join(adir, 'miis-log-000001.manifest.json'), [caPem]).problems[0]!.reason, /está cifrado: se necesita la clave/);
    const ok = verifyArchive(join(adir, 'miis-log-000001.manifest.json'), [caPem], createLogCipher(readLogKeyFile(join(dir, 'log-keys.json'))));
    assert.equal(ok.ok, true, JSON.stringify(ok.problems));
    await log.close();
  });

  it('retention purges only archived records, keeps the chain verifiable, and never touches unarchived ones', async () => {
    const { dir, log, adir } = await archived();
    for (let i = 7; i < 9; i++) await log.append(record(i)); // not stamped, not archived
    const cipher = createLogCipher(readLogKeyFile(join(dir, 'log-keys.json')));
    const later = new Date(T0.getTime() + 40 * 86_400_000);
    createArchiver({ log, dir: adir, cipher, settings: { retentionDays: 30, encrypt: false }, now: () => later }).run();
    assert.deepEqual(log.rawRecords(0, 100).map((r) => r.seq), [8, 9]);
    assert.deepEqual(log.verifyChain(), { ok: true, count: 2 });
    await log.append(record(9));
    assert.deepEqual(log.rawRecords(0, 100).map((r) => r.seq), [8, 9, 10]);
    assert.equal(verifyLiveLog(log, [caPem]).ok, true);
    await log.close();
  });

  it('an archive file that went missing or changed blocks the purge', async () => {
    const { dir, log, adir } = await archived();
    writeFileSync(join(adir, 'miis-log-000002.jsonl'), 'cambiado');
    const cipher = createLogCipher(readLogKeyFile(join(dir, 'log-keys.json')));
    const later = new Date(T0.getTime() + 40 * 86_400_000);
    assert.throws(() => createArchiver({ log, dir: adir, cipher, settings: { retentionDays: 30, encrypt: false }, now: () => later }).run(), /no se purga: el archivo miis-log-000002.jsonl falta o no coincide/);
    assert.equal(log.rawRecords(0, 100).length, 7);
    await log.close();
  });
});

describe('parallel streaming verification', () => {
  it('worker threads find exactly what the in-thread verification finds (tampered body, altered metadata)', async () => {
    const dir = tmp();
    const log = await seededLog(dir, 2500);
    await stamp(log);
    await log.append(record(2500));
    await log.close();
    const db = new Database(join(dir, 'messagelog.db'));
    const row = db.prepare('SELECT message FROM messages WHERE seq = 1500').get() as { message: Buffer };
    const bad = Buffer.from(row.message);
    bad[20] = bad[20]! ^ 0x01;
    db.prepare('UPDATE messages SET message = ? WHERE seq = 1500').run(bad);
    db.prepare("UPDATE messages SET signer_cert_sha256 = ? WHERE seq = 2200").run('b'.repeat(64));
    db.close();
    const log2 = openMessageLog(join(dir, 'messagelog.db'), { cipher: createLogCipher(readLogKeyFile(join(dir, 'log-keys.json'))) });
    const serial = verifyLiveLog(log2, [caPem]);
    const parallel = await verifyLiveLogParallel(log2, [caPem], { workers: 2 });
    assert.deepEqual(parallel, serial);
    assert.equal(serial.ok, false);
    assert.deepEqual(serial.problems.map((p) => p.seq), [1500, 2200, 2200]);
    assert.equal(serial.records, 2501);
    assert.equal(serial.unstamped, 1);
    await log2.close();
  });
});
