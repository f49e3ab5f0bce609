/**
 * Issue 9, item 5: the consumer node refuses what the IS must not send (a header the nodes add,
 * control characters in identifiers and header values) before anything is signed or forwarded,
 * and the node CLI prints logged values with control characters escaped.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { signDetached } from '../../core/signature.js';
import { runNodeCli } from '../../node/cli/index.js';
import { encodeSignedMessage } from '../../node/pipeline/signed-message.js';
import { escapeForTerminal, formatTable } from '../../runtime/cli-kit.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { faultCodeOf, personaRequest, postMtls, postSoap, runCli, startInstance, type Instance } from '../e2e/fixture.js';
import { expectGood, juntosTls, newId, UUID } from './hardening-helpers.js';
import { sqliteLog } from '../helpers/node-log.js';

const JUNTOS_CLIENT_XML = (code: string) => `<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>${code}</id:subsystemCode></xrd:client>`;

describe('hardening: the consumer refuses what the IS must not send', () => {
  let inst: Instance;
  before(async () => {
    inst = await startInstance();
  });
  after(async () => {
    await inst.close();
  });

  /** Send from the IS; expect `code`, nothing logged as a message for that id, nothing at the backend. */
  const refused = async (body: string, code: string, id: string): Promise<string> => {
    const before = inst.backend.requests;
    const res = await postSoap(inst.juntos.isUrl, body);
    assert.equal(faultCodeOf(res.text), code, res.text);
    assert.match(res.text, UUID);
    assert.equal(inst.backend.requests, before, 'nothing reached the backend');
    assert.deepEqual(sqliteLog(inst.juntos).list({ messageId: id }), [], 'nothing signed or logged');
    return res.text;
  };

  it('a client-supplied xrd:requestHash → Client.ForbiddenHeader', async () => {
    const id = newId('reqhash');
    const text = await refused(personaRequest(inst.dni, { id, extraHeader: '<xrd:requestHash algorithmId="http://www.w3.org/2001/04/xmlenc#sha512">AAAA</xrd:requestHash>' }), 'Client.ForbiddenHeader', id);
    assert.match(text, /xrd:requestHash/);
    await expectGood(inst);
  });

  for (const [what, over, code] of [
    ['a tab in xrd:id', { id: `a\tb-${randomUUID()}` }, 'Client.ControlCharacter'],
    ['a newline in userId', { extraHeader: '', userIdInBody: true }, 'Client.ControlCharacter'],
    ['DEL in miis:finalidad', { finalidad: 'FOCALIZACION\u007f' }, 'Client.ControlCharacter'],
    ['a carriage return (as a character reference) in miis:convenio', { convenio: 'CONV-001&#13;-2026' }, 'Client.ControlCharacter'],
    // identifiers already have a character class (core/identifiers.ts): refused there
    ['C1 (CSI) in the subsystem code', { client: JUNTOS_CLIENT_XML('JUN\u009bTOS') }, 'Client.InvalidClientIdentifier'],
  ] as const) {
    it(`${what} → ${code}`, async () => {
      const id = 'id' in over ? over.id : newId('ctl');
      let body = personaRequest(inst.dni, { id, ...('client' in over ? { client: over.client } : {}) });
      if ('userIdInBody' in over) body = body.replace('<xrd:userId>PE10117410</xrd:userId>', '<xrd:userId>PE101\n17410</xrd:userId>');
      if ('finalidad' in over) body = body.replace('<miis:finalidad>FOCALIZACION</miis:finalidad>', `<miis:finalidad>${over.finalidad}</miis:finalidad>`);
      if ('convenio' in over) body = body.replace('<miis:convenio>CONV-001-2026</miis:convenio>', `<miis:convenio>${over.convenio}</miis:convenio>`);
      await refused(body, code, id);
      await expectGood(inst);
    });
  }

  it('log list and log faults print control characters as visible escapes', async () => {
    // a peer that skips its own checks: the provider logs what it was sent, the CLI must not replay it to the terminal
    const id = `evil\u009b2J\u0085${newId('cli')}`;
    const raw = Buffer.from(personaRequest(inst.dni, { id }), 'utf8');
    const msg = encodeSignedMessage(raw, signDetached(raw, inst.juntos.ctx.signer));
    const res = await postMtls(`${inst.reniec.proxyUrl}/miis/v1/message`, msg.body, msg.contentType, juntosTls(inst));
    assert.equal(res.status, 200, res.body.toString('utf8'));
    sqliteLog(inst.reniec).recordFault({ faultId: randomUUID(), code: 'Server.ServerProxy.InternalError', side: 'server', at: new Date(), detail: 'línea 1\nlínea 2 \u001b[31mrojo\u001b[0m' });
    const dir = nodeDir(inst.plan, 'reniec');
    const list = await runCli(runNodeCli, ['log', 'list', '--dir', dir, '--limit', '5']);
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no raw control character (other than the line ends of the table)');
    assert.match(list.stdout, /evil\\u\{9b\}2J\\u\{85\}hard-cli/);
    const faults = await runCli(runNodeCli, ['log', 'faults', '--dir', dir]);
    assert.equal(faults.code, 0, faults.stderr);
    assert.doesNotMatch(faults.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    assert.match(faults.stdout, /línea 1\\nlínea 2 \\u\{1b\}\[31mrojo/);
    assert.equal(faults.stdout.split('\n').filter((l) => l.includes('línea 2')).length, 1, 'one row, not two lines');
    await expectGood(inst);
  });

  it('escapeForTerminal and formatTable', () => {
    assert.equal(escapeForTerminal('a\tb\r\nc\u0000\u007f\u009b\u202e'), 'a\\tb\\r\\nc\\u{0}\\u{7f}\\u{9b}\\u{202e}');
    assert.equal(escapeForTerminal('Perú «ñ»'), 'Perú «ñ»');
    assert.equal(formatTable(['A', 'B'], [['x\ny', 'z']]), 'A     B\nx\\ny  z\n');
  });
});
