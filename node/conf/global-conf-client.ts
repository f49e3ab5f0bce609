/**
 * Configuration client: downloads the signed global configuration from central, verifies it
 * against the anchor installed on this node, swaps it in atomically, keeps the last good copy on
 * disk, and keeps serving it through a central outage until it expires.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { MiisError } from '../../core/errors.js';
import { verifyGlobalConf } from '../../core/global-conf.js';
import { acceptedAuthCerts, nodeServesMember, type GlobalConf, type GlobalConfNode } from '../../core/global-conf-model.js';
import { parseServiceId, serviceKey } from '../../core/identifiers.js';
import type { SharedConfStore } from '../store/local-store.js';
import { smallRequest } from '../../runtime/small-http.js';

export interface ConfView {
  readonly conf: GlobalConf;
  readonly nodeByName: ReadonlyMap<string, GlobalConfNode>;
  /**
   * Subsystem id → every node that hosts it, in configuration order. A member may serve one
   * subsystem from several nodes (high availability): a consumer fails over between them
   * (node/outbound/provider-failover.ts) and a provider accepts the client from any of them.
   */
  readonly nodesBySubsystem: ReadonlyMap<string, readonly GlobalConfNode[]>;
  /**
   * Owner + address → the auth certificates (SHA-256) of every node of that owner published at that
   * address. Several nodes behind one load balancer (TCP pass-through) share one address: a peer
   * connecting there may meet any of them, and only the owner's own nodes are accepted.
   */
  readonly certsAtAddress: ReadonlyMap<string, readonly string[]>;
  /** Service keys (without version) and full service ids published in the configuration. */
  readonly services: ReadonlySet<string>;
  readonly expiresAtMs: number;
}

function addressKey(node: GlobalConfNode): string {
  return `${node.owner}|${node.address}`;
}

/** The nodes that host a subsystem (empty when none does). */
export function nodesOf(view: ConfView, subsystem: string): readonly GlobalConfNode[] {
  return view.nodesBySubsystem.get(subsystem) ?? [];
}

/**
 * The TLS certificates a consumer accepts when it connects to `node`'s address: the node's own
 * (two during a renewal overlap) and those of the owner's other nodes published at the same address.
 */
export function pinsFor(view: ConfView, node: GlobalConfNode): readonly string[] {
  return view.certsAtAddress.get(addressKey(node)) ?? acceptedAuthCerts(node);
}

export function indexGlobalConf(conf: GlobalConf): ConfView {
  const nodeByName = new Map<string, GlobalConfNode>();
  const nodesBySubsystem = new Map<string, GlobalConfNode[]>();
  const certsAtAddress = new Map<string, string[]>();
  for (const n of conf.nodes) {
    nodeByName.set(n.name, n);
    for (const c of n.clients) {
      // a node serves only its owner's and its hosted members' subsystems (shared nodes: `members`)
      if (!nodeServesMember(n, c.slice(0, c.lastIndexOf('/')))) continue;
      const list = nodesBySubsystem.get(c);
      if (list === undefined) nodesBySubsystem.set(c, [n]);
      else list.push(n);
    }
    const key = addressKey(n);
    const certs = certsAtAddress.get(key) ?? [];
    for (const sha of acceptedAuthCerts(n)) if (!certs.includes(sha)) certs.push(sha);
    certsAtAddress.set(key, certs);
  }
  const services = new Set<string>();
  for (const s of conf.services) {
    services.add(s.id);
    services.add(serviceKey(parseServiceId(s.id)));
  }
  return { conf, nodeByName, nodesBySubsystem, certsAtAddress, services, expiresAtMs: Date.parse(conf.expiresAt) };
}

export interface GlobalConfClient {
  /** The configuration in force; throws OutdatedGlobalConf when there is none or it has expired. */
  current(outdatedCode?: 'Server.ClientProxy.OutdatedGlobalConf' | 'Server.ServerProxy.OutdatedGlobalConf'): ConfView;
  /** The last verified configuration, expired or not. */
  latest(): ConfView | undefined;
  refresh(): Promise<boolean>;
  start(): void;
  stop(): void;
  onChange(listener: (view: ConfView) => void): void;
  readonly lastError: string | undefined;
  /** Set while central publishes a lower serial than the one in force (e.g. central restored without `conf set-serial`). */
  readonly serialWarning: string | undefined;
}

export interface GlobalConfClientOptions {
  /** A function is read before each download: a changed URL (node.json) applies on the next poll. */
  readonly centralUrl: string | (() => string);
  readonly anchorPem: string;
  readonly cachePath: string;
  readonly now: () => Date;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  /** Operational log line (the serial warning goes there once per serial). */
  readonly info?: (line: string) => void;
  /**
   * Instances of one node sharing a PostgreSQL database: every configuration this instance downloads
   * is offered there, and a newer one another instance stored is adopted (verified against the
   * anchor like a download) every `sharedIntervalMs`, so the instances agree on the serial in force
   * within that interval instead of each one's own polling.
   */
  readonly shared?: SharedConfStore;
  readonly sharedIntervalMs?: number;
}

