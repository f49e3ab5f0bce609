/**
 * The content of the MIIS global configuration, version 1. Central produces it, signs the exact
 * JSON bytes (see global-conf.ts) and every node downloads it. Identifiers are in slash form.
 */
export const GLOBAL_CONF_FORMAT = 'miis-globalconf/1' as const;

export interface GlobalConfMember {
  /** INSTANCE/CLASS/CODE (code = RUC). */
  readonly id: string;
  readonly name: string;
  /** Legal role under Art. 5 of Ley 30435 (e.g. 'MIDIS', 'IPF', 'RENIEC', 'INEI', …). */
  readonly role: string;
}

export interface GlobalConfNode {
  /** Unique node name, e.g. 'reniec'. */
  readonly name: string;
  /** Owner member, INSTANCE/CLASS/CODE. */
  readonly owner: string;
  /** Node-to-node endpoint, e.g. 'https://127.0.0.1:5500'. */
  readonly address: string;
  /** SHA-256 (lowercase hex, no separators) of the DER of the node's TLS authentication certificate. */
  readonly authCertSha256: string;
  /** Subsystems (INSTANCE/CLASS/CODE/SUBSYSTEM) whose messages this node sends and receives. */
  readonly clients: readonly string[];
}

export interface GlobalConfService {
  /** INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE[/VERSION]. */
  readonly id: string;
  readonly title: string;
}

export interface GlobalConf {
  readonly format: typeof GLOBAL_CONF_FORMAT;
  readonly instance: string;
  /** Increases with every generation; nodes never swap to a lower serial. */
  readonly serial: number;
  /** ISO 8601 instants. */
  readonly generatedAt: string;
  readonly expiresAt: string;
  readonly members: readonly GlobalConfMember[];
  /** Subsystems registered in central (INSTANCE/CLASS/CODE/SUBSYSTEM). */
  readonly subsystems: readonly string[];
  readonly nodes: readonly GlobalConfNode[];
  readonly services: readonly GlobalConfService[];
  /** PEM certificates of the CAs that nodes trust for TLS and signing certificates. */
  readonly trustedCas: readonly string[];
}
