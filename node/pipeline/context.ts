/**
 * Everything a pipeline step needs, wired once by the composition root (node/main.ts).
 * Time comes from `now`; storage, transport and keys are injected here and nowhere else.
 */
import type { FaultCode } from '../../core/errors.js';
import { formatMemberId, sameMember, type MemberId } from '../../core/identifiers.js';
import type { Signer } from '../../core/signature.js';
import type { AdapterRegistry } from '../adapters/index.js';
import type { GlobalConfClient } from '../conf/global-conf-client.js';
import type { BackendClient, PeerClient } from '../outbound/http-pools.js';
import type { Scoreboard } from '../outbound/provider-failover.js';
import type { LocalSnapshot, NodeSettings } from '../store/local-store.js';
import type { AppendOptions, FaultEvent, LogRecord } from '../evidence/message-log.js';

export interface ExchangeLog {
  /** `opts.replayWindowMs`: only given to a log that honours it (the SQLite MessageLog; see ReplayCheck.inLog). */
  append(record: LogRecord, opts?: AppendOptions): Promise<void>;
  recordFault(event: FaultEvent, source?: string): void | Promise<void>;
}
import type { OcspChecker } from '../certs/ocsp-checker.js';
import type { ReplayCheck } from './replay-guard.js';
import type { NodeMetrics } from '../ops/metrics.js';
import type { Logger } from '../../runtime/log.js';

export interface NodeLimits {
  /** Largest SOAP message accepted from an IS, a peer or a backend. */
  readonly maxMessageBytes: number;
  /** How long the client node waits for the provider node. */
  readonly peerTimeoutMs: number;
  /** How long a (client, message id) pair is remembered to refuse replays (SQLite: the message log's request records; PostgreSQL: the node database). */
  readonly replayWindowMs: number;
  /** Both listeners: a request's headers must arrive within this time (slow clients are shed). */
  readonly headersTimeoutMs: number;
  /** Both listeners: the whole request (headers and body) must arrive within this time. */
  readonly requestTimeoutMs: number;
  /** IS port: an idle keep-alive connection is closed after this time. */
  readonly keepAliveTimeoutMs: number;
  /**
   * Node-to-node port: an idle keep-alive connection of an authenticated peer node is closed after
   * this time. Longer than the IS port's: a new connection between nodes costs a full mutual TLS
   * handshake (key exchange, a signature and a certificate check on each side), so a consumer that
   * calls every few seconds keeps its connection (one exchange every ~6 s on the reference VM:
   * 13.5 → 8.6 ms added at p50, docs/performance-log.md «Stop 19»).
   */
  readonly peerKeepAliveTimeoutMs: number;
  /** How often the listeners look for connections past those timeouts. */
  readonly connectionsCheckingIntervalMs: number;
  /** Node-to-node port: the TLS handshake must finish within this time. */
  readonly handshakeTimeoutMs: number;
  /** Consumer side: opening a connection to a provider's node (TCP and TLS) must finish within this time, else the next node is tried. */
  readonly peerConnectTimeoutMs: number;
  /** Consumer side: a provider's node that failed before the request was sent is tried last for this long. */
  readonly failoverPenaltyMs: number;
}

export const DEFAULT_LIMITS: NodeLimits = {
  maxMessageBytes: 2 * 1024 * 1024, peerTimeoutMs: 30_000, replayWindowMs: 10 * 60_000,
  headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, peerKeepAliveTimeoutMs: 60_000, connectionsCheckingIntervalMs: 1_000, handshakeTimeoutMs: 10_000,
  peerConnectTimeoutMs: 5_000, failoverPenaltyMs: 30_000,
};

/** A provider's service timeout stays this much below the peer timeout (the client node's wait). */
export const SERVICE_TIMEOUT_MARGIN_MS = 5_000;

