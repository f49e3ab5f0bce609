/**
 * Trama definitions (record layouts) of batch exchanges, registered with the agreement that fixes
 * them (the acta sets record layout and periodicity of deliveries): table `tramas` (migration 13),
 * versioned, published in the global configuration (`tramas`, the highest version of each id).
 * `miis-central trama add|list` writes and reads it. The definition is checked by core/trama.ts,
 * the same check nodes apply to the configuration they download.
 */
import { MiisError } from '../../core/errors.js';
import type { GlobalConfTrama } from '../../core/global-conf-model.js';
import { parseServiceId, serviceKey } from '../../core/identifiers.js';
import { checkTrama } from '../../core/trama.js';
import type { ChangeContext, RegistryStore } from './store.js';

export interface TramaInput {
  /** The file's JSON (id, version, key, fields, optional periodicity, chunkRecords, title; service/agreement may be omitted). */
  readonly definition: unknown;
  readonly service: string;
  readonly agreement: string;
  readonly periodicity?: string | undefined;
}

/** Register a trama version: the service must be one the agreement covers; a version is never rewritten. */
export function addTrama(store: RegistryStore, input: TramaInput, ctx: ChangeContext): GlobalConfTrama {
  const def = input.definition;
  if (typeof def !== 'object' || def === null || Array.isArray(def)) throw new MiisError('Config.InvalidInput', 'el archivo de la trama debe ser un objeto JSON');
  const key = serviceKey(parseServiceId(input.service));
  const merged = {
    ...(def as Record<string, unknown>), service: key, agreement: input.agreement,
    ...(input.periodicity === undefined ? {} : { periodicity: input.periodicity }),
  };
  const given = def as Record<string, unknown>;
  if (given['service'] !== undefined && given['service'] !== key) throw new MiisError('Config.InvalidInput', `el archivo nombra el servicio ${String(given['service'])}, no ${key}`);
  const checked = checkTrama(merged, 'trama');
  if (!checked.ok) throw new MiisError('Config.InvalidInput', checked.reason);
  const t = checked.trama;
  const row = store.db.prepare('SELECT services_json FROM agreements WHERE id = ?').get(t.agreement) as { services_json: string } | undefined;
  if (row === undefined) throw new MiisError('Config.NotFound', `el convenio ${t.agreement}`);
  if (!(JSON.parse(row.services_json) as string[]).includes(key)) throw new MiisError('Config.InvalidInput', `el convenio ${t.agreement} no cubre el servicio ${key}`);
  return store.transaction(() => {
    const last = store.db.prepare('SELECT MAX(version) AS v FROM tramas WHERE id = ?').get(t.id) as { v: number | null };
    if (last.v !== null && t.version <= last.v) throw new MiisError('Config.Duplicate', `la trama ${t.id} versión ${t.version} (la última es la ${last.v}; suba la versión)`);
    const other = store.db.prepare('SELECT service, agreement FROM tramas WHERE id = ? LIMIT 1').get(t.id) as { service: string; agreement: string } | undefined;
    if (other !== undefined && (other.service !== t.service || other.agreement !== t.agreement)) {
      throw new MiisError('Config.InvalidInput', `la trama ${t.id} es del servicio ${other.service} y el convenio ${other.agreement}; use otro id`);
    }
    store.db.prepare('INSERT INTO tramas (id, version, service, agreement, definition_json, created_at) VALUES (?,?,?,?,?,?)')
      .run(t.id, t.version, t.service, t.agreement, JSON.stringify(t), ctx.at.toISOString());
    store.audit(ctx, 'trama.add', undefined, t);
    return t;
  });
}

/** Every registered version, by id and version. */
export function listTramaVersions(store: Pick<RegistryStore, 'db'>): { trama: GlobalConfTrama; createdAt: string }[] {
  const rows = store.db.prepare('SELECT definition_json, created_at FROM tramas ORDER BY id, version').all() as { definition_json: string; created_at: string }[];
  return rows.map((r) => ({ trama: JSON.parse(r.definition_json) as GlobalConfTrama, createdAt: r.created_at }));
}

/** What the global configuration publishes: the highest version of each trama. */
export function tramasForConf(store: Pick<RegistryStore, 'db'>): GlobalConfTrama[] {
  const latest = new Map<string, GlobalConfTrama>();
  for (const { trama } of listTramaVersions(store)) latest.set(trama.id, trama);
  return [...latest.values()];
}
