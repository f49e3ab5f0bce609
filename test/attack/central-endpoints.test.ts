/**
 * Attack suite, family «central-endpoints»: central's public HTTP endpoints and the node's use of
 * them. Forged, tampered and older (rolled-back) global configurations served to a node by a fake
 * central on loopback (the node keeps its configuration, reports the error in /health and keeps
 * serving); forged and replayed signed access requests (issue 9 item 9: central remembers every
 * signed request for good); garbage DER to /ocsp and /tsa; oversized bodies.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { signAccessRequest, type AccessRequestMessage } from '../../core/access-request-message.js';
import { signGlobalConf, verifyGlobalConf } from '../../core/global-conf.js';
import { createSelfSignedCa, generateKeyPair } from '../../core/pki.js';
import { createSigner } from '../../core/signature.js';
import { runNodeCli } from '../../node/cli/index.js';
import { centralDir, nodeDir } from '../../scripts/sandbox/provision.js';
import { JUNTOS_CLIENT, runCli, startInstance } from '../e2e/fixture.js';
import { Target } from './helpers.js';

const RENIEC_RUC = '20295613620';

describe('attack: central-endpoints', () => {
  let t: Target;
  let fake: Server;
  let fakeUrl: string;
  /** What the fake central answers on /globalconf: the real one (proxied) or given bytes. */
  let serve: 'real' | Buffer = 'real';
  let cdir: string;
  const c = (...argv: string[]) => runCli(runCentralCli, [...argv, '--dir', cdir]);

  before(async () => {
    const inst = await startInstance();
    t = new Target(inst);
    cdir = centralDir(inst.plan);
    fake = createServer((req, res) => {
      void (async () => {
        const bytes = serve === 'real' ? Buffer.from(await (await fetch(`${inst.central.url}${req.url ?? '/'}`)).arrayBuffer()) : serve;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
        res.end(bytes);
      })();
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    // Juntos fetches its global configuration through the fake central from now on
    const jdir = nodeDir(inst.plan, 'juntos');
    const moved = await runCli(runNodeCli, ['anchor', 'import', '--file', join(jdir, 'anchor.pem'), '--url', fakeUrl, '--dir', jdir]);
    assert.equal(moved.code, 0, moved.stderr);
    await inst.restartNode('juntos');
  });
  after(async () => {
    fake?.closeAllConnections();
    await new Promise((r) => fake?.close(r));
    await t?.inst.close();
  });

  const realEnvelope = async (): Promise<Buffer> => Buffer.from(await (await fetch(`${t.inst.central.url}/globalconf`)).arrayBuffer());
  const health = async (): Promise<{ configuracionGlobal: { serie: number }; ultimoError: string | null }> =>
    (await (await fetch(new URL('/health', t.inst.juntos.isUrl))).json()) as { configuracionGlobal: { serie: number }; ultimoError: string | null };

  /** Serve `bytes` as the global configuration; Juntos refreshes, keeps its serial and reports `error`. */
  async function refused(bytes: Buffer, error: RegExp): Promise<void> {
    const serial = t.inst.juntos.ctx.conf.latest()?.conf.serial;
    serve = bytes;
    try {
      assert.equal(await t.inst.juntos.ctx.conf.refresh(), false);
      assert.equal(t.inst.juntos.ctx.conf.latest()?.conf.serial, serial, 'el nodo conserva su configuración');
      const h = await health();
      assert.equal(h.configuracionGlobal.serie, serial);
      assert.match(h.ultimoError ?? '', error);
      await t.good();
    } finally {
      serve = 'real';
    }
    assert.equal(await t.inst.juntos.ctx.conf.refresh(), false);
    assert.equal((await health()).ultimoError, null, 'el error se borra cuando central vuelve a responder bien');
  }

  it('a tampered global configuration (payload changed, signature kept) is refused; the node keeps its copy and reports it', async () => {
    const env = JSON.parse((await realEnvelope()).toString('utf8')) as { payload: string };
    const conf = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { serial: number };
    const tampered = { ...env, payload: Buffer.from(JSON.stringify({ ...conf, serial: conf.serial + 100 })).toString('base64') };
    await refused(Buffer.from(JSON.stringify(tampered)), /configuración global no es válida/);
  });

  it('a global configuration signed by a forged key (not the anchor) is refused', async () => {
    const real = verifyGlobalConf(await realEnvelope(), readFileSync(join(cdir, 'anchor.pem'), 'utf8'));
    const keys = await generateKeyPair('ecdsa-p256');
    const cert = await createSelfSignedCa(keys, { commonName: 'MIIS falso', organization: 'Atacante' }, { now: new Date(), validDays: 30 });
    const forged = signGlobalConf({ ...real, serial: real.serial + 100 }, createSigner(keys.privateKeyPem, cert));
    await refused(forged, /configuración global no es válida/);
  });

  it('an older global configuration, validly signed by central (a rollback), is ignored', async () => {
    const real = verifyGlobalConf(await realEnvelope(), readFileSync(join(cdir, 'anchor.pem'), 'utf8'));
    const signer = createSigner(readFileSync(join(cdir, 'keys', 'conf-key.pem'), 'utf8'), readFileSync(join(cdir, 'anchor.pem'), 'utf8'));
    // central publishes serial N+1 (same content) and the node takes it; then serial N comes back, without any service
    serve = signGlobalConf({ ...real, serial: real.serial + 1 }, signer);
    assert.equal(await t.inst.juntos.ctx.conf.refresh(), true);
    assert.equal(t.inst.juntos.ctx.conf.latest()?.conf.serial, real.serial + 1);
    serve = signGlobalConf({ ...real, services: [] }, signer);
    try {
      assert.equal(await t.inst.juntos.ctx.conf.refresh(), false);
      assert.equal(t.inst.juntos.ctx.conf.latest()?.conf.serial, real.serial + 1);
      assert.ok((t.inst.juntos.ctx.conf.latest()?.conf.services.length ?? 0) > 0);
      await t.good();
    } finally {
      serve = 'real';
    }
  });

  it('garbage instead of a configuration (HTML, truncated JSON) is refused and reported', async () => {
    await refused(Buffer.from('<html><body>Mantenimiento</body></html>'), /configuración global no es válida|no se pudo/);
    await refused((await realEnvelope()).subarray(0, 200), /configuración global no es válida|no se pudo/);
  });

  // --- signed access requests (POST /solicitudes-acceso) -----------------------------------

  describe('signed access requests', () => {
    let signer: ReturnType<typeof createSigner>;
    const post = async (body: unknown): Promise<{ status: number; json: { id?: string; mensaje?: string; error?: string } }> => {
      const res = await fetch(`${t.inst.central.url}/solicitudes-acceso`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as { id?: string; mensaje?: string } };
    };
    const message = (over: Partial<AccessRequestMessage> = {}): AccessRequestMessage => ({
      requestId: randomUUID(), client: JUNTOS_CLIENT, component: 'PGH', purpose: 'FOCALIZACION', legalBasis: 'Ley Nº 30435, art. 13', createdAt: new Date().toISOString(), ...over,
    });
    const accessCount = async (): Promise<number> => (JSON.parse((await c('access', 'list', '--json')).stdout) as unknown[]).length;

    before(async () => {
      const jdir = nodeDir(t.inst.plan, 'juntos');
      signer = createSigner(readFileSync(join(jdir, 'keys', 'sign-key.pem'), 'utf8'), readFileSync(join(jdir, 'sign.pem'), 'utf8'));
      // PGH's administering entity needs a designated unit to answer; find it and designate one
      const list = JSON.parse((await c('component', 'list', '--json')).stdout) as { codigo: string; entidad: { ruc: string } }[];
      const ruc = list.find((x) => x.codigo === 'PGH')?.entidad.ruc ?? RENIEC_RUC;
      for (const argv of [
        ['unit', 'request', '--entity', ruc, '--date', '2026-03-02', '--ref', 'Oficio Nº 012-2026-MIDIS/DGFO'],
        ['unit', 'answer', '--entity', ruc, '--date', '2026-03-16', '--unit', 'Unidad de Sistemas', '--head', 'Ana Quispe Rojas', '--post', 'Gerente', '--contact', 'aq@example.gob.pe', '--user', 'aquispe'],
      ]) {
        const r = await c(...argv);
        assert.equal(r.code, 0, `${argv.join(' ')}: ${r.stderr}`);
      }
    });

    it('a denied request replayed byte for byte is refused with HTTP 409 and a Spanish message; a new request is accepted', async () => {
      const signed = signAccessRequest(message(), signer);
      const first = await post(signed);
      assert.equal(first.status, 201, JSON.stringify(first.json));
      const id = first.json.id as string;
      // replayed while pending: refused as a duplicate, nothing new recorded
      const pending = await post(signed);
      assert.equal(pending.status, 409);
      assert.equal(pending.json.error, 'duplicado');
      const denied = await c('access', 'deny', id, '--actor', 'aquispe', '--reason', 'La finalidad no corresponde', '--date', new Date().toISOString().slice(0, 10));
      assert.equal(denied.code, 0, denied.stderr);
      const count = await accessCount();
      // replayed after the denial (still inside the ±10-minute window): refused, not re-filed
      const replay = await post(signed);
      assert.equal(replay.status, 409, JSON.stringify(replay.json));
      assert.match(replay.json.mensaje ?? '', /^Ya existe: la solicitud firmada .* recibida el .*\(SA-\d{4}-\d{4}\); una solicitud firmada no se acepta dos veces/);
      assert.equal(await accessCount(), count);
      // a fresh, newly signed request after the denial is a legitimate new filing
      const fresh = await post(signAccessRequest(message(), signer));
      assert.equal(fresh.status, 201, JSON.stringify(fresh.json));
      assert.equal(await accessCount(), count + 1);
    });

    it('the same requestId signed again with another date is refused (HTTP 409)', async () => {
      const msg = message({ component: 'RNU' });
      assert.equal((await post(signAccessRequest(msg, signer))).status, 201);
      const again = await post(signAccessRequest({ ...msg, createdAt: new Date(Date.now() + 1000).toISOString() }, signer));
      assert.equal(again.status, 409);
    });

    it('remembered requests are kept in central\'s database (table gov_signed_access_requests)', async () => {
      const signed = signAccessRequest(message({ component: 'MARCO-CENSAL' }), signer);
      assert.equal((await post(signed)).status, 201);
      const rows = t.inst.central.app.store.db.prepare('SELECT COUNT(*) AS n FROM gov_signed_access_requests').get() as { n: number };
      assert.ok(rows.n >= 3);
      assert.equal((await post(signed)).status, 409);
    });

    it('a request signed with a forged key and self-signed certificate → HTTP 403, nothing recorded', async () => {
      const keys = await generateKeyPair('ecdsa-p256');
      const cert = await createSelfSignedCa(keys, { commonName: 'Juntos', organization: 'Programa Juntos', serialNumber: 'PE/GOB/20511268401' }, { now: new Date(), validDays: 30 });
      const count = await accessCount();
      const res = await post(signAccessRequest(message({ component: 'REG-SANCIONES' }), createSigner(keys.privateKeyPem, cert)));
      assert.equal(res.status, 403);
      assert.match(res.json.mensaje ?? '', /Certificado no válido/);
      assert.equal(await accessCount(), count);
    });

    it('not JSON, and JSON of the wrong shape → HTTP 400', async () => {
      assert.equal((await post('{{{')).status, 400);
      const wrong = await post({ format: 'otro', message: 'x', signature: 'y' });
      assert.equal(wrong.status, 400);
      assert.match(wrong.json.mensaje ?? '', /solicitud de acceso no válida/);
    });

    it('a body over 64 KiB → HTTP 413', async () => {
      const res = await fetch(`${t.inst.central.url}/solicitudes-acceso`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(65 * 1024) });
      assert.equal(res.status, 413);
    });
  });

  // --- OCSP and TSA ---------------------------------------------------------------------------

  it('garbage DER to /ocsp → HTTP 200 with an OCSP malformedRequest response; central keeps serving', async () => {
    for (const body of [Buffer.from([0x30, 0x82, 0xff, 0xff, 0x00]), Buffer.from('hola'), Buffer.alloc(0)]) {
      const res = await fetch(`${t.inst.central.url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(body) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/ocsp-response');
      const der = Buffer.from(await res.arrayBuffer());
      // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED malformedRequest(1) } — no responseBytes
      assert.deepEqual([...der], [0x30, 0x03, 0x0a, 0x01, 0x01]);
    }
    assert.equal((await fetch(`${t.inst.central.url}/globalconf`)).status, 200);
  });

  it('garbage DER to /tsa → HTTP 200 with a TSA rejection (badDataFormat); central keeps serving', async () => {
    for (const body of [Buffer.from([0x30, 0x80, 0x00]), Buffer.from('<xml/>')]) {
      const res = await fetch(`${t.inst.central.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: new Uint8Array(body) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/timestamp-reply');
      const der = Buffer.from(await res.arrayBuffer());
      assert.equal(der[0], 0x30);
      // PKIStatusInfo status rejection(2) appears right after the outer SEQUENCE headers
      assert.ok(der.includes(Buffer.from([0x02, 0x01, 0x02])), der.toString('hex'));
    }
    assert.equal((await fetch(`${t.inst.central.url}/health`)).status, 200);
  });

  it('oversized bodies to /ocsp, /tsa and /globalconf → HTTP 413; central keeps serving', async () => {
    for (const path of ['/ocsp', '/tsa', '/globalconf']) {
      const res = await fetch(`${t.inst.central.url}${path}`, { method: 'POST', body: new Uint8Array(1024 * 1024) }).catch(() => undefined);
      // the server answers 413 and closes; a client still uploading may see the reset instead
      if (res !== undefined) assert.equal(res.status, 413, path);
    }
    assert.equal((await fetch(`${t.inst.central.url}/globalconf`)).status, 200);
  });

  it('POST to /globalconf and DELETE to /solicitudes-acceso → HTTP 405', async () => {
    assert.equal((await fetch(`${t.inst.central.url}/globalconf`, { method: 'POST', body: 'x' })).status, 405);
    assert.equal((await fetch(`${t.inst.central.url}/solicitudes-acceso`, { method: 'DELETE' })).status, 405);
  });
});
