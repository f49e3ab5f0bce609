/**
 * Issue 14 item 7: the provider's designated unit answers an access request from its own node
 * (`miis-node access responder`, signed with the member's key), and the IPF lists its requests
 * from its node (`miis-node access list`, a signed query). Central refuses an answer from a member
 * that does not administer the component, a replayed answer and a tampered one.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { runNodeCli } from '../../node/cli/index.js';
import { ACCESS_ANSWER_PATH, signAccessAnswer, type AccessListRow } from '../../core/access-request-message.js';
import { createSigner } from '../../core/signature.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { CONSULTAR_PERSONA, JUNTOS, JUNTOS_CLIENT, RENIEC, faultCodeOf, personaRequest, postSoap, runCli, startInstance, type Instance } from './fixture.js';

const RENIEC_RUC = '20295613620';

describe('access requests answered from the provider\'s node (signed) and listed from the requester\'s node', () => {
  let inst: Instance;
  let centralDir: string;
  const central = async (...argv: string[]): Promise<string> => {
    const r = await runCli(runCentralCli, [...argv, '--dir', centralDir]);
    assert.equal(r.code, 0, `${argv.join(' ')}\n${r.stderr}`);
    return r.stdout;
  };
  const node = (name: 'reniec' | 'juntos', ...argv: string[]) => runCli(runNodeCli, [...argv, '--dir', nodeDir(inst.plan, name)]);
  const signerOf = (name: 'reniec' | 'juntos') => {
    const dir = nodeDir(inst.plan, name);
    return createSigner(readFileSync(join(dir, 'keys', 'sign-key.pem'), 'utf8'), readFileSync(join(dir, 'sign.pem'), 'utf8'));
  };
  const postAnswer = async (body: unknown) => {
    const res = await fetch(`${inst.central.url}${ACCESS_ANSWER_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as { mensaje?: string; estado?: string } };
  };

  before(async () => {
    inst = await startInstance({ allowJuntos: false, agreements: [] });
    centralDir = join(inst.dir, 'central');
    await central('directive', 'set-approval', '2026-02-02');
    await central('unit', 'request', '--entity', RENIEC_RUC, '--date', '2026-03-02', '--ref', 'Oficio Nº 012-2026-MIDIS/DGFO');
    await central('unit', 'answer', '--entity', RENIEC_RUC, '--date', '2026-03-16', '--unit', 'Gerencia de Registros de Identificación',
      '--head', 'Ana Quispe Rojas', '--post', 'Gerente', '--contact', 'aquispe@reniec.gob.pe', '--user', 'aquispe');
    await central('component', 'link', 'RUPN', CONSULTAR_PERSONA);
  });
  after(async () => {
    await inst?.close();
  });

  it('RENIEC grants Juntos\'s request from its node; Juntos sees the agreement to cite and uses it', async () => {
    const sent = await node('juntos', 'access', 'request', '--component', 'RUPN', '--purpose', 'FOCALIZACION', '--legal-basis', 'Ley Nº 30435, art. 13', '--json');
    assert.equal(sent.code, 0, sent.stderr);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;

    // RENIEC's unit sees it among the requests addressed to its components; Juntos does not see it there
    const received = await node('reniec', 'access', 'list', '--recibidas', '--json');
    assert.equal(received.code, 0, received.stderr);
    assert.deepEqual((JSON.parse(received.stdout) as AccessListRow[]).map((r) => [r.id, r.estado, r.cliente]), [[id, 'pendiente', JUNTOS_CLIENT]]);
    const juntosReceived = await node('juntos', 'access', 'list', '--recibidas', '--json');
    assert.deepEqual(JSON.parse(juntosReceived.stdout), []);

    // Juntos cannot answer its own request: it does not administer RUPN
    const self = await node('juntos', 'access', 'responder', '--solicitud', id, '--decision', 'aprobar');
    assert.equal(self.code, 2);
    assert.match(self.stderr, /No autorizado: .*PE\/GOB\/20511268401 no administra el componente RUPN/);

    const granted = await node('reniec', 'access', 'responder', '--solicitud', id, '--decision', 'aprobar', '--convenio', 'CONV-001-2026', '--hasta', '2099-12-31');
    assert.equal(granted.code, 0, granted.stderr);
    assert.match(granted.stdout, new RegExp(`Solicitud ${id} OTORGADA por Gerencia de Registros de Identificación \\(firmada por ${RENIEC}\\); convenio CONV-001-2026`));

    // central recorded who answered: the provider's designated unit, through the member's signed answer
    const recorded = JSON.parse(await central('access', 'list', '--json')) as { id: string; estado: string; decididaPor: string; unidadDecisora: string; sha256CertFirmanteDecision: string | null }[];
    const r = recorded.find((x) => x.id === id);
    assert.deepEqual([r?.estado, r?.decididaPor, r?.unidadDecisora], ['otorgada', `nodo:${RENIEC}`, 'Gerencia de Registros de Identificación']);
    assert.match(r?.sha256CertFirmanteDecision ?? '', /^[0-9a-f]{64}$/);
    const audit = JSON.parse(await central('audit', 'list', '--action', 'access.', '--json')) as { accion: string; actor: string }[];
    assert.deepEqual(audit.map((a) => [a.accion, a.actor]), [['access.request', `nodo:${JUNTOS}`], ['access.grant', `nodo:${RENIEC}`]]);

    // the requesting IPF lists its requests: Spanish table and JSON, with the agreement to cite
    const table = await node('juntos', 'access', 'list');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /SOLICITUD.*ESTADO.*CONVENIO A CITAR/);
    assert.match(table.stdout, new RegExp(`${id}.*otorgada.*CONV-001-2026`));
    const mine = JSON.parse((await node('juntos', 'access', 'list', '--json')).stdout) as AccessListRow[];
    assert.deepEqual(mine.map((x) => [x.id, x.estado, x.convenio, x.unidad]), [[id, 'otorgada', 'CONV-001-2026', 'Gerencia de Registros de Identificación']]);

    // and the grant works in a real exchange once the providers' node has the new configuration
    inst.central.app.publisher.refresh();
    await inst.reniec.ctx.conf.refresh();
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(res.status, 200, res.text);
  });

  it('refuses an answer for a component the signer does not administer, a replayed answer and a tampered one', async () => {
    // Juntos asks MIDIS for PGH: RENIEC (a provider, but not of PGH) may not answer it
    const sent = await node('juntos', 'access', 'request', '--component', 'PGH', '--purpose', 'FOCALIZACION', '--legal-basis', 'Ley Nº 30435, art. 13', '--json');
    assert.equal(sent.code, 0, sent.stderr);
    const id = (JSON.parse(sent.stdout) as { id: string }).id;
    const foreign = await node('reniec', 'access', 'responder', '--solicitud', id, '--decision', 'denegar', '--motivo', 'No');
    assert.equal(foreign.code, 2);
    assert.match(foreign.stderr, /No autorizado: .*no administra el componente PGH/);
    assert.equal(JSON.parse((await node('juntos', 'access', 'list', '--json')).stdout).find((x: AccessListRow) => x.id === id)?.estado, 'pendiente');

    // a body signed by RENIEC answering the (already granted) first request: tampered, then replayed
    const first = (JSON.parse((await node('juntos', 'access', 'list', '--json')).stdout) as AccessListRow[]).find((x) => x.componente === 'RUPN');
    assert.ok(first !== undefined);
    const message = { answerId: randomUUID(), requestId: first.id, member: RENIEC, decision: 'denegar' as const, reason: 'Revisión', createdAt: new Date().toISOString() };
    const signed = signAccessAnswer(message, signerOf('reniec'));
    const tampered = await postAnswer({ ...signed, message: Buffer.from(JSON.stringify({ ...message, requestId: id })).toString('base64') });
    assert.equal(tampered.status, 403);
    assert.match(tampered.json.mensaje ?? '', /firma de la respuesta no es válida/);
    const once = await postAnswer(signed);
    assert.equal(once.status, 400, 'the request was already answered');
    assert.match(once.json.mensaje ?? '', /ya fue otorgada/);
    const replay = await postAnswer(signed);
    assert.equal(replay.status, 409);
    assert.match(replay.json.mensaje ?? '', /posible repetición/);
    // the same answer id in a new body is a replay too
    const reused = await postAnswer(signAccessAnswer({ ...message, reason: 'Otra' }, signerOf('reniec')));
    assert.equal(reused.status, 409);
    // a signature of Juntos's key claiming to be RENIEC is refused
    const impostor = await postAnswer(signAccessAnswer({ ...message, answerId: randomUUID() }, signerOf('juntos')));
    assert.equal(impostor.status, 403);
    assert.match(impostor.json.mensaje ?? '', /el certificado es de PE\/GOB\/20511268401, no de PE\/GOB\/20295613620/);
    // nothing changed: the first request is still granted
    assert.equal((JSON.parse((await node('juntos', 'access', 'list', '--json')).stdout) as AccessListRow[]).find((x) => x.id === first.id)?.estado, 'otorgada');
    assert.equal(faultCodeOf((await postSoap(inst.juntos.isUrl, personaRequest(inst.dni))).text), undefined);
  });
});
