/**
 * Amend and end through two real nodes: an exchange succeeds; central ends the agreement (or
 * revokes the right it granted), publishes, the provider node refreshes its configuration, and
 * the same request is refused with the matching fault: AgreementNotInForce for an agreement
 * ended yesterday, AccessDenied for a revoked right. The central side runs through its CLI.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { dayBefore } from '../../central/registry/agreements.js';
import { limaDate } from '../../core/iso-date.js';
import { CONSULTAR_PERSONA, JUNTOS_CLIENT, RENIEC, faultCodeOf, personaRequest, postSoap, runCli, startInstance, type Instance } from './fixture.js';

describe('amend and end reach the provider node (two real nodes)', () => {
  let inst: Instance;
  const c = (...argv: string[]) => runCli(runCentralCli, [...argv, '--dir', join(inst.dir, 'central')]);
  const ok = async (...argv: string[]): Promise<string> => {
    const r = await c(...argv);
    assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** Central publishes what changed; RENIEC's node takes the new configuration up. */
  const publish = async (): Promise<number> => {
    const { version } = inst.central.app.publisher.refresh();
    await inst.reniec.ctx.conf.refresh();
    assert.equal(inst.reniec.ctx.conf.latest()?.conf.serial, version.serial, 'the provider node has the new configuration');
    return version.serial;
  };
  const ask = (convenio = 'CONV-001-2026') => postSoap(inst.juntos.isUrl, personaRequest(inst.dni).replace('<miis:convenio>CONV-001-2026<', `<miis:convenio>${convenio}<`));

  // no local ACL on RENIEC's node: Juntos's right comes only from central (access grant)
  before(async () => {
    inst = await startInstance({ allowJuntos: false });
    await ok('unit', 'request', '--entity', RENIEC, '--date', '2026-03-02');
    await ok('unit', 'answer', '--entity', RENIEC, '--date', '2026-03-10', '--unit', 'Gerencia de Registros de Identificación', '--head', 'Ana Quispe', '--post', 'Gerente', '--contact', 'aquispe@reniec.gob.pe', '--user', 'aquispe');
    await ok('component', 'link', 'RUPN', CONSULTAR_PERSONA);
    await ok('access', 'request', '--client', JUNTOS_CLIENT, '--component', 'RUPN', '--service', CONSULTAR_PERSONA, '--purpose', 'FOCALIZACION', '--legal-basis', 'Ley Nº 30435, art. 13', '--date', '2026-03-27');
    await ok('access', 'grant', 'SA-2026-0001', '--actor', 'aquispe', '--agreement', 'CONV-SA-2026', '--date', '2026-04-06');
    await publish();
  });
  after(async () => {
    await inst.close();
  });

  it('agreement end: the request that succeeded is refused (AgreementNotInForce) from the configuration that carries the end', async () => {
    const first = await ask();
    assert.equal(first.status, 200, first.text);
    assert.match(first.text, /<encontrado>true<\/encontrado>/);

    const yesterday = dayBefore(limaDate(new Date()));
    const ended = JSON.parse(await ok('agreement', 'end', 'CONV-001-2026', '--date', yesterday, '--reason', 'Resolución por mutuo acuerdo', '--json')) as { finAnticipado: { vigenteHasta: string; motivo: string } };
    assert.deepEqual(ended.finAnticipado.vigenteHasta, yesterday);
    // nothing changes for the node until central publishes and the node refreshes
    await publish();
    assert.equal(inst.reniec.ctx.conf.latest()?.conf.agreements?.find((a) => a.id === 'CONV-001-2026')?.validUntil, yesterday);
    const refusedNow = await ask();
    assert.equal(faultCodeOf(refusedNow.text), 'Server.ServerProxy.AgreementNotInForce', refusedNow.text);
    assert.match(refusedNow.text, new RegExp(`CONV-001-2026 venció el ${yesterday}`));

    // the history keeps it; a new agreement lets the exchange through again
    const list = await ok('agreement', 'list');
    assert.match(list, new RegExp(`CONV-001-2026 .*${yesterday}`));
    await ok('agreement', 'add', '--id', 'CONV-002-2026', '--provider', RENIEC, '--client', JUNTOS_CLIENT, '--service', CONSULTAR_PERSONA, '--purpose', 'FOCALIZACION', '--from', '2026-01-01');
    await publish();
    const again = await ask('CONV-002-2026');
    assert.equal(again.status, 200, again.text);
  });

  it('access revoke: the right granted at central leaves the configuration and the node answers AccessDenied', async () => {
    const before = await ask('CONV-002-2026');
    assert.equal(before.status, 200, before.text);
    const byDgfo = await c('access', 'revoke', 'SA-2026-0001', '--actor', 'dgfo-operador', '--reason', 'x');
    assert.equal(byDgfo.code, 2);
    assert.match(byDgfo.stderr, /no actúa por la unidad designada/);
    const revoked = JSON.parse(await ok('access', 'revoke', JUNTOS_CLIENT, CONSULTAR_PERSONA, '--actor', 'aquispe', '--reason', 'Fin de la intervención', '--json')) as { ok: boolean; revocadas: { solicitud: string; estado: string }[] };
    assert.equal(revoked.ok, true);
    assert.deepEqual(revoked.revocadas.map((r) => [r.solicitud, r.estado]), [['SA-2026-0001', 'revocada']]);
    await publish();
    assert.deepEqual(inst.reniec.ctx.conf.latest()?.conf.accessRights ?? [], []);
    const refusedNow = await ask('CONV-002-2026');
    assert.equal(faultCodeOf(refusedNow.text), 'Server.ServerProxy.AccessDenied', refusedNow.text);
    const audit = JSON.parse(await ok('audit', 'list', '--action', 'access.revoke', '--json')) as { actor: string; despues: { status: string } }[];
    assert.deepEqual(audit.map((a) => [a.actor, a.despues.status]), [['aquispe', 'revocada']]);
  });
});
