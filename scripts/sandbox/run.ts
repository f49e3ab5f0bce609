/**
 * The sandbox: a whole MIIS instance on loopback — central, RENIEC, MIDIS and Juntos nodes, and the
 * backends standing in for RENIEC's and MIDIS's own systems with deterministic synthetic data.
 * First start provisions everything under the sandbox folder through the real CLIs; later starts
 * reuse that state.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCentral, type RunningCentral } from '../../central/main.js';
import { startNode, type RunningNode } from '../../node/main.js';
import { startMidisBackend, startReniecBackend, type RunningBackend } from './backends.js';
import { generateSandboxData, samplesDni } from './data.js';
import { centralDir, nodeDir, provisionInstance, type AgreementPlan, type CataloguePlan, type InstancePlan } from './provision.js';
import { seedEntityRucs } from '../../central/governance/catalogue-seed.js';
import { createSandboxRegistries, registryPaths } from './registries.js';
import { MiisError } from '../../core/errors.js';
import { WSDL_DIR } from '../../node/store/paths.js';
import { openLocalStore } from '../../node/store/local-store.js';
import type { LogFormat } from '../../runtime/log.js';

export const INSTANCE = 'PE';
export const MEMBER_CLASS = 'GOB';
export const RENIEC_RUC = '20295613620';
export const MIDIS_RUC = '20545565359';
export const JUNTOS_RUC = '20511268401';
export const INEI_RUC = '20151942629';
export const SUNAT_RUC = '20131312955';
export const PENSION65_RUC = '20511343080';

export interface SandboxPorts {
  readonly central: number;
  readonly reniecBackend: number;
  readonly midisBackend: number;
  readonly nodes: { readonly [name: string]: { readonly is: number; readonly proxy: number; readonly metrics: number } };
}

/** How many consecutive ports a sandbox uses from its base (sandboxPorts: base … base + 36). */
export const SANDBOX_PORT_SPAN = 37;

/** Fixed ports from a base (default 4400), so the printed commands stay valid across restarts. */
export function sandboxPorts(base: number): SandboxPorts {
  return {
    central: base,
    reniecBackend: base + 1,
    midisBackend: base + 2,
    nodes: {
      reniec: { is: base + 11, proxy: base + 21, metrics: base + 31 }, midis: { is: base + 12, proxy: base + 22, metrics: base + 32 },
      juntos: { is: base + 13, proxy: base + 23, metrics: base + 33 }, inei: { is: base + 14, proxy: base + 24, metrics: base + 34 },
      sunat: { is: base + 15, proxy: base + 25, metrics: base + 35 }, pension65: { is: base + 16, proxy: base + 26, metrics: base + 36 },
    },
  };
}

const svc = (ruc: string, sub: string, code: string) => `${INSTANCE}/${MEMBER_CLASS}/${ruc}/${sub}/${code}/v1`;
export const JUNTOS_CLIENT = `${INSTANCE}/${MEMBER_CLASS}/${JUNTOS_RUC}/JUNTOS`;
export const PENSION65_CLIENT = `${INSTANCE}/${MEMBER_CLASS}/${PENSION65_RUC}/PENSION65`;
export const SERVICES = {
  consultarPersona: svc(RENIEC_RUC, 'RUPN', 'consultarPersona'),
  consultarPersonas: svc(RENIEC_RUC, 'RUPN', 'consultarPersonas'),
  consultarHogar: svc(MIDIS_RUC, 'PGH', 'consultarHogar'),
  consultarCSE: svc(MIDIS_RUC, 'PGH', 'consultarCSE'),
  consultarCentrosPoblados: svc(INEI_RUC, 'MARCOCENSAL', 'consultarCentrosPoblados'),
  consultarAtributos: svc(SUNAT_RUC, 'RENTAS', 'consultarAtributos'),
  registrarAfiliacion: svc(MIDIS_RUC, 'RNU', 'registrarAfiliacion'),
  registrarDesafiliacion: svc(MIDIS_RUC, 'RNU', 'registrarDesafiliacion'),
  registrarEgreso: svc(MIDIS_RUC, 'RNU', 'registrarEgreso'),
  consultarRNU: svc(MIDIS_RUC, 'RNU', 'consultarRNU'),
  consultarAreasCensales: svc(INEI_RUC, 'MARCOCENSAL', 'consultarAreasCensales'),
  consultarManzanas: svc(INEI_RUC, 'MARCOCENSAL', 'consultarManzanas'),
  consultarViviendas: svc(INEI_RUC, 'MARCOCENSAL', 'consultarViviendas'),
  registrarAfiliacionHogar: svc(MIDIS_RUC, 'RNU', 'registrarAfiliacionHogar'),
  consultarAfiliacionHogar: svc(MIDIS_RUC, 'RNU', 'consultarAfiliacionHogar'),
  consultarSanciones: svc(MIDIS_RUC, 'SANCIONES', 'consultarSanciones'),
  reportarBrechaIdentificacion: svc(RENIEC_RUC, 'RUPN', 'reportarBrechaIdentificacion'),
  /** REST (X-Road PR-REST r1, docs/rest.md): no version; GET /r1/<id>/{dni}, POST /r1/<id>/consulta. */
  personasRest: `${INSTANCE}/${MEMBER_CLASS}/${RENIEC_RUC}/RUPN/personas`,
} as const;

