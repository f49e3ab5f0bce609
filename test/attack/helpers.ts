/**
 * Shared pieces of the attack suite (test/attack/*.test.ts): one running instance per file, the
 * fault checks every case makes (exact code, HTTP status, Spanish text from FAULTS, UUID in the
 * originating node's fault log), "nothing reached the backend / was logged", raw sockets for
 * HTTP framing tricks, and "the node still serves a normal request afterwards".
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { FAULTS, type FaultCode } from '../../core/errors.js';
import { readSoapMessage, type SoapFaultInfo } from '../../core/soap.js';
import { signDetached } from '../../core/signature.js';
import type { RunningNode } from '../../node/main.js';
import { encodeSignedMessage } from '../../node/pipeline/signed-message.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { personaRequest, postMtls, postSoap, type Instance, type MtlsIdentity } from '../e2e/fixture.js';
import { sqliteLog } from '../helpers/node-log.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let seq = 0;
/** A fresh, unique xrd:id for a case. */
export const newId = (tag: string): string => `atk-${tag}-${process.pid}-${Date.now()}-${(seq += 1)}`;

export interface HttpResult {
  readonly status: number;
  readonly text: string;
}

/** Check a SOAP fault: HTTP status, exact code, Spanish faultstring from FAULTS, UUID detail. */
export function expectFault(res: HttpResult, code: FaultCode): SoapFaultInfo {
  assert.equal(res.status, FAULTS[code].http, `HTTP ${res.status} para ${code}: ${res.text.slice(0, 600)}`);
  const fault = readSoapMessage(Buffer.from(res.text, 'utf8'), 'response').fault;
  assert.ok(fault !== undefined, `se esperaba un Fault: ${res.text.slice(0, 600)}`);
  assert.equal(fault.faultCode, code, fault.faultString);
  const [pre = '', post = ''] = FAULTS[code].message.split('{detail}');
  assert.ok(fault.faultString.startsWith(pre) && fault.faultString.endsWith(post), `faultstring «${fault.faultString}» no es el texto de ${code}`);
  assert.match(fault.faultDetail ?? '', UUID);
  return fault;
}

/** The fault's UUID is in this node's fault log with the same code. */
export function expectLogged(node: RunningNode, fault: SoapFaultInfo): void {
  const hit = sqliteLog(node).faults(5000).find((f) => f.faultId === fault.faultDetail);
  assert.ok(hit !== undefined, `${fault.faultDetail} no está en el registro de fallas de ${node.name}`);
  assert.equal(hit.code, fault.faultCode);
}

/** Message-log directions recorded for a message id on a node, e.g. ['request', 'response']. */
export function directions(node: RunningNode, id: string): string[] {
  return sqliteLog(node).list({ messageId: id }).map((r) => `${r.direction}${r.fault === undefined ? '' : `:${r.fault}`}`);
}

/** Juntos's and RENIEC's node-to-node TLS identities, read from the provisioned temp folder. */
export function tlsIdentity(inst: Instance, name: 'juntos' | 'reniec'): MtlsIdentity {
  const dir = nodeDir(inst.plan, name);
  return {
    keyPem: readFileSync(join(dir, 'keys', 'auth-key.pem'), 'utf8'),
    certPem: readFileSync(join(dir, 'auth.pem'), 'utf8'),
    caPems: inst.juntos.ctx.conf.latest()?.conf.trustedCas ?? [],
  };
}

/**
 * The attack harness for one file: the instance, a counter of backend requests, and checks that
 * nothing reached the backend or the logs, and that a normal exchange still works.
 */
export class Target {
  constructor(readonly inst: Instance) {}

  get backendRequests(): number {
    return this.inst.backend.requests;
  }

  /** Run `attack`; the RENIEC backend must not have received anything meanwhile. */
  async backendUntouched<T>(attack: () => Promise<T>): Promise<T> {
    const before = this.backendRequests;
    const out = await attack();
    assert.equal(this.backendRequests, before, 'la solicitud no debe llegar al backend');
    return out;
  }

  /** A request from the IS to Juntos that must fail with `code` (logged by `origin`) and never reach the backend. */
  async isFault(body: string | Buffer, code: FaultCode, opts: { origin?: 'juntos' | 'reniec'; contentType?: string } = {}): Promise<SoapFaultInfo> {
    return this.backendUntouched(async () => {
      const res = await postSoap(this.inst.juntos.isUrl, body, opts.contentType);
      const fault = expectFault(res, code);
      expectLogged(opts.origin === 'reniec' ? this.inst.reniec : this.inst.juntos, fault);
      return fault;
    });
  }

  /** Neither node logged anything for this message id. */
  nothingLogged(id: string): void {
    assert.deepEqual(directions(this.inst.juntos, id), [], 'Juntos no debe registrar el mensaje');
    assert.deepEqual(directions(this.inst.reniec, id), [], 'RENIEC no debe registrar el mensaje');
  }

  /** A normal consultarPersona still works end to end and reaches the backend exactly once. */
  async good(): Promise<void> {
    const id = newId('ok');
    const before = this.backendRequests;
    const res = await postSoap(this.inst.juntos.isUrl, personaRequest(this.inst.dni, { id }));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<encontrado>true<\/encontrado>/);
    assert.equal(this.backendRequests, before + 1);
    assert.deepEqual(directions(this.inst.juntos, id), ['request', 'response']);
    assert.deepEqual(directions(this.inst.reniec, id), ['request', 'response']);
  }

  get proxyUrl(): string {
    return `${this.inst.reniec.proxyUrl}/miis/v1/message`;
  }

  /** Sign `raw` with Juntos's signing key and send it to RENIEC's node-to-node port as Juntos. */
  async sendSigned(raw: Buffer, tls: MtlsIdentity, sign: (bytes: Buffer) => string = (b) => signDetached(b, this.inst.juntos.ctx.signer)): Promise<HttpResult & { contentType: string | undefined }> {
    const msg = encodeSignedMessage(raw, sign(raw));
    const res = await postMtls(this.proxyUrl, msg.body, msg.contentType, tls);
    return { status: res.status, text: res.body.toString('utf8'), contentType: res.contentType };
  }
}

/**
 * Write raw bytes on a fresh TCP connection and collect what comes back until the server closes
 * the connection or `quietMs` pass with no data (framing attacks that bypass node:http's client).
 */
export function rawHttp(url: string, bytes: string | Buffer, quietMs = 400): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const arm = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    };
    socket.on('connect', () => {
      socket.write(bytes);
      arm();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    socket.on('end', done);
    socket.on('error', (err) => (chunks.length > 0 ? done() : reject(err)));
  });
}

/** HTTP status codes of every response in a raw HTTP/1.x byte stream, in order. */
export function statusesOf(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}
