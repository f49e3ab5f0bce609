import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MiisError } from '../../../core/errors.js';
import { signGlobalConf } from '../../../core/global-conf.js';
import { GLOBAL_CONF_FORMAT, type GlobalConf } from '../../../core/global-conf-model.js';
import { createSelfSignedCa, generateKeyPair } from '../../../core/pki.js';
import { createSigner, type Signer } from '../../../core/signature.js';
import { createGlobalConfClient, indexGlobalConf, nodesOf, pinsFor, type GlobalConfClientOptions } from '../../../node/conf/global-conf-client.js';

const T0 = new Date('2026-03-02T15:00:00.000Z');
const MINUTE = 60_000;

async function makeSigner(name: string): Promise<Signer> {
  const keys = await generateKeyPair('ecdsa-p256');
  const cert = await createSelfSignedCa(keys, { organization: 'MIDIS DGFO', commonName: name }, { now: new Date(T0.getTime() - 86_400_000), validDays: 30 });
  return createSigner(keys.privateKeyPem, cert);
}

function conf(serial: number, caPem: string, over: Partial<GlobalConf> = {}): GlobalConf {
  return {
    format: GLOBAL_CONF_FORMAT, instance: 'PE', serial,
    generatedAt: T0.toISOString(), expiresAt: new Date(T0.getTime() + 10 * MINUTE).toISOString(),
    members: [{ id: 'PE/GOB/20295613620', name: 'RENIEC', role: 'RENIEC' }, { id: 'PE/GOB/20511268401', name: 'Programa Juntos', role: 'IPF' }],
    subsystems: ['PE/GOB/20295613620/RUPN', 'PE/GOB/20511268401/JUNTOS'],
    nodes: [
      { name: 'reniec', owner: 'PE/GOB/20295613620', address: 'https://127.0.0.1:5500', authCertSha256: 'a'.repeat(64), clients: ['PE/GOB/20295613620/RUPN'] },
      { name: 'juntos', owner: 'PE/GOB/20511268401', address: 'https://127.0.0.1:5501', authCertSha256: 'b'.repeat(64), clients: ['PE/GOB/20511268401/JUNTOS'] },
    ],
    services: [{ id: 'PE/GOB/20295613620/RUPN/consultarPersona/v1', title: 'Consultar persona' }],
    trustedCas: [caPem],
    ...over,
  };
}

/** A stand-in for central: serves whatever `reply` says at /globalconf. */
interface FakeCentral {
  url: string;
  reply: { status: number; body: Buffer; declaredLength?: number | 'none' };
  hits: number;
  server: Server;
}

async function startFakeCentral(): Promise<FakeCentral> {
  const fake = { url: '', reply: { status: 503, body: Buffer.from('') }, hits: 0 } as FakeCentral;
  fake.server = createServer((req, res) => {
    fake.hits += 1;
    if (req.url !== '/globalconf') {
      res.writeHead(404).end();
      return;
    }
    const { status, body } = fake.reply;
    const declared = fake.reply.declaredLength;
    if (declared === 'none') {
      res.writeHead(status, { 'content-type': 'application/json' }); // chunked
      res.end(body);
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(declared ?? body.length) });
    res.end(declared === undefined ? body : undefined);
  });
  await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  return fake;
}

