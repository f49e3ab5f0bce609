/**
 * The central registry's storage: a narrow interface (RegistryStore) and its SQLite
 * implementation. Every change writes one audit-log row in the same transaction.
 * The store checks nothing about the domain beyond uniqueness and references; the
 * rules (RUC, roles, certificate profiles) live in rules.ts and ../pki/ca.ts; the schema in
 * migrations.ts; what the global configuration is built from in ../conf/snapshot.ts.
 */
import Database from 'better-sqlite3';
import { MiisError } from '../../core/errors.js';
import { applyMigrations } from '../../runtime/sqlite-migrations.js';
import { CENTRAL_MIGRATIONS } from './migrations.js';

/** Roles of SINAFO entities under Art. 5 of Ley 30435 (an attribute of the member). */
export const MEMBER_ROLES = [
  'MIDIS',
  'IPF',
  'GOBIERNO_REGIONAL',
  'GOBIERNO_LOCAL',
  'CIAS',
  'RENIEC',
  'INEI',
  'PRODUCTORA_INFORMACION_SOCIAL',
  'OTRA_ENTIDAD',
] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export const ISSUED_CERT_PROFILES = ['auth', 'sign', 'conf'] as const;
export type IssuedCertProfile = (typeof ISSUED_CERT_PROFILES)[number];

/** Who made a change and when (the audit log's "who" and "when"). */
export interface ChangeContext {
  readonly actor: string;
  readonly at: Date;
}

export interface MemberRecord {
  /** INSTANCE/CLASS/CODE */
  readonly id: string;
  readonly instance: string;
  readonly memberClass: string;
  readonly memberCode: string;
  readonly name: string;
  readonly role: MemberRole;
  readonly createdAt: string;
}

export interface SubsystemRecord {
  /** INSTANCE/CLASS/CODE/SUBSYSTEM */
  readonly id: string;
  readonly memberId: string;
  readonly subsystemCode: string;
  readonly createdAt: string;
}

export interface NodeRecord {
  readonly name: string;
  readonly ownerId: string;
  readonly address: string;
  readonly authCertPem: string;
  readonly authCertSha256: string;
  /** A renewed node's previous auth certificate, still accepted until previousAuthUntil (node-lifecycle.ts). */
  readonly previousAuthCertSha256?: string;
  readonly previousAuthUntil?: string;
  /** Subsystem ids, sorted. */
  readonly clients: readonly string[];
  readonly createdAt: string;
}

export interface ServiceRecord {
  /** INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE[/VERSION] */
  readonly id: string;
  readonly subsystemId: string;
  readonly title: string;
  readonly createdAt: string;
}

export interface IssuedCertRecord {
  readonly serialHex: string;
  readonly profile: IssuedCertProfile;
  readonly subject: string;
  readonly memberId: string | null;
  readonly sha256: string;
  readonly notAfter: string;
  readonly pem: string;
  readonly issuedAt: string;
}

export interface ConfVersionRecord {
  readonly serial: number;
  readonly generatedAt: string;
  readonly expiresAt: string;
  /** SHA-256 of the content without serial and dates (see conf/builder.ts). */
  readonly contentSha256: string;
  /** The signed envelope, served byte for byte. */
  readonly envelope: Buffer;
}

export interface AuditEntry {
  readonly id: number;
  readonly actor: string;
  readonly at: string;
  readonly action: string;
  readonly before: unknown;
  readonly after: unknown;
}

export type NewMember = Omit<MemberRecord, 'createdAt'>;
export type NewSubsystem = Omit<SubsystemRecord, 'createdAt'>;
export type NewNode = Omit<NodeRecord, 'createdAt' | 'clients' | 'previousAuthCertSha256' | 'previousAuthUntil'>;
export type NewService = Omit<ServiceRecord, 'createdAt'>;
export type NewIssuedCert = Omit<IssuedCertRecord, 'issuedAt'>;

export interface RegistryStore {
  getSetting(key: string): string | undefined;
  setSetting(key: string, value: string, ctx: ChangeContext): void;

