/**
 * SINAFO entities as DGFO knows them (members and roles, Art. 5 of Ley 30435): RUC, name,
 * acronym, legal role, sector and contact. Keyed by RUC; a registry member (INSTANCE/CLASS/RUC)
 * and a catalogue entity with the same RUC are the same organisation. An entity need not run a
 * node: the catalogue seeds the administering entities of 6.1 and Anexo 01 before they join.
 */
import { MiisError } from '../../core/errors.js';
import { parseClientId } from '../../core/identifiers.js';
import { validateRuc } from '../../core/peru-ids.js';
import { checkMemberName, parseMemberRole, registerMember, requireMember } from '../registry/rules.js';
import type { ChangeContext, MemberRecord, MemberRole, RegistryStore } from '../registry/store.js';
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
  // a member carries the entity's name into its certificates
  if (patch.name !== undefined && store.listMembers().some((m) => m.memberCode === before.ruc)) checkMemberName(patch.name);
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
    syncMembers(store, after, ctx);
    return { before, after, result: after };
  });
}

/**
 * One record per organisation: the registry members with this RUC carry the entity's name and
 * role. Called inside the transaction of every change to either; audits each member it changes.
 */
function syncMembers(store: RegistryStore, entity: EntityRecord, ctx: ChangeContext): void {
  for (const m of store.listMembers().filter((x) => x.memberCode === entity.ruc && (x.name !== entity.name || x.role !== entity.role))) {
    store.db.prepare('UPDATE members SET name = ?, role = ? WHERE id = ?').run(entity.name, entity.role, m.id);
    store.audit(ctx, 'member.update', { id: m.id, name: m.name, role: m.role }, { id: m.id, name: entity.name, role: entity.role });
  }
}

export interface MemberEntityInput {
  readonly memberClass: string;
  readonly memberCode: string;
  /** Optional when the RUC is already a catalogue entity (the member takes its name). */
  readonly name?: string | undefined;
  readonly role?: string | undefined;
}

/**
 * `member add`: the member is the catalogue entity with the same RUC. An existing entity lends
 * its name and role (a different --name or --role renames it: one name for both); a RUC that is
 * not yet an entity becomes one. One transaction, audited.
 */
export function registerMemberEntity(store: RegistryStore, input: MemberEntityInput, ctx: ChangeContext): { member: MemberRecord; entity: EntityRecord; renamed: { from: string; to: string } | null } {
  const ruc = validateRuc(input.memberCode);
  const existing = getEntity(store, ruc);
  const name = input.name === undefined || input.name.trim() === '' ? existing?.name : input.name;
  const role = input.role === undefined || input.role.trim() === '' ? existing?.role : input.role;
  if (name === undefined || role === undefined) {
    throw new MiisError('Config.InvalidInput', `el RUC ${ruc} no es una entidad del catálogo: indique --name y --role (o regístrela antes con «miis-central entity add»)`);
  }
  return store.transaction(() => {
    const member = registerMember(store, { memberClass: input.memberClass, memberCode: ruc, name, role }, ctx);
    if (existing === undefined) {
      const entity = addEntity(store, { ruc, name: member.name, role: member.role }, ctx);
      return { member, entity, renamed: null };
    }
    if (existing.name === member.name && existing.role === member.role) return { member, entity: existing, renamed: null };
    const entity = updateEntity(store, ruc, { name: member.name, role: member.role }, ctx);
    return { member: store.getMember(member.id)!, entity, renamed: existing.name === entity.name ? null : { from: existing.name, to: entity.name } };
  });
}

/** `member set`: change the one name (and role) of a member and its entity. */
export function setMemberEntity(store: RegistryStore, memberId: string, patch: { name?: string | undefined; role?: string | undefined }, ctx: ChangeContext): { member: MemberRecord; entity: EntityRecord } {
  const member = requireMember(store, memberId);
  if (patch.name === undefined && patch.role === undefined) throw new MiisError('Config.InvalidInput', 'indique --name y/o --role');
  return store.transaction(() => {
    const entity = updateEntity(store, member.memberCode, patch, ctx);
    return { member: store.getMember(member.id)!, entity };
  });
}

/** Tables whose rows belong to an entity by RUC (what a RUC change moves). */
const ENTITY_TABLES = [
  ['gov_components', 'componentes'],
  ['gov_designations', 'designaciones'],
  ['gov_meetings', 'reuniones'],
  ['gov_actas', 'actas'],
  ['gov_sanctions', 'sanciones'],
] as const;

export interface RucChange {
  readonly from: string;
  readonly to: string;
  readonly entity: EntityRecord;
  /** Rows moved, by Spanish table label (componentes, designaciones, reuniones, actas, sanciones). */
  readonly moved: Readonly<Record<string, number>>;
}

/**
 * `entity set <ruc> --ruc <new>`: replace a provisional (or mistyped) RUC. The entity and
 * everything recorded under it — components, designations, meetings, actas, sanctions — move to
 * the new RUC in one transaction, audited. Refused while the old RUC is a registry member (its
 * identifier is in certificates and agreements) or when the new RUC is already an entity.
 */
export function changeEntityRuc(store: RegistryStore, ref: string, newRucText: string, ctx: ChangeContext): RucChange {
  const before = getEntity(store, rucOf(ref));
  if (before === undefined) throw new MiisError('Config.NotFound', `la entidad con RUC ${rucOf(ref)} no está en el catálogo; vea «miis-central entity list»`);
  const to = validateRuc(newRucText.trim());
  if (to === before.ruc) throw new MiisError('Config.InvalidInput', `la entidad ${before.name} ya tiene el RUC ${to}`);
  const member = memberWithRuc(store, before.ruc);
  if (member !== undefined) {
    throw new MiisError('Config.InvalidInput', `el RUC ${before.ruc} ya es el miembro ${member.id} del MIIS (sus certificados y convenios lo nombran); no se puede cambiar`);
  }
  const clash = getEntity(store, to);
  if (clash !== undefined) throw new MiisError('Config.Duplicate', `la entidad con RUC ${to} (${clash.name}); no se pueden fusionar dos entidades`);
  if (memberWithRuc(store, to) !== undefined) throw new MiisError('Config.Duplicate', `el miembro con RUC ${to}; no se pueden fusionar dos entidades`);
  const after: EntityRecord = { ...before, ruc: to, rucPlaceholder: to.startsWith(PLACEHOLDER_PREFIX) };
  return change(store, ctx, 'entity.ruc', () => {
    store.db
      .prepare('INSERT INTO gov_entities (ruc, name, acronym, role, sector, contact, ruc_placeholder, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(after.ruc, after.name, after.acronym, after.role, after.sector, after.contact, after.rucPlaceholder ? 1 : 0, after.createdAt);
    const moved: Record<string, number> = {};
    for (const [table, label] of ENTITY_TABLES) {
      moved[label] = store.db.prepare(`UPDATE ${table} SET entity_ruc = ? WHERE entity_ruc = ?`).run(to, before.ruc).changes;
    }
    store.db.prepare('DELETE FROM gov_entities WHERE ruc = ?').run(before.ruc);
    return { before, after: { ...after, movidos: moved }, result: { from: before.ruc, to, entity: after, moved } };
  });
}

/** The prefix of the placeholder RUCs the seed generates (catalogue-seed.ts). */
export const PLACEHOLDER_PREFIX = '20999990';

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
