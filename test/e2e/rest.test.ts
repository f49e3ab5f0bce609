/**
 * The X-Road message protocol for REST through two real nodes (docs/rest.md): curl and fetch to
 * Juntos's IS port, signed and logged on both nodes, RENIEC's REST backend behind the rest
 * adapter; X-Road REST error bodies; getOpenAPI; the message log still verifies.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runNodeCli } from '../../node/cli/index.js';
import type { NodeEvidence } from '../../node/evidence/index.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import type { MiisError } from '../../core/errors.js';
import { decodeRestRequest, encodeRestRequest, parseRestTarget, readRestRequest } from '../../core/rest-message.js';
import { encodeSignedRest } from '../../node/pipeline/rest-client.js';
import { signDetached } from '../../core/signature.js';
import { JUNTOS_CLIENT, PERSONAS_REST, personaRequest, postMtls, postSoap, runCli, startInstance, waitFor, type Instance } from './fixture.js';
import { needTool } from '../helpers/tools.js';
import { sqliteLog } from '../helpers/node-log.js';

function run(cmd: string, args: readonly string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

const HEADERS = { 'x-road-client': JUNTOS_CLIENT, 'x-miis-convenio': 'CONV-001-2026', 'x-miis-finalidad': 'FOCALIZACION', 'x-road-userid': 'PE10117410' };
let seq = 0;
const newId = (): string => `rest-${process.pid}-${Date.now()}-${(seq += 1)}`;

describe('REST protocol r1 through two nodes', () => {
  let inst: Instance;
  let base: string;
  before(async () => {
    inst = await startInstance({ rest: true });
    base = new URL(`r1/${PERSONAS_REST}`, inst.juntos.isUrl).toString();
  });
  after(async () => {
    await inst.close();
  });

  it('GET with fetch: the backend answer, signed and checked, with the X-Road headers', async () => {
    const id = newId();
    const res = await fetch(`${base}/${inst.dni}`, { headers: { ...HEADERS, 'x-road-id': id } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal((JSON.parse(text) as { dni: string }).dni, inst.dni);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(res.headers.get('x-road-id'), id);
    assert.equal(res.headers.get('x-road-client'), JUNTOS_CLIENT);
    assert.equal(res.headers.get('x-road-service'), PERSONAS_REST);
    assert.match(res.headers.get('x-road-request-hash') ?? '', /^[A-Za-z0-9+/]{86}==$/);
    assert.match(res.headers.get('x-road-request-id') ?? '', /^[0-9a-f-]{36}$/);
    // both nodes logged request and response under the message id
    for (const name of ['juntos', 'reniec'] as const) {
      const records = sqliteLog(inst[name]).list({ messageId: id });
      assert.deepEqual(records.map((r) => r.direction), ['request', 'response'], name);
      assert.match(records[0]!.message.toString('utf8'), /^miis-rest\/1 request\nmethod: GET\n/);
      assert.equal(records[0]!.convenio, 'CONV-001-2026');
    }
  });

  it('the provider indexes the REST call\'s data subject (path DNI): `log titular` lists it', async () => {
    const dni = '10117410';
    const id = newId();
    const res = await fetch(`${base}/${dni}`, { headers: { ...HEADERS, 'x-road-id': id } });
    await res.arrayBuffer();
    const r = await runCli(runNodeCli, ['log', 'titular', '--dir', nodeDir(inst.plan, 'reniec'), '--dni', dni, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { consultas: { idMensaje: string; servicio: string; cliente: string }[] };
    const mine = report.consultas.filter((c) => c.idMensaje === id);
    assert.equal(mine.length, 1, r.stdout);
    assert.equal(mine[0]!.servicio, PERSONAS_REST);
    assert.equal(mine[0]!.cliente, JUNTOS_CLIENT);
  });

  it('a backend 404 is passed through signed (not an X-Road error); the id is generated when absent', async () => {
    const res = await fetch(`${base}/00000001`, { headers: HEADERS });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-road-error'), null);
    assert.match(res.headers.get('x-road-id') ?? '', /^[0-9a-f-]{36}$/);
    await res.arrayBuffer();
  });

  it('POST with curl: JSON body forwarded and answered', { skip: needTool('curl') }, async () => {
    const h = Object.entries(HEADERS).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
    const out = await run('curl', ['-sS', '-i', '-X', 'POST', ...h, '-H', 'content-type: application/json', '--data', JSON.stringify({ dnis: [inst.dni, '00000001'] }), `${base}/consulta`]);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /^HTTP\/1\.1 200/);
    assert.match(out.stdout, /^x-road-request-hash: /im);
    const body = JSON.parse(out.stdout.slice(out.stdout.indexOf('\r\n\r\n') + 4)) as { resultados: { dni: string; encontrado: boolean }[] };
    assert.deepEqual(body.resultados.map((r) => r.encontrado), [true, false]);
  });

  it('refusals carry X-Road REST error bodies with the SOAP fault codes', async () => {
    const noPurpose = await fetch(`${base}/${inst.dni}`, { headers: { 'x-road-client': JUNTOS_CLIENT, 'x-miis-convenio': 'CONV-001-2026' } });
    assert.equal(noPurpose.status, 500);
    assert.equal(noPurpose.headers.get('x-road-error'), 'Server.ServerProxy.PurposeNotAllowed');
    const b = await noPurpose.json() as { type: string; message: string; detail: string };
    assert.equal(b.type, 'Server.ServerProxy.PurposeNotAllowed');
    assert.match(b.message, /finalidad/);
    // the detail is the provider node's fault log id
    assert.ok(sqliteLog(inst.reniec).faults(1000).some((f) => f.faultId === b.detail));

    const noClient = await fetch(`${base}/${inst.dni}`, { headers: { 'x-miis-convenio': 'CONV-001-2026' } });
    assert.equal(noClient.status, 400);
    assert.deepEqual([noClient.headers.get('x-road-error'), (await noClient.json() as { type: string }).type], ['Client.MissingHeaderField', 'Client.MissingHeaderField']);

    const big = await fetch(`${base}/consulta`, { method: 'POST', headers: { ...HEADERS, 'content-type': 'application/json' }, body: new Uint8Array(3 * 1024 * 1024) });
    assert.deepEqual([big.status, big.headers.get('x-road-error')], [413, 'Client.MessageTooLarge']);
    await big.arrayBuffer();

    const stranger = await fetch(`${base}/${inst.dni}`, { headers: { ...HEADERS, 'x-road-client': 'PE/GOB/20511268401/OTRO' } });
    assert.deepEqual([stranger.status, stranger.headers.get('x-road-error')], [500, 'Server.ClientProxy.UnknownClient']);
    await stranger.arrayBuffer();

    const control = await fetch(`${base}/${inst.dni}`, { headers: { ...HEADERS, 'x-road-issue': 'a\tb' } });
    assert.equal((await control.json() as { type: string }).type, 'Client.ControlCharacter');

    const forged = await fetch(`${base}/${inst.dni}`, { headers: { ...HEADERS, 'x-road-request-hash': 'x' } });
    assert.equal((await forged.json() as { type: string }).type, 'Client.ForbiddenHeader');

    // fetch resolves dot segments itself: the node's own check, on the raw target
    for (const target of [`/r1/${PERSONAS_REST}/%2e%2E/admin`, `/r1/${PERSONAS_REST}/../x`, `/r1/${PERSONAS_REST}/a%2fb`, `/r2/${PERSONAS_REST}`, `/r1/${PERSONAS_REST}/a b`]) {
      assert.throws(() => parseRestTarget(target), (e: MiisError) => e.code === 'Client.InvalidRestRequest', target);
    }
    assert.throws(() => readRestRequest('TRACE', `/r1/${PERSONAS_REST}`, HEADERS), (e: MiisError) => e.code === 'Client.InvalidRestRequest');

    const id = newId();
    assert.equal((await fetch(`${base}/${inst.dni}`, { headers: { ...HEADERS, 'x-road-id': id } })).status, 200);
    const replay = await fetch(`${base}/${inst.dni}`, { headers: { ...HEADERS, 'x-road-id': id } });
    assert.equal((await replay.json() as { type: string }).type, 'Server.ClientProxy.DuplicateMessage');

    const unknown = await fetch(`${inst.juntos.isUrl}r1/PE/GOB/20295613620/RUPN/noExiste/x`, { headers: HEADERS });
    assert.equal((await unknown.json() as { type: string }).type, 'Server.ClientProxy.UnknownService');
  });

  it('a request signed with a key that is not the client member\'s is refused by the provider', async () => {
    // RENIEC's own node identity and signing key, claiming to be Juntos: TLS peer is not Juntos's node
    const head = readRestRequest('GET', `/r1/${PERSONAS_REST}/${inst.dni}`, HEADERS);
    const raw = encodeRestRequest(head, Buffer.alloc(0));
    const ctx = inst.reniec.ctx;
    const wire = encodeSignedRest(raw, signDetached(raw, ctx.signer));
    const tls = { keyPem: ctx.auth.keyPem, certPem: ctx.auth.certPem, caPems: ctx.conf.latest()!.conf.trustedCas };
    const res = await postMtls(new URL('/miis/v1/rest', inst.reniec.proxyUrl).toString(), wire.body, wire.contentType, tls);
    assert.equal(res.status, 500);
    assert.equal((JSON.parse(res.body.toString('utf8')) as { type: string }).type, 'Server.ServerProxy.SslAuthenticationFailed');
    // Juntos's node identity, but a tampered message after signing
    const j = inst.juntos.ctx;
    const signature = signDetached(raw, j.signer);
    const tampered = Buffer.from(raw.toString('utf8').replace(`/${inst.dni}`, '/00000001'), 'utf8');
    const t = encodeSignedRest(tampered, signature);
    const res2 = await postMtls(new URL('/miis/v1/rest', inst.reniec.proxyUrl).toString(), t.body, t.contentType, { keyPem: j.auth.keyPem, certPem: j.auth.certPem, caPems: tls.caPems });
    assert.equal((JSON.parse(res2.body.toString('utf8')) as { type: string }).type, 'Server.ServerProxy.InvalidSignatureValue');
    assert.equal(decodeRestRequest(tampered, 'Server.ServerProxy.InvalidMessage').head.path, '/00000001');
  });

  it('no access right: Server.ServerProxy.AccessDenied in an X-Road REST error', async () => {
    const revoke = await runCli(runNodeCli, ['acl', 'revoke', PERSONAS_REST, JUNTOS_CLIENT, '--dir', nodeDir(inst.plan, 'reniec')]);
    assert.equal(revoke.code, 0, revoke.stderr);
    try {
      // the provider applies the revocation once its store snapshot refreshes
      const res = await waitFor(async () => {
        const r = await fetch(`${base}/${inst.dni}`, { headers: HEADERS });
        if (r.status === 200) { await r.arrayBuffer(); return undefined; }
        return r;
      }, 'que RENIEC aplique la revocación');
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('x-road-error'), 'Server.ServerProxy.AccessDenied');
      const b = await res.json() as { type: string; message: string; detail: string };
      assert.equal(b.type, 'Server.ServerProxy.AccessDenied');
      assert.match(b.message, /no tiene permiso/);
      assert.match(b.detail, /^[0-9a-f-]{36}$/);
    } finally {
      await runCli(runNodeCli, ['acl', 'grant', PERSONAS_REST, JUNTOS_CLIENT, '--dir', nodeDir(inst.plan, 'reniec')]);
      await waitFor(async () => {
        const r = await fetch(`${base}/${inst.dni}`, { headers: HEADERS });
        await r.arrayBuffer();
        return r.status === 200 ? true : undefined;
      }, 'que RENIEC aplique el permiso');
    }
  });

  it('getOpenAPI returns the OpenAPI 3 description the provider configured', async () => {
    const res = await fetch(`${inst.juntos.isUrl}r1/PE/GOB/20295613620/RUPN/getOpenAPI?serviceCode=personas`, { headers: { 'x-road-client': JUNTOS_CLIENT } });
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const doc = JSON.parse(text) as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\./);
    assert.ok('/{dni}' in doc.paths);
    const missing = await fetch(`${inst.juntos.isUrl}r1/PE/GOB/20295613620/RUPN/getOpenAPI?serviceCode=consultarPersona`, { headers: { 'x-road-client': JUNTOS_CLIENT } });
    assert.equal((await missing.json() as { type: string }).type, 'Server.ServerProxy.UnknownService');
  });

  it('SOAP still works beside REST, and both message logs verify with `miis-node log verify`', async () => {
    assert.equal((await postSoap(inst.juntos.isUrl, personaRequest(inst.dni))).status, 200);
    for (const name of ['juntos', 'reniec'] as const) {
      await (inst[name].ctx.evidence as unknown as NodeEvidence).timestamper!.tick();
      const cli = await runCli(runNodeCli, ['log', 'verify', '--dir', nodeDir(inst.plan, name)]);
      assert.equal(cli.code, 0, cli.stderr + cli.stdout);
      assert.match(cli.stdout, /^Cadena íntegra: \d+ registros, \d+ firmas válidas/m);
    }
  });

  it('log export bundles a REST exchange that xmlsec1 verifies', { skip: needTool('xmlsec1', 'openssl', 'sha256sum') }, async () => {
    const id = newId();
    assert.equal((await fetch(`${base}/${inst.dni}`, { headers: { ...HEADERS, 'x-road-id': id } })).status, 200);
    await (inst.juntos.ctx.evidence as unknown as NodeEvidence).timestamper!.tick();
    const out = join(inst.dir, 'rest-bundle');
    const exp = await runCli(runNodeCli, ['log', 'export', id, '--out', out, '--dir', nodeDir(inst.plan, 'juntos')]);
    assert.equal(exp.code, 0, exp.stderr + exp.stdout);
    const ok = await run('sh', [join(out, 'verify.sh')]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /VERIFICACIÓN COMPLETA: OK/);
  });
});
