/**
 * The node's Prometheus metrics, in a Registry of its own (several nodes may share a process:
 * tests, the sandbox). Payload-free: labels are subsystem and service identifiers, fault codes
 * and sides, never message content or personal identifiers.
 *
 * Exchange timing: the listeners run each exchange inside `track()` (an AsyncLocalStorage scope);
 * the outbound wait (the backend on the provider side, the provider node on the client side) is
 * added to that scope by the wrapped adapters and peer client, so the node's own time is the
 * total minus that wait.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type ExchangeSide = 'client' | 'server';
export type ExchangeResult = 'ok' | 'fault' | 'error';

interface Scope {
  waitSeconds: number;
  service?: string;
  client?: string;
}

/** Values read at scrape time. */
export interface MetricSources {
  confAgeSeconds(): number | undefined;
  logQueueDepth(): number;
  /** Log records not yet covered by a time-stamp (undefined when time-stamping is off). */
  timestampBacklog(): number | undefined;
  certificates(): readonly { role: string; daysLeft: number }[];
}

export interface NodeMetrics {
  readonly registry: Registry;
  /** Run one exchange in a timing scope. */
  track<T>(fn: () => Promise<T>): Promise<T>;
  /** Time spent waiting for the backend or the provider node, inside the current exchange. */
  /** `target`: the service (backend) or the provider node's address (peer); service and client label the exchange. */
  wait<T>(kind: 'backend' | 'peer', labels: { target: string; service?: string; client?: string }, fn: () => Promise<T>): Promise<T>;
  /** Record a finished exchange (call inside track); labels default to those seen by wait(). */
  exchange(e: { side: ExchangeSide; service?: string | undefined; client?: string | undefined; result: ExchangeResult; startedAt: number }): void;
  fault(side: ExchangeSide, code: string): void;
  /** Prometheus text exposition. */
  render(): Promise<{ contentType: string; body: string }>;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createNodeMetrics(node: string, sources: MetricSources): NodeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node });
  const als = new AsyncLocalStorage<Scope>();
  const exchanges = new Counter({ name: 'miis_exchanges_total', help: 'Intercambios por lado, servicio, cliente y resultado (ok, fault = falla SOAP del proveedor, error = falla del nodo)', labelNames: ['side', 'service', 'client', 'result'], registers: [registry] });
  const faults = new Counter({ name: 'miis_faults_total', help: 'Fallas emitidas por el nodo, por código', labelNames: ['side', 'code'], registers: [registry] });
  const nodeTime = new Histogram({ name: 'miis_node_duration_seconds', help: 'Tiempo propio del nodo por intercambio (total menos la espera del backend o del nodo proveedor)', labelNames: ['side'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const backendTime = new Histogram({ name: 'miis_backend_duration_seconds', help: 'Tiempo de respuesta del backend (lado proveedor) o del nodo proveedor (lado cliente)', labelNames: ['kind', 'target'], buckets: LATENCY_BUCKETS, registers: [registry] });
  new Gauge({ name: 'miis_log_queue_depth', help: 'Registros aceptados y aún no escritos en el registro de mensajes', registers: [registry], collect() {
    this.set(sources.logQueueDepth());
  } });
  new Gauge({ name: 'miis_globalconf_age_seconds', help: 'Antigüedad de la configuración global en uso (desde su generación)', registers: [registry], collect() {
    const age = sources.confAgeSeconds();
    if (age !== undefined) this.set(age);
  } });
  new Gauge({ name: 'miis_timestamp_backlog', help: 'Registros del registro de mensajes aún sin sello de tiempo', registers: [registry], collect() {
    const n = sources.timestampBacklog();
    if (n !== undefined) this.set(n);
  } });
  new Gauge({ name: 'miis_certificate_days_left', help: 'Días hasta el vencimiento de cada certificado del nodo', labelNames: ['role'], registers: [registry], collect() {
    this.reset();
    for (const c of sources.certificates()) this.set({ role: c.role }, c.daysLeft);
  } });

  return {
    registry,
    track(fn) {
      return als.run({ waitSeconds: 0 }, fn);
    },
    async wait(kind, labels, fn) {
      const t0 = performance.now();
      const scope = als.getStore();
      if (scope !== undefined) {
        if (labels.service !== undefined) scope.service = labels.service;
        if (labels.client !== undefined) scope.client = labels.client;
      }
      try {
        return await fn();
      } finally {
        const s = (performance.now() - t0) / 1000;
        backendTime.observe({ kind, target: labels.target }, s);
        if (scope !== undefined) scope.waitSeconds += s;
      }
    },
    exchange(e) {
      const scope = als.getStore();
      exchanges.inc({ side: e.side, service: e.service ?? scope?.service ?? '-', client: e.client ?? scope?.client ?? '-', result: e.result });
      const total = (performance.now() - e.startedAt) / 1000;
      nodeTime.observe({ side: e.side }, Math.max(0, total - (scope?.waitSeconds ?? 0)));
    },
    fault(side, code) {
      faults.inc({ side, code });
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** The /metrics listener: a separate port (never the IS or node-to-node port), GET /metrics only. */
export async function startMetricsServer(metrics: NodeMetrics, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Use GET /metrics\n');
      return;
    }
    metrics.render().then((m) => {
      res.writeHead(200, { 'content-type': m.contentType });
      res.end(m.body);
    }, () => {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('error al generar las métricas\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${a.port}/metrics` };
}
