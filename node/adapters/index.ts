/**
 * The adapters of a provider node's local services, built from each service's settings: `proxy`
 * (default) or `sql`. Built and checked at start (a misconfigured adapter stops the node with
 * Config.InvalidAdapter), rebuilt when the CLI changes a service while the node runs.
 */
import { MiisError } from '../../core/errors.js';
import type { SoapMessage } from '../../core/soap.js';
import { parseStoredAdapterSettings, sensitiveAttributes, type AdapterKind, type AdapterSettings } from './settings.js';
import type { BackendClient } from '../outbound/http-pools.js';
import type { LocalService } from '../store/local-store.js';
import { createProxyAdapter } from './proxy.js';
import { createRestAdapter, type RestAdapter } from './rest.js';
import { createSqlAdapter, type SqlAdapter } from './sql.js';

export interface ServiceAdapter {
  readonly kind: AdapterKind;
  /** Response elements flagged sensitive (Ley 29733) in the adapter configuration, for the log rules. */
  readonly sensitive: readonly string[];
  call(request: SoapMessage): Promise<SoapMessage>;
  /** REST services only (kind `rest`, node/pipeline/rest-server.ts). */
  readonly rest?: RestAdapter | undefined;
  /** Batch exchanges (lotes): present for the sql adapter only. */
  readonly bulk?: SqlAdapter['bulk'];
  /** True when the service writes (a batch chunk must never be applied twice). */
  readonly writes?: boolean;
  close(): Promise<void>;
}

export interface AdapterRegistry {
  /** The adapter of a local service (built on first use or when its settings changed). */
  get(service: LocalService): Promise<ServiceAdapter>;
  /** Build every adapter now; throws the first Config.InvalidAdapter. */
  check(services: Iterable<LocalService>): Promise<void>;
  /** Sensitive attribute names of a service (by key), from its stored settings. */
  sensitiveOf(service: LocalService): readonly string[];
  close(): Promise<void>;
}

export interface AdapterDeps {
  readonly now: () => Date;
  readonly backends: BackendClient;
  readonly maxMessageBytes: number;
}

function settingsOf(service: LocalService): AdapterSettings | undefined {
  try {
    return parseStoredAdapterSettings(service.adapter ?? null);
  } catch (err) {
    if (err instanceof MiisError) throw new MiisError('Config.InvalidAdapter', `servicio ${service.serviceKey}: ${err.detail}`, { cause: err });
    throw new MiisError('Config.InvalidAdapter', `servicio ${service.serviceKey}: configuración almacenada ilegible`, { cause: err });
  }
}

export async function buildAdapter(service: LocalService, deps: AdapterDeps): Promise<ServiceAdapter> {
  const settings = settingsOf(service);
  if (settings?.kind === 'sql') {
    const sql = await createSqlAdapter(settings.config, { now: deps.now, maxMessageBytes: deps.maxMessageBytes, service: service.serviceKey });
    return { kind: 'sql', sensitive: sensitiveAttributes(settings), call: (r) => sql.call(r), bulk: sql.bulk, writes: sql.writes, close: () => sql.engine.close() };
  }
  if (settings?.kind === 'rest') {
    const rest = createRestAdapter(service, settings, deps);
    const soap = (): Promise<SoapMessage> => Promise.reject(new MiisError('Server.ServerProxy.UnknownService', `${service.serviceKey} (es un servicio REST: llámelo por /r1/…)`));
    return { kind: 'rest', sensitive: [], call: soap, rest, close: () => rest.close() };
  }
  const proxy = createProxyAdapter(service, settings, deps);
  return { kind: 'proxy', sensitive: [], call: (r) => proxy.call(r), close: () => proxy.close() };
}

const signature = (s: LocalService): string => JSON.stringify([s.backendUrl, s.timeoutMs, s.adapter ?? null]);

export function createAdapterRegistry(deps: AdapterDeps): AdapterRegistry {
  const built = new Map<string, { sig: string; adapter: Promise<ServiceAdapter> }>();
  const registry: AdapterRegistry = {
    get(service) {
      const sig = signature(service);
      const cached = built.get(service.serviceKey);
      if (cached !== undefined && cached.sig === sig) return cached.adapter;
      if (cached !== undefined) void cached.adapter.then((a) => a.close(), () => undefined);
      const adapter = buildAdapter(service, deps);
      built.set(service.serviceKey, { sig, adapter });
      adapter.catch(() => {
        // a failed build is retried on the next request (the operator may fix the database meanwhile)
        if (built.get(service.serviceKey)?.adapter === adapter) built.delete(service.serviceKey);
      });
      return adapter;
    },
    async check(services) {
      for (const s of services) await registry.get(s);
    },
    sensitiveOf(service) {
      try {
        return sensitiveAttributes(settingsOf(service));
      } catch {
        return [];
      }
    },
    async close() {
      const all = [...built.values()];
      built.clear();
      await Promise.all(all.map((b) => b.adapter.then((a) => a.close(), () => undefined)));
    },
  };
  return registry;
}
