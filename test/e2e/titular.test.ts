/**
 * "¿Quién consultó mis datos?" end to end: Juntos consults RENIEC about one person through two real
 * nodes; `miis-node log titular --dni` on RENIEC's node lists that consultation with the consuming
 * entity, purpose and agreement; another DNI lists nothing; and the person's DNI is nowhere in
 * RENIEC's message-log files (bodies are sealed, the index holds HMACs only).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runNodeCli } from '../../node/cli/index.js';
import { subjectKeyPath } from '../../node/evidence/subject-index.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { needTool } from '../helpers/tools.js';
import { CONSULTAR_PERSONA, CONVENIO, JUNTOS_CLIENT, personaRequest, postSoap, runCli, startInstance, type Instance } from './fixture.js';

describe('log titular: who consulted a data subject', () => {
  let inst: Instance;
  let reniecDir: string;
  let other: string;
  let messageId: string;
  before(async () => {
    inst = await startInstance();
    reniecDir = nodeDir(inst.plan, 'reniec');
    messageId = `titular-${Date.now()}`;
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id: messageId }));
    assert.equal(res.status, 200, res.text);
    other = inst.dni === '10117410' ? '10812543' : '10117410';
  });
  after(async () => {
    await inst.close();
  });

  it('lists the consultation with client, purpose and agreement on the provider node', async () => {
    const r = await runCli(runNodeCli, ['log', 'titular', '--dir', reniecDir, '--dni', inst.dni, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { titular: string; consultas: { cliente: string; entidadNombre: string | null; servicio: string; finalidad: string; convenio: string; idMensaje: string; resultado: string; fechaHora: string }[] };
    assert.equal(report.titular, inst.dni);
    assert.equal(report.consultas.length, 1);
    const c = report.consultas[0]!;
    assert.equal(c.cliente, JUNTOS_CLIENT);
    assert.equal(c.entidadNombre, 'Programa Juntos');
    assert.equal(c.servicio, `${CONSULTAR_PERSONA}`);
    assert.equal(c.finalidad, 'FOCALIZACION');
    assert.equal(c.convenio, CONVENIO);
    assert.equal(c.idMensaje, messageId);
    assert.equal(c.resultado, 'respondida');
    assert.match(c.fechaHora, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    // the text form says it in Spanish
    const text = await runCli(runNodeCli, ['log', 'titular', '--dir', reniecDir, '--dni', inst.dni]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /1 consulta\(s\) de datos del titular/);
    assert.match(text.stdout, /Programa Juntos/);
    // a date range that excludes today lists nothing
    const old = await runCli(runNodeCli, ['log', 'titular', '--dir', reniecDir, '--dni', inst.dni, '--desde', '2020-01-01', '--hasta', '2020-12-31', '--json']);
    assert.equal((JSON.parse(old.stdout) as { consultas: unknown[] }).consultas.length, 0);
  });

  it('lists nothing for another DNI, and the consumer node (which indexes nothing) neither', async () => {
    const r = await runCli(runNodeCli, ['log', 'titular', '--dir', reniecDir, '--dni', other]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /No se registran consultas/);
    const j = await runCli(runNodeCli, ['log', 'titular', '--dir', nodeDir(inst.plan, 'juntos'), '--dni', inst.dni, '--json']);
    assert.equal((JSON.parse(j.stdout) as { consultas: unknown[] }).consultas.length, 0);
  });

  it('prints the report to HTML and PDF (chromium)', { skip: needTool('chromium') }, async () => {
    const html = join(inst.dir, 'titular.html');
    const pdf = join(inst.dir, 'titular.pdf');
    const r = await runCli(runNodeCli, ['log', 'titular', '--dir', reniecDir, '--dni', inst.dni, '--html', html, '--pdf', pdf]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(html, 'utf8'), /Programa Juntos/);
    assert.equal(readFileSync(pdf).subarray(0, 5).toString('latin1'), '%PDF-');
  });

  it('refuses an invalid DNI', async () => {
    const r = await runCli(runNodeCli, ['log', 'titular', '--dir', reniecDir, '--dni', '1234']);
    assert.equal(r.code, 2);
  });

  it('keeps no DNI in clear: the index holds HMACs and the log files do not contain the DNI', () => {
    assert.equal(statSync(subjectKeyPath(reniecDir)).mode & 0o777, 0o600);
    const db = new Database(join(reniecDir, 'messagelog.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT mac, seq FROM subject_index').all() as { mac: Buffer; seq: number }[];
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.mac.length, 32);
    } finally {
      db.close();
    }
    for (const f of ['messagelog.db', 'messagelog.db-wal']) {
      const path = join(reniecDir, f);
      if (!existsSync(path)) continue;
      const bytes = readFileSync(path);
      assert.equal(bytes.indexOf(inst.dni), -1, `${f} contiene el DNI en claro`);
      assert.equal(bytes.indexOf(Buffer.from(inst.dni, 'utf16le')), -1, `${f} contiene el DNI (UTF-16)`);
    }
  });
});