export function createGlobalConfClient(opts: GlobalConfClientOptions): GlobalConfClient {
  let view: ConfView | undefined;
  let timer: NodeJS.Timeout | undefined;
  let sharedTimer: NodeJS.Timeout | undefined;
  let lastError: string | undefined;
  let serialWarning: string | undefined;
  const listeners: ((v: ConfView) => void)[] = [];
  const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;

  const accept = (envelope: Buffer, fromDisk: boolean): boolean => {
    const conf = verifyGlobalConf(envelope, opts.anchorPem, { maxBytes });
    if (view !== undefined && conf.serial < view.conf.serial) {
      if (!fromDisk) {
        const text = `central publica la serie ${conf.serial}, menor que la de este nodo (${view.conf.serial}); se ignora y se sigue usando la actual. ¿Se restauró central sin «miis-central conf set-serial»?`;
        if (text !== serialWarning) opts.info?.(`aviso: ${text}`);
        serialWarning = text;
      }
      return false;
    }
    if (view !== undefined && conf.serial === view.conf.serial) return false;
    view = indexGlobalConf(conf);
    serialWarning = undefined;
    if (!fromDisk) {
      const tmp = `${opts.cachePath}.tmp`;
      writeFileSync(tmp, envelope, { mode: 0o600 });
      renameSync(tmp, opts.cachePath);
    }
    for (const l of listeners) l(view);
    return true;
  };

  try {
    accept(readFileSync(opts.cachePath), true);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') lastError = `copia local descartada: ${(err as Error).message}`;
  }

  /** Adopt a newer configuration another instance stored in the shared database; true when adopted. */
  const syncShared = async (): Promise<boolean> => {
    if (opts.shared === undefined) return false;
    try {
      const stored = await opts.shared.read();
      if (stored === undefined || (view !== undefined && stored.serial <= view.conf.serial)) return false;
      const adopted = accept(stored.envelope, false);
      if (adopted) opts.info?.(`configuración global serie ${stored.serial} tomada de la base compartida (descargada por otra instancia)`);
      return adopted;
    } catch (err) {
      opts.info?.(`aviso: configuración de la base compartida no usada: ${err instanceof MiisError ? err.message : (err as Error).message}`);
      return false;
    }
  };

  /** Offer this instance's configuration to the others (never moves the shared serial back). */
  const offerShared = async (envelope: Buffer): Promise<void> => {
    if (opts.shared === undefined || view === undefined) return;
    try {
      await opts.shared.offer(view.conf.serial, envelope, opts.now());
    } catch (err) {
      opts.info?.(`aviso: no se pudo guardar la configuración en la base compartida: ${(err as Error).message}`);
    }
  };

  const client: GlobalConfClient = {
    current(outdatedCode) {
      if (view === undefined || view.expiresAtMs <= opts.now().getTime()) {
        throw new MiisError(outdatedCode ?? 'Server.ClientProxy.OutdatedGlobalConf');
      }
      return view;
    },
    latest() {
      return view;
    },
    async refresh() {
      const fromShared = await syncShared();
      let centralUrl = '';
      try {
        centralUrl = typeof opts.centralUrl === 'string' ? opts.centralUrl : opts.centralUrl();
        const res = await smallRequest(new URL('/globalconf', centralUrl), {
          timeoutMs: opts.timeoutMs ?? 5000, maxBytes,
          tooLarge: (declared) => `configuración demasiado grande (${declared === undefined ? `más de ${maxBytes}` : declared} bytes)`,
        });
        if (res.status !== 200) throw new Error(`central respondió HTTP ${res.status}`);
        const body = res.body;
        const changed = accept(body, false);
        lastError = undefined;
        if (changed) await offerShared(body);
        return changed;
      } catch (err) {
        lastError = err instanceof MiisError ? err.message : `no se pudo descargar la configuración global de ${centralUrl}: ${(err as Error).message}`;
        return fromShared;
      }
    },
    start() {
      if (timer !== undefined) return;
      timer = setInterval(() => void client.refresh(), opts.intervalMs ?? 30_000);
      timer.unref();
      if (opts.shared !== undefined) {
        sharedTimer = setInterval(() => void syncShared(), opts.sharedIntervalMs ?? 2_000);
        sharedTimer.unref();
      }
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      if (sharedTimer !== undefined) clearInterval(sharedTimer);
      timer = undefined;
      sharedTimer = undefined;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    get lastError() {
      return lastError;
    },
    get serialWarning() {
      return serialWarning;
    },
  };
  return client;
}
