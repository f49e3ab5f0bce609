/**
 * Builds a MIIS instance on disk through the real command lines (in-process): central, its members
 * and subsystems, one node per entity with keys, CSRs, certificates issued by central's CA, the
 * anchor, local clients, services and access rights; optionally (sandbox) a catalogue consistent with
 * it: real RUCs for seeded entities, components linked to the running services, designated units. Used by the sandbox and the end-to-end tests.
 */
import { join } from 'node:path';
import { runCentralCli } from '../../central/cli/index.js';
import type { CliIo } from '../../runtime/cli-kit.js';
import { runNodeCli } from '../../node/cli/index.js';

export interface EntityPlan {
  readonly nodeName: string;
  readonly ruc: string;
  /** The one name of the member and its catalogue entity (a seeded entity keeps its name when they match). */
  readonly name: string;
  readonly role: string;
  /** Acronym of the catalogue entity (entity set --acronym), e.g. JUNTOS. */
  readonly acronym?: string;
  readonly subsystems: readonly string[];
  readonly isPort: number;
  readonly proxyPort: number;
  /** Node-to-node address published in central; default https://127.0.0.1:proxyPort (e.g. a load balancer in front of several nodes). */
  readonly address?: string;
}

export interface ServicePlan {
  /** INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE/VERSION */
  readonly id: string;
  readonly title: string;
  /** Node name; the same service id listed again with another node of the member is offered there too. */
  readonly provider: string;
  /** SOAP backend (proxy adapter); ignored when sqlConfig is set. */
  readonly backendUrl: string;
  /** Configuration file of the declarative sql adapter (node/adapters/settings.ts) instead of a backend. */
  readonly sqlConfig?: string;
  /** A REST service (adapter rest): backendUrl is its base URL; optional OpenAPI description file. */
  readonly rest?: { readonly openapi?: string };
  /** WSDL file (SOAP services). */
  readonly wsdl?: string;
  /** Clients (subsystem ids) granted access on the provider node. */
  readonly allowed: readonly string[];
}

/** An agreement registered in central (`miis-central agreement add`) and enforced by the provider node. */
export interface AgreementPlan {
  readonly id: string;
  /** Provider member INSTANCE/CLASS/CODE. */
  readonly provider: string;
  readonly clients: readonly string[];
  /** Services with or without version. */
  readonly services: readonly string[];
  readonly purposes: readonly string[];
  readonly from: string;
  readonly until?: string;
  readonly maxIds?: number;
  /** `field:rule` specs, e.g. dni:dni. */
  readonly validate?: readonly string[];
}

/** The catalogue made consistent with the running instance (sandbox): real RUCs, linked services, designated units. */
export interface CataloguePlan {
  /** Seeded entities whose provisional RUC is replaced before they join (entity set <from> --ruc <to>). */
  readonly rucs?: readonly { readonly from: string; readonly to: string }[];
  /** Component → registered service (component link). */
  readonly links?: readonly { readonly component: string; readonly service: string }[];
  /** Designated responsible units (unit request + unit answer). */
  readonly units?: readonly { readonly ruc: string; readonly requested: string; readonly answered: string; readonly unit: string; readonly head: string; readonly post: string; readonly contact: string; readonly user: string }[];
}

export interface InstancePlan {
  readonly dir: string;
  readonly instance: string;
  readonly memberClass: string;
  readonly centralUrl: string;
  readonly entities: readonly EntityPlan[];
  readonly services: readonly ServicePlan[];
  readonly agreements?: readonly AgreementPlan[];
  readonly catalogue?: CataloguePlan;
  readonly keyAlgorithm?: 'ecdsa-p256' | 'rsa-2048';
}

export function centralDir(plan: Pick<InstancePlan, 'dir'>): string {
  return join(plan.dir, 'central');
}

export function nodeDir(plan: Pick<InstancePlan, 'dir'>, nodeName: string): string {
  return join(plan.dir, 'nodes', nodeName);
}

/** Run one CLI command and fail loudly with its output if it does not succeed. */
async function run(cli: typeof runCentralCli | typeof runNodeCli, argv: string[], now?: () => Date): Promise<string> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; }, ...(now === undefined ? {} : { now }) };
  const code = await cli(argv, io);
  if (code !== 0) throw new Error(`${argv.slice(0, 2).join(' ')} falló (código ${code}): ${stderr || stdout}`);
  return stdout;
}

