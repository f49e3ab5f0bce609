/**
 * `npm run bench:verify`: builds an encrypted message log of BENCH_RECORDS records (default
 * 200,000; ~1.5 KB SOAP messages with real ECDSA signatures, one signing certificate), then runs
 * the node's log verification (verifyLiveLogParallel, as `miis-node log verify` does) in a child
 * process and prints records/s, the child's peak RSS and the log's bytes per record.
 * Every record's signature is verified; 1,000 distinct signed messages are cycled to keep the
 * generation short (verification does not cache results). Env: BENCH_RECORDS, BENCH_WORKERS,
 * BENCH_PROFILE_DIR (V8 CPU profiles of the verifying process and its workers), BENCH_LOG_DIR (keep
 * the generated log in that folder and reuse it on the next run instead of generating it again).
 * CPU time of the verifying process (all its threads, user + system) is reported per record: on a
 * shared machine it is steadier than records/s.
 * `--json` prints { records, recordsPerSecond, cpuUsPerRecord, peakRssMb, bytesPerRecord, ... }.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogCipher, ensureLogKeyFile, readLogKeyFile } from '../../node/evidence/log-crypto.js';
import { verifyLiveLogParallel } from '../../node/evidence/log-verify.js';
import { openMessageLog, type LogRecord } from '../../node/evidence/message-log.js';

const json = process.argv.includes('--json');

function statusMb(field: 'VmHWM'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 'NaN') / 1024;
}

async function verifyChild(dir: string): Promise<void> {
  const log = openMessageLog(join(dir, 'messagelog.db'), { cipher: createLogCipher(readLogKeyFile(join(dir, 'log-keys.json'))), sealNew: false });
  const cas = [readFileSync(join(dir, 'ca.pem'), 'utf8')];
  const workers = process.env.BENCH_WORKERS === undefined ? undefined : Number(process.env.BENCH_WORKERS);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await verifyLiveLogParallel(log, cas, { workers });
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  await log.close();
  process.stdout.write(`${JSON.stringify({ ok: r.ok, problems: r.problems.length, records: r.records, signatures: r.signatures, seconds, cpuUs: c.user + c.system, peakRssMb: statusMb('VmHWM') })}\n`);
}

function soap(i: number): Buffer {
  const persona = `<persona><dni>${String(40000000 + i)}</dni><nombres>NOMBRE${i} SEGUNDO</nombres><apellidoPaterno>APELLIDO${i}</apellidoPaterno><apellidoMaterno>MATERNO</apellidoMaterno><fechaNacimiento>1980-01-01</fechaNacimiento><sexo>F</sexo><estadoCivil>SOLTERO</estadoCivil><ubigeo>150101</ubigeo><direccion>AV. SIEMPRE VIVA ${i}, LIMA</direccion></persona>`;
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd"><SOAP-ENV:Header><xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client><xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20295613620</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service><xrd:id>bench-${i}</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion><miis:convenio>CONV-001-2026</miis:convenio><miis:finalidad>FOCALIZACION</miis:finalidad></SOAP-ENV:Header><SOAP-ENV:Body><consultarPersonaResponse xmlns="http://miis.midis.gob.pe/servicios/reniec"><encontrado>true</encontrado>${persona}</consultarPersonaResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>`, 'utf8');
}

async function main(): Promise<void> {
  if (process.argv[2] === 'verify') return verifyChild(process.argv[3] as string);
  const n = Number(process.env.BENCH_RECORDS ?? '200000');
  const keep = process.env.BENCH_LOG_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'miis-bench-verify-'));
  const reuse = keep !== undefined && existsSync(join(keep, 'messagelog.db'));
  if (keep !== undefined) mkdirSync(keep, { recursive: true });
  try {
    let generateSeconds = 0;
    let messageBytes = soap(0).length;
    if (!reuse) {
      // loaded here only: the verifying child measures the memory of verification, not of PKI tooling
      const { createInstancePki } = await import('../../central/pki/ca.js');
      const { createCsr, generateKeyPair, issueCertificate } = await import('../../core/pki.js');
      const { createSigner, signDetached } = await import('../../core/signature.js');
      const now = new Date();
      const pki = await createInstancePki({ instance: 'PE', operatorName: 'MIDIS DGFO', keyAlgorithm: 'ecdsa-p256', now });
      const sk = await generateKeyPair('ecdsa-p256');
      const cert = await issueCertificate({ csrPem: await createCsr(sk, { organization: 'RENIEC', commonName: '20295613620', serialNumber: 'PE/GOB/20295613620' }), profile: 'sign', ca: { certPem: pki.caCertPem, privateKeyPem: pki.caKeys.privateKeyPem }, now, validDays: 365 });
      writeFileSync(join(dir, 'ca.pem'), pki.caCertPem);
      const signer = createSigner(sk.privateKeyPem, cert);
      const signerSha = createHash('sha256').update(Buffer.from(cert.split('\n').filter((l) => !l.startsWith('-----')).join(''), 'base64')).digest('hex');
      const signed = Array.from({ length: 1000 }, (_, i) => { const message = soap(i); return { message, signature: signDetached(message, signer) }; });
      const log = openMessageLog(join(dir, 'messagelog.db'), { cipher: createLogCipher(ensureLogKeyFile(join(dir, 'log-keys.json'), now)), maxBatch: 2000 });
      const g0 = performance.now();
      for (let i = 0; i < n; i += 2000) {
        const batch: Promise<void>[] = [];
        for (let j = i; j < Math.min(n, i + 2000); j += 1) {
          const s = signed[j % signed.length]!;
          const r: LogRecord = { side: 'server', direction: j % 2 === 0 ? 'request' : 'response', messageId: `bench-${j >> 1}`, client: 'PE/GOB/20511268401/JUNTOS',
            service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', userId: 'PE10117410', convenio: 'CONV-001-2026', finalidad: 'FOCALIZACION',
            at: new Date(now.getTime() + j), message: s.message, signature: s.signature, signerCertSha256: signerSha };
          batch.push(log.append(r));
        }
        await Promise.all(batch);
      }
      generateSeconds = (performance.now() - g0) / 1000;
      messageBytes = signed[0]!.message.length;
      await log.close();
    }
    const bytes = readdirSync(dir).filter((f) => f.startsWith('messagelog.db')).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
    const profile = process.env.BENCH_PROFILE_DIR === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`];
    const child = spawn(process.execPath, [...profile, fileURLToPath(import.meta.url), 'verify', dir], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    await new Promise((resolve) => child.once('exit', resolve));
    const v = JSON.parse(out) as { ok: boolean; problems: number; records: number; signatures: number; seconds: number; cpuUs: number; peakRssMb: number };
    const report = { records: v.records, ok: v.ok, signatures: v.signatures, recordsPerSecond: Math.round(v.records / v.seconds), cpuUsPerRecord: Math.round(v.cpuUs / v.records), peakRssMb: Math.round(v.peakRssMb), bytesPerRecord: Math.round(bytes / v.records), messageBytes, generateSeconds: Math.round(generateSeconds) };
    if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(`registro de ${report.records} registros (mensajes de ~${report.messageBytes} B): ${report.bytesPerRecord} B/registro; verificación ${v.ok ? 'correcta' : `con ${v.problems} problemas`}: ${report.recordsPerSecond} registros/s, CPU ${report.cpuUsPerRecord} µs/registro, ${report.signatures} firmas, RSS pico ${report.peakRssMb} MB\n`);
  } finally {
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:verify: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
