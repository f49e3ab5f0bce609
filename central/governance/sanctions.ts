/**
 * The SINAFO sanctions registry (directive 6.1 e, 7.3.2; Ley 30435 arts. 21–22). It is itself a
 * catalogue component (REG-SANCIONES, administered by MIDIS, see catalogue-seed.ts).
 */
import { renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
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

/**
 * The sanctions registry as a SQLite file of its own, for the node that serves `consultarSanciones`
 * (component REG-SANCIONES) through the sql adapter: tables `gov_entities` (ruc, name, acronym, role)
 * and `gov_sanctions` (as in central.db), so the service's query is the same as on central.db.
 * Written to a temporary file and renamed: a node reading the old copy never sees half a file.
 */
export function exportSanctions(store: RegistryStore, outPath: string, now: Date): { entities: number; sanctions: number } {
  const tmp = `${outPath}.tmp`;
  rmSync(tmp, { force: true });
  let db: Database.Database | undefined;
  try {
    db = new Database(tmp);
    db.exec(`
      CREATE TABLE gov_entities (ruc TEXT PRIMARY KEY, name TEXT NOT NULL, acronym TEXT, role TEXT NOT NULL);
      CREATE TABLE gov_sanctions (id INTEGER PRIMARY KEY, entity_ruc TEXT NOT NULL REFERENCES gov_entities(ruc), infraction TEXT NOT NULL,
        legal_basis TEXT NOT NULL, resolution TEXT NOT NULL, date TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE INDEX gov_sanctions_entity ON gov_sanctions (entity_ruc);
      CREATE TABLE exportacion (exportado_en TEXT NOT NULL);`);
    const entities = store.db.prepare('SELECT ruc, name, acronym, role FROM gov_entities ORDER BY ruc').all() as Record<string, unknown>[];
    const sanctions = store.db.prepare('SELECT id, entity_ruc, infraction, legal_basis, resolution, date, created_at FROM gov_sanctions ORDER BY id').all() as Record<string, unknown>[];
    const putEntity = db.prepare('INSERT INTO gov_entities (ruc, name, acronym, role) VALUES (@ruc, @name, @acronym, @role)');
    const putSanction = db.prepare('INSERT INTO gov_sanctions (id, entity_ruc, infraction, legal_basis, resolution, date, created_at) VALUES (@id, @entity_ruc, @infraction, @legal_basis, @resolution, @date, @created_at)');
    const stamp = db.prepare('INSERT INTO exportacion (exportado_en) VALUES (?)');
    db.transaction(() => {
      for (const e of entities) putEntity.run(e);
      for (const s of sanctions) putSanction.run(s);
      stamp.run(now.toISOString());
    })();
    db.close();
    renameSync(tmp, outPath);
    return { entities: entities.length, sanctions: sanctions.length };
  } catch (err) {
    if (db?.open === true) db.close();
    rmSync(tmp, { force: true });
    throw new MiisError('Config.InvalidInput', `no se pudo escribir ${outPath}: ${(err as Error).message}`, { cause: err });
  }
}