export async function provisionInstance(plan: InstancePlan, now?: () => Date): Promise<void> {
  const central = centralDir(plan);
  const alg = plan.keyAlgorithm ?? 'ecdsa-p256';
  const c = (...argv: string[]) => run(runCentralCli, [...argv, '--dir', central], now);
  const n = (node: string, ...argv: string[]) => run(runNodeCli, [...argv, '--dir', nodeDir(plan, node)], now);
  await c('init', '--instance', plan.instance, '--name', 'MIDIS - DGFO', '--key-algorithm', alg);
  for (const r of plan.catalogue?.rucs ?? []) await c('entity', 'set', r.from, '--ruc', r.to);
  // an entity whose RUC came before is a further node of the same member (high availability): the
  // member and its subsystems are registered once, each node gets its own keys and certificates
  const members = new Set<string>();
  for (const e of plan.entities) {
    const member = `${plan.instance}/${plan.memberClass}/${e.ruc}`;
    const dir = nodeDir(plan, e.nodeName);
    if (!members.has(member)) {
      await c('member', 'add', '--class', plan.memberClass, '--code', e.ruc, '--name', e.name, '--role', e.role);
      if (e.acronym !== undefined) await c('entity', 'set', e.ruc, '--acronym', e.acronym);
      for (const s of e.subsystems) await c('subsystem', 'add', `${member}/${s}`);
      members.add(member);
    }
    await n(e.nodeName, 'init', '--instance', plan.instance, '--class', plan.memberClass, '--code', e.ruc, '--name', e.name,
      '--node-name', e.nodeName, '--is-port', String(e.isPort), '--proxy-port', String(e.proxyPort), '--key-algorithm', alg);
    await c('cert', 'sign', '--csr', join(dir, 'sign.csr'), '--profile', 'sign', '--out', join(dir, 'sign-issued.pem'));
    await c('cert', 'sign', '--csr', join(dir, 'auth.csr'), '--profile', 'auth', '--ip', '127.0.0.1', '--dns', 'localhost', '--out', join(dir, 'auth-issued.pem'));
    await n(e.nodeName, 'cert', 'import', '--sign', join(dir, 'sign-issued.pem'), '--auth', join(dir, 'auth-issued.pem'));
    await c('node', 'add', '--name', e.nodeName, '--owner', member, '--address', e.address ?? `https://127.0.0.1:${e.proxyPort}`, '--auth-cert', join(dir, 'auth-issued.pem'));
    for (const s of e.subsystems) {
      await c('node', 'client', 'add', '--node', e.nodeName, `${member}/${s}`);
      await n(e.nodeName, 'client', 'add', `${member}/${s}`);
    }
    await n(e.nodeName, 'anchor', 'import', '--file', join(central, 'anchor.pem'), '--url', plan.centralUrl);
  }
  // a service listed again with another provider node is offered by that node too (registered in central once)
  const services = new Set<string>();
  for (const s of plan.services) {
    if (!services.has(s.id)) await c('service', 'add', s.id, '--title', s.title);
    services.add(s.id);
    const adapter = s.rest !== undefined ? ['--adapter', 'rest', '--backend', s.backendUrl, ...(s.rest.openapi === undefined ? [] : ['--openapi', s.rest.openapi])]
      : s.sqlConfig === undefined ? ['--backend', s.backendUrl] : ['--adapter', 'sql', '--sql-config', s.sqlConfig];
    await n(s.provider, 'service', 'add', s.id, ...adapter, ...(s.wsdl === undefined ? [] : ['--wsdl', s.wsdl]), '--timeout', '10000');
    for (const client of s.allowed) await n(s.provider, 'acl', 'grant', s.id, client);
  }
  for (const l of plan.catalogue?.links ?? []) await c('component', 'link', l.component, l.service);
  for (const u of plan.catalogue?.units ?? []) {
    await c('unit', 'request', '--entity', u.ruc, '--date', u.requested);
    await c('unit', 'answer', '--entity', u.ruc, '--date', u.answered, '--unit', u.unit, '--head', u.head, '--post', u.post, '--contact', u.contact, '--user', u.user);
  }
  for (const a of plan.agreements ?? []) {
    const many = (flag: string, values: readonly string[]) => values.flatMap((v) => [flag, v]);
    await c('agreement', 'add', '--id', a.id, '--provider', a.provider, ...many('--client', a.clients), ...many('--service', a.services),
      ...many('--purpose', a.purposes), '--from', a.from, ...(a.until === undefined ? [] : ['--until', a.until]),
      ...(a.maxIds === undefined ? [] : ['--max-ids', String(a.maxIds)]), ...many('--validate', a.validate ?? []));
  }
}
