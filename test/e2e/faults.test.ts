/**
 * Every fault a node sends, end to end on a real instance (central + RENIEC + Juntos, mutual TLS on
 * loopback). Each scenario checks the HTTP status, the exact faultcode, the Spanish faultstring, the
 * faultDetail UUID in the originating node's fault log, what the message log holds for that message
 * id, and that the nodes still serve a good request afterwards.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { FAULTS, MiisError, type FaultCode } from '../../core/errors.js';
import { createCsr, generateKeyPair } from '../../core/pki.js';
import { signDetached, verifyDetached } from '../../core/signature.js';
import { readSoapMessage, type SoapFaultInfo } from '../../core/soap.js';
import { runNodeCli } from '../../node/cli/index.js';
import { startNode, type RunningNode } from '../../node/main.js';
import { decodeSignedMessage, encodeSignedMessage } from '../../node/pipeline/signed-message.js';
import { centralDir, nodeDir } from '../../scripts/sandbox/provision.js';
import {
  CONSULTAR_PERSONA, JUNTOS_CLIENT, freePort, personaRequest, postMtls, postSoap, runCli, startInstance, waitFor,
  type Instance, type MtlsIdentity,
} from './fixture.js';
import { sqliteLog } from '../helpers/node-log.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DAY_MS = 86_400_000;
let seq = 0;
const newId = (tag: string): string => `fault-${tag}-${process.pid}-${Date.now()}-${(seq += 1)}`;

/** Check a fault response and return its parsed fault (status, exact code, Spanish text from FAULTS, UUID). */
function expectFault(res: { status: number; text: string }, code: FaultCode): SoapFaultInfo {
  assert.equal(res.status, FAULTS[code].http, `HTTP ${res.status} para ${code}: ${res.text}`);
  const fault = readSoapMessage(Buffer.from(res.text, 'utf8'), 'response').fault;
  assert.ok(fault !== undefined, `se esperaba un Fault: ${res.text}`);
  assert.equal(fault.faultCode, code, fault.faultString);
  const [pre = '', post = ''] = FAULTS[code].message.split('{detail}');
  assert.ok(fault.faultString.startsWith(pre) && fault.faultString.endsWith(post), `faultstring «${fault.faultString}» no es el texto de ${code}`);
  assert.ok(!fault.faultString.includes('{detail}'));
  assert.match(fault.faultDetail ?? '', UUID);
  return fault;
}

/** The fault's UUID is in this node's fault log with the same code. */
function expectLogged(node: RunningNode, fault: SoapFaultInfo): void {
  const hit = sqliteLog(node).faults(1000).find((f) => f.faultId === fault.faultDetail);
  assert.ok(hit !== undefined, `${fault.faultDetail} no está en el registro de fallas de ${node.name}`);
  assert.equal(hit.code, fault.faultCode);
}

function directions(node: RunningNode, id: string): string[] {
  return sqliteLog(node).list({ messageId: id }).map((r) => `${r.direction}${r.fault === undefined ? '' : `:${r.fault}`}`);
}

