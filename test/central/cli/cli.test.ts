import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyGlobalConf } from '../../../core/global-conf.js';
import { certificateInfo, createCsr, generateKeyPair } from '../../../core/pki.js';
import { runCentralCli } from '../../../central/cli/index.js';
import { RUC_MIDIS, RUC_RENIEC, T0 } from '../helpers.js';

interface Run { code: number; out: string; err: string }

function cliIn(dir: string) {
  return async (...args: string[]): Promise<Run> => {
    let out = '';
    let err = '';
    const code = await runCentralCli([...args, '--dir', dir, '--actor', 'prueba'], { stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, now: () => T0 });
    return { code, out, err };
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'miis-central-cli-'));
}

const RENIEC = `PE/GOB/${RUC_RENIEC}`;

test('walk-through: init, member, subsystem, cert sign, node, client, service, conf show', async () => {
  const dir = tempDir();
  try {
    const cli = cliIn(join(dir, 'central'));
    const init = await cli('init', '--instance', 'PE', '--key-algorithm', 'ecdsa-p256', '--name', 'MIDIS DGFO');
    assert.equal(init.code, 0, init.err);
    assert.match(init.out, /anchor\.pem/);
    assert.equal(statSync(join(dir, 'central', 'keys', 'ca-key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'central', 'keys', 'conf-key.pem')).mode & 0o777, 0o600);

    assert.equal((await cli('member', 'add', '--class', 'GOB', '--code', RUC_RENIEC, '--name', 'RENIEC', '--role', 'RENIEC')).code, 0);
    assert.equal((await cli('subsystem', 'add', `${RENIEC}/RUPN`)).code, 0);

    const keys = await generateKeyPair('ecdsa-p256');
    writeFileSync(join(dir, 'auth.csr'), await createCsr(keys, { organization: 'RENIEC', commonName: 'nodo reniec', serialNumber: RENIEC }));
    const signed = await cli('cert', 'sign', '--csr', join(dir, 'auth.csr'), '--profile', 'auth', '--ip', '127.0.0.1', '--dns', 'localhost', '--out', join(dir, 'auth.pem'));
    assert.equal(signed.code, 0, signed.err);
    assert.equal(certificateInfo(readFileSync(join(dir, 'auth.pem'), 'utf8')).profile, 'auth');

    const node = await cli('node', 'add', '--name', 'reniec', '--owner', RENIEC, '--address', 'https://127.0.0.1:5500', '--auth-cert', join(dir, 'auth.pem'));
    assert.equal(node.code, 0, node.err);
    assert.equal((await cli('node', 'client', 'add', '--node', 'reniec', `${RENIEC}/RUPN`)).code, 0);
    const svc = await cli('service', 'add', `${RENIEC}/RUPN/consultarPersona/v1`, '--title', 'Consulta de persona por DNI');
    assert.equal(svc.code, 0, svc.err);

    const show = await cli('conf', 'show', '--json');
    assert.equal(show.code, 0, show.err);
    const conf = JSON.parse(show.out);
    assert.equal(conf.instance, 'PE');
    assert.equal(conf.serial, 1);
    assert.deepEqual(conf.members, [{ id: RENIEC, name: 'RENIEC', role: 'RENIEC' }]);
    assert.deepEqual(conf.subsystems, [`${RENIEC}/RUPN`]);
    assert.equal(conf.nodes[0].authCertSha256, certificateInfo(readFileSync(join(dir, 'auth.pem'), 'utf8')).sha256);
    assert.deepEqual(conf.nodes[0].clients, [`${RENIEC}/RUPN`]);
    assert.deepEqual(conf.services, [{ id: `${RENIEC}/RUPN/consultarPersona/v1`, title: 'Consulta de persona por DNI' }]);

    const text = await cli('conf', 'show');
    assert.match(text.out, /Nodos \(1\)/);
    const list = await cli('node', 'list', '--json');
    assert.deepEqual(JSON.parse(list.out).map((n: { nombre: string }) => n.nombre), ['reniec']);
    const certs = JSON.parse((await cli('cert', 'list', '--json')).out) as { perfil: string }[];
    assert.deepEqual(certs.map((c) => c.perfil).sort(), ['auth', 'conf']);
    assert.match((await cli('member', 'list')).out, new RegExp(RENIEC));
    assert.equal((await cli('conf', 'anchor')).out.trim(), readFileSync(join(dir, 'central', 'anchor.pem'), 'utf8').trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors: invalid RUC names the check digit; unknown member; duplicate; exit code 2, no stack trace', async () => {
  const dir = tempDir();
  try {
    const cli = cliIn(dir);
    assert.equal((await cli('init', '--instance', 'PE')).code, 0);
    const bad = await cli('member', 'add', '--class', 'GOB', '--code', '20295613621', '--name', 'RENIEC', '--role', 'RENIEC');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /RUC no válido: .*se esperaba 0/);
    assert.doesNotMatch(bad.err, /\n\s+at /);

    const unknown = await cli('subsystem', 'add', `PE/GOB/${RUC_MIDIS}/PGH`);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, new RegExp(`No existe: el miembro PE/GOB/${RUC_MIDIS} no está registrado`));

    assert.equal((await cli('member', 'add', '--class', 'GOB', '--code', RUC_MIDIS, '--name', 'MIDIS', '--role', 'MIDIS')).code, 0);
    const dup = await cli('member', 'add', '--class', 'GOB', '--code', RUC_MIDIS, '--name', 'MIDIS', '--role', 'MIDIS');
    assert.equal(dup.code, 2);
    assert.match(dup.err, /Ya existe: el miembro/);

    const again = await cli('init', '--instance', 'PE');
    assert.equal(again.code, 2);
    assert.match(again.err, /Ya existe/);

    const missing = await cli('member', 'add', '--class', 'GOB');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /falta la opción obligatoria/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('commands before init fail with exit code 1 and say what to do', async () => {
  const dir = tempDir();
  try {
    const res = await cliIn(join(dir, 'vacio'))('member', 'list');
    assert.equal(res.code, 1);
    assert.match(res.err, /ejecute primero «miis-central init/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('help is Spanish and exits 0', async () => {
  let out = '';
  const code = await runCentralCli(['node', 'add', '--help'], { stdout: (s) => { out += s; }, stderr: () => {} });
  assert.equal(code, 0);
  assert.match(out, /Uso: miis-central node add \[opciones\]/);
  assert.match(out, /Ejemplo:/);
});

test('serve: answers over HTTP with a verifiable envelope and stops when asked', async () => {
  const dir = tempDir();
  try {
    const cli = cliIn(dir);
    assert.equal((await cli('init', '--instance', 'PE')).code, 0);
    const stop = new AbortController();
    let out = '';
    const running = runCentralCli(['serve', '--dir', dir, '--port', '0'], { stdout: (s) => { out += s; }, stderr: () => {}, stop: stop.signal });
    let url: string | undefined;
    for (let i = 0; i < 200 && url === undefined; i++) {
      await new Promise((r) => setTimeout(r, 10));
      url = /escuchando en (http:\/\/\S+)/.exec(out)?.[1];
    }
    assert.ok(url, 'server printed its URL');
    const envelope = new Uint8Array(await (await fetch(`${url}/globalconf`)).arrayBuffer());
    const conf = verifyGlobalConf(envelope, readFileSync(join(dir, 'anchor.pem'), 'utf8'));
    assert.equal(conf.instance, 'PE');
    stop.abort();
    assert.equal(await running, 0);
    assert.match(out, /detenido/);
    await assert.rejects(fetch(`${url}/health`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('high availability: one subsystem served by two nodes of the member; removing one leaves it served', async () => {
  const dir = tempDir();
  try {
    const cli = cliIn(join(dir, 'central'));
    assert.equal((await cli('init', '--instance', 'PE', '--key-algorithm', 'ecdsa-p256', '--name', 'MIDIS DGFO')).code, 0);
    assert.equal((await cli('member', 'add', '--class', 'GOB', '--code', RUC_RENIEC, '--name', 'RENIEC', '--role', 'RENIEC')).code, 0);
    assert.equal((await cli('subsystem', 'add', `${RENIEC}/RUPN`)).code, 0);
    for (const [name, port] of [['reniec-a', 5500], ['reniec-b', 5501]] as const) {
      const keys = await generateKeyPair('ecdsa-p256');
      writeFileSync(join(dir, `${name}.csr`), await createCsr(keys, { organization: 'RENIEC', commonName: `nodo ${name}`, serialNumber: RENIEC }));
      assert.equal((await cli('cert', 'sign', '--csr', join(dir, `${name}.csr`), '--profile', 'auth', '--ip', '127.0.0.1', '--out', join(dir, `${name}.pem`))).code, 0);
      const add = await cli('node', 'add', '--name', name, '--owner', RENIEC, '--address', `https://127.0.0.1:${port}`, '--auth-cert', join(dir, `${name}.pem`));
      assert.equal(add.code, 0, add.err);
    }
    assert.equal((await cli('node', 'client', 'add', '--node', 'reniec-a', `${RENIEC}/RUPN`)).code, 0);
    const second = await cli('node', 'client', 'add', '--node', 'reniec-b', `${RENIEC}/RUPN`);
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /también en: reniec-a/);
    const conf = JSON.parse((await cli('conf', 'show', '--json')).out) as { nodes: { name: string; clients: string[] }[] };
    assert.deepEqual(conf.nodes.map((n) => [n.name, n.clients]), [['reniec-a', [`${RENIEC}/RUPN`]], ['reniec-b', [`${RENIEC}/RUPN`]]]);
    const removed = await cli('node', 'remove', 'reniec-a');
    assert.equal(removed.code, 0, removed.err);
    assert.match(removed.out, /quedan sin nodo: ninguno; siguen atendidos por otro nodo: PE\/GOB\/20295613620\/RUPN/);
    const last = await cli('node', 'remove', 'reniec-b');
    assert.match(last.out, /quedan sin nodo: PE\/GOB\/20295613620\/RUPN$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
