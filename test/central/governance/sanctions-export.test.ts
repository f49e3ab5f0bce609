import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { addSanction, exportSanctions } from '../../../central/governance/sanctions.js';
import { registerMember } from '../../../central/registry/rules.js';
import { runCentralCli } from '../../../central/cli/index.js';
import { RUC_MIDIS, RUC_RENIEC, T0, ctxAt, makeInstance } from '../helpers.js';

describe('sanctions export', () => {
  it('copies entities and sanctions to a SQLite file the consultarSanciones query reads as it reads central.db; replaced whole on the next export', async () => {
    const { store } = await makeInstance();
    const dir = mkdtempSync(join(tmpdir(), 'miis-sanc-'));
    try {
      registerMember(store, { memberClass: 'GOB', memberCode: RUC_RENIEC, name: 'RENIEC', role: 'RENIEC' }, ctxAt(T0));
      registerMember(store, { memberClass: 'GOB', memberCode: RUC_MIDIS, name: 'MIDIS', role: 'MIDIS' }, ctxAt(T0));
      addSanction(store, { entity: RUC_RENIEC, infraction: 'No otorgó el acceso acordado en el plazo', resolution: 'R.D. Nº 015-2026-MIDIS/DGFO', date: '2026-03-01' }, ctxAt(T0));
      const out = join(dir, 'sanciones.db');
      assert.deepEqual(exportSanctions(store, out, T0), { entities: 1, sanctions: 1 });
      const query = `SELECT e.ruc, e.name, s.infraction, s.resolution, s.date FROM gov_entities e LEFT JOIN gov_sanctions s ON s.entity_ruc = e.ruc WHERE e.ruc = ? ORDER BY s.date, s.id`;
      const read = (ruc: string) => {
        const db = new Database(out, { readonly: true });
        try {
          return db.prepare(query).all(ruc) as { ruc: string; infraction: string | null }[];
        } finally {
          db.close();
        }
      };
      assert.deepEqual(read(RUC_RENIEC).map((r) => r.infraction), ['No otorgó el acceso acordado en el plazo']);
      assert.deepEqual(read(RUC_MIDIS), [], 'not yet an entity of the catalogue: not found');
      addSanction(store, { entity: RUC_MIDIS, infraction: 'Entregó tarde el lote mensual', resolution: 'R.D. Nº 016-2026-MIDIS/DGFO', date: '2026-03-02' }, ctxAt(T0));
      assert.deepEqual(exportSanctions(store, out, T0), { entities: 2, sanctions: 2 });
      assert.deepEqual(read(RUC_MIDIS).map((r) => r.infraction), ['Entregó tarde el lote mensual']);
      assert.equal(existsSync(`${out}.tmp`), false);
      // a folder that does not exist: a Spanish error, nothing written
      assert.throws(() => exportSanctions(store, join(dir, 'no', 'existe.db'), T0), /no se pudo escribir/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('miis-central sanction export --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-sanc-cli-'));
    try {
      const lines: string[] = [];
      const errs: string[] = [];
      const io = { stdout: (s: string) => lines.push(s), stderr: (s: string) => errs.push(s) };
      assert.equal(await runCentralCli(['init', '--dir', join(dir, 'c'), '--instance', 'PE', '--name', 'MIDIS DGFO'], io), 0, errs.join(''));
      lines.length = 0;
      assert.equal(await runCentralCli(['sanction', 'export', '--dir', join(dir, 'c'), '--out', join(dir, 's.db'), '--json'], io), 0, errs.join(''));
      const r = JSON.parse(lines.join('')) as { ok: boolean; archivo: string; sanciones: number };
      assert.deepEqual([r.ok, r.archivo, r.sanciones], [true, join(dir, 's.db'), 0]);
      assert.ok(existsSync(join(dir, 's.db')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
