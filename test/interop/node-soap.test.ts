/**
 * Interop with node-soap (issue 9 item 14): a node-soap client built from the WSDL the Juntos node
 * serves (GET /wsdl/reniec.wsdl, soap:address rewritten to the node) calls consultarPersona
 * through both nodes with the X-Road and MIIS headers, and surfaces the consumer-side faults a
 * misbehaving provider causes: NetworkError (provider down), Timeout (provider hangs),
 * InvalidSignatureValue (bad signature) and InconsistentResponse (another message id echoed).
 * The misbehaving providers are fake servers on RENIEC's node-to-node port, with RENIEC's own
 * TLS and signing keys from the provisioned temp folder.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as soap from 'soap';
import type { FaultCode } from '../../core/errors.js';
import { createSigner, signDetached, type Signer } from '../../core/signature.js';
import { decodeSignedMessage, encodeSignedMessage } from '../../node/pipeline/signed-message.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { startInstance, type Instance } from '../e2e/fixture.js';
import { sqliteLog } from '../helpers/node-log.js';

let seq = 0;

function xroadHeader(id: string): string {
  return '<xrd:client xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" id:objectType="SUBSYSTEM"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20511268401</id:memberCode><id:subsystemCode>JUNTOS</id:subsystemCode></xrd:client>'
    + '<xrd:service xmlns:xrd="http://x-road.eu/xsd/xroad.xsd" xmlns:id="http://x-road.eu/xsd/identifiers" id:objectType="SERVICE"><id:xRoadInstance>PE</id:xRoadInstance><id:memberClass>GOB</id:memberClass><id:memberCode>20295613620</id:memberCode><id:subsystemCode>RUPN</id:subsystemCode><id:serviceCode>consultarPersona</id:serviceCode><id:serviceVersion>v1</id:serviceVersion></xrd:service>'
    + `<xrd:id xmlns:xrd="http://x-road.eu/xsd/xroad.xsd">${id}</xrd:id>`
    + '<xrd:userId xmlns:xrd="http://x-road.eu/xsd/xroad.xsd">PE10117410</xrd:userId>'
    + '<xrd:protocolVersion xmlns:xrd="http://x-road.eu/xsd/xroad.xsd">4.0</xrd:protocolVersion>'
    + '<miis:convenio xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd">CONV-001-2026</miis:convenio>'
    + '<miis:finalidad xmlns:miis="http://miis.midis.gob.pe/xsd/miis.xsd">FOCALIZACION</miis:finalidad>';
}

interface SoapError extends Error {
  root?: { Envelope?: { Body?: { Fault?: { faultcode?: string; faultstring?: string } } } };
  response?: { status?: number };
}

describe('interop: node-soap client through two nodes', () => {
  let inst: Instance;
  let client: soap.Client;
  let reniecTls: { key: string; cert: string; ca: string[] };
  let reniecSigner: Signer;
  let reniecPort: number;

  before(async () => {
    inst = await startInstance();
    // a short peer timeout for the hanging-provider case
    await inst.restartNode('juntos', { limits: { peerTimeoutMs: 1500 } });
    const rdir = nodeDir(inst.plan, 'reniec');
    reniecTls = {
      key: readFileSync(join(rdir, 'keys', 'auth-key.pem'), 'utf8'),
      cert: readFileSync(join(rdir, 'auth.pem'), 'utf8'),
      ca: [...(inst.reniec.ctx.conf.latest()?.conf.trustedCas ?? [])],
    };
    reniecSigner = createSigner(readFileSync(join(rdir, 'keys', 'sign-key.pem'), 'utf8'), readFileSync(join(rdir, 'sign.pem'), 'utf8'));
    reniecPort = Number(new URL(inst.reniec.proxyUrl).port);
    client = await soap.createClientAsync(new URL('/wsdl/reniec.wsdl', inst.juntos.isUrl).toString());
  });
  after(async () => inst?.close());

  async function call(dni: string): Promise<{ result: Record<string, unknown>; id: string }> {
    const id = `node-soap-${process.pid}-${Date.now()}-${(seq += 1)}`;
    client.clearSoapHeaders();
    client.addSoapHeader(xroadHeader(id));
    const [result] = (await client.consultarPersonaAsync({ dni })) as [Record<string, unknown>];
    return { result, id };
  }

  /** node-soap rejects with the node's SOAP fault: the faultcode and HTTP 500 are surfaced. */
  async function expectFault(code: FaultCode): Promise<void> {
    await assert.rejects(call(inst.dni), (err: SoapError) => {
      assert.equal(err.root?.Envelope?.Body?.Fault?.faultcode, code, err.message);
      assert.match(err.message, new RegExp(code.replace(/\./g, '\\.')));
      assert.equal(err.response?.status, 500);
      return true;
    });
  }

  /** RENIEC's node goes away and `fake` answers on its node-to-node port (with RENIEC's TLS identity). */
  async function withFakeProvider(handler: (body: Buffer, contentType: string | undefined) => { body: Buffer; contentType: string } | undefined, test: () => Promise<void>): Promise<void> {
    await inst.reniec.close();
    const sockets = new Set<Socket>();
    const fake: Server = createHttpsServer({ ...reniecTls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const out = handler(Buffer.concat(chunks), req.headers['content-type']);
        if (out === undefined) return; // hang
        res.writeHead(200, { 'content-type': out.contentType, 'content-length': out.body.length });
        res.end(out.body);
      });
    });
    fake.on('secureConnection', (s) => sockets.add(s));
    await new Promise<void>((r) => fake.listen(reniecPort, '127.0.0.1', r));
    try {
      await test();
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => fake.close(r));
      await inst.restartNode('reniec');
    }
  }

  /** A response SOAP message echoing the request's header (optionally with another xrd:id). */
  function responseFor(requestBody: Buffer, contentType: string | undefined, opts: { id?: string } = {}): Buffer {
    const request = decodeSignedMessage(requestBody, contentType, 'Server.ServerProxy.InvalidMessage').message.toString('utf8');
    const open = /<(?:([A-Za-z_][\w.-]*):)?Envelope\b[^>]*>/.exec(request);
    assert.ok(open !== null, request);
    const p = open[1] === undefined ? '' : `${open[1]}:`;
    let header = new RegExp(`<${p}Header\\b[^>]*>[\\s\\S]*</${p}Header>`).exec(request)?.[0] ?? '';
    if (opts.id !== undefined) header = header.replace(/(<(?:[\w.-]+:)?id\b[^>]*>)[^<]*(<\/(?:[\w.-]+:)?id>)/, `$1${opts.id}$2`);
    return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${open[0]}${header}<${p}Body><ren:consultarPersonaResponse xmlns:ren="http://miis.midis.gob.pe/servicios/reniec"><encontrado>false</encontrado></ren:consultarPersonaResponse></${p}Body></${p}Envelope>`, 'utf8');
  }

  it('the client built from the node\'s WSDL calls consultarPersona through both nodes', async () => {
    const { result, id } = await call(inst.dni);
    assert.equal(result.encontrado, true);
    assert.equal((result.persona as { dni?: string } | undefined)?.dni, inst.dni);
    assert.deepEqual(sqliteLog(inst.juntos).list({ messageId: id }).map((r) => r.direction), ['request', 'response']);
    assert.deepEqual(sqliteLog(inst.reniec).list({ messageId: id }).map((r) => r.direction), ['request', 'response']);
  });

  it('provider down → node-soap surfaces Server.ClientProxy.NetworkError', async () => {
    await inst.reniec.close();
    try {
      await expectFault('Server.ClientProxy.NetworkError');
    } finally {
      await inst.restartNode('reniec');
    }
    assert.equal((await call(inst.dni)).result.encontrado, true);
  });

  it('provider accepts and never answers → node-soap surfaces Server.ClientProxy.Timeout', async () => {
    await withFakeProvider(() => undefined, () => expectFault('Server.ClientProxy.Timeout'));
    assert.equal((await call(inst.dni)).result.encontrado, true);
  });

  it('provider answers with a signature over other bytes → node-soap surfaces Server.ClientProxy.InvalidSignatureValue', async () => {
    await withFakeProvider((body, ct) => {
      const response = responseFor(body, ct);
      const signature = signDetached(Buffer.from(response.toString('utf8').replace('false', 'true')), reniecSigner);
      return encodeSignedMessage(response, signature);
    }, () => expectFault('Server.ClientProxy.InvalidSignatureValue'));
    assert.equal((await call(inst.dni)).result.encontrado, true);
  });

  it('provider answers, correctly signed, for another message id → node-soap surfaces Server.ClientProxy.InconsistentResponse', async () => {
    await withFakeProvider((body, ct) => {
      const response = responseFor(body, ct, { id: 'otro-mensaje' });
      return encodeSignedMessage(response, signDetached(response, reniecSigner));
    }, () => expectFault('Server.ClientProxy.InconsistentResponse'));
    assert.equal((await call(inst.dni)).result.encontrado, true);
  });
});