const member = (ruc: string) => `${INSTANCE}/${MEMBER_CLASS}/${ruc}`;

/** The agreements the sandbox registers in central: Juntos and Pensión 65 get different ones. */
export const SANDBOX_AGREEMENTS: readonly AgreementPlan[] = [
  { id: 'CONV-001-2026-MIDIS-RENIEC', provider: member(RENIEC_RUC), clients: [JUNTOS_CLIENT], services: [SERVICES.consultarPersona, SERVICES.personasRest], purposes: ['FOCALIZACION'], from: '2026-01-01' },
  { id: 'CONV-002-2026-MIDIS-PGH', provider: member(MIDIS_RUC), clients: [JUNTOS_CLIENT], services: [SERVICES.consultarHogar, SERVICES.consultarCSE], purposes: ['FOCALIZACION'], from: '2026-01-01' },
  {
    id: 'CONV-003-2026-MIDIS-RNU', provider: member(MIDIS_RUC), clients: [JUNTOS_CLIENT, PENSION65_CLIENT],
    services: [SERVICES.registrarAfiliacion, SERVICES.registrarDesafiliacion, SERVICES.registrarEgreso, SERVICES.registrarAfiliacionHogar],
    purposes: ['AFILIACION', 'EGRESO'], from: '2026-01-01', maxIds: 1000,
    validate: ['dni:dni', 'numeroDocumento:documento', 'programa:required', 'fecha:pattern:[0-9]{4}-[0-9]{2}-[0-9]{2}'],
  },
  {
    id: 'CONV-006-2026-MIDIS-RNU-CONSULTA', provider: member(MIDIS_RUC), clients: [JUNTOS_CLIENT, PENSION65_CLIENT], services: [SERVICES.consultarRNU, SERVICES.consultarAfiliacionHogar],
    purposes: ['FOCALIZACION'], from: '2026-01-01', maxIds: 1000, validate: ['dni:dni'],
  },
  {
    id: 'CONV-004-2026-INEI', provider: member(INEI_RUC), clients: [JUNTOS_CLIENT, PENSION65_CLIENT], services: [SERVICES.consultarCentrosPoblados],
    purposes: ['FOCALIZACION'], from: '2026-01-01', maxIds: 100, validate: ['codigoCentroPoblado:centro-poblado'],
  },
  {
    id: 'CONV-007-2026-INEI-MARCO-CENSAL', provider: member(INEI_RUC), clients: [JUNTOS_CLIENT, PENSION65_CLIENT],
    services: [SERVICES.consultarAreasCensales, SERVICES.consultarManzanas, SERVICES.consultarViviendas],
    purposes: ['FOCALIZACION'], from: '2026-01-01', maxIds: 20, validate: ['ubigeo:required', 'ubigeo:ubigeo-inei', 'codigoCentroPoblado:centro-poblado'],
  },
  {
    id: 'CONV-008-2026-MIDIS-SANCIONES', provider: member(MIDIS_RUC), clients: [JUNTOS_CLIENT, PENSION65_CLIENT], services: [SERVICES.consultarSanciones],
    purposes: ['FOCALIZACION'], from: '2026-01-01', maxIds: 100, validate: ['ruc:ruc'],
  },
  {
    id: 'CONV-009-2026-RENIEC-BRECHAS', provider: member(RENIEC_RUC), clients: [JUNTOS_CLIENT, PENSION65_CLIENT], services: [SERVICES.reportarBrechaIdentificacion],
    purposes: ['CIERRE_BRECHAS'], from: '2026-01-01', maxIds: 100,
    validate: ['prenombres:required', 'primerApellido:required', 'ubigeo:ubigeo-inei', 'codigoCentroPoblado:centro-poblado', 'numeroDocumento:documento'],
  },
  // SUNAT answers Juntos only: Pensión 65 has an access right on the SUNAT node but no agreement covering it
  {
    id: 'CONV-005-2026-SUNAT-JUNTOS', provider: member(SUNAT_RUC), clients: [JUNTOS_CLIENT], services: [SERVICES.consultarAtributos],
    purposes: ['FOCALIZACION'], from: '2026-01-01', maxIds: 100, validate: ['dni:dni'],
  },
];

