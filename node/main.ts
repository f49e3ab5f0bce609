/**
 * Composition root of the node: opens its stores, loads keys and the global configuration, wires
 * the pipelines and starts both listeners.
 */
import { accessSync, constants as fsConstants, existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { MiisError } from '../core/errors.js';
import { formatClientId, formatServiceId } from '../core/identifiers.js';
import type { NodeContext, NodeLimits } from './pipeline/context.js';
import { DEFAULT_LIMITS } from './pipeline/context.js';
import { createGlobalConfClient } from './conf/global-conf-client.js';
import { createBackendClient, createPeerClient } from './outbound/http-pools.js';
import { isPublicUrlOf, openLocalStore, type LocalSnapshot } from './store/local-store.js';
import { openNodeEvidence } from './evidence/index.js';
import { loadEvidenceSettings, type EvidenceSettings } from './evidence/settings.js';
import { nodePaths, WSDL_DIR } from './store/paths.js';
import { readNodeConfig } from './store/node-config.js';
import { createAdapterRegistry } from './adapters/index.js';
import { createIsServer, createProxyServer, reloadProxyTls } from './listeners.js';
import { createOcspChecker } from './certs/ocsp-checker.js';
import { createSigningIdentity } from './certs/signing-rotation.js';
import { createLogger, lineLogger, type LogFormat, type Logger } from '../runtime/log.js';
import { createNodeMetrics, startMetricsServer, type NodeMetrics } from './ops/metrics.js';
import { createNodeMonitor } from './ops/monitor.js';
import type { Server } from 'node:http';

export interface StartNodeOptions {
  readonly dir: string;
  readonly now?: () => Date;
  /** Legacy one-line log sink; when given without `logger`, the JSON log lines go here too. */
  readonly info?: (line: string) => void;
  /** Structured logger (runtime/log.ts); default: JSON lines (or `logFormat`) on standard error. */
  readonly logger?: Logger;
  readonly logFormat?: LogFormat;
  /** GET /metrics listener (node/ops/metrics.ts); port undefined = off, 0 = any free port. */
  readonly metricsHost?: string;
  readonly metricsPort?: number | undefined;
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
  readonly healthUrl: string;
  /** Undefined when the metrics listener is off. */
  readonly metricsUrl: string | undefined;
  readonly metrics: NodeMetrics;
  readonly logger: Logger;
  readonly ctx: NodeContext;
  close(): Promise<void>;
}

function readRequired(path: string, what: string, hint: string): string {
  if (!existsSync(path)) throw new MiisError('Config.NotInitialized', `falta ${what} (${path}); ${hint}`);
  return readFileSync(path, 'utf8');
}

export async function startNode(opts: StartNodeOptions): Promise<RunningNode> {
  const now = opts.now ?? (() => new Date());
  const paths = nodePaths(opts.dir);
  if (!existsSync(paths.db)) throw new MiisError('Config.NotInitialized', `no hay un nodo en ${opts.dir}; ejecute «miis-node init»`);
  const store = openLocalStore(paths.db);
  if (!store.initialized) throw new MiisError('Config.NotInitialized', `no hay un nodo en ${opts.dir}; ejecute «miis-node init»`);
  const settings = store.settings();
  const sink = opts.info;
  const logger = opts.logger ?? createLogger({
    component: 'node', bindings: { node: settings.nodeName }, now,
    format: opts.logFormat ?? 'json', ...(sink === undefined ? {} : { write: (line: string) => sink(line.trimEnd()) }),
  });
  const info = lineLogger(logger);
  const signKey = readRequired(paths.signKey, 'la clave de firma', 'ejecute «miis-node init»');
  const signCert = readRequired(paths.signCert, 'el certificado de firma', 'importe el emitido por central con «miis-node cert import --sign»');
  const authKey = readRequired(paths.authKey, 'la clave TLS', 'ejecute «miis-node init»');
  const authCert = readRequired(paths.authCert, 'el certificado TLS', 'importe el emitido por central con «miis-node cert import --auth»');
  const anchor = readRequired(paths.anchor, 'el ancla de confianza de central', 'ejecute «miis-node anchor import»');
  if (settings.centralUrl === undefined) throw new MiisError('Config.NotInitialized', 'falta la URL de central; ejecute «miis-node anchor import --url …»');

  // the central URL is read from node.json before each download: «config set centralUrl» and
  // «anchor import --url» apply on the next poll, without restart
  let centralUrl = settings.centralUrl;
  const currentCentralUrl = (): string => {
    try {
      centralUrl = readNodeConfig(opts.dir).centralUrl ?? centralUrl;
    } catch (err) {
      info(`aviso: ${(err as Error).message}; se mantiene la URL de central ${centralUrl}`);
    }
    return centralUrl;
  };
  const nodeConfig = readNodeConfig(opts.dir);
  const metricsPort = opts.metricsPort ?? nodeConfig.metricsPort ?? undefined;
  const metricsHost = opts.metricsHost ?? nodeConfig.metricsHost ?? '127.0.0.1';
  const conf = createGlobalConfClient({ centralUrl: currentCentralUrl, anchorPem: anchor, cachePath: paths.globalConf, now, intervalMs: opts.confIntervalMs ?? 30_000 });
  await conf.refresh();
  if (conf.latest() === undefined) {
    store.close();
    throw new MiisError('Config.NoGlobalConf', `central (${settings.centralUrl}) no responde y no hay copia local${conf.lastError === undefined ? '' : ` — ${conf.lastError}`}`);
  }
  if (conf.lastError !== undefined) logger.warn({ serial: conf.latest()?.conf.serial }, `${conf.lastError}; se usa la copia local`);

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
  let monitorTick = (): void => undefined;
  const localTimer = setInterval(() => {
    monitorTick();
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

  const serverReplay = store.replayMemory('server', limits.replayWindowMs);
  const clientReplay = store.replayMemory('client', limits.replayWindowMs);
  const pruneReplay = (): void => {
    const t = now().getTime();
    serverReplay.prune(t);
    clientReplay.prune(t);
  };
  pruneReplay();
  const replayTimer = setInterval(pruneReplay, 60_000);
  replayTimer.unref();
  const backends = createBackendClient({ maxResponseBytes: limits.maxMessageBytes });
  const metrics = createNodeMetrics(settings.nodeName, {
    confAgeSeconds: () => {
      const v = conf.latest();
      return v === undefined ? undefined : Math.max(0, (now().getTime() - Date.parse(v.conf.generatedAt)) / 1000);
    },
    logQueueDepth: () => log.queueDepth(),
    timestampBacklog: () => evidence.timestamper === undefined ? undefined
      : log.lastSeq() - ((log.db.prepare('SELECT MAX(last_seq) AS s FROM timestamps').get() as { s: number | null }).s ?? 0),
    certificates: () => certificateRows().map((c) => ({ role: c.rol, daysLeft: c.diasRestantes })),
  });
  const certificateRows = () => (evidence.health(conf.latest()?.conf).certificados as { rol: string; estado: string; diasRestantes: number; venceEn: string }[]);
  const peers = createPeerClient({ maxResponseBytes: limits.maxMessageBytes * 2 });
  const adapters = createAdapterRegistry({ now, backends, maxMessageBytes: limits.maxMessageBytes });
  const ctx: NodeContext = {
    now, settings, local: () => snapshot, conf,
    get signer() { return signing.current().signer; },
    get signerSha256() { return signing.current().sha256; },
    ocsp,
    auth: { keyPem: authKey, certPem: authCert }, log,
    peers: { send: (address, ...rest) => metrics.wait('peer', { target: address }, () => peers.send(address, ...rest)), close: () => peers.close() },
    backends,
    replay: serverReplay,
    clientReplay,
    limits, info, evidence,
    adapters: {
      ...adapters,
      async get(service) {
        const adapter = await adapters.get(service);
        return {
          ...adapter,
          call: (request) => metrics.wait('backend', {
            target: service.serviceKey,
            ...(request.header === undefined ? {} : { service: formatServiceId(request.header.service), client: formatClientId(request.header.client) }),
          }, () => adapter.call(request)),
        };
      },
    },
    metrics, logger,
    wsdlDir: opts.wsdlDir ?? WSDL_DIR,
    wsdlDirs: [paths.wsdlDir, opts.wsdlDir ?? WSDL_DIR],
  };
  // every service adapter is built and checked now: a misconfigured one stops the node (Config.InvalidAdapter)
  try {
    await ctx.adapters?.check(snapshot.services.values());
  } catch (err) {
    clearInterval(localTimer);
    clearInterval(replayTimer);
    await ctx.adapters?.close();
    await backends.close();
    await log.close();
    store.close();
    throw err;
  }

  const monitor = createNodeMonitor(logger, {
    now,
    conf: () => {
      const v = conf.latest();
      return v === undefined ? undefined : { expiresAtMs: v.expiresAtMs, serial: v.conf.serial };
    },
    confError: () => conf.lastError,
    tsa: () => evidence.timestamper?.status(),
    evidenceGate: () => evidence.check('Server.ClientProxy.TimestampUnavailable'),
    ocspDown: () => (ocsp.health() as { estado?: string }).estado === 'sin-respuesta',
    certificates: () => certificateRows().map((c) => ({ role: c.rol, state: c.estado, daysLeft: c.diasRestantes, notAfter: c.venceEn })),
    // file permissions only: a write probe could wait on another connection's lock
    probeDatabase: () => {
      for (const f of [paths.messageLog, opts.dir]) accessSync(f, fsConstants.W_OK);
      if (log.db.readonly) throw new Error('base de datos abierta en solo lectura');
    },
  });
  monitor.check();
  monitorTick = () => {
    try {
      monitor.check();
    } catch (err) {
      info(`error en la supervisión del nodo: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const health = () => {
    const v = conf.latest();
    const t = now();
    const ready = monitor.readiness();
    return {
      disponible: ready.ok, motivos: ready.reasons,
      nodo: settings.nodeName, miembro: `${settings.instance}/${settings.memberClass}/${settings.memberCode}`,
      configuracionGlobal: v === undefined ? null : { serie: v.conf.serial, venceEn: v.conf.expiresAt, vigente: v.expiresAtMs > t.getTime() },
      ultimoError: conf.lastError ?? null,
      ...evidence.health(v?.conf),
      ocsp: ocsp.health(),
    };
  };
  const isServer = createIsServer(ctx, { publicUrl: isPublicUrlOf(settings), wsdlDir: opts.wsdlDir ?? WSDL_DIR, wsdlDirs: [paths.wsdlDir, opts.wsdlDir ?? WSDL_DIR], health });
  const proxyServer = createProxyServer(ctx, { keyPem: authKey, certPem: authCert, caPems: conf.latest()?.conf.trustedCas ?? [] });
  conf.onChange((v) => {
    reloadProxyTls(proxyServer, { keyPem: authKey, certPem: authCert, caPems: v.conf.trustedCas });
    logger.info({ event: 'globalconf-update', serial: v.conf.serial, expiresAt: v.conf.expiresAt }, 'configuración global actualizada');
  });
  conf.start();
  evidence.start();

  const listen = (server: typeof isServer | typeof proxyServer, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  const isPort = await listen(isServer, settings.isPort, settings.isHost);
  const proxyPort = await listen(proxyServer, settings.proxyPort, settings.proxyHost);
  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  if (metricsPort !== undefined) {
    try {
      ({ server: metricsServer, url: metricsUrl } = await startMetricsServer(metrics, metricsHost, metricsPort));
    } catch (err) {
      isServer.close();
      proxyServer.close();
      throw new MiisError('Config.InvalidInput', `no se pudo abrir el puerto de métricas ${metricsHost}:${metricsPort} (metricsPort en node.json): ${(err as Error).message}`);
    }
  }
  logger.info({ event: 'start', isPort, proxyPort, metricsUrl: metricsUrl ?? null }, 'nodo iniciado');

  let closed = false;
  return {
    name: settings.nodeName,
    isUrl: `http://${settings.isHost}:${isPort}/`,
    proxyUrl: `https://${settings.proxyHost}:${proxyPort}`,
    healthUrl: `http://${settings.isHost}:${isPort}/health`,
    metricsUrl, metrics, logger,
    ctx,
    async close() {
      if (closed) return;
      closed = true;
      conf.stop();
      clearInterval(localTimer);
      clearInterval(replayTimer);
      isServer.closeAllConnections();
      proxyServer.closeAllConnections();
      metricsServer?.closeAllConnections();
      await Promise.all([new Promise((r) => isServer.close(r)), new Promise((r) => proxyServer.close(r)), new Promise((r) => (metricsServer === undefined ? r(undefined) : metricsServer.close(r)))]);
      await ctx.peers.close();
      await ctx.adapters?.close();
      await ctx.backends.close();
      await evidence.close();
      store.close();
      logger.info({ event: 'stop' }, 'nodo detenido');
    },
  };
}
