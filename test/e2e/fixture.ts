/**
 * A real MIIS instance for end-to-end tests: central + RENIEC (provider) + Juntos (consumer)
 * provisioned through the CLIs in a temp folder, on loopback with real mutual TLS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { CliIo } from '../../runtime/cli-kit.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCentral, type RunningCentral } from '../../central/main.js';
import { startNode, type RunningNode, type StartNodeOptions } from '../../node/main.js';
import { startReniecBackend, type RunningBackend } from '../../scripts/sandbox/backends.js';
import { generateSandboxData, samplesDni, type SandboxData } from '../../scripts/sandbox/data.js';
import { nodeDir, provisionInstance, type AgreementPlan, type InstancePlan, type ServicePlan } from '../../scripts/sandbox/provision.js';
import { freePort } from '../helpers/net.js';
import { WSDL_DIR } from '../../node/store/paths.js';
export { freePort };

export const RENIEC = 'PE/GOB/20295613620';
export const JUNTOS = 'PE/GOB/20511268401';
export const JUNTOS_CLIENT = `${JUNTOS}/JUNTOS`;
export const CONSULTAR_PERSONA = `${RENIEC}/RUPN/consultarPersona/v1`;
/** RENIEC's batch service (1 to 1,000 DNI per request); provisioned with startInstance({ batch: true }). */
export const CONSULTAR_PERSONAS = `${RENIEC}/RUPN/consultarPersonas/v1`;
/** The agreement personaRequest cites: Juntos may query RENIEC's consultarPersona for FOCALIZACION. */
export const CONVENIO = 'CONV-001-2026';
export const BASE_AGREEMENT: AgreementPlan = {
  id: CONVENIO, provider: RENIEC, clients: [JUNTOS_CLIENT], services: [CONSULTAR_PERSONA], purposes: ['FOCALIZACION'], from: '2026-01-01',
};

/** RENIEC's REST persona service (adapter rest, base URL <backend>/personas); provisioned with startInstance({ rest: true }). */
export const PERSONAS_REST = `${RENIEC}/RUPN/personas`;
/** CONVENIO extended to the REST service (the default agreement with startInstance({ rest: true })). */
export const REST_AGREEMENT: AgreementPlan = { ...BASE_AGREEMENT, services: [CONSULTAR_PERSONA, PERSONAS_REST] };

/** CONVENIO extended to the batch service, at most 1,000 DNI per request, each one a valid DNI. */
export const BATCH_AGREEMENT: AgreementPlan = { ...BASE_AGREEMENT, services: [CONSULTAR_PERSONA, CONSULTAR_PERSONAS], maxIds: 1000, validate: ['dni:dni'] };

export interface Instance {
  readonly dir: string;
  readonly plan: InstancePlan;
  readonly data: SandboxData;
  readonly dni: string;
  readonly central: RunningCentral;
  readonly backend: RunningBackend;
  readonly reniec: RunningNode;
  readonly juntos: RunningNode;
  /** Restart a node with other options (e.g. a different clock). */
  restartNode(name: 'reniec' | 'juntos', opts?: Partial<StartNodeOptions>): Promise<RunningNode>;
  close(): Promise<void>;
}

