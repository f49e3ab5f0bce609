/**
 * Composition root of the node: opens its stores, loads keys and the global configuration, wires
 * the pipelines and starts both listeners.
 */
import type { MessageLog } from './evidence/message-log.js';
import { openPgMessageLog, type SharedMessageLog } from './evidence/pg-message-log.js';
import { loadLogCipher } from './evidence/index.js';
import { resolveDatabase } from './store/database.js';
import { createSnapshotCache, notInitialized, openNodeStore } from './store/node-store.js';
import { isSensitiveService } from './evidence/settings.js';
import { accessSync, constants as fsConstants, existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { certMatchesKey, certificateInfo } from '../core/pki.js';
import { acceptedAuthCerts } from '../core/global-conf-model.js';
import type { AddressInfo } from 'node:net';
import { MiisError } from '../core/errors.js';
import { formatClientId, formatMemberId, formatServiceId, parseServiceId } from '../core/identifiers.js';
import { providerSigning } from './pipeline/server-proxy.js';
import { logReplayMemory, type ReplayCheck } from './pipeline/replay-guard.js';
import type { NodeContext, NodeLimits } from './pipeline/context.js';
import { DEFAULT_LIMITS } from './pipeline/context.js';
import { createGlobalConfClient } from './conf/global-conf-client.js';
import { createBackendClient, createPeerClient } from './outbound/http-pools.js';
import { createScoreboard } from './outbound/provider-failover.js';
import { isPublicUrlOf } from './store/local-store.js';
import { openNodeEvidence } from './evidence/index.js';
import { loadEvidenceSettings, type EvidenceSettings } from './evidence/settings.js';
import { nodePaths, WSDL_DIR } from './store/paths.js';
import { readNodeConfig } from './store/node-config.js';
import { createAdapterRegistry } from './adapters/index.js';
import { createIsServer, createProxyServer, reloadProxyTls } from './listeners.js';
import { createOcspChecker } from './certs/ocsp-checker.js';
import { createSigningIdentity } from './certs/signing-rotation.js';
import { createHostedSigners } from './certs/hosted-members.js';
import { createLogger, lineLogger, type LogFormat, type Logger } from '../runtime/log.js';
import type { NodeMetrics } from './ops/metrics.js';
import { createNodeMonitor } from './ops/monitor.js';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { openBatchStore, type BatchStore } from './store/batch-store.js';
import { createBatchRunner, markInterrupted, type BatchRunner } from './pipeline/batch-consumer.js';
import type { BatchManifest } from './pipeline/batch-format.js';
import { DELIVERY_REPORT_PATH, signDeliveryReport } from '../core/delivery-report.js';

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
  /** Undefined when the metrics listener is off (prom-client is then never loaded). */
  readonly metrics: NodeMetrics | undefined;
  readonly logger: Logger;
  /** ctx.log: the SQLite log (MessageLog), or the PostgreSQL one (SharedMessageLog, which has `engine`). */
  readonly ctx: NodeContext<MessageLog | SharedMessageLog>;
  /** Batch exchanges (lotes) of this node as consumer; absent on PostgreSQL. */
  readonly batches: BatchRunner | undefined;
  /**
   * Stop the node. With `drainMs` > 0 (what `serve` does on SIGTERM): stop accepting, let the
   * exchanges in flight finish for up to `drainMs`, then close what is left, flush the message
   * log and release everything. Without it, open connections are closed at once.
   */
  close(opts?: { drainMs?: number }): Promise<void>;
  /** Requests being answered now on all listeners. */
  inFlight(): number;
  /** Ports the node-to-node listeners are bound to now (two during an address change). */
  proxyPorts(): number[];
  /**
   * What SIGHUP does: read the TLS certificate and key again (also done every second on its own),
   * and stop the node-to-node listeners on ports that are no longer the configured one, after
   * their exchanges in flight finish (address change, see docs/operator-guide.md).
   */
  reload(): Promise<void>;
}

function readRequired(path: string, what: string, hint: string): string {
  if (!existsSync(path)) throw new MiisError('Config.NotInitialized', `falta ${what} (${path}); ${hint}`);
  return readFileSync(path, 'utf8');
}