/** The longest backend timeout a provider uses: peer timeout minus the margin, at least 100 ms (clamped at runtime). */
export function maxServiceTimeoutMs(limits: Pick<NodeLimits, 'peerTimeoutMs'>): number {
  return Math.max(100, limits.peerTimeoutMs - SERVICE_TIMEOUT_MARGIN_MS - 1);
}

export interface NodeContext<L extends ExchangeLog = ExchangeLog> {
  readonly now: () => Date;
  readonly settings: NodeSettings;
  /** Local clients, services and access rights (refreshed when the CLI changes them). */
  local(): LocalSnapshot;
  readonly conf: GlobalConfClient;
  readonly signer: Signer;
  /** SHA-256 of the signing certificate, recorded with every message this node signs. */
  readonly signerSha256: string;
  /**
   * Shared node: the signing key of a hosted member (not the owner), from a map built when the
   * members' files change (node/certs/hosted-members.ts); absent or undefined = not hosted here.
   */
  readonly hostedSigning?: ((member: string) => MemberSigning | undefined) | undefined;
  readonly auth: { readonly keyPem: string; readonly certPem: string };
  /** Appends exchanges, records faults (the SQLite log, or the PostgreSQL one: node/evidence/pg-message-log.ts). */
  readonly log: L;
  readonly peers: PeerClient;
  /** Consumer side: recent latency and failures of providers' nodes, to order failover (node/outbound/provider-failover.ts). */
  readonly providerScores?: Scoreboard;
  readonly backends: BackendClient;
  /** Provider side: peers' message ids already seen (`inLog`: the request append checks them). */
  readonly replay: ReplayCheck;
  /** Consumer side: the IS's message ids already forwarded (absent = not checked; `inLog`: the request append checks them). */
  readonly clientReplay?: ReplayCheck | undefined;
  readonly limits: NodeLimits;
  /** Operational log line (never payloads, keys or passwords). */
  readonly info: (line: string) => void;
  /** Adapters of the local services (node/adapters/index.ts); absent = proxy to each backend URL. */
  readonly adapters?: AdapterRegistry | undefined;
  /** Folder of the WSDL files (served at GET /wsdl/ and returned by getWsdl). */
  readonly wsdlDir?: string | undefined;
  /** Folders searched in order for a WSDL (the node's wsdl/, then wsdlDir); overrides wsdlDir when set. */
  readonly wsdlDirs?: readonly string[] | undefined;
  /** Evidence gate (node/evidence/index.ts): refuses exchanges during a time-stamping outage when so configured. */
  readonly evidence?: { check(code: FaultCode): void } | undefined;
  /** OCSP for signing certificates of external CAs (node/certs/ocsp-checker.ts); absent = such certificates are refused. */
  readonly ocsp?: OcspChecker | undefined;
  /** Structured logger (runtime/log.ts) for lines with fields (message id, client, service). */
  readonly logger?: Logger | undefined;
  /** Prometheus metrics of this node (node/ops/metrics.ts); absent in unit tests. */
  readonly metrics?: NodeMetrics | undefined;
}

export interface MemberSigning {
  readonly signer: Signer;
  /** SHA-256 of the signing certificate. */
  readonly sha256: string;
}

/**
 * The key that signs for `member` on this node: the owner's (ctx.signer) or a hosted member's on a
 * shared node; undefined when this node does not sign for that member. The owner's case compares
 * three fields and builds nothing; a hosted member costs one map look-up.
 */
export function memberSigning(ctx: NodeContext, member: MemberId): MemberSigning | undefined {
  if (sameMember(member, ctx.settings)) return { signer: ctx.signer, sha256: ctx.signerSha256 };
  return ctx.hostedSigning?.(formatMemberId(member));
}

/**
 * What the pipeline learnt about one exchange, filled once the message is read, so the fault path
 * reports message id, client and service without reading the message again (node/listeners.ts).
 */
export interface ExchangeFacts {
  messageId?: string;
  client?: string;
  service?: string;
}
