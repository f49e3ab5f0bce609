/**
 * Attack suite, family «faults»: what goes wrong around the nodes rather than in the message.
 * RENIEC's consultarPersona is pointed at a fake backend on loopback (node:http) whose behaviour
 * each case switches: forward to the real RENIEC backend (normal), closed (connection refused),
 * silent, garbage, XML that is not SOAP, a SOAP answer with the wrong content type, a body over
 * the 2 MiB limit, HTTP 500 with a SOAP Fault (passed through, signed) or with an HTML page.
 * Then central down until the global configuration expires (injected clock), and the TSA down
 * under the «refuse» and «flag» outage policies. Each case checks the fault code (and its UUID in
 * the originating node's fault log), whether the request reached the backend, what the message
 * logs hold, and that a normal exchange works once the condition is removed.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startCentral } from '../../central/main.js';
import { verifyDetached } from '../../core/signature.js';
import { readSoapMessage } from '../../core/soap.js';
import { runNodeCli } from '../../node/cli/index.js';
import type { NodeEvidence } from '../../node/evidence/index.js';
import { DEFAULT_EVIDENCE_SETTINGS, type EvidenceSettings } from '../../node/evidence/settings.js';
import { renderFault } from '../../scripts/sandbox/backends.js';
import { centralDir, nodeDir } from '../../scripts/sandbox/provision.js';
import { CONSULTAR_PERSONA, freePort, personaRequest, postSoap, runCli, startInstance, waitFor, type Instance } from '../e2e/fixture.js';
import { directions, expectFault, newId, Target } from './helpers.js';
import { sqliteLog } from '../helpers/node-log.js';

type Mode = 'pass' | 'hang' | 'garbage' | 'not-soap' | 'json' | 'huge' | 'soap-fault' | 'html-500';

/** The backend timeout RENIEC uses for the fake (short: the silent case waits for it). */
const SERVICE_TIMEOUT_MS = 800;

interface Health {
  readonly configuracionGlobal: { readonly vigente: boolean } | null;
  readonly selladoDeTiempo: { readonly estado: string; readonly aviso: string | null };
}

