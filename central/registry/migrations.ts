/**
 * The central database's schema, in one ordered list (the only place central creates tables).
 * Append only: a shipped migration is never edited; a change is the next version.
 * Versions 1–3 shipped as the store's own list; version 4 adopts the two tables that
 * external-cas.ts and revocation.ts used to create on first use (IF NOT EXISTS, so a database
 * where they already exist upgrades in place).
 */
import type { Migration } from '../../runtime/sqlite-migrations.js';
import { schemaVersionOf } from '../../runtime/sqlite-migrations.js';

export const CENTRAL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    note: 'registry: settings, members, subsystems, nodes, services, issued certificates, configuration versions, audit log',
    up: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE members (
        id TEXT PRIMARY KEY, instance TEXT NOT NULL, member_class TEXT NOT NULL, member_code TEXT NOT NULL,
        name TEXT NOT NULL, role TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE subsystems (
        id TEXT PRIMARY KEY, member_id TEXT NOT NULL REFERENCES members(id), subsystem_code TEXT NOT NULL,
        created_at TEXT NOT NULL);
      CREATE TABLE nodes (
        name TEXT PRIMARY KEY, owner_id TEXT NOT NULL REFERENCES members(id), address TEXT NOT NULL,
        auth_cert_pem TEXT NOT NULL, auth_cert_sha256 TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
      CREATE TABLE node_clients (
        node_name TEXT NOT NULL REFERENCES nodes(name), subsystem_id TEXT NOT NULL REFERENCES subsystems(id),
        PRIMARY KEY (node_name, subsystem_id));
      CREATE TABLE services (
        id TEXT PRIMARY KEY, subsystem_id TEXT NOT NULL REFERENCES subsystems(id), title TEXT NOT NULL,
        created_at TEXT NOT NULL);
      CREATE TABLE issued_certs (
        serial_hex TEXT PRIMARY KEY, profile TEXT NOT NULL, subject TEXT NOT NULL, member_id TEXT,
        sha256 TEXT NOT NULL UNIQUE, not_after TEXT NOT NULL, pem TEXT NOT NULL, issued_at TEXT NOT NULL);
      CREATE TABLE conf_versions (
        serial INTEGER PRIMARY KEY, generated_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        content_sha256 TEXT NOT NULL, envelope BLOB NOT NULL);
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, actor TEXT NOT NULL, at TEXT NOT NULL, action TEXT NOT NULL,
        before_json TEXT, after_json TEXT);
    `,
  },
  {
    version: 2,
    note: 'governance: entities, designations, components, access requests, meetings, actas, sanctions',
    up: `
      CREATE TABLE gov_entities (
        ruc TEXT PRIMARY KEY, name TEXT NOT NULL, acronym TEXT, role TEXT NOT NULL, sector TEXT, contact TEXT,
        ruc_placeholder INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
      CREATE TABLE gov_designations (
        id INTEGER PRIMARY KEY AUTOINCREMENT, entity_ruc TEXT NOT NULL REFERENCES gov_entities(ruc),
        requested_at TEXT NOT NULL, due_at TEXT NOT NULL, request_ref TEXT,
        answered_at TEXT, unit TEXT, head_name TEXT, head_post TEXT, head_contact TEXT, head_user TEXT,
        status TEXT NOT NULL, replaced_by INTEGER, created_at TEXT NOT NULL);
      CREATE TABLE gov_components (
        code TEXT PRIMARY KEY, name TEXT NOT NULL, entity_ruc TEXT NOT NULL REFERENCES gov_entities(ruc),
        description TEXT NOT NULL, legal_basis TEXT NOT NULL, family TEXT NOT NULL, reference_unit TEXT NOT NULL,
        personal INTEGER NOT NULL, sensitive INTEGER NOT NULL, technical_report TEXT, status TEXT NOT NULL,
        source TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE gov_component_services (
        component_code TEXT NOT NULL REFERENCES gov_components(code), service_id TEXT NOT NULL REFERENCES services(id),
        PRIMARY KEY (component_code, service_id));
      CREATE TABLE gov_access_requests (
        id TEXT PRIMARY KEY, client_id TEXT NOT NULL, component_code TEXT NOT NULL REFERENCES gov_components(code),
        service_id TEXT, purpose TEXT NOT NULL, purpose_detail TEXT, legal_basis TEXT NOT NULL, channel TEXT NOT NULL, filed_at TEXT NOT NULL,
        due_at TEXT NOT NULL, status TEXT NOT NULL, decided_at TEXT, decided_by TEXT, decision_unit TEXT, reason TEXT,
        agreement_id TEXT, signer_cert_sha256 TEXT, created_at TEXT NOT NULL);
      CREATE TABLE gov_meetings (
        id INTEGER PRIMARY KEY AUTOINCREMENT, entity_ruc TEXT NOT NULL REFERENCES gov_entities(ruc), date TEXT NOT NULL,
        start_time TEXT, end_time TEXT, place TEXT, participants_json TEXT NOT NULL, agenda_json TEXT NOT NULL,
        development TEXT, agreements_json TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE gov_actas (
        number TEXT PRIMARY KEY, seq INTEGER NOT NULL, year INTEGER NOT NULL, meeting_id INTEGER NOT NULL REFERENCES gov_meetings(id),
        entity_ruc TEXT NOT NULL, services_json TEXT NOT NULL, clients_json TEXT NOT NULL, purposes_json TEXT NOT NULL,
        valid_from TEXT NOT NULL, valid_until TEXT, signatures_json TEXT NOT NULL, status TEXT NOT NULL, agreement_id TEXT,
        created_at TEXT NOT NULL, UNIQUE (year, seq));
      CREATE TABLE gov_sanctions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, entity_ruc TEXT NOT NULL REFERENCES gov_entities(ruc), infraction TEXT NOT NULL,
        legal_basis TEXT NOT NULL, resolution TEXT NOT NULL, date TEXT NOT NULL, created_at TEXT NOT NULL);
    `,
  },
  {
    version: 3,
    note: 'agreements published in the global configuration (agreements.ts)',
    up: `
  CREATE TABLE agreements (
    id TEXT PRIMARY KEY, acta TEXT, provider TEXT NOT NULL, clients_json TEXT NOT NULL, services_json TEXT NOT NULL,
    purposes_json TEXT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT, max_ids INTEGER, validations_json TEXT NOT NULL,
    created_at TEXT NOT NULL);
`,
  },
  {
    version: 4,
    note: 'external CAs (../pki/external-cas.ts) and certificate revocations (../pki/revocation.ts)',
    up: `
      CREATE TABLE IF NOT EXISTS external_cas (
  name TEXT PRIMARY KEY, ca_pem TEXT NOT NULL, chain_pem TEXT NOT NULL, cert_sha256 TEXT NOT NULL UNIQUE,
  mapping_json TEXT NOT NULL, ocsp_url TEXT, added_at TEXT NOT NULL, actor TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS cert_revocations (
  sha256 TEXT PRIMARY KEY, serial_hex TEXT, reason TEXT NOT NULL, revoked_at TEXT NOT NULL, actor TEXT NOT NULL);
    `,
  },
  {
    version: 5,
    note: 'signed access requests central has seen, kept for good so a signed body is never filed twice (../governance/access-request-channel.ts)',
    up: `
      CREATE TABLE gov_signed_access_requests (
        digest TEXT PRIMARY KEY, member_id TEXT NOT NULL, request_id TEXT NOT NULL, access_request_id TEXT,
        received_at TEXT NOT NULL, UNIQUE (member_id, request_id));
    `,
  },
  {
    version: 6,
    note: 'node lifecycle (node-lifecycle.ts): the previous auth certificate stays accepted until previous_auth_until',
    up: `
      ALTER TABLE nodes ADD COLUMN previous_auth_cert_sha256 TEXT;
      ALTER TABLE nodes ADD COLUMN previous_auth_until TEXT;
    `,
  },
  {
    version: 7,
    note: 'amend and end (agreements.ts, removals.ts, ../governance/access-requests.ts, actas.ts, entities.ts): agreements ended early and superseded, rights revoked, actas that supersede an agreement; one record per entity (every member is a catalogue entity with the same name and role)',
    up: `
      ALTER TABLE agreements ADD COLUMN ended_on TEXT;
      ALTER TABLE agreements ADD COLUMN end_reason TEXT;
      ALTER TABLE agreements ADD COLUMN ended_at TEXT;
      ALTER TABLE agreements ADD COLUMN ended_by TEXT;
      ALTER TABLE agreements ADD COLUMN superseded_by TEXT;
      ALTER TABLE agreements ADD COLUMN supersedes TEXT;
      ALTER TABLE gov_actas ADD COLUMN supersedes TEXT;
      ALTER TABLE gov_access_requests ADD COLUMN revoked_on TEXT;
      ALTER TABLE gov_access_requests ADD COLUMN revoked_by TEXT;
      ALTER TABLE gov_access_requests ADD COLUMN revoke_reason TEXT;
      INSERT INTO gov_entities (ruc, name, role, ruc_placeholder, created_at)
        SELECT m.member_code, m.name, m.role, 0, m.created_at FROM members m
         WHERE m.member_code NOT IN (SELECT ruc FROM gov_entities)
           AND m.rowid = (SELECT MIN(m2.rowid) FROM members m2 WHERE m2.member_code = m.member_code);
      UPDATE gov_entities
         SET name = (SELECT m.name FROM members m WHERE m.member_code = gov_entities.ruc ORDER BY m.created_at, m.id LIMIT 1),
             role = (SELECT m.role FROM members m WHERE m.member_code = gov_entities.ruc ORDER BY m.created_at, m.id LIMIT 1)
       WHERE ruc IN (SELECT member_code FROM members);
      UPDATE members
         SET name = (SELECT e.name FROM gov_entities e WHERE e.ruc = members.member_code),
             role = (SELECT e.role FROM gov_entities e WHERE e.ruc = members.member_code);
    `,
  },
  {
    version: 8,
    note: 'Registro Nacional de Programas Sociales (../governance/programs.ts) and the programme an agreement or access request cites',
    up: `
      CREATE TABLE gov_programs (
        code TEXT PRIMARY KEY, name TEXT NOT NULL, cias_ref TEXT NOT NULL, cias_date TEXT NOT NULL,
        entity_ruc TEXT NOT NULL REFERENCES gov_entities(ruc), target_population TEXT NOT NULL, intervention_type TEXT NOT NULL,
        status TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE gov_program_links (
        kind TEXT NOT NULL, ref TEXT NOT NULL, program_code TEXT NOT NULL REFERENCES gov_programs(code), created_at TEXT NOT NULL,
        PRIMARY KEY (kind, ref));
    `,
  },
  {
    version: 9,
    note: 'new sources requested by IPFs (../governance/intake.ts, 6.6.1.2, 6.6.2.3, 8.2): requester and the dates of each step',
    up: `
      CREATE TABLE gov_source_requests (
        id TEXT PRIMARY KEY, component_code TEXT NOT NULL UNIQUE REFERENCES gov_components(code),
        requester TEXT NOT NULL, requester_ruc TEXT NOT NULL, program_code TEXT, description TEXT NOT NULL,
        filed_at TEXT NOT NULL, evaluation_due TEXT NOT NULL, evaluation_started_at TEXT, evaluated_at TEXT, available_at TEXT,
        created_at TEXT NOT NULL);
    `,
  },
  {
    version: 10,
    note: 'signed answers and listings from nodes (../governance/access-request-channel.ts, issue 14 item 7): every signed body remembered for good (replays), and the signing certificate of an answer given from the provider\'s node',
    up: `
      CREATE TABLE gov_signed_messages (
        digest TEXT PRIMARY KEY, kind TEXT NOT NULL, member_id TEXT NOT NULL, message_id TEXT NOT NULL, ref TEXT,
        received_at TEXT NOT NULL, UNIQUE (kind, member_id, message_id));
      ALTER TABLE gov_access_requests ADD COLUMN decision_signer_cert_sha256 TEXT;
    `,
  },
  {
    version: 11,
    note: 'shared nodes (node-members.ts, issue 14 item 8): the members a node hosts besides its owner',
    up: `
      CREATE TABLE node_members (
        node_name TEXT NOT NULL REFERENCES nodes(name), member_id TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (node_name, member_id));
    `,
  },
  {
    version: 12,
    note: 'work plan of the first meeting (../governance/work-plan.ts, 7.1.3): activities with owner, unit and due date',
    up: `
      CREATE TABLE gov_plan_activities (
        id INTEGER PRIMARY KEY AUTOINCREMENT, meeting_id INTEGER NOT NULL REFERENCES gov_meetings(id),
        activity TEXT NOT NULL, owner TEXT NOT NULL, owner_unit TEXT, due_at TEXT NOT NULL, done_at TEXT,
        created_at TEXT NOT NULL);
      CREATE INDEX gov_plan_activities_meeting ON gov_plan_activities(meeting_id);
    `,
  },
  {
    version: 13,
    note: 'trama definitions (record layouts) of batch exchanges, per agreement and service, versioned (tramas.ts)',
    up: `
      CREATE TABLE tramas (
        id TEXT NOT NULL, version INTEGER NOT NULL, service TEXT NOT NULL, agreement TEXT NOT NULL REFERENCES agreements(id),
        definition_json TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (id, version));
    `,
  },
  {
    version: 14,
    note: 'batch deliveries reported by provider nodes, for the periodicity of each trama (../governance/deliveries.ts)',
    up: `
      CREATE TABLE batch_deliveries (
        provider TEXT NOT NULL, batch_id TEXT NOT NULL, client TEXT NOT NULL, service TEXT NOT NULL, agreement TEXT NOT NULL,
        trama_id TEXT NOT NULL, trama_version INTEGER NOT NULL, file_sha256 TEXT NOT NULL, records INTEGER NOT NULL, chunks INTEGER NOT NULL,
        received_at TEXT NOT NULL, completed_at TEXT NOT NULL, reported_at TEXT NOT NULL, signer_sha256 TEXT NOT NULL,
        PRIMARY KEY (provider, batch_id, client));
      CREATE INDEX batch_deliveries_trama ON batch_deliveries (trama_id, client, completed_at);
    `,
  },
];

export const CENTRAL_SCHEMA_VERSION = schemaVersionOf(CENTRAL_MIGRATIONS);
