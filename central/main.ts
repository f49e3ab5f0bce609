/**
 * Composition root of central: open the registry in a data directory, load the CA and the
 * conf-signing key, wire the publisher and the HTTP server. Nothing else creates these.
 */
import { centralPaths, loadCaMaterial, loadConfSigner, openCentralStore, readCaCertPem } from './pki/central-dir.js';
import type { CentralPaths } from './pki/central-dir.js';
import type { CaMaterial } from '../core/pki.js';
import { createGlobalConfPublisher } from './conf/publisher.js';
import type { GlobalConfPublisher } from './conf/publisher.js';
import { requireInstance, SETTING } from './registry/rules.js';
import type { RegistryStore } from './registry/store.js';
import { startCentralServer } from './http/server.js';
import { createGovernanceRoutes } from './http/governance-routes.js';
import { createEvidenceRoutes } from './http/evidence-routes.js';
import { ensureTsaMaterial } from './pki/tsa.js';
import type { CentralServer } from './http/server.js';
import { MiisError } from '../core/errors.js';

export interface CentralApp {
  readonly paths: CentralPaths;
  readonly instance: string;
  readonly store: RegistryStore;
  readonly publisher: GlobalConfPublisher;
  /** Loads the CA private key from disk only when a certificate is to be issued. */
  loadCa(): CaMaterial;
  close(): void;
}

export function openCentral(opts: { dir: string; clock: () => Date; validityMs?: number }): CentralApp {
  const paths = centralPaths(opts.dir);
  const store = openCentralStore(paths);
  try {
    const instance = requireInstance(store);
    const publisher = createGlobalConfPublisher({
      store,
      signer: loadConfSigner(paths, store),
      clock: opts.clock,
      ...(opts.validityMs === undefined ? {} : { validityMs: opts.validityMs }),
    });
    return { paths, instance, store, publisher, loadCa: () => loadCaMaterial(paths, store), close: () => store.close() };
  } catch (err) {
    store.close();
    throw err;
  }
}

export interface RunningCentral {
  readonly url: string;
  readonly app: CentralApp;
  close(): Promise<void>;
}

export async function startCentral(opts: {
  dir: string;
  host: string;
  port: number;
  clock: () => Date;
  validityMs?: number;
  refreshIntervalMs?: number;
  logError?: (message: string) => void;
}): Promise<RunningCentral> {
  const app = openCentral(opts);
  let server: CentralServer;
  try {
    if ((app.store.getSetting(SETTING.restoredNeedsSerial) ?? '') !== '') {
      throw new MiisError('Config.NotInitialized', `este directorio central se restauró de una copia (${app.store.getSetting(SETTING.restoredNeedsSerial)}); antes de servir, ejecute «miis-central conf set-serial N» con N mayor que cualquier serie publicada (vea configuracionGlobal.serie en /health de los nodos)`);
    }
    const tsa = await ensureTsaMaterial(app.paths.dir, app.loadCa(), { now: opts.clock(), instance: app.instance, operatorName: app.store.getSetting(SETTING.operatorName) ?? app.instance });
    server = await startCentralServer({
      host: opts.host,
      port: opts.port,
      instance: app.instance,
      publisher: app.publisher,
      caCertPem: readCaCertPem(app.store),
      clock: opts.clock,
      extraRoutes: { ...createGovernanceRoutes({ store: app.store, clock: opts.clock }), ...createEvidenceRoutes({ store: app.store, ca: app.loadCa, tsa, clock: opts.clock }) },
      ...(opts.refreshIntervalMs === undefined ? {} : { refreshIntervalMs: opts.refreshIntervalMs }),
      ...(opts.logError === undefined ? {} : { logError: opts.logError }),
    });
  } catch (err) {
    app.close();
    throw err;
  }
  return {
    url: server.url,
    app,
    async close() {
      await server.close();
      app.close();
    },
  };
}
