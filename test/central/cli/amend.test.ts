/**
 * miis-central amend and end commands through the CLI: member add taking the catalogue name,
 * member set|remove, subsystem|service remove with Spanish refusals naming what blocks them,
 * agreement end|show|list, entity set --ruc; --json with Spanish keys; what changed shows in the
 * next global configuration.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../../central/cli/index.js';
import { seedEntityRucs } from '../../../central/governance/catalogue-seed.js';
import { validateGlobalConf } from '../../../core/global-conf.js';
import type { GlobalConf } from '../../../core/global-conf-model.js';
import { RUC_RENIEC, T0 } from '../helpers.js';

const RENIEC = `PE/GOB/${RUC_RENIEC}`;
const JUNTOS = 'PE/GOB/20511268401';
const SERVICE = `${RENIEC}/RUPN/consultarPersona/v1`;

describe('miis-central amend and end (CLI)', () => {
  let root: string;
  const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runCentralCli([...args, '--dir', join(root, 'central'), '--actor', 'operador'], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, now: () => T0 });
    return { code, out, err };
  };
  const ok = async (...args: string[]): Promise<string> => {
    const r = await cli(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
    return r.out;
  };
  const conf = async (): Promise<GlobalConf> => validateGlobalConf(JSON.parse(await ok('conf', 'show', '--json')));

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'miis-amend-cli-'));
    await ok('init', '--instance', 'PE');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('member add takes the name of the seeded entity; member set renames member and entity; JSON keys in Spanish', async () => {
    const added = JSON.parse(await ok('member', 'add', '--class', 'GOB', '--code', RUC_RENIEC, '--json')) as { miembro: string; nombre: string; rol: string; entidadRenombrada: unknown };
    assert.deepEqual(added, { ok: true, miembro: RENIEC, nombre: 'Registro Nacional de Identificación y Estado Civil', rol: 'RENIEC', ruc: RUC_RENIEC, entidadRenombrada: null });
    const noName = await cli('member', 'add', '--class', 'GOB', '--code', '20511268401');
    assert.equal(noName.code, 2);
    assert.match(noName.err, /no es una entidad del catálogo: indique --name y --role/);
    await ok('member', 'add', '--class', 'GOB', '--code', '20511268401', '--name', 'Programa Juntos', '--role', 'IPF');
    const set = await ok('member', 'set', RENIEC, '--name', 'RENIEC');
    assert.match(set, /Miembro actualizado: PE\/GOB\/20295613620 \(RENIEC, RENIEC\)/);
    const entities = JSON.parse(await ok('entity', 'list', '--json')) as { ruc: string; nombre: string }[];
    assert.equal(entities.find((e) => e.ruc === RUC_RENIEC)?.nombre, 'RENIEC');
    assert.equal(entities.find((e) => e.ruc === '20511268401')?.nombre, 'Programa Juntos');
    assert.equal((await conf()).members.find((m) => m.id === RENIEC)?.name, 'RENIEC');
  });

  it('removals are refused naming what blocks them, then done and published', async () => {
    await ok('subsystem', 'add', `${RENIEC}/RUPN`);
    await ok('subsystem', 'add', `${JUNTOS}/JUNTOS`);
    await ok('service', 'add', SERVICE, '--title', 'Consultar persona');
    await ok('agreement', 'add', '--id', 'CONV-001-2026', '--provider', RENIEC, '--client', `${JUNTOS}/JUNTOS`, '--service', SERVICE, '--purpose', 'FOCALIZACION', '--from', '2026-01-01');
    const m = await cli('member', 'remove', JUNTOS);
    assert.equal(m.code, 2);
    assert.match(m.err, /no se puede dar de baja el miembro PE\/GOB\/20511268401 \(Programa Juntos\): tiene 1 subsistema \(PE\/GOB\/20511268401\/JUNTOS\); délos de baja con «miis-central subsystem remove»; 1 convenio vigente lo nombra \(CONV-001-2026\)/);
    const s = await cli('service', 'remove', SERVICE);
    assert.equal(s.code, 2);
    assert.match(s.err, /1 convenio vigente lo cubre \(CONV-001-2026\); termínelos con «miis-central agreement end»/);

    // T0 is 2026-03-02 in Lima: ending it on 2026-03-01 leaves it out of force
    const ended = JSON.parse(await ok('agreement', 'end', 'CONV-001-2026', '--date', '2026-03-01', '--reason', 'Resuelto', '--json')) as { id: string; finAnticipado: { vigenteHasta: string; motivo: string; por: string } };
    assert.deepEqual([ended.id, ended.finAnticipado.vigenteHasta, ended.finAnticipado.motivo, ended.finAnticipado.por], ['CONV-001-2026', '2026-03-01', 'Resuelto', 'operador']);
    assert.equal((await conf()).agreements?.[0]?.validUntil, '2026-03-01');
    assert.match(await ok('agreement', 'list'), /CONV-001-2026 .* 2026-03-01 /);
    assert.match(await ok('agreement', 'show', 'CONV-001-2026'), /Terminado: rige hasta el 2026-03-01 — Resuelto \(registrado el 2026-03-02 10:00 hora de Lima, por operador\)/);

    assert.deepEqual(JSON.parse(await ok('subsystem', 'remove', `${JUNTOS}/JUNTOS`, '--json')), { ok: true, subsistema: `${JUNTOS}/JUNTOS`, nodos: [], baja: true });
    assert.match(await ok('member', 'remove', JUNTOS), /Miembro dado de baja: PE\/GOB\/20511268401 \(Programa Juntos\)/);
    assert.match(await ok('service', 'remove', SERVICE), /Servicio dado de baja: PE\/GOB\/20295613620\/RUPN\/consultarPersona\/v1\. Se publica/);
    const c = await conf();
    assert.equal(c.members.some((x) => x.id === JUNTOS), false);
    assert.equal(c.subsystems.includes(`${JUNTOS}/JUNTOS`), false);
    assert.equal(c.services.some((x) => x.id === SERVICE), false);
    const audit = JSON.parse(await ok('audit', 'list', '--json')) as { accion: string }[];
    for (const action of ['agreement.end', 'subsystem.remove', 'member.remove', 'service.remove']) assert.ok(audit.some((a) => a.accion === action), action);
  });

  it('entity set --ruc replaces a provisional RUC and says what moved', async () => {
    const old = seedEntityRucs().get('SUNAT')!.ruc;
    const out = await ok('entity', 'set', old, '--ruc', '20131312955');
    assert.match(out, new RegExp(`RUC de Superintendencia Nacional de Aduanas y de Administración Tributaria: ${old} → 20131312955 \\(pasan al nuevo RUC: 1 componente\\)`));
    const json = JSON.parse(await ok('entity', 'set', '20131312955', '--acronym', 'SUNAT', '--json')) as { ruc: string; sigla: string; rucProvisional: boolean };
    assert.deepEqual([json.ruc, json.sigla, json.rucProvisional], ['20131312955', 'SUNAT', false]);
    const refused = await cli('entity', 'set', RUC_RENIEC, '--ruc', '20131312955');
    assert.equal(refused.code, 2);
    assert.match(refused.err, /ya es el miembro PE\/GOB\/20295613620/);
  });
});