export async function startInstance(opts: {
  now?: () => Date; allowJuntos?: boolean; agreements?: readonly AgreementPlan[]; batch?: boolean; rest?: boolean;
  /** More services (e.g. sql-adapter ones), provisioned with the others. */
  services?: readonly ServicePlan[];
  /** Run after provisioning, before central starts (e.g. `miis-central trama add`); gets the temp folder. */
  beforeStart?: (plan: InstancePlan) => Promise<void>;
  /** Create files the plan refers to (sql configurations) in the temp folder before provisioning. */
  prepare?: (dir: string) => Promise<readonly ServicePlan[]> | readonly ServicePlan[];
  /** Options both nodes start with (e.g. short `limits`, `metricsPort`); `now` above applies too. */
  nodeOptions?: Partial<Omit<StartNodeOptions, 'dir'>>;
} = {}): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-e2e-'));
  const data = generateSandboxData({ persons: 500 });
  const backend = await startReniecBackend({ data });
  const [centralPort, p1, p2, p3, p4] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const plan: InstancePlan = {
    dir, instance: 'PE', memberClass: 'GOB', centralUrl: `http://127.0.0.1:${centralPort}`,
    entities: [
      { nodeName: 'reniec', ruc: '20295613620', name: 'RENIEC', role: 'RENIEC', subsystems: ['RUPN'], isPort: p1 as number, proxyPort: p2 as number },
      { nodeName: 'juntos', ruc: '20511268401', name: 'Programa Juntos', role: 'IPF', subsystems: ['JUNTOS'], isPort: p3 as number, proxyPort: p4 as number },
    ],
    services: [
      { id: CONSULTAR_PERSONA, title: 'Consultar persona por DNI', provider: 'reniec', backendUrl: backend.url, wsdl: 'reniec.wsdl', allowed: opts.allowJuntos === false ? [] : [JUNTOS_CLIENT] },
      ...(opts.rest === true ? [{ id: PERSONAS_REST, title: 'Personas (REST)', provider: 'reniec', backendUrl: `${backend.url}personas`, rest: { openapi: join(WSDL_DIR, 'reniec-personas.openapi.json') }, allowed: opts.allowJuntos === false ? [] : [JUNTOS_CLIENT] }] : []),
      ...(opts.batch === true ? [{ id: CONSULTAR_PERSONAS, title: 'Consultar personas por DNI (lote)', provider: 'reniec', backendUrl: backend.url, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] }] : []),
      ...(opts.services ?? []),
      ...(opts.prepare === undefined ? [] : await opts.prepare(dir)),
    ],
    agreements: opts.agreements ?? [opts.rest === true ? REST_AGREEMENT : BASE_AGREEMENT],
  };
  await provisionInstance(plan, opts.now);
  await opts.beforeStart?.(plan);
  const central = await startCentral({ dir: join(dir, 'central'), host: '127.0.0.1', port: centralPort as number, clock: opts.now ?? (() => new Date()) });
  const quiet = () => undefined;
  const nodes: Record<string, RunningNode> = {};
  for (const name of ['reniec', 'juntos'] as const) {
    nodes[name] = await startNode({ dir: nodeDir(plan, name), info: quiet, ...(opts.now === undefined ? {} : { now: opts.now }), ...opts.nodeOptions });
  }
  const instance: Instance = {
    dir, plan, data, dni: samplesDni(data, 1)[0] as string, central, backend,
    get reniec() { return nodes.reniec as RunningNode; },
    get juntos() { return nodes.juntos as RunningNode; },
    async restartNode(name, o = {}) {
      await nodes[name]?.close();
      nodes[name] = await startNode({ dir: nodeDir(plan, name), info: quiet, ...o });
      return nodes[name] as RunningNode;
    },
    async close() {
      for (const n of Object.values(nodes)) await n.close();
      await central.close();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return instance;
}

let counter = 0;

/** The xrd:service header of RENIEC's batch service consultarPersonas. */
export const BATCH_SERVICE_HEADER = '<xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20295613620</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersonas</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>';

/** A consultarPersonas request from Juntos for these DNI (personaRequest with the batch service and body). */
export function personasRequest(dnis: readonly string[]): string {
  return personaRequest('', { service: BATCH_SERVICE_HEADER, body: `<ren:consultarPersonas>${dnis.map((d) => `<ren:dni>${d}</ren:dni>`).join('')}</ren:consultarPersonas>` });
}

/** An X-Road 4.0 consultarPersona request from Juntos, with a fresh message id. */
export function personaRequest(dni: string, over: { id?: string; client?: string; service?: string; extraHeader?: string; body?: string } = {}): string {
  counter += 1;
  const id = over.id ?? `e2e-${process.pid}-${Date.now()}-${counter}`;
  const client = over.client ?? '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client>';
  const service = over.service ?? '<xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20295613620</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>';
  return `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd" xmlns:ren="http://miis.midis.gob.pe/servicios/reniec">
<SOAP-ENV:Header>${client}${service}<xrd:id>${id}</xrd:id><xrd:userId>PE10117410</xrd:userId><xrd:protocolVersion>4.0</xrd:protocolVersion><miis:convenio>CONV-001-2026</miis:convenio><miis:finalidad>FOCALIZACION</miis:finalidad>${over.extraHeader ?? ''}</SOAP-ENV:Header>
<SOAP-ENV:Body>${over.body ?? `<ren:consultarPersona><dni>${dni}</dni></ren:consultarPersona>`}</SOAP-ENV:Body>
</SOAP-ENV:Envelope>`;
}

export async function postSoap(url: string, body: string | Buffer, contentType = 'text/xml; charset=utf-8'): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType }, body: typeof body === "string" ? body : new Uint8Array(body) });
  return { status: res.status, text: await res.text() };
}

export function faultCodeOf(text: string): string | undefined {
  return /<faultcode>([^<]*)<\/faultcode>/.exec(text)?.[1];
}

// --- helpers for fault scenarios and CLI tests --------------------------------------------------

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run an in-process CLI (runNodeCli / runCentralCli) and capture its output and exit code. */
export async function runCli(cli: (argv: string[], io: CliIo) => Promise<number>, argv: readonly string[], now?: () => Date): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, ...(now === undefined ? {} : { now }) };
  const code = await cli([...argv], io);
  return { code, stdout, stderr };
}

export interface MtlsIdentity {
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPems: readonly string[];
}

/** POST to a node's proxy port over mutual TLS 1.3 as a given node identity (one connection, no pool). */
export function postMtls(url: string, body: Buffer, contentType: string, tls: MtlsIdentity): Promise<{ status: number; contentType: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, {
      method: 'POST', agent: false, key: tls.keyPem, cert: tls.certPem, ca: [...tls.caPems], minVersion: 'TLSv1.3',
      headers: { 'content-type': contentType, 'content-length': String(body.length) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Poll `check` until it returns a value other than undefined, or fail after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`tiempo agotado esperando: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
