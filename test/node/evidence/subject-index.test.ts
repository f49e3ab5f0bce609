/** The data-subject index: which DNIs a request concerns, the HMAC index written with the record, the report rows. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseXml, type XmlElement } from '../../../core/xml.js';
import { openMessageLog, type LogRecord } from '../../../node/evidence/message-log.js';
import { ensureSubjectKey, subjectKeyPath, subjectMac } from '../../../node/evidence/subject-index.js';
import { buildSubjectReport, limaDateTime, limaRange, renderSubjectReportHtml } from '../../../node/evidence/subject-report.js';
import { dataSubjectDnis } from '../../../node/pipeline/data-subjects.js';

const payload = (inner: string): XmlElement => parseXml(Buffer.from(`<q:op xmlns:q="urn:x">${inner}</q:op>`)).root;
const T0 = Date.parse('2026-03-02T15:00:00.000Z');

function record(i: number, over: Partial<LogRecord> = {}): LogRecord {
  return {
    side: 'server', direction: i % 2 === 0 ? 'request' : 'response', messageId: `m-${Math.floor(i / 2)}`,
    client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', userId: 'PE10117410',
    convenio: 'CONV-1', finalidad: 'FOCALIZACION', at: new Date(T0 + i * 1000), message: Buffer.from(`<m>${i}</m>`),
    signature: `<ds:Signature>${i}</ds:Signature>`, signerCertSha256: 'a'.repeat(64), ...over,
  };
}

describe('data subjects of a request', () => {
  it('reads the usual DNI elements, canonical and distinct, skipping values that are not DNIs', () => {
    assert.deepEqual(dataSubjectDnis(payload('<dni>10117410</dni><x><dni>10117410-2</dni></x><numeroDocumento>10812543H</numeroDocumento><dni>abc</dni><otro>40337956</otro>')), ['10117410', '10812543']);
  });
  it('reads the fields the agreement names with rule dni, and only those', () => {
    const v = [{ field: 'nroDoc', rule: 'dni' as const }];
    assert.deepEqual(dataSubjectDnis(payload('<nroDoc>40337956</nroDoc><dni>10117410</dni>'), v), ['40337956']);
  });
});

describe('subject index in the message log', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'miis-subjects-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a 0600 per-node key and indexes HMACs only, with the record, purged with it', async () => {
    const key = ensureSubjectKey(dir);
    assert.equal(statSync(subjectKeyPath(dir)).mode & 0o777, 0o600);
    assert.deepEqual(ensureSubjectKey(dir), key, 'the key is read back, not replaced');
    const path = join(dir, 'messagelog.db');
    const log = openMessageLog(path, { subjectKey: key });
    await log.append(record(0, { subjects: ['10812543', '40337956'] }));
    await log.append(record(1));
    await log.append(record(2, { subjects: ['10812543'] }));
    await log.append(record(3, { fault: 'Server.ServerProxy.ServiceFailed' }));
    await log.append(record(4, { subjects: ['40337956'], at: new Date(T0 + 2 * 86_400_000) }));
    const hits = log.subjectRecords(subjectMac(key, '10812543'));
    assert.deepEqual(hits.map((h) => [h.messageId, h.answered, h.responseFault]), [['m-0', true, undefined], ['m-1', true, 'Server.ServerProxy.ServiceFailed']]);
    assert.deepEqual(log.subjectRecords(subjectMac(key, '40337956')).map((h) => h.messageId), ['m-0', 'm-2']);
    assert.equal(log.subjectRecords(subjectMac(key, '40337956'))[1]!.answered, false);
    assert.deepEqual(log.subjectRecords(subjectMac(key, '40337956'), limaRange('2026-03-04', '2026-03-04')).map((h) => h.messageId), ['m-2']);
    assert.equal(log.subjectRecords(subjectMac(key, '77777777')).length, 0);
    // another node's key finds nothing
    assert.equal(log.subjectRecords(subjectMac(Buffer.alloc(32, 7), '10812543')).length, 0);
    assert.equal(log.purgeThrough(3), 3);
    assert.equal((log.db.prepare('SELECT COUNT(*) AS n FROM subject_index').get() as { n: number }).n, 1);
    await log.close();
    const bytes = Buffer.concat([readFileSync(path), ...(['-wal'].map((s) => { try { return readFileSync(path + s); } catch { return Buffer.alloc(0); } }))]);
    assert.equal(bytes.indexOf('10812543'), -1);
    assert.equal(bytes.indexOf('40337956'), -1);
  });

  it('limaRange: Lima calendar days, inclusive; refuses an inverted range', () => {
    assert.deepEqual(limaRange('2026-03-02', '2026-03-02'), { from: '2026-03-02T05:00:00.000Z', to: '2026-03-03T05:00:00.000Z' });
    assert.deepEqual(limaRange(), {});
    assert.throws(() => limaRange('2026-03-03', '2026-03-02'));
    assert.equal(limaDateTime(new Date('2026-03-02T04:30:00Z')), '2026-03-01 23:30:00');
  });

  it('report rows name the entity, the service title and the acta from the global configuration', () => {
    const r = buildSubjectReport({
      dni: '10117410', provider: 'RENIEC', now: new Date(T0),
      hits: [{ seq: 1, at: new Date(T0), side: 'server', messageId: 'm-<1>', client: 'PE/GOB/20511268401/JUNTOS', service: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', convenio: 'CONV-1', finalidad: 'FOCALIZACION', answered: true }],
      conf: { members: [{ id: 'PE/GOB/20511268401', name: 'Programa Juntos', role: 'IPF' }], services: [{ id: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', title: 'Consultar persona' }], agreements: [{ id: 'CONV-1', acta: 'ACTA Nº 01-2026-MIDIS/DGFO', provider: 'PE/GOB/20295613620', clients: [], services: [], purposes: [], validFrom: '2026-01-01' }] } as never,
    });
    const c = r.consultas[0]!;
    assert.deepEqual([c.entidad, c.entidadNombre, c.servicioTitulo, c.acta, c.resultado, c.fechaHora], ['PE/GOB/20511268401', 'Programa Juntos', 'Consultar persona', 'ACTA Nº 01-2026-MIDIS/DGFO', 'respondida', '2026-03-02 10:00:00']);
    const html = renderSubjectReportHtml(r);
    assert.match(html, /Programa Juntos/);
    assert.match(html, /m-&lt;1&gt;/);
    assert.doesNotMatch(html, /m-<1>/);
  });
});