describe('attack: faults', () => {
  let t: Target;
  let inst: Instance;
  /** The clock of central and both nodes: real time plus `offset` ms. */
  let offset = 0;
  const now = (): Date => new Date(Date.now() + offset);

  // --- the fake backend -------------------------------------------------------------------------
  let mode: Mode = 'pass';
  let hits = 0;
  let fake: Server;
  let fakePort = 0;
  const sockets = new Set<Socket>();

  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const xml = 'text/xml; charset=utf-8';
    switch (mode) {
      case 'pass': {
        const real = await fetch(inst.backend.url, { method: 'POST', headers: { 'content-type': xml }, body: new Uint8Array(Buffer.concat(chunks)) });
        const body = Buffer.from(await real.arrayBuffer());
        res.writeHead(real.status, { 'content-type': real.headers.get('content-type') ?? xml }).end(body);
        return;
      }
      case 'hang':
        return; // never answers
      case 'garbage':
        res.writeHead(200, { 'content-type': xml }).end(Buffer.from([0x00, 0xff, 0x3c, 0x3f, 0x78, 0x6d, 0x6c, 0x01, 0x02]));
        return;
      case 'not-soap':
        res.writeHead(200, { 'content-type': xml }).end('<?xml version="1.0"?><respuesta><encontrado>true</encontrado></respuesta>');
        return;
      case 'json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"encontrado":true}');
        return;
      case 'huge':
        res.writeHead(200, { 'content-type': xml }).end(`<?xml version="1.0"?><!--${'x'.repeat(2 * 1024 * 1024 + 4096)}-->`);
        return;
      case 'soap-fault':
        res.writeHead(500, { 'content-type': xml }).end(renderFault('Server', 'Base de datos del padrón no disponible'));
        return;
      case 'html-500':
        res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' }).end('<html><body><h1>500 Internal Server Error</h1></body></html>');
        return;
    }
  };

  const listenFake = (): Promise<void> => new Promise((resolve) => fake.listen(fakePort, '127.0.0.1', resolve));
  const closeFake = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise((r) => fake.close(r));
  };

  const evidenceOf = (name: 'juntos' | 'reniec'): NodeEvidence => inst[name].ctx.evidence as unknown as NodeEvidence;
  const health = async (): Promise<Health> => (await fetch(new URL('health', inst.juntos.isUrl))).json() as Promise<Health>;

  before(async () => {
    inst = await startInstance({ now });
    t = new Target(inst);
    fake = createServer((req, res) => {
      hits += 1;
      res.on('error', () => undefined);
      answer(req, res).catch(() => res.destroy());
    });
    fake.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    fakePort = await freePort();
    await listenFake();
    const r = await runCli(runNodeCli, ['service', 'add', CONSULTAR_PERSONA, '--backend', `http://127.0.0.1:${fakePort}/`, '--timeout', String(SERVICE_TIMEOUT_MS), '--wsdl', 'reniec.wsdl', '--dir', nodeDir(inst.plan, 'reniec')]);
    assert.equal(r.code, 0, r.stderr);
    // RENIEC reads the changed service within about a second
    await waitFor(async () => {
      const before = hits;
      const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
      return res.status === 200 && hits > before ? true : undefined;
    }, 'que RENIEC use el backend falso');
  });
  after(async () => {
    await closeFake().catch(() => undefined);
    await inst?.close();
  });

  /**
   * A request through both nodes that RENIEC answers with `code` because of its backend: the
   * fault (with its UUID) is in RENIEC's fault log, Juntos logged its request only, RENIEC logged
   * the request and the fault it answered. Returns how many requests the fake backend received.
   */
  async function backendFault(m: Mode, code: Parameters<typeof expectFault>[1], detail?: RegExp): Promise<number> {
    mode = m;
    const before = hits;
    const id = newId(m);
    try {
      const fault = await t.isFault(personaRequest(inst.dni, { id }), code, { origin: 'reniec' });
      if (detail !== undefined) assert.match(fault.faultString, detail);
      assert.deepEqual(directions(inst.juntos, id), ['request']);
      assert.deepEqual(directions(inst.reniec, id), ['request', `response:${code}`]);
      const logged = sqliteLog(inst.reniec).list({ messageId: id })[1];
      assert.ok(logged?.message.toString('utf8').includes(fault.faultDetail ?? '-'), 'the logged response is the fault that was sent');
    } finally {
      mode = 'pass';
    }
    return hits - before;
  }

  // --- the provider's backend -----------------------------------------------------------------

  it('backend down (connection refused) → Server.ServerProxy.ServiceFailed; nothing reached it', async () => {
    await closeFake();
    try {
      const reached = await backendFault('pass', 'Server.ServerProxy.ServiceFailed', /no se pudo conectar con http:\/\/127\.0\.0\.1:\d+/);
      assert.equal(reached, 0);
    } finally {
      await listenFake();
    }
    await t.good();
  });

  it(`backend silent → Server.ServerProxy.ServiceTimeout (${SERVICE_TIMEOUT_MS} ms); RENIEC logged the request and the fault`, async () => {
    const reached = await backendFault('hang', 'Server.ServerProxy.ServiceTimeout', new RegExp(`\\(${SERVICE_TIMEOUT_MS} ms\\)`));
    assert.equal(reached, 1);
    for (const s of sockets) s.destroy(); // the held request
    await t.good();
  });

  it('backend answers garbage bytes as text/xml → Server.ServerProxy.InvalidServiceResponse', async () => {
    assert.equal(await backendFault('garbage', 'Server.ServerProxy.InvalidServiceResponse'), 1);
    await t.good();
  });

  it('backend answers XML that is not a SOAP envelope → Server.ServerProxy.InvalidServiceResponse', async () => {
    assert.equal(await backendFault('not-soap', 'Server.ServerProxy.InvalidServiceResponse'), 1);
    await t.good();
  });

  it('backend answers with a non-XML content type (application/json) → Server.ServerProxy.InvalidServiceResponse naming it', async () => {
    assert.equal(await backendFault('json', 'Server.ServerProxy.InvalidServiceResponse', /HTTP 200 con tipo de contenido «application\/json»/), 1);
    await t.good();
  });

  it('backend answers more than the 2 MiB limit → Server.ServerProxy.ServiceFailed', async () => {
    assert.equal(await backendFault('huge', 'Server.ServerProxy.ServiceFailed', /la respuesta supera 2097152 bytes/), 1);
    await t.good();
  });

  it('backend answers HTTP 500 with an HTML page → Server.ServerProxy.InvalidServiceResponse', async () => {
    assert.equal(await backendFault('html-500', 'Server.ServerProxy.InvalidServiceResponse', /HTTP 500 con tipo de contenido «text\/html/), 1);
    await t.good();
  });

  it('backend answers HTTP 500 with a SOAP Fault → passed through to the IS (HTTP 500, signed, logged by both nodes)', async () => {
    mode = 'soap-fault';
    const before = hits;
    const id = newId('soap-fault');
    try {
      const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id }));
      assert.equal(res.status, 500, res.text);
      const fault = readSoapMessage(Buffer.from(res.text, 'utf8'), 'response').fault;
      assert.equal(fault?.faultCode, 'SOAP-ENV:Server');
      assert.equal(fault?.faultString, 'Base de datos del padrón no disponible');
    } finally {
      mode = 'pass';
    }
    assert.equal(hits - before, 1);
    assert.deepEqual(directions(inst.juntos, id), ['request', 'response:SOAP-ENV:Server']);
    assert.deepEqual(directions(inst.reniec, id), ['request', 'response:SOAP-ENV:Server']);
    const logged = sqliteLog(inst.juntos).list({ messageId: id })[1];
    assert.ok(logged !== undefined && verifyDetached(logged.message, logged.signature).ok, 'RENIEC signed the fault it passed on');
    await t.good();
  });

  // --- time-stamping authority down -------------------------------------------------------------

  /** Stamp Juntos's backlog with central's TSA, then restart Juntos with an unreachable TSA. */
  async function deadTsa(onOutage: 'refuse' | 'flag'): Promise<void> {
    await evidenceOf('juntos').timestamper!.tick();
    assert.equal(evidenceOf('juntos').timestamper!.status().oldestUnstampedAt, null, 'the backlog is stamped before the outage');
    const evidence: EvidenceSettings = {
      ...DEFAULT_EVIDENCE_SETTINGS,
      timestamping: { enabled: true, url: `http://127.0.0.1:${await freePort()}/tsa`, intervalSec: 3600, graceSec: 60, onOutage },
    };
    await inst.restartNode('juntos', { now, evidence });
  }

  /** Back to central's TSA: the backlog is stamped and a normal exchange works. */
  async function tsaBack(): Promise<void> {
    await inst.restartNode('juntos', { now });
    await evidenceOf('juntos').timestamper!.tick();
    assert.equal(evidenceOf('juntos').timestamper!.status().oldestUnstampedAt, null);
    assert.equal((await health()).selladoDeTiempo.estado, 'ok');
    await t.good();
  }

  it('TSA down, policy «refuse»: served within the grace period, then Server.ClientProxy.TimestampUnavailable; /health says so', async () => {
    await deadTsa('refuse');
    try {
      await t.good();
      await evidenceOf('juntos').timestamper!.tick(); // fails: the record stays unstamped
      assert.equal((await health()).selladoDeTiempo.estado, 'failing');
      await t.good(); // still within the 60 s grace period
      offset += 120_000;
      const id = newId('tsa-refuse');
      const f = await t.isFault(personaRequest(inst.dni, { id }), 'Server.ClientProxy.TimestampUnavailable', { origin: 'juntos' });
      assert.match(f.faultString, /sin sello desde/);
      t.nothingLogged(id);
      const h = await health();
      assert.equal(h.selladoDeTiempo.estado, 'outage');
      assert.match(h.selladoDeTiempo.aviso ?? '', /RECHAZA intercambios/);
    } finally {
      await tsaBack();
    }
  });

  it('TSA down, policy «flag»: exchanges go on past the grace period; /health reports the outage', async () => {
    await deadTsa('flag');
    try {
      await t.good();
      await evidenceOf('juntos').timestamper!.tick();
      offset += 120_000;
      await t.good();
      const h = await health();
      assert.equal(h.selladoDeTiempo.estado, 'outage');
      assert.match(h.selladoDeTiempo.aviso ?? '', /sigue operando/);
    } finally {
      await tsaBack();
    }
  });

  // --- central down -----------------------------------------------------------------------------

  it('central down: nodes serve until the global configuration expires, then Server.ClientProxy.OutdatedGlobalConf; central back → served again', async () => {
    const port = Number(new URL(inst.plan.centralUrl).port);
    await inst.central.close();
    let central: Awaited<ReturnType<typeof startCentral>> | undefined;
    try {
      // download attempts fail; the copy in force is used
      assert.equal(await inst.juntos.ctx.conf.refresh(), false);
      assert.match(inst.juntos.ctx.conf.lastError ?? '', /no se pudo descargar la configuración global/);
      const expiresAt = Math.min(inst.juntos.ctx.conf.latest()!.expiresAtMs, inst.reniec.ctx.conf.latest()!.expiresAtMs);
      offset = expiresAt - Date.now() - 30_000; // 30 s before it expires
      await t.good();
      assert.equal((await health()).configuracionGlobal?.vigente, true);

      offset = expiresAt - Date.now() + 1_000; // expired on both nodes
      const id = newId('outdated');
      await t.isFault(personaRequest(inst.dni, { id }), 'Server.ClientProxy.OutdatedGlobalConf', { origin: 'juntos' });
      t.nothingLogged(id);
      assert.equal((await health()).configuracionGlobal?.vigente, false);

      // central comes back (same folder, same port, the same clock): a new configuration is published
      central = await startCentral({ dir: centralDir(inst.plan), host: '127.0.0.1', port, clock: now });
      for (const node of [inst.juntos, inst.reniec]) {
        await waitFor(async () => ((await node.ctx.conf.refresh()) ? true : undefined), `${node.name} descarga la configuración nueva`);
      }
      assert.equal((await health()).configuracionGlobal?.vigente, true);
      await t.good();
    } finally {
      await central?.close();
    }
  });

  it('after all of the above both message logs still verify', () => {
    for (const node of [inst.juntos, inst.reniec]) assert.ok(sqliteLog(node).verifyChain().ok, node.name);
  });
});
