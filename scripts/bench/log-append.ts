/**
 * `npm run bench:log-append`: CPU cost of appending to the SQLite message log (issue 10, stop 17).
 * For group-commit batches of 1, 8 and 16 records it appends BENCH_RECORDS records (default
 * 20,000, after 2,000 warm-up ones) to a new encrypted log with a subject key, each a ~1.2 KB
 * consultarPersona message with a ~1.5 KB detached signature (one certificate), and prints the
 * process CPU time (user + system) per record, the system part, the KB written per record (WAL
 * frames and checkpoints, /proc/self/io) and the KB stored per record (database file, after a checkpoint). Then the cost of each step of a record, by itself
 * (µs per call), and all of a record's work before SQLite (digests, record hash, storedBody with the
 * counter-IV sealer). On a shared machine the lowest of BENCH_ROUNDS runs (default 3) is printed.
 * It prints numbers and asserts nothing. Env: BENCH_RECORDS, BENCH_BATCHES (e.g. "1,16"), BENCH_ROUNDS.
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogCipher, ensureLogKeyFile } from '../../node/evidence/log-crypto.js';
import { hashRecordDigests, openMessageLog, packSignature, sha256Hex, splitSignatureCert, storedBody, type LogRecord } from '../../node/evidence/message-log.js';
import { subjectMac } from '../../node/evidence/subject-index.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 20000);
const BATCHES = (process.env.BENCH_BATCHES ?? '1,8,16').split(',').filter((b) => b !== '').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const cert = Buffer.alloc(560, 7).toString('base64');
const signature = '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
  + '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></ds:CanonicalizationMethod>'
  + '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"></ds:SignatureMethod>'
  + '<ds:Reference URI="message.xml"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod>'
  + '<ds:DigestValue>abcdefghijabcdefghijabcdefghijabcdefghij123=</ds:DigestValue></ds:Reference></ds:SignedInfo>'
  + `<ds:SignatureValue>${Buffer.alloc(64, 3).toString('base64')}</ds:SignatureValue>`
  + `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`;

/** A consultarPersona request as the consumer node sends it (~1.2 KB), or its response with a person (~1.6 KB). */
function message(n: number): Buffer {
  const body = n % 2
    ? `<ps:consultarPersona><ps:dni>${String(40000000 + n)}</ps:dni></ps:consultarPersona>`
    : '<ps:consultarPersonaResponse><ps:encontrado>true</ps:encontrado><ps:persona><ps:dni>'
      + `${String(40000000 + n)}</ps:dni><ps:nombres>MARIA ELENA</ps:nombres><ps:apellidoPaterno>QUISPE</ps:apellidoPaterno>`
      + '<ps:apellidoMaterno>HUAMAN</ps:apellidoMaterno><ps:fechaNacimiento>1984-07-12</ps:fechaNacimiento><ps:sexo>F</ps:sexo>'
      + '<ps:estadoCivil>CASADA</ps:estadoCivil><ps:ubigeo>150101</ps:ubigeo><ps:direccion>AV. JAVIER PRADO ESTE 1234 DPTO 502</ps:direccion>'
      + '<ps:restriccion>NINGUNA</ps:restriccion><ps:fechaEmision>2019-03-04</ps:fechaEmision><ps:fechaCaducidad>2027-03-04</ps:fechaCaducidad>'
      + '</ps:persona></ps:consultarPersonaResponse>';
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:ps="http://miis.gob.pe/reniec/persona">
<SOAP-ENV:Header>
<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client>
<xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20295613620</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>
<xrd:id>bench-${String(n).padStart(9, '0')}-${process.pid}</xrd:id>
<xrd:userId>PE10117410</xrd:userId>
<xrd:protocolVersion>4.0</xrd:protocolVersion>
<miis:convenio xmlns:miis="http://miis.gob.pe/xsd/miis">CONV-001</miis:convenio>
<miis:finalidad xmlns:miis="http://miis.gob.pe/xsd/miis">FOCALIZACION</miis:finalidad>
</SOAP-ENV:Header>
<SOAP-ENV:Body>${body}</SOAP-ENV:Body>
</SOAP-ENV:Envelope>`, 'utf8');
}

function record(n: number): LogRecord {
  return {
    side: 'server', direction: n % 2 ? 'request' : 'response', messageId: `bench-${String(n).padStart(9, '0')}`,
    client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', userId: 'PE10117410',
    convenio: 'CONV-001', finalidad: 'FOCALIZACION', at: new Date(), signerCertSha256: 'a'.repeat(64),
    message: message(n), signature, subjects: n % 2 ? [String(40000000 + n)] : undefined,
  };
}

/** Bytes this process has written so far (write(2)/pwrite(2) calls, /proc/self/io wchar). */
const written = (): number => Number(/wchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);

/** CPU µs per record (user + system, and system), KB written (WAL) and KB stored per record of one run. */
async function appendRun(batch: number): Promise<{ cpu: number; sys: number; kb: number; wkb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-bench-log-'));
  try {
    const cipher = createLogCipher(ensureLogKeyFile(join(dir, 'log-keys.json'), new Date()));
    const log = openMessageLog(join(dir, 'messagelog.db'), { cipher, subjectKey: Buffer.alloc(32, 1) });
    let n = 0;
    const run = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i += batch) {
        const ps: Promise<void>[] = [];
        for (let k = 0; k < batch; k++) ps.push(log.append(record(++n)));
        await Promise.all(ps);
      }
    };
    await run(2000);
    const w0 = written();
    const c0 = process.cpuUsage();
    await run(RECORDS);
    const c = process.cpuUsage(c0);
    const wkb = (written() - w0) / RECORDS / 1024;
    log.db.pragma('wal_checkpoint(TRUNCATE)');
    const kb = statSync(join(dir, 'messagelog.db')).size / n / 1024;
    await log.close();
    return { cpu: (c.user + c.system) / RECORDS, sys: c.system / RECORDS, kb, wkb };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function step(name: string, f: () => unknown): string {
  for (let i = 0; i < 3000; i++) f();
  const N = 10000;
  let best = Infinity; // lowest of 5 runs: other processes only ever add time
  for (let k = 0; k < 5; k++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) f();
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / N);
  }
  return `  ${name.padEnd(34)} ${best.toFixed(2).padStart(6)} µs`;
}

function steps(): string[] {
  const r = record(1);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const sha = sha256Hex; // core/digest.ts: one-shot crypto.hash (stop 18)
  const compact = splitSignatureCert(signature)!.compact;
  const packed = packSignature(compact);
  const seal = (...parts: Buffer[]): Buffer => {
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from('k1|x|m'));
    const ct = c.update(parts.length === 1 ? parts[0]! : Buffer.concat(parts)); // as log-crypto.ts seals (stop 18)
    return Buffer.concat([iv, ct, c.final(), c.getAuthTag()]);
  };
  const keyDir = mkdtempSync(join(tmpdir(), 'miis-bench-key-'));
  const cipher = createLogCipher(ensureLogKeyFile(join(keyDir, 'log-keys.json'), new Date()));
  rmSync(keyDir, { recursive: true, force: true });
  let counter = 0n;
  const sealer = cipher.withIvCounter((_keyId, n) => { counter += BigInt(n); return counter - BigInt(n); });
  const certIdOf = (b64: string): string => b64.slice(0, 16);
  return [
    step('record before SQLite (all)', () => {
      sealer.ensureIvs(2);
      const mSha = sha256Hex(r.message);
      const sSha = sha256Hex(r.signature);
      const hash = hashRecordDigests('a'.repeat(64), r, mSha, sSha);
      return storedBody(r, hash, true, sealer, certIdOf);
    }),
    step('sha256 message', () => sha(r.message)),
    step('sha256 signature (string)', () => sha(signature)),
    step('record hash', () => hashRecordDigests('a'.repeat(64), r, 'b'.repeat(64), 'c'.repeat(64))),
    step('splitSignatureCert', () => splitSignatureCert(signature)),
    step('packSignature', () => packSignature(compact)),
    step('AES-GCM seal message', () => seal(r.message)),
    step('AES-GCM seal message + signature', () => seal(r.message, packed)),
    step('subjectMac', () => subjectMac(key, '40000000')),
  ];
}

const out: string[] = [`log append, ${RECORDS} records per run (Node ${process.version})`];
for (const b of BATCHES) {
  let best = { cpu: Infinity, sys: 0, kb: 0, wkb: 0 };
  for (let i = 0; i < ROUNDS; i++) {
    const r = await appendRun(b);
    if (r.cpu < best.cpu) best = r;
  }
  out.push(`batch ${String(b).padStart(2)}: ${best.cpu.toFixed(1).padStart(6)} µs CPU/record (sys ${best.sys.toFixed(1)}), ${best.wkb.toFixed(1)} KB written/record, ${best.kb.toFixed(2)} KB stored/record`);
}
out.push('steps (µs per call):', ...steps());
process.stdout.write(`${out.join('\n')}\n`);
