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
  /**
   * Every auth certificate accepted for this node (SHA-256, current = authCertSha256 first), present
   * only while a renewed node's previous certificate is still accepted (overlap). Peers pin any of
   * them (acceptedAuthCerts); a configuration without the field means [authCertSha256].
   */
  readonly authCertsSha256?: readonly string[];
  /** Subsystems (INSTANCE/CLASS/CODE/SUBSYSTEM) whose messages this node sends and receives. */
  readonly clients: readonly string[];
  /**
   * A shared node (e.g. a regional government's node for its municipalities): the members other
   * than the owner it serves, each signing with its own key. Present only when there are any;
   * a client's member must be the owner or one of these (nodeServesMember).
   */
  readonly members?: readonly string[];
}

/** Does this node serve the member (its owner, or a hosted member of a shared node)? */
export function nodeServesMember(node: GlobalConfNode, member: string): boolean {
  return node.owner === member || (node.members !== undefined && node.members.includes(member));
}

/** The auth certificates (SHA-256) a peer accepts for a node: the list during an overlap, else the one. */
export function acceptedAuthCerts(node: GlobalConfNode): readonly string[] {
  return node.authCertsSha256 ?? [node.authCertSha256];
}

export interface GlobalConfService {
  /** INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE[/VERSION]. */
  readonly id: string;
  readonly title: string;
}

/**
 * Rules an agreement can set on a trama field. `documento` checks a numeroDocumento-like field by
 * the type named in its sibling element `tipoDocumento` (DNI, CE, PASAPORTE, CPP).
 */
export const VALIDATION_RULES = [
  'required', 'dni', 'ruc', 'carne-extranjeria', 'pasaporte', 'cpp', 'documento', 'ubigeo-inei', 'ubigeo-reniec', 'centro-poblado', 'pattern',
] as const;

/** A validation the agreement requires on the request's tramas before any backend is called (directive 7.1.4). */
export interface GlobalConfValidation {
  /** Local name of the request element to check (e.g. 'dni'); every occurrence is checked. */
  readonly field: string;
  readonly rule: (typeof VALIDATION_RULES)[number];
  /** For rule 'pattern': an anchored regular expression. */
  readonly pattern?: string;
}

/**
 * An agreement (convenio, recorded in an acta) in force: which clients may use which services of the
 * administering entity, for which purposes, until when, with which minimum validations.
 */
export interface GlobalConfAgreement {
  /** The identifier a request cites in miis:convenio. */
  readonly id: string;
  /** ACTA Nº NN-YYYY-MIDIS/DGFO that records it, when there is one. */
  readonly acta?: string;
  /** Administering (providing) member, INSTANCE/CLASS/CODE. */
  readonly provider: string;
  /** Clients covered: subsystems or members in slash form. */
  readonly clients: readonly string[];
  /** Services covered, without version: INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE. */
  readonly services: readonly string[];
  /** Purposes (miis:finalidad codes) allowed under the agreement, e.g. FOCALIZACION. */
  readonly purposes: readonly string[];
  /** YYYY-MM-DD, inclusive. */
  readonly validFrom: string;
  /** YYYY-MM-DD, inclusive; absent = no end date. */
  readonly validUntil?: string;
  /** Largest number of identifiers one request may carry. */
  readonly maxIdsPerRequest?: number;
  readonly validations?: readonly GlobalConfValidation[];
}

/** An access right granted centrally (an access request answered favourably, directive 7.2). */
export interface GlobalConfAccessRight {
  /** Service without version: INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE. */
  readonly service: string;
  /** Subsystem or member in slash form. */
  readonly client: string;
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
  /** Agreements in force that nodes enforce per request (optional: absent = none published). */
  readonly agreements?: readonly GlobalConfAgreement[];
  /** Access rights granted through central; providers add them to their local ones. */
  readonly accessRights?: readonly GlobalConfAccessRight[];
  /** SHA-256 (lowercase hex) of certificates central has revoked; nodes refuse them. */
  readonly revokedCerts?: readonly string[];
  /** External CAs (e.g. ECEP-RENIEC) whose certificates are mapped to members by rules (core/member-mapping.ts). */
  readonly externalCas?: readonly GlobalConfExternalCa[];
  /**
   * The Registro Nacional de Programas Sociales (RPS, directive 4.1 e, 5.17): the targeted
   * interventions approved by the CIAS, not closed. Optional and omitted while none is registered:
   * a node older than this field refuses a configuration that carries it (update nodes first).
   */
  readonly programs?: readonly GlobalConfProgram[];
  /**
   * Trama definitions (record layouts) of batch exchanges, registered at central with an agreement
   * (central/registry/tramas.ts, core/trama.ts). Omitted while none is registered.
   */
  readonly tramas?: readonly GlobalConfTrama[];
}

/** One field of a trama's records. */
export interface GlobalConfTramaField {
  readonly name: string;
  readonly type: 'texto' | 'entero' | 'fecha';
  /** Validation rule (the agreements' rule names); absent = only the type is checked. */
  readonly rule?: GlobalConfValidation['rule'];
  readonly pattern?: string;
  readonly required?: boolean;
}

/** A trama (record layout) of a batch exchange under an agreement (core/trama.ts). */
export interface GlobalConfTrama {
  readonly id: string;
  readonly version: number;
  /** Service without version: INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE. */
  readonly service: string;
  /** The agreement (convenio) that fixes it. */
  readonly agreement: string;
  /** The field whose value is the identifier the provider's backend is asked about. */
  readonly key: string;
  readonly fields: readonly GlobalConfTramaField[];
  /** Periodicity of deliveries fixed in the acta (central's plazos show due, on time, late). */
  readonly periodicity?: 'diaria' | 'semanal' | 'mensual' | 'trimestral' | 'semestral' | 'anual';
  /** Records per chunk (default 10,000). */
  readonly chunkRecords?: number;
  readonly title?: string;
}

/** A programme of the RPS as published (central/governance/programs.ts). */
export interface GlobalConfProgram {
  /** e.g. JUNTOS */
  readonly code: string;
  readonly name: string;
  /** RUC of the administering entity (11 digits). */
  readonly administrator: string;
  /** Reference of the CIAS approval and its date (YYYY-MM-DD). */
  readonly ciasApproval: string;
  readonly ciasDate: string;
  readonly targetPopulation: string;
  readonly interventionType: string;
  readonly status: 'activo' | 'suspendido';
}

/** Certificate fields a member-mapping rule can read. */
export type MappingField = 'subject.serialNumber' | 'subject.CN' | 'subject.O' | 'subject.OU' | 'subject.emailAddress' | 'san.email';

export interface GlobalConfMemberMapping {
  readonly field: MappingField;
  /** Regular expression with exactly one capture group; it must match the whole field value. */
  readonly pattern: string;
  /** Member template, `$1` = the capture, e.g. 'PE/GOB/$1'. */
  readonly member: string;
}

/** A trusted external CA: its issuing certificate is in trustedCas; its certificates belong to members only through the rules. */
export interface GlobalConfExternalCa {
  readonly name: string;
  /** SHA-256 (lowercase hex) of the issuing CA certificate (one of trustedCas). */
  readonly certSha256: string;
  readonly memberMapping: readonly GlobalConfMemberMapping[];
  /** OCSP responder; default: the URL in each certificate's Authority Information Access. */
  readonly ocspUrl?: string;
}