export async function startNode(opts: StartNodeOptions): Promise<RunningNode> {
  const now = opts.now ?? (() => new Date());
  const paths = nodePaths(opts.dir);
  const database = resolveDatabase(opts.dir);
  if (database.engine === 'sqlite' && !existsSync(paths.db)) throw notInitialized(opts.dir);
  const store = await openNodeStore(opts.dir, database);
  if (!(await store.initialized())) {
    await store.close();
    throw notInitialized(opts.dir);
  }
  const settings = await store.settings();
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
  const conf = createGlobalConfClient({ centralUrl: currentCentralUrl, anchorPem: anchor, cachePath: paths.globalConf, now, intervalMs: opts.confIntervalMs ?? 30_000, info, shared: store.sharedConf });
  await conf.refresh();
  if (conf.latest() === undefined) {
    await store.close();
    throw new MiisError('Config.NoGlobalConf', `central (${settings.centralUrl}) no responde y no hay copia local${conf.lastError === undefined ? '' : ` — ${conf.lastError}`}`);
  }
  if (conf.lastError !== undefined) logger.warn({ serial: conf.latest()?.conf.serial }, `${conf.lastError}; se usa la copia local`);

  const limits: NodeLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const evidenceSettings = opts.evidence ?? loadEvidenceSettings(opts.dir);
  // PostgreSQL: this instance's chain in the shared log (node/evidence/pg-message-log.ts)
  const pgCipher = database.engine === 'postgresql' ? loadLogCipher(opts.dir, evidenceSettings, now()) : undefined;
  const sharedLog = database.engine === 'postgresql'
    ? await openPgMessageLog({
      database, cipher: pgCipher, sealNew: evidenceSettings.encryptLog, faultsPerMinute: evidenceSettings.faultLog.perSourcePerMinute,
      metadataOnly: evidenceSettings.sensitiveServices.length === 0 ? undefined : (service) => isSensitiveService(evidenceSettings, service),
      onWriteError: (err) => logger.error({ err: err instanceof Error ? err.message : String(err) }, 'registro de mensajes: no se pudo escribir un lote en PostgreSQL; sus intercambios fallan con MessageLogUnavailable y el siguiente lote se reconecta'),
    }).catch(async (err: unknown) => {
      await store.close();
      throw err;
    })
    : undefined;
  if (sharedLog !== undefined) info(`base de datos PostgreSQL ${database.engine === 'postgresql' ? database.display : ''}, instancia ${sharedLog.instanceId}`);
  const evidence = openNodeEvidence({
    ...(sharedLog === undefined ? {} : { sharedLog, cipher: pgCipher }),
    dir: opts.dir, settings: evidenceSettings, centralUrl: settings.centralUrl,
    trustedCas: () => conf.latest()?.conf.trustedCas ?? [], now, info,
  });
  const log = evidence.log;
  const signing = createSigningIdentity(opts.dir, signKey, signCert, info);
  // shared node: the hosted members' signing keys, a map rebuilt only when their files change
  const hosted = createHostedSigners(opts.dir, info);
  const ocsp = createOcspChecker({ settings: evidenceSettings.ocsp, now, info });
  let listenersUp = false; // the timer below follows settings and TLS files once the listeners exist
  const snapshots = await createSnapshotCache(store);
  let monitorTick = (): void => undefined;
  const localTimer = setInterval(() => {
    monitorTick();
    snapshots.refresh().catch((err: unknown) => info(`ajustes locales: no se pudieron releer (${err instanceof Error ? err.message : String(err)}); se siguen usando los anteriores`));
    if (listenersUp) {
      // the store not answering (PostgreSQL restarting) is reported by the refresh above; retried in 1 s
      followProxyPort().catch(() => undefined);
      reloadAuth();
    }
    try {
      signing.reload(); // key rotation (node/certs/signing-rotation.ts): a new pair is used without restart
    } catch (err) {
      info(`certificado de firma: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      hosted.reload(); // a hosted member added or its certificate imported (node/certs/hosted-members.ts)
    } catch (err) {
      info(`miembros alojados: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, 1000);
  localTimer.unref();

  // replay memory (node/pipeline/replay-guard.ts): on SQLite the message log's request records, checked
  // in the transaction that appends them (node.db is not written per exchange); on PostgreSQL the
  // node database's table, shared by the instances, pruned every minute
  const replayInLog = store.engine === 'sqlite' && !('engine' in log);
  const serverMemory = store.replayMemory('server', limits.replayWindowMs);
  const clientMemory = store.replayMemory('client', limits.replayWindowMs);
  const serverReplay: ReplayCheck = replayInLog ? logReplayMemory(limits.replayWindowMs) : serverMemory;
  const clientReplay: ReplayCheck = replayInLog ? logReplayMemory(limits.replayWindowMs) : clientMemory;
  const pruneReplay = (): void => {
    const t = now().getTime();
    Promise.all([serverMemory.prune(t), clientMemory.prune(t)]).catch((err: unknown) => info(`memoria de mensajes repetidos: ${err instanceof Error ? err.message : String(err)}`));
  };
  // SQLite: once, for rows an older version left in node.db
  pruneReplay();
  const replayTimer = replayInLog ? undefined : setInterval(pruneReplay, 60_000);
  replayTimer?.unref();

  // the node's TLS identity: re-read when auth.pem / keys/auth-key.pem change (checked every second and on reload)
  let auth = { keyPem: authKey, certPem: authCert };
  let rejectedAuth = '';
  const reloadAuth = (): void => {
    let keyPem: string;
    let certPem: string;
    try {
      keyPem = readFileSync(paths.authKey, 'utf8');
      certPem = readFileSync(paths.authCert, 'utf8');
    } catch {
      return;
    }
    if (keyPem === auth.keyPem && certPem === auth.certPem) return;
    if (!certMatchesKey(certPem, keyPem)) {
      if (rejectedAuth !== certPem + keyPem) info('certificado TLS: auth.pem no corresponde a keys/auth-key.pem; se sigue usando el anterior');
      rejectedAuth = certPem + keyPem;
      return;
    }
    auth = { keyPem, certPem };
    for (const server of proxyServers.values()) reloadProxyTls(server, { keyPem, certPem, caPems: conf.latest()?.conf.trustedCas ?? [] });
    info(`certificado TLS recargado sin reinicio: SHA-256 ${certificateInfo(certPem).sha256}`);
  };

  const backends = createBackendClient({ maxResponseBytes: limits.maxMessageBytes });
  // metrics only with their listener: prom-client (~13 MB) and the per-exchange timing scope
  // (AsyncLocalStorage) cost nothing when nobody scrapes them
  const metricsModule = metricsPort === undefined ? undefined : await import('./ops/metrics.js');
  const metrics = metricsModule?.createNodeMetrics(settings.nodeName, {
    confAgeSeconds: () => {
      const v = conf.latest();
      return v === undefined ? undefined : Math.max(0, (now().getTime() - Date.parse(v.conf.generatedAt)) / 1000);
    },
    logQueueDepth: () => log.queueDepth(),
    // PostgreSQL: not reported yet (the figure would need a query per scrape)
    timestampBacklog: () => evidence.timestamper === undefined || 'engine' in log ? undefined
      : log.lastSeq() - ((log.db.prepare('SELECT MAX(last_seq) AS s FROM timestamps').get() as { s: number | null }).s ?? 0),
    certificates: () => certificateRows().map((c) => ({ role: c.rol, daysLeft: c.diasRestantes })),
  });
  const certificateRows = () => (evidence.health(conf.latest()?.conf).certificados as { rol: string; estado: string; diasRestantes: number; venceEn: string }[]);
  const peers = createPeerClient({ maxResponseBytes: limits.maxMessageBytes * 2, connectTimeoutMs: limits.peerConnectTimeoutMs });
  const providerScores = createScoreboard({ penaltyMs: limits.failoverPenaltyMs });
  const adapters = createAdapterRegistry({ now, backends, maxMessageBytes: limits.maxMessageBytes });
  const ctx: NodeContext<MessageLog | SharedMessageLog> = {
    now, settings, local: snapshots.current, conf,
    get signer() { return signing.current().signer; },
    get signerSha256() { return signing.current().sha256; },
    hostedSigning: hosted.get,
    ocsp,
    get auth() { return auth; },
    log,
    providerScores,
    peers: metrics === undefined ? peers : { send: (address, ...rest) => metrics.wait('peer', { target: address }, () => peers.send(address, ...rest)), close: () => peers.close() },
    backends,
    replay: serverReplay,
    clientReplay,
    limits, info, evidence,
    adapters: metrics === undefined ? adapters : {
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
    await ctx.adapters?.check(snapshots.current().services.values());
  } catch (err) {
    clearInterval(localTimer);
    clearInterval(replayTimer);
    await ctx.adapters?.close();
    await backends.close();
    await log.close();
    await store.close();
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
      if ('engine' in log) return; // PostgreSQL: a failing write shows up in the exchanges themselves
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
    const ownTls = certificateInfo(auth.certPem).sha256;
    const own = v?.nodeByName.get(settings.nodeName);
    return {
      disponible: ready.ok, motivos: ready.reasons,
      nodo: settings.nodeName, miembro: `${settings.instance}/${settings.memberClass}/${settings.memberCode}`,
      configuracionGlobal: v === undefined ? null : { serie: v.conf.serial, venceEn: v.conf.expiresAt, vigente: v.expiresAtMs > t.getTime() },
      ultimoError: conf.lastError ?? null,
      // central publishes a lower serial than ours (restored without conf set-serial): the node keeps its own
      alertaSerie: conf.serialWarning ?? null,
      ...evidence.health(v?.conf),
      ocsp: ocsp.health(),
      // false: the local TLS certificate is not (yet) among those central publishes for this node
      certificadoTls: { sha256: ownTls, publicadoPorCentral: own === undefined ? null : acceptedAuthCerts(own).includes(ownTls) },
    };
  };
  // batch exchanges (lotes): state in node.db (SQLite only for now), files under <dir>/lotes/
  const batchStore: BatchStore | undefined = database.engine === 'sqlite' ? openBatchStore(paths.db) : undefined;
  if (batchStore !== undefined) markInterrupted(batchStore, now());
  const batches = batchStore === undefined ? undefined : createBatchRunner(ctx, batchStore, opts.dir);
  // provider: a batch whose last chunk is done is reported to central, signed by the service's member (central/governance/deliveries.ts)
  const batchDelivered = (m: BatchManifest, receivedAt: string): void => {
    const centralUrl = settings.centralUrl;
    if (centralUrl === undefined) return;
    const at = now();
    const service = parseServiceId(m.service);
    const body = JSON.stringify(signDeliveryReport({
      provider: formatMemberId(service), batchId: m.batchId, client: m.client, service: m.service,
      convenio: m.convenio, trama: m.trama, fileSha256: m.file.sha256, records: m.file.records, chunks: m.chunks.length,
      receivedAt, completedAt: at.toISOString(), createdAt: at.toISOString(),
    }, providerSigning(ctx, { service }).signer));
    fetch(new URL(DELIVERY_REPORT_PATH, centralUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) })
      .then(async (res) => { if (res.status !== 201) info(`lote ${m.batchId}: central no registró la entrega (HTTP ${res.status}: ${(await res.text()).slice(0, 200)})`); })
      .catch((err: unknown) => info(`lote ${m.batchId}: no se pudo informar la entrega a central (${err instanceof Error ? err.message : String(err)})`));
  };
  const isServer = createIsServer(ctx, {
    publicUrl: isPublicUrlOf(settings), wsdlDir: opts.wsdlDir ?? WSDL_DIR, wsdlDirs: [paths.wsdlDir, opts.wsdlDir ?? WSDL_DIR], health,
    batches: batches === undefined ? undefined : { runner: batches, uploadDir: join(opts.dir, 'lotes') },
  });
  const proxyServers = new Map<number, HttpsServer>();
  conf.onChange((v) => {
    for (const server of proxyServers.values()) reloadProxyTls(server, { keyPem: auth.keyPem, certPem: auth.certPem, caPems: v.conf.trustedCas });
    logger.info({ event: 'globalconf-update', serial: v.conf.serial, expiresAt: v.conf.expiresAt }, 'configuración global actualizada');
  });
  conf.start();
  evidence.start();

  const listen = (server: HttpServer | HttpsServer, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  // requests in flight per listener, for the drain on close and when an old port is let go
  const inflight = new Map<HttpServer | HttpsServer, Set<ServerResponse>>();
  const track = (server: HttpServer | HttpsServer): void => {
    const set = new Set<ServerResponse>();
    inflight.set(server, set);
    server.on('request', (_req: IncomingMessage, res: ServerResponse) => {
      set.add(res);
      res.once('close', () => set.delete(res));
    });
  };
  const inFlight = (): number => [...inflight.values()].reduce((n, set) => n + set.size, 0);
  /** Stop accepting, wait (up to drainMs) for the requests in flight, then close what is left. */
  const drainAndClose = async (servers: readonly (HttpServer | HttpsServer)[], drainMs: number): Promise<void> => {
    const stopped = Promise.all(servers.map((server) => new Promise((r) => server.close(r))));
    const pending = (): number => servers.reduce((n, server) => n + (inflight.get(server)?.size ?? 0), 0);
    if (drainMs > 0 && pending() > 0) {
      info(`deteniendo: se esperan ${pending()} intercambios en curso (máximo ${Math.round(drainMs / 1000)} s)`);
      const deadline = Date.now() + drainMs;
      while (pending() > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        for (const server of servers) server.closeIdleConnections(); // connections whose last answer just went out
      }
      if (pending() > 0) info(`deteniendo: ${pending()} intercambios no terminaron en ${Math.round(drainMs / 1000)} s y se cortan`);
    }
    for (const server of servers) server.closeAllConnections();
    await stopped;
    for (const server of servers) inflight.delete(server);
  };
  let proxyHost = settings.proxyHost;
  const openProxyListener = async (port: number): Promise<number> => {
    const server = createProxyServer(ctx, { keyPem: auth.keyPem, certPem: auth.certPem, caPems: conf.latest()?.conf.trustedCas ?? [], batchStore, batchDelivered });
    track(server);
    const bound = await listen(server, port, proxyHost);
    proxyServers.set(bound, server);
    return bound;
  };
  /** A new proxy port in the settings (miis-node address set): listen there too, at once; the old port stays until reload(). */
  let seenProxyPort = settings.proxyPort; // as configured (0 = any free port, tests)
  let wantedProxyPort = 0; // the bound port of the listener for the configured one
  const followProxyPort = async (): Promise<void> => {
    const s = await store.settings();
    if (s.proxyPort === seenProxyPort && s.proxyHost === proxyHost) return;
    seenProxyPort = s.proxyPort;
    proxyHost = s.proxyHost;
    if (proxyServers.has(s.proxyPort)) {
      wantedProxyPort = s.proxyPort;
      return;
    }
    try {
      const bound = await openProxyListener(s.proxyPort);
      wantedProxyPort = bound;
      info(`puerto entre nodos: se escucha también en ${proxyHost}:${bound}; el anterior se cierra con «systemctl reload» (SIGHUP) cuando central publique la dirección nueva y los demás nodos la hayan descargado`);
    } catch (err) {
      info(`puerto entre nodos: no se pudo escuchar en ${proxyHost}:${s.proxyPort}: ${(err as Error).message}`);
    }
  };

  let metricsServer: Server | undefined;
  let metricsUrl: string | undefined;
  /** Stop timers, listeners and stores: on close(), and when a listener cannot open at start. */
  const shutdown = async (drainMs: number): Promise<void> => {
    const batchesStopped = batches?.stop(); // no new chunk from now on; chunks in flight are awaited, not committed
    conf.stop();
    clearInterval(localTimer);
    clearInterval(replayTimer);
    // stop accepting new connections, let the exchanges in flight finish (up to drainMs)
    metricsServer?.closeAllConnections();
    await Promise.all([
      drainAndClose([isServer, ...proxyServers.values()], drainMs),
      new Promise((r) => (metricsServer === undefined ? r(undefined) : metricsServer.close(r))),
    ]);
    await batchesStopped;
    await ctx.peers.close();
    await ctx.adapters?.close();
    await ctx.backends.close();
    await evidence.close();
    batchStore?.close();
    await store.close();
  };
  /** Open one listener; a port taken (or not allowed) stops the whole node with a message that names it, instead of leaving it half started. */
  const opening = async <T>(what: string, open: () => Promise<T>): Promise<T> => {
    try {
      return await open();
    } catch (err) {
      await shutdown(0).catch(() => undefined);
      throw new MiisError('Config.InvalidInput', `no se pudo abrir ${what}: ${(err as Error).message}`);
    }
  };

  track(isServer);
  const isPort = await opening(`el puerto de los sistemas de información ${settings.isHost}:${settings.isPort} (isPort en node.json o «miis-node address set»)`,
    () => listen(isServer, settings.isPort, settings.isHost));
  const proxyPort = await opening(`el puerto entre nodos ${proxyHost}:${settings.proxyPort} (proxyPort en node.json o «miis-node address set»)`,
    () => openProxyListener(settings.proxyPort));
  wantedProxyPort = proxyPort;
  listenersUp = true;
  if (metricsPort !== undefined && metricsModule !== undefined && metrics !== undefined) {
    const m = metricsModule;
    const registry = metrics;
    ({ server: metricsServer, url: metricsUrl } = await opening(`el puerto de métricas ${metricsHost}:${metricsPort} (metricsPort en node.json)`,
      () => m.startMetricsServer(registry, metricsHost, metricsPort)));
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
    batches,
    inFlight,
    proxyPorts: () => [...proxyServers.values()].map((server) => (server.address() as AddressInfo).port),
    async reload() {
      reloadAuth();
      hosted.reload();
      await followProxyPort();
      const old = [...proxyServers.entries()].filter(([port]) => port !== wantedProxyPort);
      if (old.length === 0) return;
      for (const [port] of old) proxyServers.delete(port);
      info(`puerto entre nodos: se deja de escuchar en ${old.map(([port]) => port).join(', ')} (se terminan los intercambios en curso)`);
      await drainAndClose(old.map(([, server]) => server), 30_000);
    },
    async close(closeOpts = {}) {
      if (closed) return;
      closed = true;
      await shutdown(closeOpts.drainMs ?? 0);
      logger.info({ event: 'stop' }, 'nodo detenido');
    },
  };
}
