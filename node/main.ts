/**
 * Composition root of the node: opens its stores, loads keys and the global configuration, wires
 * the pipelines and starts both listeners.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MiisError } from '../core/errors.js';
import type { NodeContext, NodeLimits } from './pipeline/context.js';
import { DEFAULT_LIMITS } from './pipeline/context.js';
import { createGlobalConfClient } from './conf/global-conf-client.js';
import { createBackendClient, createPeerClient } from './outbound/http-pools.js';
import { openLocalStore, type LocalSnapshot } from './store/local-store.js';
import { openNodeEvidence } from './evidence/index.js';
import { loadEvidenceSettings, type EvidenceSettings } from './evidence/settings.js';
import { nodePaths, WSDL_DIR } from './store/paths.js';
import { createReplayGuard } from './pipeline/replay-guard.js';
import { createAdapterRegistry } from './adapters/index.js';
import { createIsServer, createProxyServer } from './listeners.js';
import { createOcspChecker } from './certs/ocsp-checker.js';
import { createSigningIdentity } from './certs/signing-rotation.js';

export interface StartNodeOptions {
  readonly dir: string;
  readonly now?: () => Date;
  readonly info?: (line: string) => void;
  readonly limits?: Partial<NodeLimits>;
  readonly confIntervalMs?: number;
  readonly wsdlDir?: string;
  /** Evidence settings (default: <dir>/evidence.json or the defaults). */
  readonly evidence?: EvidenceSettings;
}

export interface RunningNode {
  readonly name: string;
  readonly isUrl: string;
  readonly proxyUrl: string;
  readonly ctx: NodeContext;
  /**
   * Stop the node. With `drainMs` > 0 (what `serve` does on SIGTERM): stop accepting, let the
   * exchanges in flight finish for up to `drainMs`, then close what is left, flush the message
   * log and release everything. Without it, open connections are closed at once.
   */
  close(opts?: { drainMs?: number }): Promise<void>;
  /** Requests being answered now on both listeners. */
  inFlight(): number;
}

function readRequired(path: string, what: string, hint: string): string {
  if (!existsSync(path)) throw new MiisError('Config.NotInitialized', `falta ${what} (${path}); ${hint}`);
  return readFileSync(path, 'utf8');
}