const seeded = seedEntityRucs();
const unit = (ruc: string, unitName: string, head: string, user: string, domain: string) => ({
  ruc, requested: '2026-01-05', answered: '2026-01-12', unit: unitName, head, post: 'Gerente', contact: `${user}@${domain}`, user,
});

/**
 * The catalogue the sandbox makes consistent with what runs: INEI and SUNAT get their sandbox RUCs
 * in place of the seed's provisional ones, each component is linked to the services that serve it,
 * and the providers have designated units (the portal shows them).
 */
export const SANDBOX_CATALOGUE: CataloguePlan = {
  rucs: [{ from: seeded.get('INEI')!.ruc, to: INEI_RUC }, { from: seeded.get('SUNAT')!.ruc, to: SUNAT_RUC }],
  links: [
    { component: 'RUPN', service: SERVICES.consultarPersona },
    { component: 'PGH', service: SERVICES.consultarHogar },
    { component: 'PGH', service: SERVICES.consultarCSE },
    { component: 'RUPN', service: SERVICES.reportarBrechaIdentificacion },
    { component: 'RUPN', service: SERVICES.personasRest },
    { component: 'MARCO-CENSAL', service: SERVICES.consultarCentrosPoblados },
    { component: 'MARCO-CENSAL', service: SERVICES.consultarAreasCensales },
    { component: 'MARCO-CENSAL', service: SERVICES.consultarManzanas },
    { component: 'MARCO-CENSAL', service: SERVICES.consultarViviendas },
    { component: 'RNU', service: SERVICES.registrarAfiliacionHogar },
    { component: 'RNU', service: SERVICES.consultarAfiliacionHogar },
    { component: 'REG-SANCIONES', service: SERVICES.consultarSanciones },
    { component: 'RNU', service: SERVICES.registrarAfiliacion },
    { component: 'RNU', service: SERVICES.registrarDesafiliacion },
    { component: 'RNU', service: SERVICES.registrarEgreso },
    { component: 'RNU', service: SERVICES.consultarRNU },
    { component: 'RENTAS-SUNAT', service: SERVICES.consultarAtributos },
  ],
  units: [
    unit(RENIEC_RUC, 'Gerencia de Registros de Identificación', 'Ana Quispe Rojas', 'aquispe', 'reniec.gob.pe'),
    unit(MIDIS_RUC, 'Dirección General de Focalización', 'Luis Torres Huamán', 'ltorres', 'midis.gob.pe'),
    unit(INEI_RUC, 'Dirección Nacional de Censos y Encuestas', 'Rosa Mamani Flores', 'rmamani', 'inei.gob.pe'),
    unit(SUNAT_RUC, 'Intendencia Nacional de Sistemas de Información', 'Jorge Salas Vega', 'jsalas', 'sunat.gob.pe'),
  ],
};

