/**
 * Consumer-side failover between the nodes of a provider member (high availability): a small
 * in-memory scoreboard orders the nodes that host the provider's subsystem by recent success
 * (EWMA of exchange latency; a node that just failed goes to the back for a while), and a request
 * moves on to the next node ONLY when the previous one failed before the request left this node
 * (connection refused, TLS handshake or pin failure, connect timeout, reset while connecting).
 * Once a connection carried the request it may have been executed: a timeout or a cut connection
 * is reported for that node and the request is never sent to a second one.
 */
import { MiisError } from '../../core/errors.js';
import type { GlobalConfNode } from '../../core/global-conf-model.js';

export interface ScoreboardOptions {
  /** Weight of the newest latency sample in the moving average (0 < alpha ≤ 1). */
  readonly alpha?: number;
  /** How long a node that failed stays at the back of the order. */
  readonly penaltyMs?: number;
}

export interface NodeScore {
  readonly name: string;
  /** Moving average of the exchange latency (ms), undefined until the first success. */
  readonly latencyMs: number | undefined;
  /** Instant (ms) until which the node is kept at the back, 0 when it is not. */
  readonly backOffUntilMs: number;
  readonly failures: number;
}

export interface Scoreboard {
  /**
   * The nodes in the order to try them: nodes not backed off first, fastest first (a node never
   * measured counts as fastest, so each is tried once); then backed-off nodes, soonest back first.
   * Ties keep the configuration order.
   */
  order(nodes: readonly GlobalConfNode[], nowMs: number): GlobalConfNode[];
  success(name: string, latencyMs: number): void;
  failure(name: string, nowMs: number): void;
  scores(): readonly NodeScore[];
}

export const DEFAULT_PENALTY_MS = 30_000;
export const DEFAULT_ALPHA = 0.3;

export function createScoreboard(opts: ScoreboardOptions = {}): Scoreboard {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const penaltyMs = opts.penaltyMs ?? DEFAULT_PENALTY_MS;
  const table = new Map<string, { latencyMs: number | undefined; backOffUntilMs: number; failures: number }>();
  const entry = (name: string) => {
    let e = table.get(name);
    if (e === undefined) {
      if (table.size > 1024) table.clear(); // node names come from the global configuration; a bound all the same
      e = { latencyMs: undefined, backOffUntilMs: 0, failures: 0 };
      table.set(name, e);
    }
    return e;
  };
  return {
    order(nodes, nowMs) {
      if (nodes.length < 2) return [...nodes];
      const keyed = nodes.map((node, i) => {
        const e = table.get(node.name);
        const backedOff = e !== undefined && e.backOffUntilMs > nowMs;
        return { node, i, backedOff, until: e?.backOffUntilMs ?? 0, latency: e?.latencyMs ?? 0 };
      });
      keyed.sort((a, b) => {
        if (a.backedOff !== b.backedOff) return a.backedOff ? 1 : -1;
        if (a.backedOff && a.until !== b.until) return a.until - b.until;
        if (!a.backedOff && a.latency !== b.latency) return a.latency - b.latency;
        return a.i - b.i;
      });
      return keyed.map((k) => k.node);
    },
    success(name, latencyMs) {
      const e = entry(name);
      const sample = Math.max(0, latencyMs);
      e.latencyMs = e.latencyMs === undefined ? sample : alpha * sample + (1 - alpha) * e.latencyMs;
      e.backOffUntilMs = 0;
      e.failures = 0;
    },
    failure(name, nowMs) {
      const e = entry(name);
      e.failures += 1;
      e.backOffUntilMs = nowMs + penaltyMs;
    },
    scores() {
      return [...table.entries()].map(([name, e]) => ({ name, ...e }));
    },
  };
}

export interface FailoverOptions<T> {
  readonly scoreboard: Scoreboard;
  readonly nowMs: () => number;
  /** Send the request to one node; rejects with a MiisError whose cause chain tells what failed. */
  readonly attempt: (node: GlobalConfNode) => Promise<T>;
  /** True when the failure happened before the request left this node (safe to try another node). */
  readonly notSent: (err: unknown) => boolean;
  /** Operational log line (a failover is worth one line). */
  readonly info?: (line: string) => void;
}

/**
 * Try the provider's nodes in the scoreboard's order until one answers. Returns the answer and the
 * node that gave it. A failure after the request may have been sent ends the exchange with a fault
 * that names the node and says the request may have been executed.
 */
export async function sendWithFailover<T>(nodes: readonly GlobalConfNode[], opts: FailoverOptions<T>): Promise<{ reply: T; node: GlobalConfNode }> {
  if (nodes.length === 0) throw new MiisError('Server.ClientProxy.NetworkError', 'ningún nodo atiende al proveedor');
  const order = opts.scoreboard.order(nodes, opts.nowMs());
  const refused: { node: GlobalConfNode; err: unknown }[] = [];
  for (const node of order) {
    const started = opts.nowMs();
    try {
      const reply = await opts.attempt(node);
      opts.scoreboard.success(node.name, opts.nowMs() - started);
      if (refused.length > 0) opts.info?.(`conmutación: ${describeRefused(refused)}; respondió el nodo ${node.name}`);
      return { reply, node };
    } catch (err) {
      if (opts.notSent(err)) {
        opts.scoreboard.failure(node.name, opts.nowMs());
        refused.push({ node, err });
        continue;
      }
      throw blameNode(err, node, nodes.length > 1);
    }
  }
  // every node failed before the request left: nothing was executed anywhere
  const codes = refused.map((r) => (r.err instanceof MiisError ? r.err.code : undefined));
  if (codes.every((c) => c === 'Server.ClientProxy.SslAuthenticationFailed')) {
    throw new MiisError('Server.ClientProxy.SslAuthenticationFailed', describeRefused(refused), { cause: refused[0]?.err });
  }
  throw new MiisError('Server.ClientProxy.NetworkError', `${describeRefused(refused)}; la solicitud no se envió`, { cause: refused[0]?.err });
}

function describeRefused(refused: readonly { node: GlobalConfNode; err: unknown }[]): string {
  return refused.map((r) => `nodo ${r.node.name} (${r.node.address}): ${reasonOf(r.err)}`).join('; ');
}

function reasonOf(err: unknown): string {
  let e: unknown = err;
  for (let i = 0; i < 6 && typeof e === 'object' && e !== null; i += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && !code.includes('.')) return code; // ECONNREFUSED, UND_ERR_CONNECT_TIMEOUT, …
    e = (e as { cause?: unknown }).cause;
  }
  return err instanceof MiisError ? err.code : 'error';
}

/** The fault for a failure once the request may have reached `node`: it names the node, and is never retried elsewhere. */
function blameNode(err: unknown, node: GlobalConfNode, several: boolean): unknown {
  if (!(err instanceof MiisError)) return err;
  const tail = several ? '; la solicitud pudo haberse ejecutado y no se reenvió a otro nodo' : '; la solicitud pudo haberse ejecutado';
  if (err.code === 'Server.ClientProxy.Timeout') {
    return new MiisError('Server.ClientProxy.Timeout', `nodo ${node.name}, ${err.detail}${tail}`, { cause: err.cause ?? err, faultId: err.faultId });
  }
  if (err.code === 'Server.ClientProxy.NetworkError') {
    return new MiisError('Server.ClientProxy.NetworkError', `nodo ${node.name} ${err.detail}: la conexión se cortó después de enviar la solicitud${tail}`, { cause: err.cause ?? err, faultId: err.faultId });
  }
  return err;
}