export async function startNode(opts: StartNodeOptions): Promise<RunningNode> {
  const now = opts.now ?? (() => new Date());
  const info = opts.info ?? ((line: string) => process.stderr.write(`${line}\n`));
  const paths = nodePaths(opts.dir);
  if (!existsSync(paths.db)) throw new MiisError('Config.NotInitialized', `no hay un nodo en ${opts.dir}; ejecute «miis-node init»`);
  const store = openLocalStore(paths.db);
  if (!store.initialized) throw new MiisError('Config.NotInitialized', `no hay un nodo en ${opts.dir}; ejecute «miis-node init»`);
  const settings = store.settings();
  const signKey = readRequired(paths.signKey, 'la clave de firma', 'ejecute «miis-node init»');
  const signCert = readRequired(paths.signCert, 'el certificado de firma', 'importe el emitido por central con «miis-node cert import --sign»');
  const authKey = readRequired(paths.authKey, 'la clave TLS', 'ejecute «miis-node init»');
  const authCert = readRequired(paths.authCert, 'el certificado TLS', 'importe el emitido por central con «miis-node cert import --auth»');
  const anchor = readRequired(paths.anchor, 'el ancla de confianza de central', 'ejecute «miis-node anchor import»');
  if (settings.centralUrl === undefined) throw new MiisError('Config.NotInitialized', 'falta la URL de central; ejecute «miis-node anchor import --url …»');

  const conf = createGlobalConfClient({ centralUrl: settings.centralUrl, anchorPem: anchor, cachePath: paths.globalConf, now, intervalMs: opts.confIntervalMs ?? 30_000 });
  await conf.refresh();
  if (conf.latest() === undefined) {
    store.close();
    throw new MiisError('Config.NoGlobalConf', `central (${settings.centralUrl}) no responde y no hay copia local${conf.lastError === undefined ? '' : ` — ${conf.lastError}`}`);
  }
  if (conf.lastError !== undefined) info(`aviso: ${conf.lastError}; se usa la copia local (serie ${conf.latest()?.conf.serial})`);

  const limits: NodeLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const evidenceSettings = opts.evidence ?? loadEvidenceSettings(opts.dir);
  const evidence = openNodeEvidence({
    dir: opts.dir, settings: evidenceSettings, centralUrl: settings.centralUrl,
    trustedCas: () => conf.latest()?.conf.trustedCas ?? [], now, info,
  });
  const log = evidence.log;
  const signing = createSigningIdentity(opts.dir, signKey, signCert, info);
  const ocsp = createOcspChecker({ settings: evidenceSettings.ocsp, now, info });
  let snapshot: LocalSnapshot = store.snapshot();
  let version = store.dataVersion();
  const localTimer = setInterval(() => {
    const v = store.dataVersion();
    if (v !== version) {
      version = v;
      snapshot = store.snapshot();
    }
    try {
      signing.reload(); // key rotation (node/signing-rotation.ts): a new pair is used without restart
    } catch (err) {
      info(`certificado de firma: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, 1000);
  localTimer.unref();

  const backends = createBackendClient({ maxResponseBytes: limits.maxMessageBytes });
  const ctx: NodeContext = {
    now, settings, local: () => snapshot, conf,
    get signer() { return signing.current().signer; },
    get signerSha256() { return signing.current().sha256; },
    ocsp,
    auth: { keyPem: authKey, certPem: authCert }, log,
    peers: createPeerClient({ maxResponseBytes: limits.maxMessageBytes * 2 }),
    backends,
    replay: createReplayGuard({ windowMs: 10 * 60_000, maxEntries: 200_000 }),
    limits, info, evidence,
    adapters: createAdapterRegistry({ now, backends, maxMessageBytes: limits.maxMessageBytes }),
    wsdlDir: opts.wsdlDir ?? WSDL_DIR,
  };
  // every service adapter is built and checked now: a misconfigured one stops the node (Config.InvalidAdapter)
  try {
    await ctx.adapters?.check(snapshot.services.values());
  } catch (err) {
    clearInterval(localTimer);
    await ctx.adapters?.close();
    await backends.close();
    await log.close();
    store.close();
    throw err;
  }

  const health = () => {
    const v = conf.latest();
    const t = now();
    return {
      nodo: settings.nodeName, miembro: `${settings.instance}/${settings.memberClass}/${settings.memberCode}`,
      configuracionGlobal: v === undefined ? null : { serie: v.conf.serial, venceEn: v.conf.expiresAt, vigente: v.expiresAtMs > t.getTime() },
      ultimoError: conf.lastError ?? null,
      ...evidence.health(v?.conf),
      ocsp: ocsp.health(),
    };
  };
  const isServer = createIsServer(ctx, { host: settings.isHost, port: settings.isPort, wsdlDir: opts.wsdlDir ?? WSDL_DIR, health });
  const proxyServer = createProxyServer(ctx, { keyPem: authKey, certPem: authCert, caPems: conf.latest()?.conf.trustedCas ?? [] });
  conf.onChange((v) => {
    proxyServer.setSecureContext({ key: authKey, cert: authCert, ca: [...v.conf.trustedCas] });
    info(`configuración global actualizada: serie ${v.conf.serial}, vence ${v.conf.expiresAt}`);
  });
  conf.start();
  evidence.start();

  const listen = (server: typeof isServer | typeof proxyServer, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  // requests in flight on both listeners, for the drain on close
  const inflight = new Set<ServerResponse>();
  for (const server of [isServer, proxyServer] as const) {
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      inflight.add(res);
      res.once('close', () => inflight.delete(res));
    });
  }
  const isPort = await listen(isServer, settings.isPort, settings.isHost);
  const proxyPort = await listen(proxyServer, settings.proxyPort, settings.proxyHost);

  let closed = false;
  return {
    name: settings.nodeName,
    isUrl: `http://${settings.isHost}:${isPort}/`,
    proxyUrl: `https://${settings.proxyHost}:${proxyPort}`,
    ctx,
    inFlight: () => inflight.size,
    async close(closeOpts = {}) {
      if (closed) return;
      closed = true;
      conf.stop();
      clearInterval(localTimer);
      // stop accepting new connections (idle keep-alive connections are closed too)
      const stopped = Promise.all([new Promise((r) => isServer.close(r)), new Promise((r) => proxyServer.close(r))]);
      const drainMs = closeOpts.drainMs ?? 0;
      if (drainMs > 0 && inflight.size > 0) {
        info(`deteniendo: se esperan ${inflight.size} intercambios en curso (máximo ${Math.round(drainMs / 1000)} s)`);
        const deadline = Date.now() + drainMs;
        while (inflight.size > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          isServer.closeIdleConnections(); // connections whose last answer just went out
          proxyServer.closeIdleConnections();
        }
        if (inflight.size > 0) info(`deteniendo: ${inflight.size} intercambios no terminaron en ${Math.round(drainMs / 1000)} s y se cortan`);
      }
      isServer.closeAllConnections();
      proxyServer.closeAllConnections();
      await stopped;
      await ctx.peers.close();
      await ctx.adapters?.close();
      await ctx.backends.close();
      await evidence.close();
      store.close();
    },
  };
}