describe('global configuration client', () => {
  let dir: string;
  let signer: Signer;
  let other: Signer;
  let central: FakeCentral;
  let clock = T0;
  const now = (): Date => clock;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miis-gcc-'));
    [signer, other] = await Promise.all([makeSigner('conf'), makeSigner('otra')]);
    central = await startFakeCentral();
  });
  after(async () => {
    central.server.closeAllConnections();
    await new Promise((r) => central.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const options = (cacheName: string, over: Partial<GlobalConfClientOptions> = {}): GlobalConfClientOptions => ({
    centralUrl: central.url, anchorPem: signer.certPem, cachePath: join(dir, cacheName), now, ...over,
  });
  const serve = (envelope: Buffer): void => {
    central.reply = { status: 200, body: envelope };
  };

  it('downloads, verifies, indexes, caches on disk and notifies', async () => {
    clock = T0;
    const envelope = signGlobalConf(conf(1, signer.certPem), signer);
    serve(envelope);
    const client = createGlobalConfClient(options('a.signed'));
    assert.equal(client.latest(), undefined);
    assert.throws(() => client.current(), (e: unknown) => e instanceof MiisError && e.code === 'Server.ClientProxy.OutdatedGlobalConf');
    const seen: number[] = [];
    client.onChange((v) => seen.push(v.conf.serial));
    assert.equal(await client.refresh(), true);
    assert.equal(client.lastError, undefined);
    const view = client.current();
    assert.equal(view.conf.serial, 1);
    assert.deepEqual(view.nodesBySubsystem.get('PE/GOB/20511268401/JUNTOS')?.map((n) => n.name), ['juntos']);
    assert.equal(view.nodeByName.get('reniec')?.address, 'https://127.0.0.1:5500');
    assert.ok(view.services.has('PE/GOB/20295613620/RUPN/consultarPersona/v1'));
    assert.ok(view.services.has('PE/GOB/20295613620/RUPN/consultarPersona'));
    assert.equal(view.expiresAtMs, T0.getTime() + 10 * MINUTE);
    assert.ok(readFileSync(join(dir, 'a.signed')).equals(envelope));
    assert.deepEqual(seen, [1]);
    // the same serial again changes nothing
    assert.equal(await client.refresh(), false);
    assert.deepEqual(seen, [1]);
  });

  it('instances sharing a database agree on the serial in force: a newer download is offered and adopted by the others, verified, never moved back', async () => {
    clock = T0;
    let stored: { serial: number; envelope: Buffer } | undefined;
    const shared = {
      read: async () => stored,
      offer: async (serial: number, envelope: Buffer) => {
        if (stored === undefined || stored.serial < serial) stored = { serial, envelope };
      },
    };
    const unreachable = 'http://127.0.0.1:9'; // the second instance cannot reach central
    serve(signGlobalConf(conf(7, signer.certPem), signer));
    const a = createGlobalConfClient(options('shared-a.signed', { shared }));
    const b = createGlobalConfClient(options('shared-b.signed', { shared, centralUrl: unreachable }));
    assert.equal(await a.refresh(), true);
    assert.equal(stored?.serial, 7);
    assert.equal(await b.refresh(), true, b.lastError);
    assert.equal(b.current().conf.serial, 7);
    assert.ok(readFileSync(join(dir, 'shared-b.signed')).equals(stored.envelope), 'the adopted configuration is cached like a download');
    // central publishes 8: A downloads it, B follows from the database
    serve(signGlobalConf(conf(8, signer.certPem), signer));
    assert.equal(await a.refresh(), true);
    assert.equal(await b.refresh(), true);
    assert.equal(b.current().conf.serial, 8);
    // an older serial from central is ignored and does not move the shared one back
    serve(signGlobalConf(conf(6, signer.certPem), signer));
    assert.equal(await a.refresh(), false);
    assert.equal(stored?.serial, 8);
    // an envelope in the database signed by someone else is verified like a download and refused
    stored = { serial: 9, envelope: signGlobalConf(conf(9, signer.certPem), other) };
    assert.equal(await b.refresh(), false);
    assert.equal(b.current().conf.serial, 8);
  });

  it('starts from the last good copy on disk and survives a central outage', async () => {
    clock = new Date(T0.getTime() + MINUTE);
    writeFileSync(join(dir, 'b.signed'), signGlobalConf(conf(4, signer.certPem), signer));
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));

    const client = createGlobalConfClient(options('b.signed', { centralUrl: closedUrl }));
    assert.equal(client.latest()?.conf.serial, 4);
    assert.equal(await client.refresh(), false);
    assert.match(client.lastError ?? '', /^no se pudo descargar la configuración global de http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(client.current().conf.serial, 4);

    central.reply = { status: 500, body: Buffer.from('error') };
    const viaFake = createGlobalConfClient(options('b.signed'));
    assert.equal(await viaFake.refresh(), false);
    assert.match(viaFake.lastError ?? '', /HTTP 500/);
    assert.equal(viaFake.current().conf.serial, 4);
  });

  it('swaps to a higher serial and refuses a lower one', async () => {
    clock = T0;
    serve(signGlobalConf(conf(5, signer.certPem), signer));
    const client = createGlobalConfClient(options('c.signed'));
    assert.equal(await client.refresh(), true);
    const five = readFileSync(join(dir, 'c.signed'));
    serve(signGlobalConf(conf(6, signer.certPem), signer));
    assert.equal(await client.refresh(), true);
    assert.equal(client.current().conf.serial, 6);
    serve(signGlobalConf(conf(5, signer.certPem), signer));
    assert.equal(await client.refresh(), false);
    assert.equal(client.current().conf.serial, 6);
    assert.notDeepEqual(readFileSync(join(dir, 'c.signed')), five);
    assert.equal(JSON.parse(Buffer.from(JSON.parse(readFileSync(join(dir, 'c.signed'), 'utf8')).payload, 'base64').toString()).serial, 6);
  });

  it('refuses a configuration signed by another key, and a tampered one, keeping the last good', async () => {
    clock = T0;
    serve(signGlobalConf(conf(1, signer.certPem), signer));
    const client = createGlobalConfClient(options('d.signed'));
    assert.equal(await client.refresh(), true);
    const good = readFileSync(join(dir, 'd.signed'));

    serve(signGlobalConf(conf(2, signer.certPem), other));
    assert.equal(await client.refresh(), false);
    assert.match(client.lastError ?? '', /La configuración global no es válida: está firmada con un certificado distinto del ancla/);
    assert.equal(client.current().conf.serial, 1);

    const envelope = JSON.parse(signGlobalConf(conf(3, signer.certPem), signer).toString('utf8')) as { payload: string };
    const payload = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as GlobalConf;
    envelope.payload = Buffer.from(JSON.stringify({ ...payload, services: [] })).toString('base64');
    serve(Buffer.from(JSON.stringify(envelope)));
    assert.equal(await client.refresh(), false);
    assert.match(client.lastError ?? '', /la firma no es válida/);

    serve(Buffer.from('esto no es json'));
    assert.equal(await client.refresh(), false);
    assert.match(client.lastError ?? '', /no es JSON/);
    assert.equal(client.current().conf.serial, 1);
    assert.ok(readFileSync(join(dir, 'd.signed')).equals(good));
    // a good one afterwards clears the error
    serve(signGlobalConf(conf(2, signer.certPem), signer));
    assert.equal(await client.refresh(), true);
    assert.equal(client.lastError, undefined);
  });

  it('refuses a download larger than the limit', async () => {
    clock = T0;
    const envelope = signGlobalConf(conf(1, signer.certPem), signer);
    central.reply = { status: 200, body: envelope, declaredLength: 'none' };
    const client = createGlobalConfClient(options('e.signed', { maxBytes: envelope.length - 1 }));
    assert.equal(await client.refresh(), false);
    // with no content-length the download itself is cut off at the limit, before it is all read
    assert.match(client.lastError ?? '', /configuración demasiado grande \(más de \d+ bytes\)/);
    assert.equal(client.latest(), undefined);
    assert.equal(existsSync(join(dir, 'e.signed')), false);
    central.reply = { status: 200, body: envelope, declaredLength: 100 * 1024 * 1024 };
    const declared = createGlobalConfClient(options('e2.signed'));
    assert.equal(await declared.refresh(), false);
    assert.match(declared.lastError ?? '', /demasiado grande/);
  });

  it('a copy on disk signed by another key, or corrupt, is discarded', () => {
    writeFileSync(join(dir, 'f.signed'), signGlobalConf(conf(9, other.certPem), other));
    const client = createGlobalConfClient(options('f.signed'));
    assert.equal(client.latest(), undefined);
    assert.match(client.lastError ?? '', /^copia local descartada: .*distinto del ancla/);
    writeFileSync(join(dir, 'g.signed'), 'basura');
    assert.match(createGlobalConfClient(options('g.signed')).lastError ?? '', /^copia local descartada/);
  });

  it('an expired configuration is not in force, with the code of the asking side', async () => {
    clock = T0;
    serve(signGlobalConf(conf(1, signer.certPem), signer));
    const client = createGlobalConfClient(options('h.signed'));
    await client.refresh();
    clock = new Date(T0.getTime() + 10 * MINUTE - 1);
    assert.equal(client.current().conf.serial, 1);
    clock = new Date(T0.getTime() + 10 * MINUTE);
    assert.throws(() => client.current(), (e: unknown) => e instanceof MiisError && e.code === 'Server.ClientProxy.OutdatedGlobalConf');
    assert.throws(() => client.current('Server.ServerProxy.OutdatedGlobalConf'), (e: unknown) => e instanceof MiisError && e.code === 'Server.ServerProxy.OutdatedGlobalConf');
    assert.equal(client.latest()?.conf.serial, 1);
  });

  it('polls central on its interval once started, until stopped', async () => {
    clock = T0;
    serve(signGlobalConf(conf(1, signer.certPem), signer));
    const client = createGlobalConfClient(options('i.signed', { intervalMs: 20 }));
    const changed = new Promise<number>((resolve) => client.onChange((v) => resolve(v.conf.serial)));
    client.start();
    try {
      assert.equal(await changed, 1);
      serve(signGlobalConf(conf(2, signer.certPem), signer));
      const deadline = Date.now() + 2000;
      while (client.latest()?.conf.serial !== 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(client.latest()?.conf.serial, 2);
    } finally {
      client.stop();
    }
    const hits = central.hits;
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(central.hits <= hits + 1, 'no more polling after stop');
  });

  it('indexGlobalConf maps every client subsystem to its node', () => {
    const view = indexGlobalConf(conf(1, signer.certPem));
    assert.deepEqual([...view.nodesBySubsystem.keys()].sort(), ['PE/GOB/20295613620/RUPN', 'PE/GOB/20511268401/JUNTOS']);
    assert.equal(view.services.size, 2);
  });

  it('indexGlobalConf lists every node of a subsystem; pins at a shared address are the owner\'s nodes only', () => {
    const base = conf(1, signer.certPem);
    const rupn = 'PE/GOB/20295613620/RUPN';
    const view = indexGlobalConf({
      ...base,
      nodes: [
        ...base.nodes,
        { name: 'reniec-b', owner: 'PE/GOB/20295613620', address: 'https://127.0.0.1:5500', authCertSha256: 'c'.repeat(64), authCertsSha256: ['c'.repeat(64), 'd'.repeat(64)], clients: [rupn] },
        { name: 'reniec-c', owner: 'PE/GOB/20295613620', address: 'https://127.0.0.1:5502', authCertSha256: 'e'.repeat(64), clients: [rupn] },
        // another member's node at the same address is never accepted for RENIEC's
        { name: 'intruso', owner: 'PE/GOB/20511268401', address: 'https://127.0.0.1:5500', authCertSha256: 'f'.repeat(64), clients: [] },
      ],
    });
    assert.deepEqual(nodesOf(view, rupn).map((n) => n.name), ['reniec', 'reniec-b', 'reniec-c']);
    assert.deepEqual(nodesOf(view, 'PE/GOB/20295613620/OTRO'), []);
    const byName = (name: string) => view.nodeByName.get(name)!;
    assert.deepEqual([...pinsFor(view, byName('reniec'))].sort(), ['a'.repeat(64), 'c'.repeat(64), 'd'.repeat(64)]);
    assert.deepEqual(pinsFor(view, byName('reniec-c')), ['e'.repeat(64)]);
    assert.deepEqual(pinsFor(view, byName('intruso')), ['f'.repeat(64)]);
  });

  it('indexGlobalConf: a shared node hosts the subsystems of its `members`; a node never hosts another member\'s subsystem', () => {
    const base = conf(1, signer.certPem);
    const muni = 'PE/GOB/20177539733';
    const view = indexGlobalConf({
      ...base,
      members: [...base.members, { id: muni, name: 'Municipalidad', role: 'GOBIERNO_LOCAL' }],
      subsystems: [...base.subsystems, `${muni}/ULE`],
      nodes: [
        // RENIEC's node lists Juntos's subsystem without hosting Juntos: ignored
        { ...base.nodes[0]!, clients: ['PE/GOB/20295613620/RUPN', 'PE/GOB/20511268401/JUNTOS'] },
        { ...base.nodes[1]!, members: [muni], clients: ['PE/GOB/20511268401/JUNTOS', `${muni}/ULE`] },
      ],
    });
    assert.deepEqual(nodesOf(view, 'PE/GOB/20511268401/JUNTOS').map((n) => n.name), ['juntos']);
    assert.deepEqual(nodesOf(view, `${muni}/ULE`).map((n) => n.name), ['juntos']);
  });
});
