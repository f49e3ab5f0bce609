/**
 * A MIIS instance where the provider member (RENIEC) runs two nodes, `reniec-a` and `reniec-b`,
 * each with its own keys and certificates and its own backend (so tests can count which one
 * served), both registered in central for the same subsystem; Juntos consumes through one node.
 * Provisioned through the real CLIs, on loopback with real mutual TLS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCentral, type RunningCentral } from '../../central/main.js';
import { startNode, type RunningNode, type StartNodeOptions } from '../../node/main.js';
import { startReniecBackend, type RunningBackend } from '../../scripts/sandbox/backends.js';
import { generateSandboxData, samplesDni, type SandboxData } from '../../scripts/sandbox/data.js';
import { nodeDir, provisionInstance, type InstancePlan } from '../../scripts/sandbox/provision.js';
import { BASE_AGREEMENT, CONSULTAR_PERSONA, JUNTOS_CLIENT, freePort } from './fixture.js';

export type HaNodeName = 'reniec-a' | 'reniec-b' | 'juntos';

export interface HaInstance {
  readonly dir: string;
  readonly plan: InstancePlan;
  readonly data: SandboxData;
  readonly dni: string;
  readonly central: RunningCentral;
  /** Backend behind reniec-a / reniec-b. */
  readonly backendA: RunningBackend;
  readonly backendB: RunningBackend;
  /** Node-to-node port each provider node listens on. */
  readonly proxyPorts: Readonly<Record<'reniec-a' | 'reniec-b', number>>;
  node(name: HaNodeName): RunningNode;
  isRunning(name: HaNodeName): boolean;
  stop(name: HaNodeName): Promise<void>;
  start(name: HaNodeName): Promise<RunningNode>;
  close(): Promise<void>;
}

export interface HaOptions {
  /** Address both provider nodes publish in central (a load balancer); default each its own port. */
  readonly sharedAddress?: (ports: { a: number; b: number }) => string;
  /** Extra start options per node (e.g. limits for the consumer). */
  readonly nodeOptions?: Partial<Record<HaNodeName, Partial<StartNodeOptions>>>;
}

export async function startHaInstance(opts: HaOptions = {}): Promise<HaInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-ha-'));
  const data = generateSandboxData({ persons: 200 });
  const [backendA, backendB] = await Promise.all([startReniecBackend({ data }), startReniecBackend({ data })]);
  const [centralPort, aIs, aProxy, bIs, bProxy, jIs, jProxy] = await Promise.all(Array.from({ length: 7 }, () => freePort())) as number[];
  const shared = opts.sharedAddress?.({ a: aProxy as number, b: bProxy as number });
  const reniec = { ruc: '20295613620', name: 'RENIEC', role: 'RENIEC', subsystems: ['RUPN'] };
  const plan: InstancePlan = {
    dir, instance: 'PE', memberClass: 'GOB', centralUrl: `http://127.0.0.1:${centralPort}`,
    entities: [
      { nodeName: 'reniec-a', ...reniec, isPort: aIs as number, proxyPort: aProxy as number, ...(shared === undefined ? {} : { address: shared }) },
      { nodeName: 'reniec-b', ...reniec, isPort: bIs as number, proxyPort: bProxy as number, ...(shared === undefined ? {} : { address: shared }) },
      { nodeName: 'juntos', ruc: '20511268401', name: 'Programa Juntos', role: 'IPF', subsystems: ['JUNTOS'], isPort: jIs as number, proxyPort: jProxy as number },
    ],
    services: [
      { id: CONSULTAR_PERSONA, title: 'Consultar persona por DNI', provider: 'reniec-a', backendUrl: backendA.url, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] },
      { id: CONSULTAR_PERSONA, title: 'Consultar persona por DNI', provider: 'reniec-b', backendUrl: backendB.url, wsdl: 'reniec.wsdl', allowed: [JUNTOS_CLIENT] },
    ],
    agreements: [BASE_AGREEMENT],
  };
  await provisionInstance(plan);
  const central = await startCentral({ dir: join(dir, 'central'), host: '127.0.0.1', port: centralPort as number, clock: () => new Date() });
  const quiet = () => undefined;
  const nodes = new Map<HaNodeName, RunningNode>();
  const start = async (name: HaNodeName): Promise<RunningNode> => {
    const n = await startNode({ dir: nodeDir(plan, name), info: quiet, ...opts.nodeOptions?.[name] });
    nodes.set(name, n);
    return n;
  };
  for (const name of ['reniec-a', 'reniec-b', 'juntos'] as const) await start(name);
  return {
    dir, plan, data, dni: samplesDni(data, 1)[0] as string, central, backendA, backendB,
    proxyPorts: { 'reniec-a': aProxy as number, 'reniec-b': bProxy as number },
    node(name) {
      const n = nodes.get(name);
      if (n === undefined) throw new Error(`el nodo ${name} está detenido`);
      return n;
    },
    isRunning: (name) => nodes.has(name),
    async stop(name) {
      const n = nodes.get(name);
      nodes.delete(name);
      await n?.close();
    },
    start,
    async close() {
      for (const n of nodes.values()) await n.close();
      nodes.clear();
      await central.close();
      await backendA.close();
      await backendB.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
