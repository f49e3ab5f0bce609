/**
 * SINAFO entities as DGFO knows them (members and roles, Art. 5 of Ley 30435): RUC, name,
 * acronym, legal role, sector and contact. Keyed by RUC; a registry member (INSTANCE/CLASS/RUC)
 * and a catalogue entity with the same RUC are the same organisation. An entity need not run a
 * node: the catalogue seeds the administering entities of 6.1 and Anexo 01 before they join.
 */
import { MiisError } from '../../core/errors.js';
import { parseClientId } from '../../core/identifiers.js';
import { validateRuc } from '../../core/peru-ids.js';
import { parseMemberRole } from '../registry/rules.js';
import type { ChangeContext, MemberRole, RegistryStore } from '../registry/store.js';
import { change, checkText, optionalText, type Row } from './util.js';

export interface EntityRecord {
  readonly ruc: string;
  readonly name: string;
  readonly acronym: string | null;
  readonly role: MemberRole;
  readonly sector: string | null;
  readonly contact: string | null;
  /** True when the RUC is a generated placeholder (the seed could not confirm the real one). */
  readonly rucPlaceholder: boolean;
  readonly createdAt: string;
}

export interface EntityInput {
  readonly ruc: string;
  readonly name: string;
  readonly acronym?: string | undefined;
  readonly role: string;
  readonly sector?: string | undefined;
  readonly contact?: string | undefined;
  readonly rucPlaceholder?: boolean;
}

const toEntity = (r: Row): EntityRecord => ({
  ruc: r.ruc as string,
  name: r.name as string,
  acronym: (r.acronym as string | null) ?? null,
  role: r.role as MemberRole,
  sector: (r.sector as string | null) ?? null,
  contact: (r.contact as string | null) ?? null,
  rucPlaceholder: Number(r.ruc_placeholder) === 1,
  createdAt: r.created_at as string,
});

/** A RUC, or a member / subsystem id whose member code is the RUC. Validates the check digit. */
export function rucOf(ref: string): string {
  const text = ref.trim();
  return validateRuc(text.includes('/') ? parseClientId(text).memberCode : text);
}

export function getEntity(store: RegistryStore, ruc: string): EntityRecord | undefined {
  const row = store.db.prepare('SELECT * FROM gov_entities WHERE ruc = ?').get(ruc) as Row | undefined;
  return row === undefined ? undefined : toEntity(row);
}

export function listEntities(store: RegistryStore): EntityRecord[] {
  return (store.db.prepare('SELECT * FROM gov_entities ORDER BY name').all() as Row[]).map(toEntity);
}

export function addEntity(store: RegistryStore, input: EntityInput, ctx: ChangeContext): EntityRecord {
  const ruc = validateRuc(input.ruc);
  const record: EntityRecord = {
    ruc,
    name: checkText(input.name, 'nombre de la entidad', 200),
    acronym: optionalText(input.acronym, 'sigla', 40),
    role: parseMemberRole(input.role),
    sector: optionalText(input.sector, 'sector', 120),
    contact: optionalText(input.contact, 'contacto', 300),
    rucPlaceholder: input.rucPlaceholder === true,
    createdAt: ctx.at.toISOString(),
  };
  if (getEntity(store, ruc) !== undefined) throw new MiisError('Config.Duplicate', `la entidad con RUC ${ruc}; use «entity set» para cambiar sus datos`);
  return change(store, ctx, 'entity.add', () => {
    store.db
      .prepare('INSERT INTO gov_entities (ruc, name, acronym, role, sector, contact, ruc_placeholder, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(record.ruc, record.name, record.acronym, record.role, record.sector, record.contact, record.rucPlaceholder ? 1 : 0, record.createdAt);
    return { after: record, result: record };
  });
}

export function updateEntity(
  store: RegistryStore,
  ref: string,
  patch: { name?: string | undefined; acronym?: string | undefined; role?: string | undefined; sector?: string | undefined; contact?: string | undefined },
  ctx: ChangeContext,
): EntityRecord {
  const before = ensureEntity(store, ref, ctx);
  const after: EntityRecord = {
    ...before,
    ...(patch.name === undefined ? {} : { name: checkText(patch.name, 'nombre de la entidad', 200) }),
    ...(patch.acronym === undefined ? {} : { acronym: optionalText(patch.acronym, 'sigla', 40) }),
    ...(patch.role === undefined ? {} : { role: parseMemberRole(patch.role) }),
    ...(patch.sector === undefined ? {} : { sector: optionalText(patch.sector, 'sector', 120) }),
    ...(patch.contact === undefined ? {} : { contact: optionalText(patch.contact, 'contacto', 300) }),
  };
  return change(store, ctx, 'entity.update', () => {
    store.db
      .prepare('UPDATE gov_entities SET name = ?, acronym = ?, role = ?, sector = ?, contact = ? WHERE ruc = ?')
      .run(after.name, after.acronym, after.role, after.sector, after.contact, after.ruc);
    return { before, after, result: after };
  });
}

/** The registry member with this RUC as member code (any class), if registered. */
function memberWithRuc(store: RegistryStore, ruc: string) {
  return store.listMembers().find((m) => m.memberCode === ruc);
}

/**
 * The entity for a RUC or member id. A registered member without an entity profile gets one
 * (name and role from the registry, audited); anything else unknown is refused.
 */
export function ensureEntity(store: RegistryStore, ref: string, ctx: ChangeContext): EntityRecord {
  const ruc = rucOf(ref);
  const found = getEntity(store, ruc);
  if (found !== undefined) return found;
  const member = memberWithRuc(store, ruc);
  if (member === undefined) {
    throw new MiisError('Config.NotFound', `la entidad con RUC ${ruc} no está registrada; regístrela con «miis-central entity add --ruc ${ruc} …» o «member add»`);
  }
  return addEntity(store, { ruc, name: member.name, role: member.role }, ctx);
}

/** Read-only lookup: an entity profile or one derived from the registry member; refused when unknown. */
export function requireEntity(store: RegistryStore, ref: string): EntityRecord {
  const ruc = rucOf(ref);
  const found = getEntity(store, ruc);
  if (found !== undefined) return found;
  const member = memberWithRuc(store, ruc);
  if (member === undefined) {
    throw new MiisError('Config.NotFound', `la entidad con RUC ${ruc} no está registrada; regístrela con «miis-central entity add --ruc ${ruc} …»`);
  }
  return { ruc, name: member.name, acronym: null, role: member.role, sector: null, contact: null, rucPlaceholder: false, createdAt: member.createdAt };
}