  addMember(member: NewMember, ctx: ChangeContext): MemberRecord;
  getMember(id: string): MemberRecord | undefined;
  listMembers(): MemberRecord[];

  addSubsystem(subsystem: NewSubsystem, ctx: ChangeContext): SubsystemRecord;
  getSubsystem(id: string): SubsystemRecord | undefined;
  listSubsystems(): SubsystemRecord[];

  addNode(node: NewNode, ctx: ChangeContext): NodeRecord;
  getNode(name: string): NodeRecord | undefined;
  listNodes(): NodeRecord[];
  addNodeClient(nodeName: string, subsystemId: string, ctx: ChangeContext): NodeRecord;

  addService(service: NewService, ctx: ChangeContext): ServiceRecord;
  getService(id: string): ServiceRecord | undefined;
  listServices(): ServiceRecord[];

  recordIssuedCert(cert: NewIssuedCert, ctx: ChangeContext): IssuedCertRecord;
  listIssuedCerts(): IssuedCertRecord[];

  addConfVersion(version: ConfVersionRecord, ctx: ChangeContext): ConfVersionRecord;
  latestConfVersion(): ConfVersionRecord | undefined;

  listAudit(opts?: { limit?: number }): AuditEntry[];
  /** Write one audit row; modules with their own tables call it inside transaction() with their change. */
  audit(ctx: ChangeContext, action: string, before: unknown, after: unknown): void;
  /** The SQLite handle, for modules that own tables added by later migrations (governance, …). */
  readonly db: Database.Database;
  /** Runs fn in one transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

type Row = Record<string, unknown>;

/** Map SQLite constraint failures to MiisError; rethrow anything else. */
function mapConstraint(err: unknown, what: string): never {
  const code = (err as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    throw new MiisError('Config.Duplicate', what, { cause: err });
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    throw new MiisError('Config.NotFound', `una referencia de ${what}`, { cause: err });
  }
  throw err;
}

const toMember = (r: Row): MemberRecord => ({
  id: r.id as string,
  instance: r.instance as string,
  memberClass: r.member_class as string,
  memberCode: r.member_code as string,
  name: r.name as string,
  role: r.role as MemberRole,
  createdAt: r.created_at as string,
});

const toSubsystem = (r: Row): SubsystemRecord => ({
  id: r.id as string,
  memberId: r.member_id as string,
  subsystemCode: r.subsystem_code as string,
  createdAt: r.created_at as string,
});

const toService = (r: Row): ServiceRecord => ({
  id: r.id as string,
  subsystemId: r.subsystem_id as string,
  title: r.title as string,
  createdAt: r.created_at as string,
});

const toIssuedCert = (r: Row): IssuedCertRecord => ({
  serialHex: r.serial_hex as string,
  profile: r.profile as IssuedCertProfile,
  subject: r.subject as string,
  memberId: (r.member_id as string | null) ?? null,
  sha256: r.sha256 as string,
  notAfter: r.not_after as string,
  pem: r.pem as string,
  issuedAt: r.issued_at as string,
});

const toConfVersion = (r: Row): ConfVersionRecord => ({
  serial: Number(r.serial),
  generatedAt: r.generated_at as string,
  expiresAt: r.expires_at as string,
  contentSha256: r.content_sha256 as string,
  envelope: r.envelope as Buffer,
});

const parseJson = (text: unknown): unknown => (typeof text === 'string' ? JSON.parse(text) : null);

/**
 * Open (creating if needed) the registry database at `path` (':memory:' for tests).
 * WAL journal, foreign keys on, schema migrated to the last version in migrations.ts.
 */
export function openSqliteRegistryStore(path: string): RegistryStore {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    applyMigrations(db, CENTRAL_MIGRATIONS, 'la base de datos de central');
  } catch (err) {
    db.close();
    throw err;
  }

  const insertAudit = db.prepare('INSERT INTO audit_log (actor, at, action, before_json, after_json) VALUES (?, ?, ?, ?, ?)');
  const audit = (ctx: ChangeContext, action: string, before: unknown, after: unknown): void => {
    insertAudit.run(ctx.actor, ctx.at.toISOString(), action, before === undefined ? null : JSON.stringify(before), after === undefined ? null : JSON.stringify(after));
  };
  /** Run a change and its audit row atomically. */
  const change = <T>(fn: () => T): T => db.transaction(fn)();