describe('fault scenarios end to end', () => {
  let inst: Instance;
  let juntosTls: MtlsIdentity;
  let reniecDir: string;
  const hangingSockets = new Set<import('node:net').Socket>();
  let hanging: Server;
  let hangingUrl: string;

  before(async () => {
    inst = await startInstance();
    reniecDir = nodeDir(inst.plan, 'reniec');
    const jdir = nodeDir(inst.plan, 'juntos');
    juntosTls = {
      keyPem: readFileSync(join(jdir, 'keys', 'auth-key.pem'), 'utf8'),
      certPem: readFileSync(join(jdir, 'auth.pem'), 'utf8'),
      caPems: inst.juntos.ctx.conf.latest()?.conf.trustedCas ?? [],
    };
    // a backend that accepts requests and never answers
    hanging = createHttpServer(() => undefined);
    hanging.on('connection', (s) => hangingSockets.add(s));
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/`;
  });
  after(async () => {
    for (const s of hangingSockets) s.destroy();
    await new Promise((r) => hanging.close(r));
    await inst.close();
  });

  async function expectGood(): Promise<void> {
    const id = newId('ok');
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /<encontrado>true<\/encontrado>/);
    assert.deepEqual(directions(inst.juntos, id), ['request', 'response']);
    assert.deepEqual(directions(inst.reniec, id), ['request', 'response']);
  }

  /** A request the IS sends to Juntos; returns the fault after the common checks. */
  async function isFault(body: string | Buffer, code: FaultCode, origin: 'juntos' | 'reniec', contentType?: string): Promise<SoapFaultInfo> {
    const res = await postSoap(inst.juntos.isUrl, body, contentType);
    const fault = expectFault(res, code);
    expectLogged(origin === 'juntos' ? inst.juntos : inst.reniec, fault);
    return fault;
  }

  /** Send good requests until one fails with `code` (the nodes pick up CLI changes within about a second). */
  async function untilFault(code: FaultCode, what: string): Promise<{ id: string; res: { status: number; text: string } }> {
    return waitFor(async () => {
      const id = newId('poll');
      const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
      return res.text.includes(`<faultcode>${code}</faultcode>`) ? { id, res } : undefined;
    }, what);
  }

  async function untilGood(what: string): Promise<void> {
    await waitFor(async () => ((await postSoap(inst.juntos.isUrl, personaRequest(inst.dni))).status === 200 ? true : undefined), what);
  }

  /** Rejected before anything was logged, on either node. */
  function expectNothingLogged(id: string): void {
    assert.deepEqual(directions(inst.juntos, id), [], 'Juntos no debe registrar el mensaje');
    assert.deepEqual(directions(inst.reniec, id), [], 'RENIEC no debe registrar el mensaje');
  }

  // --- the consumer's node refuses ------------------------------------------------------------

  it('unknown client: a subsystem not registered on the node → Server.ClientProxy.UnknownClient', async () => {
    const other = '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>OTRO</id:subsystemCode></xrd:client>';
    const id = newId('unknown-client');
    const f = await isFault(personaRequest(inst.dni, { id, client: other }), 'Server.ClientProxy.UnknownClient', 'juntos');
    assert.match(f.faultString, /PE\/GOB\/20511268401\/OTRO/);
    expectNothingLogged(id);
    // another member's subsystem (RENIEC's RUPN) is not a client of the Juntos node either
    const foreign = '<xrd:client id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20295613620</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode></xrd:client>';
    const id2 = newId('foreign-client');
    await isFault(personaRequest(inst.dni, { id: id2, client: foreign }), 'Server.ClientProxy.UnknownClient', 'juntos');
    expectNothingLogged(id2);
    await expectGood();
  });

  it('unknown service: not in the global configuration → Server.ClientProxy.UnknownService', async () => {
    const service = '<xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20295613620</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarOtraCosa</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>';
    const id = newId('unknown-service');
    const f = await isFault(personaRequest(inst.dni, { id, service }), 'Server.ClientProxy.UnknownService', 'juntos');
    assert.match(f.faultString, /consultarOtraCosa/);
    expectNothingLogged(id);
    await expectGood();
  });

  // --- the IS's message is wrong ----------------------------------------------------------------

  it('malformed XML → Client.InvalidXml', async () => {
    const id = newId('malformed');
    await isFault(personaRequest(inst.dni, { id }).replace('</SOAP-ENV:Body>', '</SOAP-ENV:Bdy>'), 'Client.InvalidXml', 'juntos');
    expectNothingLogged(id);
    await expectGood();
  });

  it('a DOCTYPE → Client.DtdNotAllowed, an entity reference → Client.EntityNotAllowed', async () => {
    const id = newId('dtd');
    const withDtd = personaRequest(inst.dni, { id }).replace('?>', '?><!DOCTYPE lol [<!ENTITY lol "lol">]>');
    await isFault(withDtd, 'Client.DtdNotAllowed', 'juntos');
    expectNothingLogged(id);
    const id2 = newId('entity');
    await isFault(personaRequest(inst.dni, { id: id2, body: '<ren:consultarPersona><dni>&lol;</dni></ren:consultarPersona>' }), 'Client.EntityNotAllowed', 'juntos');
    expectNothingLogged(id2);
    await expectGood();
  });

  it('a message over 2 MiB → Client.MessageTooLarge with HTTP 413 (declared length and chunked stream)', async () => {
    const id = newId('large');
    const padding = `<!--${'x'.repeat(2 * 1024 * 1024)}-->`;
    const big = personaRequest(inst.dni, { id, body: `<ren:consultarPersona><dni>${inst.dni}</dni></ren:consultarPersona>${padding}` });
    assert.ok(Buffer.byteLength(big) > 2 * 1024 * 1024);
    const f = await isFault(big, 'Client.MessageTooLarge', 'juntos');
    assert.match(f.faultString, /2097152/);
    expectNothingLogged(id);

    // without content-length: the node stops reading at the limit
    const res = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(inst.juntos.isUrl, { method: 'POST', headers: { 'content-type': 'text/xml; charset=utf-8', 'transfer-encoding': 'chunked' } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      const bytes = Buffer.from(big, 'utf8');
      for (let i = 0; i < bytes.length; i += 64 * 1024) req.write(bytes.subarray(i, i + 64 * 1024));
      req.end();
    });
    expectLogged(inst.juntos, expectFault(res, 'Client.MessageTooLarge'));
    await expectGood();
  });

  it('missing or invalid X-Road headers → Client.MissingHeaderField / Client.InvalidProtocolVersion', async () => {
    const noClient = newId('no-client');
    const f1 = await isFault(personaRequest(inst.dni, { id: noClient, client: '' }), 'Client.MissingHeaderField', 'juntos');
    assert.match(f1.faultString, /xrd:client/);
    expectNothingLogged(noClient);

    const noId = personaRequest(inst.dni).replace(/<xrd:id>[^<]*<\/xrd:id>/, '');
    const f2 = await isFault(noId, 'Client.MissingHeaderField', 'juntos');
    assert.match(f2.faultString, /xrd:id/);

    const badVersion = newId('version');
    const f3 = await isFault(personaRequest(inst.dni, { id: badVersion }).replace('<xrd:protocolVersion>4.0<', '<xrd:protocolVersion>3.1<'), 'Client.InvalidProtocolVersion', 'juntos');
    assert.match(f3.faultString, /3\.1/);
    expectNothingLogged(badVersion);

    const noHeader = newId('no-header');
    await isFault(personaRequest(inst.dni, { id: noHeader }).replace(/<SOAP-ENV:Header>[\s\S]*<\/SOAP-ENV:Header>/, ''), 'Client.MissingHeaderField', 'juntos');
    expectNothingLogged(noHeader);
    await expectGood();
  });

  it('other malformed requests: not SOAP, too deep, bad identifiers', async () => {
    await isFault('<?xml version="1.0"?><hola/>', 'Client.InvalidSoap', 'juntos');
    const deep = `${'<a>'.repeat(40)}${'</a>'.repeat(40)}`;
    await isFault(personaRequest(inst.dni, { body: `<ren:consultarPersona>${deep}</ren:consultarPersona>` }), 'Client.XmlTooDeep', 'juntos');
    const badClient = '<xrd:client id:objectType="PERSONA"><id:xRoadInstance>PE</id:xRoadInstance></xrd:client>';
    await isFault(personaRequest(inst.dni, { client: badClient }), 'Client.InvalidClientIdentifier', 'juntos');
    const badService = '<xrd:service id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance></xrd:service>';
    await isFault(personaRequest(inst.dni, { service: badService }), 'Client.InvalidServiceIdentifier', 'juntos');
    await expectGood();
  });

  it('wrong content type → Client.InvalidContentType with HTTP 415', async () => {
    const id = newId('ctype');
    const f = await isFault(personaRequest(inst.dni, { id }), 'Client.InvalidContentType', 'juntos', 'application/json');
    assert.match(f.faultString, /application\/json/);
    expectNothingLogged(id);
    await expectGood();
  });

  // --- the provider's node refuses ----------------------------------------------------------

  it('access denied after «miis-node acl revoke» → Server.ServerProxy.AccessDenied; «acl grant» restores it', async () => {
    const revoked = await runCli(runNodeCli, ['acl', 'revoke', CONSULTAR_PERSONA, JUNTOS_CLIENT, '--dir', reniecDir]);
    assert.equal(revoked.code, 0, revoked.stderr);
    try {
      const { id, res } = await untilFault('Server.ServerProxy.AccessDenied', 'que RENIEC aplique la revocación');
      const f = expectFault(res, 'Server.ServerProxy.AccessDenied');
      assert.match(f.faultString, new RegExp(JUNTOS_CLIENT));
      expectLogged(inst.reniec, f);
      // the fault log names the message, client and service the fault was about
      const entry = sqliteLog(inst.reniec).faults(1000).find((x) => x.faultId === f.faultDetail);
      assert.deepEqual([entry?.messageId, entry?.client, entry?.service], [id, JUNTOS_CLIENT, CONSULTAR_PERSONA]);
      // Juntos signed and logged its request before sending it; RENIEC refused before logging
      assert.deepEqual(directions(inst.juntos, id), ['request']);
      assert.deepEqual(directions(inst.reniec, id), []);
    } finally {
      const granted = await runCli(runNodeCli, ['acl', 'grant', CONSULTAR_PERSONA, JUNTOS_CLIENT, '--dir', reniecDir]);
      assert.equal(granted.code, 0, granted.stderr);
      await untilGood('acceso restablecido');
    }
    await expectGood();
  });

  it('duplicate message id → Server.ClientProxy.DuplicateMessage at the consumer (provider side: test/attack/hardening-replay)', async () => {
    const id = newId('replay');
    const first = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
    assert.equal(first.status, 200, first.text);
    const f = await isFault(personaRequest(inst.dni, { id }), 'Server.ClientProxy.DuplicateMessage', 'juntos');
    assert.match(f.faultString, new RegExp(id));
    // the first exchange is logged in full; the replay is refused before it is signed or logged
    assert.deepEqual(directions(inst.juntos, id), ['request', 'response']);
    assert.deepEqual(directions(inst.reniec, id), ['request', 'response']);
    await expectGood();
  });

  it('a service fault from the backend reaches the IS signed, with HTTP 500, and is logged as a fault', async () => {
    const id = newId('backend-fault');
    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id, body: '<ren:consultarPersona><dni>12AB</dni></ren:consultarPersona>' }));
    assert.equal(res.status, 500, res.text);
    const fault = readSoapMessage(Buffer.from(res.text), 'response').fault;
    assert.equal(fault?.faultCode, 'SOAP-ENV:Client');
    assert.deepEqual(directions(inst.juntos, id), ['request', 'response:SOAP-ENV:Client']);
    assert.deepEqual(directions(inst.reniec, id), ['request', 'response:SOAP-ENV:Client']);
    const logged = sqliteLog(inst.juntos).list({ messageId: id })[1];
    assert.ok(logged !== undefined && verifyDetached(logged.message, logged.signature).ok);
    await expectGood();
  });

  it('backend down → ServiceFailed; backend silent → ServiceTimeout (RENIEC logged the request and the fault it answered)', async () => {
    const setBackend = async (url: string, timeout: string): Promise<void> => {
      const r = await runCli(runNodeCli, ['service', 'add', CONSULTAR_PERSONA, '--backend', url, '--timeout', timeout, '--wsdl', 'reniec.wsdl', '--dir', reniecDir]);
      assert.equal(r.code, 0, r.stderr);
    };
    const scenario = async (url: string, timeout: string, code: FaultCode): Promise<void> => {
      await setBackend(url, timeout);
      const { id, res } = await untilFault(code, `que RENIEC use el backend ${url}`);
      const f = expectFault(res, code);
      expectLogged(inst.reniec, f);
      assert.deepEqual(directions(inst.juntos, id), ['request']);
      assert.deepEqual(directions(inst.reniec, id), ['request', `response:${code}`]);
    };
    try {
      await scenario(`http://127.0.0.1:${await freePort()}/`, '10000', 'Server.ServerProxy.ServiceFailed');
      await scenario(hangingUrl, '200', 'Server.ServerProxy.ServiceTimeout');
    } finally {
      await setBackend(inst.backend.url, '10000');
      await untilGood('backend restablecido');
    }
    await expectGood();
  });

  // --- node to node: signatures and TLS identities ------------------------------------------

  const proxyUrl = (): string => `${inst.reniec.proxyUrl}/miis/v1/message`;

  it('direct mTLS request as Juntos: a valid one is served, one whose signature is for other bytes → InvalidSignatureValue', async () => {
    const okId = newId('direct-ok');
    const okRaw = Buffer.from(personaRequest(inst.dni, { id: okId }), 'utf8');
    const ok = encodeSignedMessage(okRaw, signDetached(okRaw, inst.juntos.ctx.signer));
    const okRes = await postMtls(proxyUrl(), ok.body, ok.contentType, juntosTls);
    assert.equal(okRes.status, 200, okRes.body.toString());
    const signed = decodeSignedMessage(okRes.body, okRes.contentType, 'Server.ClientProxy.InvalidResponse');
    assert.ok(verifyDetached(signed.message, signed.signature).ok);

    const id = newId('bad-signature');
    const raw = Buffer.from(personaRequest(inst.dni, { id }), 'utf8');
    const otherBytes = Buffer.from(personaRequest(inst.dni, { id: `${id}-otro` }), 'utf8');
    const bad = encodeSignedMessage(raw, signDetached(otherBytes, inst.juntos.ctx.signer));
    const res = await postMtls(proxyUrl(), bad.body, bad.contentType, juntosTls);
    assert.match(res.contentType ?? '', /^text\/xml/);
    const f = expectFault({ status: res.status, text: res.body.toString('utf8') }, 'Server.ServerProxy.InvalidSignatureValue');
    expectLogged(inst.reniec, f);
    assert.deepEqual(directions(inst.reniec, id), []);

    // a valid signature, but by RENIEC's key for a Juntos request → IncorrectCertificate
    const id2 = newId('foreign-signer');
    const raw2 = Buffer.from(personaRequest(inst.dni, { id: id2 }), 'utf8');
    const foreign = encodeSignedMessage(raw2, signDetached(raw2, inst.reniec.ctx.signer));
    const res2 = await postMtls(proxyUrl(), foreign.body, foreign.contentType, juntosTls);
    expectLogged(inst.reniec, expectFault({ status: res2.status, text: res2.body.toString('utf8') }, 'Server.ServerProxy.IncorrectCertificate'));
    assert.deepEqual(directions(inst.reniec, id2), []);

    // not a multipart body → InvalidMessage
    const res3 = await postMtls(proxyUrl(), raw, 'text/xml', juntosTls);
    expectLogged(inst.reniec, expectFault({ status: res3.status, text: res3.body.toString('utf8') }, 'Server.ServerProxy.InvalidMessage'));
    await expectGood();
  });

  it('a TLS certificate from the instance CA that is not the one registered for Juntos → Server.ServerProxy.SslAuthenticationFailed', async () => {
    const work = mkdtempSync(join(tmpdir(), 'miis-wrongcert-'));
    try {
      const keys = await generateKeyPair('ecdsa-p256');
      const csrPath = join(work, 'otro.csr');
      const certPath = join(work, 'otro.pem');
      writeFileSync(csrPath, await createCsr(keys, { organization: 'Programa Juntos', commonName: 'juntos-intruso', serialNumber: 'PE/GOB/20511268401' }));
      const issued = await runCli(runCentralCli, ['cert', 'sign', '--csr', csrPath, '--profile', 'auth', '--ip', '127.0.0.1', '--out', certPath, '--dir', centralDir(inst.plan)]);
      assert.equal(issued.code, 0, issued.stderr);
      const impostor: MtlsIdentity = { ...juntosTls, keyPem: keys.privateKeyPem, certPem: readFileSync(certPath, 'utf8') };

      const id = newId('wrong-peer');
      const raw = Buffer.from(personaRequest(inst.dni, { id }), 'utf8');
      const msg = encodeSignedMessage(raw, signDetached(raw, inst.juntos.ctx.signer));
      const res = await postMtls(proxyUrl(), msg.body, msg.contentType, impostor);
      const f = expectFault({ status: res.status, text: res.body.toString('utf8') }, 'Server.ServerProxy.SslAuthenticationFailed');
      // refused from the TLS identity alone, before the body (and its client id) is read
      assert.match(f.faultString, /no es el de un nodo de la configuración global/);
      expectLogged(inst.reniec, f);
      assert.deepEqual(directions(inst.reniec, id), []);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    await expectGood();
  });

  it('a provider whose TLS certificate is not the registered one → Server.ClientProxy.SslAuthenticationFailed', async () => {
    // RENIEC's node goes away and another CA-issued certificate (Juntos's own) answers on its address
    const reniecPort = Number(new URL(inst.reniec.proxyUrl).port);
    await inst.reniec.close();
    const impostor = createHttpsServer({ key: juntosTls.keyPem, cert: juntosTls.certPem, minVersion: 'TLSv1.3' }, (_req, res) => {
      res.writeHead(500).end();
    });
    await new Promise<void>((r) => impostor.listen(reniecPort, '127.0.0.1', r));
    try {
      const id = newId('wrong-provider');
      const f = await isFault(personaRequest(inst.dni, { id }), 'Server.ClientProxy.SslAuthenticationFailed', 'juntos');
      // Juntos logged its signed request before it tried to connect; nothing came back
      assert.deepEqual(directions(inst.juntos, id), ['request']);
      assert.ok(f.faultDetail !== undefined);
    } finally {
      impostor.closeAllConnections();
      await new Promise((r) => impostor.close(r));
      await inst.restartNode('reniec');
    }
    await expectGood();
  });

  // --- global configuration -----------------------------------------------------------------

  it('expired global configuration on the consumer → Server.ClientProxy.OutdatedGlobalConf', async () => {
    const ahead = () => new Date(Date.now() + DAY_MS);
    await inst.restartNode('juntos', { now: ahead });
    try {
      const id = newId('outdated');
      await isFault(personaRequest(inst.dni, { id }), 'Server.ClientProxy.OutdatedGlobalConf', 'juntos');
      expectNothingLogged(id);
    } finally {
      await inst.restartNode('juntos');
    }
    await expectGood();
  });

  it('expired global configuration on the provider → Server.ServerProxy.OutdatedGlobalConf', async () => {
    await inst.restartNode('reniec', { now: () => new Date(Date.now() + DAY_MS) });
    try {
      const id = newId('outdated-provider');
      await isFault(personaRequest(inst.dni, { id }), 'Server.ServerProxy.OutdatedGlobalConf', 'reniec');
      assert.deepEqual(directions(inst.juntos, id), ['request']);
      assert.deepEqual(directions(inst.reniec, id), []);
    } finally {
      await inst.restartNode('reniec');
    }
    await expectGood();
  });

  it('a node with no reachable central and no cached configuration does not start: Config.NoGlobalConf', async () => {
    const work = mkdtempSync(join(tmpdir(), 'miis-noconf-'));
    const copy = join(work, 'juntos');
    try {
      cpSync(nodeDir(inst.plan, 'juntos'), copy, { recursive: true, filter: (src) => !basename(src).startsWith('messagelog.db') });
      rmSync(join(copy, 'globalconf.signed'));
      const closedPort = await freePort();
      const moved = await runCli(runNodeCli, ['anchor', 'import', '--file', join(copy, 'anchor.pem'), '--url', `http://127.0.0.1:${closedPort}`, '--dir', copy]);
      assert.equal(moved.code, 0, moved.stderr);

      await assert.rejects(startNode({ dir: copy, info: () => undefined }), (err: unknown) => {
        assert.ok(err instanceof MiisError);
        assert.equal(err.code, 'Config.NoGlobalConf');
        assert.match(err.message, /^No hay configuración global: central \(http:\/\/127\.0\.0\.1:\d+\/?\) no responde y no hay copia local/);
        return true;
      });
      const served = await runCli(runNodeCli, ['serve', '--dir', copy]);
      assert.notEqual(served.code, 0);
      assert.match(served.stderr, /^miis-node: No hay configuración global: .*no responde/);
      assert.equal(served.stdout, '');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    await expectGood();
  });

  it('after all of the above both message logs still verify', () => {
    for (const node of [inst.juntos, inst.reniec]) {
      const v = sqliteLog(node).verifyChain();
      assert.ok(v.ok, node.name);
    }
  });
});
