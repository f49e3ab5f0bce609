/**
 * Batch exchanges (lotes), the pure and file parts: trama definitions (core/trama.ts), the chunk
 * scan of a file (whole lines, per-chunk SHA-256, a last line without newline), the CSV header
 * against the trama and the record checks with the agreements' rule names.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { GlobalConfTrama } from '../../../core/global-conf-model.js';
import { checkTrama, tramaOfService } from '../../../core/trama.js';
import { checkRecord, parseRecord, readCsvHeader, readManifest, splitLines } from '../../../node/pipeline/batch-format.js';
import { scanFile } from '../../../node/pipeline/batch-consumer.js';

const TRAMA = {
  id: 'PADRON', version: 2, service: 'PE/GOB/20295613620/RUPN/consultarPadron', agreement: 'CONV-1', key: 'dni',
  fields: [{ name: 'dni', type: 'texto', rule: 'dni', required: true }, { name: 'hogar', type: 'entero' }, { name: 'alta', type: 'fecha' }],
};

describe('trama: definición publicada', () => {
  it('acepta una trama válida y rechaza campos, reglas y claves incorrectos', () => {
    const ok = checkTrama(TRAMA);
    assert.equal(ok.ok, true);
    for (const [bad, why] of [
      [{ ...TRAMA, key: 'otro' }, /key/],
      [{ ...TRAMA, fields: [{ name: 'dni', type: 'texto', rule: 'cuit' }] }, /rule/],
      [{ ...TRAMA, extra: 1 }, /desconocido/],
      [{ ...TRAMA, periodicity: 'a veces' }, /periodicity/],
      [{ ...TRAMA, fields: [{ name: 'dni', type: 'texto' }, { name: 'dni', type: 'texto' }] }, /repetido/],
    ] as const) {
      const r = checkTrama(bad);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, why);
    }
  });
  it('elige la versión más alta del servicio y convenio', () => {
    const t = checkTrama(TRAMA);
    assert.ok(t.ok);
    const v1 = { ...t.trama, version: 1 };
    assert.equal(tramaOfService([v1, t.trama], TRAMA.service, 'CONV-1')?.version, 2);
    assert.equal(tramaOfService([v1, t.trama], TRAMA.service, 'OTRO'), undefined);
  });
});

describe('lotes: lectura del archivo y de los registros', () => {
  const trama = (checkTrama(TRAMA) as { trama: GlobalConfTrama }).trama;
  it('parte el archivo en trozos de líneas enteras con su SHA-256 (última línea sin salto incluida)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'miis-lote-'));
    try {
      const path = join(dir, 'a.csv');
      writeFileSync(path, 'dni,hogar\n10000001,1\n10000002,2\n10000003,3\n10000004,4\n10000005,5');
      const scan = await scanFile(path, 'csv', 2, 1024);
      assert.equal(scan.header, 'dni,hogar');
      assert.equal(scan.records, 5);
      assert.deepEqual(scan.chunks.map((c) => [c.records, c.firstLine]), [[2, 2], [2, 4], [1, 6]]);
      const bytes = readFileSync(path);
      scan.chunks.forEach((c, i) => {
        const [a, b] = scan.ranges[i] as [number, number];
        assert.equal(c.sha256, createHash('sha256').update(bytes.subarray(a, b)).digest('hex'));
      });
      assert.deepEqual(splitLines(bytes.subarray(...(scan.ranges[2] as [number, number]))), ['10000005,5']);
      assert.equal(scan.sha256, createHash('sha256').update(bytes).digest('hex'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('comprueba el encabezado CSV contra la trama', () => {
    assert.deepEqual(readCsvHeader('dni;hogar', trama), { columns: ['dni', 'hogar'], separator: ';' });
    assert.match(readCsvHeader('dni,nombre', trama) as string, /nombre/);
    assert.match(readCsvHeader('hogar', trama) as string, /dni/);
  });
  it('valida cada registro con las reglas de la trama y da la forma canónica', () => {
    const file = { sha256: '', format: 'csv' as const, records: 1, columns: ['dni', 'hogar', 'alta'], separator: ',' };
    const ok = checkRecord(parseRecord('40337956-1,12,2026-01-31', file) as Record<string, string>, trama);
    assert.deepEqual(ok, { ok: true, id: '40337956', fields: { dni: '40337956', hogar: '12', alta: '2026-01-31' } });
    assert.match((checkRecord({ dni: '123' }, trama) as { reason: string }).reason, /campo «dni»/);
    assert.match((checkRecord({ dni: '40337956', hogar: 'x' }, trama) as { reason: string }).reason, /entero/);
    assert.match((checkRecord({ hogar: '1' }, trama) as { reason: string }).reason, /obligatorio/);
    assert.match(parseRecord('1,2', file) as string, /columnas/);
    assert.match(parseRecord('{no', { ...file, format: 'jsonl' }) as string, /JSON/);
  });
  it('rechaza un manifiesto cuyos trozos no suman los registros del archivo', () => {
    const m = {
      format: 'miis-lote/1', type: 'manifiesto', batchId: 'abcdef0123', client: 'c', service: 's', convenio: 'k', finalidad: 'F', createdAt: 'x',
      trama: { id: 'T', version: 1 }, file: { sha256: 'a', format: 'jsonl', records: 3 }, chunks: [{ sha256: 'a'.repeat(64), records: 2, firstLine: 1 }],
    };
    assert.match(readManifest(m) as string, /suman 2/);
    assert.equal(typeof readManifest({ ...m, file: { ...m.file, records: 2 } }), 'object');
  });
});

describe('entregas: periodos de la periodicidad', () => {
  it('da el periodo que contiene un día', async () => {
    const { periodOf } = await import('../../../central/governance/deliveries.js');
    assert.deepEqual(periodOf('mensual', '2026-02-14'), { start: '2026-02-01', end: '2026-02-28' });
    assert.deepEqual(periodOf('trimestral', '2026-12-01'), { start: '2026-10-01', end: '2026-12-31' });
    assert.deepEqual(periodOf('semestral', '2026-07-01'), { start: '2026-07-01', end: '2026-12-31' });
    assert.deepEqual(periodOf('anual', '2028-02-29'), { start: '2028-01-01', end: '2028-12-31' });
    assert.deepEqual(periodOf('semanal', '2026-06-14'), { start: '2026-06-08', end: '2026-06-14' }); // a Sunday
    assert.deepEqual(periodOf('diaria', '2026-06-14'), { start: '2026-06-14', end: '2026-06-14' });
  });
});