  const clientsOf = db.prepare('SELECT subsystem_id FROM node_clients WHERE node_name = ? ORDER BY subsystem_id');
  const toNode = (r: Row): NodeRecord => ({
    name: r.name as string,
    ownerId: r.owner_id as string,
    address: r.address as string,
    authCertPem: r.auth_cert_pem as string,
    authCertSha256: r.auth_cert_sha256 as string,
    ...(typeof r.previous_auth_cert_sha256 === 'string' ? { previousAuthCertSha256: r.previous_auth_cert_sha256, previousAuthUntil: r.previous_auth_until as string } : {}),
    clients: (clientsOf.all(r.name) as Row[]).map((c) => c.subsystem_id as string),
    createdAt: r.created_at as string,
  });
  /** Node as written to the audit log (without the PEM, which the sha256 identifies). */
  const auditNode = (n: NodeRecord): object => ({ name: n.name, ownerId: n.ownerId, address: n.address, authCertSha256: n.authCertSha256, clients: n.clients });

  const store: RegistryStore = {
    getSetting(key) {
      const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as Row | undefined;
      return row === undefined ? undefined : (row.value as string);
    },
    setSetting(key, value, ctx) {
      change(() => {
        const before = store.getSetting(key);
        db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
        audit(ctx, 'setting.set', before === undefined ? undefined : { key, value: before }, { key, value });
      });
    },

    addMember(member, ctx) {
      const record: MemberRecord = { ...member, createdAt: ctx.at.toISOString() };
      return change(() => {
        try {
          db.prepare('INSERT INTO members (id, instance, member_class, member_code, name, role, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
            .run(record.id, record.instance, record.memberClass, record.memberCode, record.name, record.role, record.createdAt);
        } catch (err) {
          mapConstraint(err, `el miembro ${record.id}`);
        }
        audit(ctx, 'member.add', undefined, record);
        return record;
      });
    },
    getMember(id) {
      const row = db.prepare('SELECT * FROM members WHERE id = ?').get(id) as Row | undefined;
      return row === undefined ? undefined : toMember(row);
    },
    listMembers() {
      return (db.prepare('SELECT * FROM members ORDER BY id').all() as Row[]).map(toMember);
    },

    addSubsystem(subsystem, ctx) {
      const record: SubsystemRecord = { ...subsystem, createdAt: ctx.at.toISOString() };
      return change(() => {
        try {
          db.prepare('INSERT INTO subsystems (id, member_id, subsystem_code, created_at) VALUES (?, ?, ?, ?)')
            .run(record.id, record.memberId, record.subsystemCode, record.createdAt);
        } catch (err) {
          mapConstraint(err, `el subsistema ${record.id}`);
        }
        audit(ctx, 'subsystem.add', undefined, record);
        return record;
      });
    },
    getSubsystem(id) {
      const row = db.prepare('SELECT * FROM subsystems WHERE id = ?').get(id) as Row | undefined;
      return row === undefined ? undefined : toSubsystem(row);
    },
    listSubsystems() {
      return (db.prepare('SELECT * FROM subsystems ORDER BY id').all() as Row[]).map(toSubsystem);
    },

    addNode(node, ctx) {
      return change(() => {
        try {
          db.prepare('INSERT INTO nodes (name, owner_id, address, auth_cert_pem, auth_cert_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?)')
            .run(node.name, node.ownerId, node.address, node.authCertPem, node.authCertSha256, ctx.at.toISOString());
        } catch (err) {
          mapConstraint(err, `un nodo con el nombre ${node.name} o con el mismo certificado de autenticación`);
        }
        const record = store.getNode(node.name)!;
        audit(ctx, 'node.add', undefined, auditNode(record));
        return record;
      });
    },
    getNode(name) {
      const row = db.prepare('SELECT * FROM nodes WHERE name = ?').get(name) as Row | undefined;
      return row === undefined ? undefined : toNode(row);
    },
    listNodes() {
      return (db.prepare('SELECT * FROM nodes ORDER BY name').all() as Row[]).map(toNode);
    },
    addNodeClient(nodeName, subsystemId, ctx) {
      return change(() => {
        const before = store.getNode(nodeName);
        try {
          db.prepare('INSERT INTO node_clients (node_name, subsystem_id) VALUES (?, ?)').run(nodeName, subsystemId);
        } catch (err) {
          mapConstraint(err, `el cliente ${subsystemId} en el nodo ${nodeName}`);
        }
        const after = store.getNode(nodeName)!;
        audit(ctx, 'node.client.add', before === undefined ? undefined : auditNode(before), auditNode(after));
        return after;
      });
    },

    addService(service, ctx) {
      const record: ServiceRecord = { ...service, createdAt: ctx.at.toISOString() };
      return change(() => {
        try {
          db.prepare('INSERT INTO services (id, subsystem_id, title, created_at) VALUES (?, ?, ?, ?)')
            .run(record.id, record.subsystemId, record.title, record.createdAt);
        } catch (err) {
          mapConstraint(err, `el servicio ${record.id}`);
        }
        audit(ctx, 'service.add', undefined, record);
        return record;
      });
    },
    getService(id) {
      const row = db.prepare('SELECT * FROM services WHERE id = ?').get(id) as Row | undefined;
      return row === undefined ? undefined : toService(row);
    },
    listServices() {
      return (db.prepare('SELECT * FROM services ORDER BY id').all() as Row[]).map(toService);
    },

    recordIssuedCert(cert, ctx) {
      const record: IssuedCertRecord = { ...cert, issuedAt: ctx.at.toISOString() };
      return change(() => {
        try {
          db.prepare('INSERT INTO issued_certs (serial_hex, profile, subject, member_id, sha256, not_after, pem, issued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
            .run(record.serialHex, record.profile, record.subject, record.memberId, record.sha256, record.notAfter, record.pem, record.issuedAt);
        } catch (err) {
          mapConstraint(err, `un certificado con el número de serie ${record.serialHex}`);
        }
        const { pem: _pem, ...summary } = record;
        audit(ctx, 'cert.issue', undefined, summary);
        return record;
      });
    },
    listIssuedCerts() {
      return (db.prepare('SELECT * FROM issued_certs ORDER BY issued_at, serial_hex').all() as Row[]).map(toIssuedCert);
    },

    addConfVersion(version, ctx) {
      return change(() => {
        const latest = store.latestConfVersion();
        if (latest !== undefined && version.serial <= latest.serial) {
          throw new MiisError('Config.Duplicate', `la versión ${version.serial} de la configuración global (la última es ${latest.serial})`);
        }
        db.prepare('INSERT INTO conf_versions (serial, generated_at, expires_at, content_sha256, envelope) VALUES (?, ?, ?, ?, ?)')
          .run(version.serial, version.generatedAt, version.expiresAt, version.contentSha256, version.envelope);
        const { envelope: _envelope, ...summary } = version;
        audit(ctx, 'conf.publish', latest === undefined ? undefined : { serial: latest.serial }, summary);
        return version;
      });
    },
    latestConfVersion() {
      const row = db.prepare('SELECT * FROM conf_versions ORDER BY serial DESC LIMIT 1').get() as Row | undefined;
      return row === undefined ? undefined : toConfVersion(row);
    },

    listAudit(opts = {}) {
      const limit = opts.limit ?? -1;
      return (db.prepare('SELECT * FROM audit_log ORDER BY id LIMIT ?').all(limit) as Row[]).map((r) => ({
        id: Number(r.id),
        actor: r.actor as string,
        at: r.at as string,
        action: r.action as string,
        before: parseJson(r.before_json),
        after: parseJson(r.after_json),
      }));
    },
    audit,
    db,
    transaction(fn) {
      return db.transaction(fn)();
    },
    close() {
      db.close();
    },
  };
  return store;
}
