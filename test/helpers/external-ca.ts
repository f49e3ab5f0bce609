/**
 * A test-made external CA ("ECEP") and its OCSP responder, as RENIEC's ECEP would be: the CA is
 * made with core/pki (createSelfSignedCa); member certificates are issued by the real openssl
 * CLI with plain key usages (no MIIS policy OID), a subject like ECEP's (serialNumber
 * RUC<ruc>) and, when asked, an Authority Information Access OCSP URL. The responder is a small
 * HTTP server answering RFC 6960 with core/ocsp (buildOcspResponse) signed by the CA key.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildOcspResponse, certIdMatchesIssuer, readOcspRequest, type CertStatus, type OcspCertId } from '../../core/ocsp.js';
import { createSelfSignedCa, generateKeyPair, type CaMaterial } from '../../core/pki.js';

function run(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => (err === null ? resolve(stdout) : reject(new Error(`${cmd} ${args.join(' ')}: ${stderr}`))));
  });
}

export interface ExternalCa extends CaMaterial {
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export async function createExternalCa(dir: string, opts: { now?: Date; validDays?: number; commonName?: string } = {}): Promise<ExternalCa> {
  const keys = await generateKeyPair('rsa-2048');
  const certPem = await createSelfSignedCa(keys, { organization: 'RENIEC', commonName: opts.commonName ?? 'ECEP-RENIEC CA Class 1 (prueba)' }, { now: opts.now ?? new Date(), validDays: opts.validDays ?? 365 });
  const certPath = join(dir, 'ecep-ca.pem');
  const keyPath = join(dir, 'ecep-ca-key.pem');
  writeFileSync(certPath, certPem);
  writeFileSync(keyPath, keys.privateKeyPem, { mode: 0o600 });
  return { dir, certPem, privateKeyPem: keys.privateKeyPem, certPath, keyPath };
}

let counter = 0;

/**
 * Issue a signing certificate (digitalSignature + nonRepudiation, no MIIS policy) for `keyPem`
 * with openssl. `subject` in openssl form, e.g. '/C=PE/O=RENIEC/serialNumber=RUC20295613620/CN=FIRMA'.
 */
export async function issueExternalCert(ca: ExternalCa, opts: { keyPem: string; subject: string; ocspUrl?: string; email?: string; days?: number; ca?: boolean }): Promise<{ pem: string; serialHex: string }> {
  counter += 1;
  const base = join(ca.dir, `ecep-${process.pid}-${counter}`);
  writeFileSync(`${base}.key`, opts.keyPem, { mode: 0o600 });
  const ext = [
    '[v3]',
    ...(opts.ca === true
      ? ['basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign']
      : ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, nonRepudiation']),
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    ...(opts.ocspUrl === undefined ? [] : [`authorityInfoAccess = OCSP;URI:${opts.ocspUrl}`]),
    ...(opts.email === undefined ? [] : [`subjectAltName = email:${opts.email}`]),
  ].join('\n');
  writeFileSync(`${base}.ext`, `${ext}\n`);
  const serialHex = `5e${Date.now().toString(16)}${counter.toString(16).padStart(4, '0')}`;
  await run('openssl', ['req', '-new', '-key', `${base}.key`, '-subj', opts.subject, '-out', `${base}.csr`]);
  await run('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', `0x${serialHex}`,
    '-days', String(opts.days ?? 30), '-sha256', '-extfile', `${base}.ext`, '-extensions', 'v3', '-out', `${base}.pem`]);
  return { pem: readFileSync(`${base}.pem`, 'utf8'), serialHex };
}

export interface TestOcspResponder {
  readonly url: string;
  /** How many requests it answered. */
  readonly requests: () => number;
  revoke(serialHex: string, at?: Date): void;
  close(): Promise<void>;
}

/** RFC 6960 responder for `ca`: good unless revoked, unknown for other issuers; responses valid 10 minutes. */
export async function startTestOcspResponder(ca: CaMaterial, opts: { now?: () => Date } = {}): Promise<TestOcspResponder> {
  const now = opts.now ?? (() => new Date());
  const revoked = new Map<string, Date>();
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests += 1;
      const request = readOcspRequest(Buffer.concat(chunks));
      const statusOf = (id: OcspCertId): CertStatus => {
        if (!certIdMatchesIssuer(id, ca.certPem)) return { status: 'unknown' };
        const at = revoked.get(id.serialHex.replace(/^0+/, ''));
        return at === undefined ? { status: 'good' } : { status: 'revoked', revokedAt: at, reasonCode: 1 };
      };
      const der = buildOcspResponse(request, statusOf, ca, { now: now(), validityMs: 10 * 60_000 });
      res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': String(der.length) });
      res.end(der);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/ocsp`,
    requests: () => requests,
    revoke(serialHex, at = now()) {
      revoked.set(serialHex.toLowerCase().replace(/^0+/, ''), at);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
