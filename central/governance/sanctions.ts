/**
 * The SINAFO sanctions registry (directive 6.1 e, 7.3.2; Ley 30435 arts. 21–22). It is itself a
 * catalogue component (REG-SANCIONES, administered by MIDIS, see catalogue-seed.ts).
 */
import { MiisError } from '../../core/errors.js';
import { parseIsoDate } from '../../core/business-days.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { ensureEntity, requireEntity } from './entities.js';
import { change, checkText, type Row } from './util.js';

export const SANCTIONS_COMPONENT = 'REG-SANCIONES';
export const DEFAULT_SANCTION_BASIS = 'Artículo 21 de la Ley Nº 30435 (Capítulo V, Infracciones y Sanciones)';

export interface SanctionRecord {
  readonly id: number;
  readonly entityRuc: string;
  readonly infraction: string;
  readonly legalBasis: string;
  readonly resolution: string;
  readonly date: string;
  readonly createdAt: string;
}

const toSanction = (r: Row): SanctionRecord => ({
  id: Number(r.id),
  entityRuc: r.entity_ruc as string,
  infraction: r.infraction as string,
  legalBasis: r.legal_basis as string,
  resolution: r.resolution as string,
  date: r.date as string,
  createdAt: r.created_at as string,
});

export function addSanction(
  store: RegistryStore,
  input: { entity: string; infraction: string; legalBasis?: string | undefined; resolution: string; date: string },
  ctx: ChangeContext,
): SanctionRecord {
  const date = parseIsoDate(input.date.trim());
  const infraction = checkText(input.infraction, 'infracción (--infraccion)', 1000);
  const resolution = checkText(input.resolution, 'resolución de sanción (--resolucion)', 200);
  const legalBasis = input.legalBasis === undefined ? DEFAULT_SANCTION_BASIS : checkText(input.legalBasis, 'base legal', 300);
  const entity = ensureEntity(store, input.entity, ctx);
  const same = store.db.prepare('SELECT id FROM gov_sanctions WHERE entity_ruc = ? AND resolution = ?').get(entity.ruc, resolution) as Row | undefined;
  if (same !== undefined) throw new MiisError('Config.Duplicate', `la sanción de ${entity.name} por la resolución ${resolution} (registro ${String(same.id)})`);
  return change(store, ctx, 'sanction.add', () => {
    const info = store.db
      .prepare('INSERT INTO gov_sanctions (entity_ruc, infraction, legal_basis, resolution, date, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(entity.ruc, infraction, legalBasis, resolution, date, ctx.at.toISOString());
    const record = toSanction(store.db.prepare('SELECT * FROM gov_sanctions WHERE id = ?').get(Number(info.lastInsertRowid)) as Row);
    return { after: record, result: record };
  });
}

export function listSanctions(store: RegistryStore, opts: { entity?: string } = {}): SanctionRecord[] {
  const rows = opts.entity === undefined
    ? store.db.prepare('SELECT * FROM gov_sanctions ORDER BY date, id').all()
    : store.db.prepare('SELECT * FROM gov_sanctions WHERE entity_ruc = ? ORDER BY date, id').all(requireEntity(store, opts.entity).ruc);
  return (rows as Row[]).map(toSanction);
}