/** Where the sql-adapter registries (INEI, SUNAT, RNU) live under the sandbox folder. */
export function registriesDir(dir: string): string {
  return join(dir, 'registries');
}

export function sandboxPlan(dir: string, ports: SandboxPorts): InstancePlan {
  const node = (name: string) => ports.nodes[name] as { is: number; proxy: number };
  const reniecUrl = `http://127.0.0.1:${ports.reniecBackend}/`;
  const midisUrl = `http://127.0.0.1:${ports.midisBackend}/`;
  const reg = registryPaths(registriesDir(dir));
  return {
    dir, instance: INSTANCE, memberClass: MEMBER_CLASS, centralUrl: `http://127.0.0.1:${ports.central}`,
    entities: [
      // member and entity are one record with one name: the seeded name where it fits a certificate's O (64 characters),
      // SUNAT's is longer, so its entity takes the short name
      { nodeName: 'reniec', ruc: RENIEC_RUC, name: 'Registro Nacional de Identificación y Estado Civil', role: 'RENIEC', subsystems: ['RUPN'], isPort: node('reniec').is, proxyPort: node('reniec').proxy },
      { nodeName: 'midis', ruc: MIDIS_RUC, name: 'Ministerio de Desarrollo e Inclusión Social', role: 'MIDIS', subsystems: ['PGH', 'RNU', 'SANCIONES'], isPort: node('midis').is, proxyPort: node('midis').proxy },
      { nodeName: 'juntos', ruc: JUNTOS_RUC, name: 'Programa Nacional de Apoyo Directo a los Más Pobres - JUNTOS', acronym: 'JUNTOS', role: 'IPF', subsystems: ['JUNTOS'], isPort: node('juntos').is, proxyPort: node('juntos').proxy },
      { nodeName: 'inei', ruc: INEI_RUC, name: 'Instituto Nacional de Estadística e Informática', role: 'INEI', subsystems: ['MARCOCENSAL'], isPort: node('inei').is, proxyPort: node('inei').proxy },
      { nodeName: 'sunat', ruc: SUNAT_RUC, name: 'SUNAT', role: 'PRODUCTORA_INFORMACION_SOCIAL', subsystems: ['RENTAS'], isPort: node('sunat').is, proxyPort: node('sunat').proxy },
      { nodeName: 'pension65', ruc: PENSION65_RUC, name: 'Programa Nacional de Asistencia Solidaria Pensión 65', acronym: 'PENSION65', role: 'IPF', subsystems: ['PENSION65'], isPort: node('pension65').is, proxyPort: node('pension65').proxy },
    ],
    catalogue: SANDBOX_CATALOGUE,
    services: [
      { id: SERVICES.consultarPersona, title: 'Consultar persona por DNI (RUPN)', provider: 'reniec', backendUrl: reniecUrl, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] },
      { id: SERVICES.consultarHogar, title: 'Consultar hogar del PGH por DNI o código de hogar', provider: 'midis', backendUrl: midisUrl, wsdl: 'midis.wsdl', allowed: [JUNTOS_CLIENT] },
      { id: SERVICES.consultarCSE, title: 'Consultar clasificación socioeconómica (CSE) por DNI', provider: 'midis', backendUrl: midisUrl, wsdl: 'midis.wsdl', allowed: [JUNTOS_CLIENT] },
      // registries served by the declarative sql adapter (scripts/sandbox/registries.ts): no web service written
      { id: SERVICES.consultarCentrosPoblados, title: 'Consultar centros poblados del Marco Censal', provider: 'inei', backendUrl: '', sqlConfig: reg.configs.consultarCentrosPoblados, wsdl: 'identificacion.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.consultarAtributos, title: 'Consultar si los ingresos superan el umbral (SUNAT, sin montos)', provider: 'sunat', backendUrl: '', sqlConfig: reg.configs.consultarAtributos, wsdl: 'elegibilidad.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.registrarAfiliacion, title: 'Registrar afiliaciones en el RNU', provider: 'midis', backendUrl: '', sqlConfig: reg.configs.registrarAfiliacion, wsdl: 'afiliacion.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.registrarDesafiliacion, title: 'Registrar desafiliaciones en el RNU', provider: 'midis', backendUrl: '', sqlConfig: reg.configs.registrarDesafiliacion, wsdl: 'afiliacion.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.registrarEgreso, title: 'Registrar egresos en el RNU', provider: 'midis', backendUrl: '', sqlConfig: reg.configs.registrarEgreso, wsdl: 'afiliacion.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.personasRest, title: 'Personas por DNI (REST, RUPN)', provider: 'reniec', backendUrl: `${reniecUrl}personas`, rest: { openapi: join(WSDL_DIR, 'reniec-personas.openapi.json') }, allowed: [JUNTOS_CLIENT] },
      { id: SERVICES.consultarRNU, title: 'Consultar afiliaciones en el RNU', provider: 'midis', backendUrl: '', sqlConfig: reg.configs.consultarRNU, wsdl: 'elegibilidad.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      // Marco Censal by district (ubigeo INEI), optionally one centro poblado
      { id: SERVICES.consultarAreasCensales, title: 'Consultar áreas censales (zonas y AER) del Marco Censal por ubigeo', provider: 'inei', backendUrl: '', sqlConfig: reg.configs.consultarAreasCensales, wsdl: 'identificacion.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.consultarManzanas, title: 'Consultar manzanas del Marco Censal por ubigeo', provider: 'inei', backendUrl: '', sqlConfig: reg.configs.consultarManzanas, wsdl: 'identificacion.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.consultarViviendas, title: 'Consultar viviendas del Marco Censal por ubigeo', provider: 'inei', backendUrl: '', sqlConfig: reg.configs.consultarViviendas, wsdl: 'identificacion.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      // household affiliation: MIDIS's backend writes the RNU (scripts/sandbox/writes.ts); the query is a sql adapter
      { id: SERVICES.registrarAfiliacionHogar, title: 'Registrar la afiliación de un hogar y sus miembros en el RNU', provider: 'midis', backendUrl: midisUrl, wsdl: 'afiliacion.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.consultarAfiliacionHogar, title: 'Consultar la afiliación de un hogar en el RNU', provider: 'midis', backendUrl: '', sqlConfig: reg.configs.consultarAfiliacionHogar, wsdl: 'afiliacion.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.consultarSanciones, title: 'Consultar sanciones del SINAFO por RUC de la entidad', provider: 'midis', backendUrl: '', sqlConfig: reg.configs.consultarSanciones, wsdl: 'elegibilidad.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
      { id: SERVICES.reportarBrechaIdentificacion, title: 'Reportar personas sin documento de identidad (brecha de identificación)', provider: 'reniec', backendUrl: reniecUrl, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT, PENSION65_CLIENT] },
    ],
    agreements: SANDBOX_AGREEMENTS,
  };
}

export interface SandboxInfo {
  /** MIIS_SANDBOX_BASE_PORT the sandbox was provisioned with (addresses registered in central depend on it). */
  readonly basePort: number;
  readonly central: { readonly url: string; readonly dir: string; readonly portalUrl: string };
  readonly nodes: readonly { readonly name: string; readonly isUrl: string; readonly proxyUrl: string; readonly healthUrl: string; readonly metricsUrl: string | null; readonly dir: string }[];
  readonly clients: readonly { readonly id: string; readonly node: string }[];
  /** `wsdl` is '' for a REST service, which has `rest` (its /r1/ base URL on Juntos's IS port) instead. */
  readonly services: readonly { readonly id: string; readonly provider: string; readonly wsdl: string; readonly title: string; readonly rest?: string }[];
  readonly samples: { readonly dni: readonly string[] };
}

export interface RunningSandbox {
  readonly info: SandboxInfo;
  readonly provisioned: boolean;
  /** The running nodes, by name (tests reach their context and logs). */
  readonly nodes: ReadonlyMap<string, RunningNode>;
  close(): Promise<void>;
}

/**
 * The base port an existing sandbox was provisioned with (from its RENIEC node's SOAP port), or
 * undefined for a new one. The nodes' addresses are registered in central, which cannot change
 * them yet: a different base port is refused with a precise message.
 */
export function provisionedBasePort(dir: string): number | undefined {
  const db = join(dir, 'nodes', 'reniec', 'node.db');
  if (!existsSync(db)) return undefined;
  const store = openLocalStore(db);
  try {
    return store.initialized ? store.settings().isPort - 11 : undefined;
  } finally {
    store.close();
  }
}

export function checkSandboxBasePort(dir: string, requested: number): void {
  const old = provisionedBasePort(dir);
  if (old === undefined || old === requested) return;
  throw new MiisError('Config.InvalidInput', `el entorno de prueba en ${dir} se creó con MIIS_SANDBOX_BASE_PORT=${old} (puertos ${old}–${old + 36}) y ahora se pidió ${requested}; ` +
    `las direcciones de los nodos quedaron registradas en central con los puertos anteriores. Inicie con MIIS_SANDBOX_BASE_PORT=${old} npm start, ` +
    `o borre la carpeta ${dir} para empezar de nuevo con ${requested} (se pierde el estado del entorno: registros, convenios y certificados).`);
}

export async function startSandbox(opts: { dir: string; basePort?: number; info?: (line: string) => void; logFormat?: LogFormat; persons?: number; extraAgreements?: readonly AgreementPlan[] }): Promise<RunningSandbox> {
  const basePort = opts.basePort ?? 4400;
  checkSandboxBasePort(opts.dir, basePort);
  const ports = sandboxPorts(basePort);
  const base = sandboxPlan(opts.dir, ports);
  const plan: InstancePlan = opts.extraAgreements === undefined ? base : { ...base, agreements: [...(base.agreements ?? []), ...opts.extraAgreements] };
  const log = opts.info ?? (() => undefined);
  const provisioned = !existsSync(join(centralDir(plan), 'central.db'));
  const data = generateSandboxData({ persons: opts.persons ?? 12_000 });
  if (provisioned) {
    mkdirSync(opts.dir, { recursive: true });
    log('Primera ejecución: creando central, entidades, nodos y certificados…');
    createSandboxRegistries({ dir: registriesDir(opts.dir), programmes: { JUNTOS: JUNTOS_CLIENT, PENSION65: PENSION65_CLIENT }, centralDb: join(centralDir(plan), 'central.db') }, data);
    await provisionInstance(plan);
  }
  const closers: (() => Promise<void>)[] = [];
  try {
    const reg = registryPaths(registriesDir(opts.dir));
    const reniec: RunningBackend = await startReniecBackend({ data, port: ports.reniecBackend, brechasDb: join(registriesDir(opts.dir), 'reniec-brechas.db') });
    closers.push(() => reniec.close());
    const midis: RunningBackend = await startMidisBackend({ data, port: ports.midisBackend, rnuDb: reg.rnuDb });
    closers.push(() => midis.close());
    const central: RunningCentral = await startCentral({ dir: centralDir(plan), host: '127.0.0.1', port: ports.central, clock: () => new Date() });
    closers.push(() => central.close());
    const nodes: RunningNode[] = [];
    for (const e of plan.entities) {
      const n = await startNode({
        dir: nodeDir(plan, e.nodeName), info: (l) => log(opts.logFormat === 'pretty' ? l : `[${e.nodeName}] ${l}`), confIntervalMs: 10_000,
        metricsPort: ports.nodes[e.nodeName]?.metrics, ...(opts.logFormat === undefined ? {} : { logFormat: opts.logFormat }),
      });
      nodes.push(n);
      closers.push(() => n.close());
    }
    const juntos = nodes.find((n) => n.name === 'juntos') as RunningNode;
    const info: SandboxInfo = {
      basePort,
      central: { url: central.url, dir: centralDir(plan), portalUrl: `${central.url}/portal` },
      nodes: nodes.map((n) => ({ name: n.name, isUrl: n.isUrl, proxyUrl: n.proxyUrl, healthUrl: n.healthUrl, metricsUrl: n.metricsUrl ?? null, dir: nodeDir(plan, n.name) })),
      clients: plan.entities.flatMap((e) => e.subsystems.map((s) => ({ id: `${INSTANCE}/${MEMBER_CLASS}/${e.ruc}/${s}`, node: e.nodeName }))),
      // a REST service has no WSDL: its OpenAPI description comes from the getOpenAPI metaservice
      services: plan.services.map((s) => ({ id: s.id, provider: s.provider, title: s.title, wsdl: s.wsdl === undefined ? '' : `${juntos.isUrl}wsdl/${s.wsdl}`, ...(s.rest === undefined ? {} : { rest: `${juntos.isUrl}r1/${s.id}` }) })),
      samples: { dni: samplesDni(data, 5) },
    };
    writeFileSync(join(opts.dir, 'sandbox.json'), `${JSON.stringify(info, null, 2)}\n`);
    return {
      info, provisioned, nodes: new Map(nodes.map((n) => [n.name, n])),
      async close() {
        for (const c of closers.reverse()) await c();
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    throw err;
  }
}

/** The short Spanish guide printed by `npm start`. */
export function sandboxGuide(info: SandboxInfo, examplesDir: string, sandboxFile = 'var/sandbox/sandbox.json'): string {
  const juntos = info.nodes.find((n) => n.name === 'juntos');
  const dni = info.samples.dni[0] ?? '';
  const ex = join(examplesDir, 'consultarPersona.xml');
  return [
    '',
    'MIIS — entorno de prueba en funcionamiento',
    '',
    `  Central (configuración global):  ${info.central.url}/globalconf`,
    `  Portal de gobernanza (convenios, solicitudes, actas): ${info.central.portalUrl}`,
    ...info.nodes.map((n) => `  Nodo ${n.name.padEnd(9)} SOAP para sistemas: ${n.isUrl}   entre nodos (TLS mutuo): ${n.proxyUrl}`),
    '',
    'Monitoreo de cada nodo (estado y métricas Prometheus):',
    ...info.nodes.map((n) => `  Nodo ${n.name.padEnd(9)} ${n.healthUrl}   ${n.metricsUrl ?? '(métricas desactivadas)'}`),
    '',
    'Servicios publicados:',
    ...info.services.map((s) => `  ${s.id}  (${s.provider})  ${s.rest === undefined ? `WSDL: ${s.wsdl}` : `REST: ${s.rest}/{dni}`}`),
    '',
    'Pruebe una consulta de Juntos a RENIEC a través de los dos nodos (cada mensaje necesita un xrd:id nuevo):',
    '',
    `  sed -e "s/4f0c6a4e-2b7d-4c35-9a63-1d2e8b5f7a01/$(cat /proc/sys/kernel/random/uuid)/" -e "s/dni>[0-9]*</dni>${dni}</" ${ex} \\`,
    `    | curl -s -H 'Content-Type: text/xml; charset=utf-8' --data-binary @- ${juntos?.isUrl ?? ''}`,
    '',
    'La misma consulta por REST (protocolo REST de X-Road, docs/rest.md):',
    '',
    `  curl -s -H 'X-Road-Client: ${JUNTOS_CLIENT}' -H 'X-MIIS-Convenio: CONV-001-2026-MIDIS-RENIEC' -H 'X-MIIS-Finalidad: FOCALIZACION' \\`,
    `    ${juntos?.isUrl ?? ''}r1/${SERVICES.personasRest}/${dni}`,
    '',
    `DNI de ejemplo: ${info.samples.dni.join(', ')}`,
    `Detalle en ${sandboxFile}. Registro de mensajes: node dist/node/cli/index.js log list --dir ${juntos?.dir ?? '<carpeta del nodo>'}`,
    'Ctrl-C detiene todo; el próximo «npm start» reutiliza el estado.',
    '',
  ].join('\n');
}
