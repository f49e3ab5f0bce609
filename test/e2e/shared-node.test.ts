/**
 * Issue 14 item 8: a shared node (X-Road: a security server with several members). Node A (the
 * Juntos node of the fixture) hosts its owner M1 = Juntos and M2 = a municipality, each with its
 * own signing key and certificate; central lists M2 among the members node A serves. Through two
 * real nodes (A and RENIEC's): a request from M2's subsystem is signed by A with M2's key and
 * accepted; a request claiming M2 but signed with M1's key is refused by the provider node.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { runNodeCli } from '../../node/cli/index.js';
import { rucCheckDigit } from '../../core/peru-ids.js';
import { certificateInfo } from '../../core/pki.js';
import { signDetached, verifyDetached } from '../../core/signature.js';
import { encodeSignedMessage, decodeSignedMessage } from '../../node/pipeline/signed-message.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { BASE_AGREEMENT, CONSULTAR_PERSONA, JUNTOS, faultCodeOf, personaRequest, postMtls, postSoap, runCli, startInstance, waitFor, type Instance } from './fixture.js';

const M2_RUC = `2017753973${rucCheckDigit('2017753973')}`;
const M2 = `PE/GOB/${M2_RUC}`;
const M2_CLIENT = `${M2}/ULE`;
const M2_NAME = 'Municipalidad Provincial del Cusco';
const M2_HEADER = `<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${M2_RUC}</id:memberCode><id:subsystemCode>ULE</id:subsystemCode></xrd:client>`;

describe('shared node: node A hosts members M1 (its owner) and M2, each signing with its own key', () => {
  let inst: Instance;
  let centralDir: string;
  let aDir: string;
  const central = (...argv: string[]) => runCli(runCentralCli, [...argv, '--dir', centralDir]);
  const nodeA = (...argv: string[]) => runCli(runNodeCli, [...argv, '--dir', aDir]);
  const ok = async (run: Promise<{ code: number; stdout: string; stderr: string }>): Promise<string> => {
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    // the fixture's agreement also covers M2's subsystem (registered below, before it is used)
    inst = await startInstance({ agreements: [] });
    centralDir = join(inst.dir, 'central');
    aDir = nodeDir(inst.plan, 'juntos');
  });
  after(async () => {
    await inst?.close();
  });

  it('registers M2 on node A (key, CSR, certificate) and at central (hosted member, client), then publishes it', async () => {
    await ok(central('member', 'add', '--class', 'GOB', '--code', M2_RUC, '--name', M2_NAME, '--role', 'GOBIERNO_LOCAL'));
    await ok(central('subsystem', 'add', M2_CLIENT));
    // central refuses M2's subsystem as a client of Juntos's node until the node is registered as hosting M2
    const early = await central('node', 'client', 'add', '--node', 'juntos', M2_CLIENT);
    assert.equal(early.code, 2);
    assert.ok(early.stderr.includes(`no aloja a ${M2}; para un nodo compartido, regístrelo antes con «miis-central node member add`), early.stderr);
    // and node A refuses the client before it hosts M2
    const earlyNode = await nodeA('client', 'add', M2_CLIENT);
    assert.equal(earlyNode.code, 2);
    assert.match(earlyNode.stderr, /ni a un miembro alojado/);

    assert.match(await ok(nodeA('member', 'add', M2, '--name', M2_NAME)), /Solicitud de certificado de firma: .*members\/PE_GOB_\d+\/sign\.csr/);
    const csr = join(aDir, 'members', M2.replaceAll('/', '_'), 'sign.csr');
    const certFile = join(inst.dir, 'm2-sign.pem');
    await ok(central('cert', 'sign', '--csr', csr, '--profile', 'sign', '--out', certFile));
    // M1's certificate is not M2's
    const wrong = await nodeA('member', 'cert-import', M2, '--sign', join(aDir, 'sign.pem'));
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /es de PE\/GOB\/20511268401, no de PE\/GOB\//);
    await ok(nodeA('member', 'cert-import', M2, '--sign', certFile));
    assert.match(await ok(central('node', 'member', 'add', '--node', 'juntos', M2)), new RegExp(`El nodo juntos aloja ahora a: ${M2}`));
    await ok(central('node', 'client', 'add', '--node', 'juntos', M2_CLIENT));
    await ok(nodeA('client', 'add', M2_CLIENT));
    const members = JSON.parse(await ok(nodeA('member', 'list', '--json'))) as { miembro: string; certificado: { sha256: string } | null }[];
    assert.deepEqual(members.map((m) => m.miembro), [M2]);
    assert.equal(members[0]?.certificado?.sha256, certificateInfo(readFileSync(certFile, 'utf8')).sha256);
    // cert status shows the hosted member's signing certificate beside the node's own
    const status = JSON.parse(await ok(nodeA('cert', 'status', '--json'))) as { rol: string; sha256: string; estado: string }[];
    assert.deepEqual(status.map((r) => r.rol), ['sign', 'auth', `sign ${M2}`]);
    assert.equal(status[2]?.sha256, certificateInfo(readFileSync(certFile, 'utf8')).sha256);
    assert.equal(status[2]?.estado, 'vigente');

    // RENIEC lets both Juntos and M2 query consultarPersona under the agreement
    await ok(central('agreement', 'add', '--id', BASE_AGREEMENT.id, '--provider', BASE_AGREEMENT.provider, '--client', `${JUNTOS}/JUNTOS`, '--client', M2_CLIENT,
      '--service', CONSULTAR_PERSONA, '--purpose', 'FOCALIZACION', '--from', '2026-01-01'));
    await ok(runCli(runNodeCli, ['acl', 'grant', CONSULTAR_PERSONA, M2_CLIENT, '--dir', nodeDir(inst.plan, 'reniec')]));

    inst.central.app.publisher.refresh();
    await inst.juntos.ctx.conf.refresh();
    await inst.reniec.ctx.conf.refresh();
    const published = inst.reniec.ctx.conf.latest()?.conf.nodes.find((n) => n.name === 'juntos');
    assert.deepEqual(published?.members, [M2], 'the global configuration lists the members node A serves');
    assert.ok(published?.clients.includes(M2_CLIENT));
    assert.equal(inst.reniec.ctx.conf.latest()?.conf.nodes.find((n) => n.name === 'reniec')?.members, undefined, 'omitted for a node hosting only its owner');
    // central does not stop hosting M2 while node A serves one of its subsystems
    const removal = await central('node', 'member', 'remove', '--node', 'juntos', M2);
    assert.equal(removal.code, 2);
    assert.ok(removal.stderr.includes(`todavía atiende ${M2_CLIENT}`), removal.stderr);
  });

  it('a request from M2\'s subsystem is signed by node A with M2\'s key and accepted by the provider node; M1\'s still with M1\'s', async () => {
    await inst.juntos.reload(); // the hosted members' map is rebuilt at once (else within a second)
    await waitFor(async () => (inst.juntos.ctx.local().clients.includes(M2_CLIENT) ? true : undefined), 'node A takes up its new local client');
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { client: M2_HEADER }));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, new RegExp(`<id:memberCode>${M2_RUC}</id:memberCode>`));
    assert.match(res.text, /<encontrado>true<\/encontrado>/);
    const own = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(own.status, 200, own.text);

    // the provider logged each request with the signing certificate of its own member
    const m2Sha = certificateInfo(readFileSync(join(aDir, 'members', M2.replaceAll('/', '_'), 'sign.pem'), 'utf8')).sha256;
    const m1Sha = inst.juntos.ctx.signerSha256;
    assert.notEqual(m2Sha, m1Sha);
    const rows = (inst.reniec.ctx.log as unknown as { db: { prepare(sql: string): { all(): { client: string; signer: string }[] } } }).db
      .prepare("SELECT client, signer_cert_sha256 AS signer FROM messages WHERE side = 'server' AND direction = 'request' ORDER BY seq").all();
    assert.deepEqual(rows.map((r) => [r.client, r.signer]), [[M2_CLIENT, m2Sha], [`${JUNTOS}/JUNTOS`, m1Sha]]);
  });

  it('a request claiming M2 but signed with M1\'s key is refused by the provider node (IncorrectCertificate); signed with M2\'s it passes', async () => {
    const tls = {
      keyPem: readFileSync(join(aDir, 'keys', 'auth-key.pem'), 'utf8'),
      certPem: readFileSync(join(aDir, 'auth.pem'), 'utf8'),
      caPems: inst.juntos.ctx.conf.latest()?.conf.trustedCas ?? [],
    };
    const url = `${inst.reniec.proxyUrl}/miis/v1/message`;
    const raw = Buffer.from(personaRequest(inst.dni, { client: M2_HEADER }), 'utf8');
    const forged = encodeSignedMessage(raw, signDetached(raw, inst.juntos.ctx.signer));
    const refused = await postMtls(url, forged.body, forged.contentType, tls);
    const text = refused.body.toString('utf8');
    assert.equal(faultCodeOf(text), 'Server.ServerProxy.IncorrectCertificate', text);
    assert.match(text, /pertenece a PE\/GOB\/20511268401, no a PE\/GOB\//);

    // the same bytes (new id) signed with M2's key, over the same TLS connection identity: served
    const m2 = inst.juntos.ctx.hostedSigning?.(M2);
    assert.ok(m2 !== undefined);
    const raw2 = Buffer.from(personaRequest(inst.dni, { client: M2_HEADER }), 'utf8');
    const good = encodeSignedMessage(raw2, signDetached(raw2, m2.signer));
    const served = await postMtls(url, good.body, good.contentType, tls);
    assert.equal(served.status, 200, served.body.toString('utf8'));
    const answer = decodeSignedMessage(served.body, served.contentType, 'Server.ClientProxy.InvalidResponse');
    assert.ok(verifyDetached(answer.message, answer.signature).ok);
  });

  it('provider side: node A answers for M2\'s service signed with M2\'s key, and the consumer node (RENIEC\'s) accepts it', async () => {
    const M2_SERVICE = `${M2_CLIENT}/consultarPersona/v1`;
    const RUPN = 'PE/GOB/20295613620/RUPN';
    await ok(central('service', 'add', M2_SERVICE, '--title', 'Consultar persona (ULE)'));
    await ok(central('agreement', 'add', '--id', 'CONV-ULE-2026', '--provider', M2, '--client', RUPN, '--service', M2_SERVICE, '--purpose', 'FOCALIZACION', '--from', '2026-01-01'));
    await ok(nodeA('service', 'add', M2_SERVICE, '--backend', inst.backend.url, '--wsdl', 'reniec.wsdl', '--timeout', '10000'));
    await ok(nodeA('acl', 'grant', M2_SERVICE, RUPN));
    inst.central.app.publisher.refresh();
    await inst.juntos.ctx.conf.refresh();
    await inst.reniec.ctx.conf.refresh();
    await waitFor(async () => (inst.juntos.ctx.local().services.size > 0 ? true : undefined), 'node A takes up M2\'s service');

    const header = (tag: string, id: string, extra: string) => `<xrd:${tag} id:objectType="${tag === 'client' ? 'SUBSYSTEM' : 'SERVICE'}"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>${id}</id:memberCode>${extra}</xrd:${tag}>`;
    const request = personaRequest(inst.dni, {
      client: header('client', '20295613620', '<id:subsystemCode>RUPN</id:subsystemCode>'),
      service: header('service', M2_RUC, '<id:subsystemCode>ULE</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion>'),
    }).replace('<miis:convenio>CONV-001-2026</miis:convenio>', '<miis:convenio>CONV-ULE-2026</miis:convenio>');
    const res = await postSoap(inst.reniec.isUrl, request);
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<encontrado>true<\/encontrado>/);

    // RENIEC's node (consumer here) logged the answer with M2's signing certificate
    const m2Sha = certificateInfo(readFileSync(join(aDir, 'members', M2.replaceAll('/', '_'), 'sign.pem'), 'utf8')).sha256;
    const rows = (inst.reniec.ctx.log as unknown as { db: { prepare(sql: string): { all(): { service: string; signer: string }[] } } }).db
      .prepare("SELECT service, signer_cert_sha256 AS signer FROM messages WHERE side = 'client' AND direction = 'response' ORDER BY seq").all();
    assert.deepEqual(rows.map((r) => [r.service, r.signer]), [[M2_SERVICE, m2Sha]]);
  });
});
