import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { rucCheckDigit } from '../../../core/peru-ids.js';
import { runNodeCli } from '../../../node/cli/index.js';
import { runCli } from '../../e2e/fixture.js';

const JUNTOS_RUC = '20511268401';
const JUNTOS = `PE/GOB/${JUNTOS_RUC}`;
const SERVICE = `${JUNTOS}/JUNTOS/consultarAfiliado/v1`;
const node = (argv: readonly string[]) => runCli(runNodeCli, argv);

describe('miis-node command line', () => {
  let root: string;
  let dir: string;
  const d = (...argv: string[]): string[] => [...argv, '--dir', dir];
  const init = (code: string, target = dir) => node(['init', '--dir', target, '--instance', 'PE', '--class', 'GOB', '--code', code, '--name', 'Programa Juntos', '--node-name', 'juntos']);

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'miis-node-cli-'));
    dir = join(root, 'juntos');
    const r = await init(JUNTOS_RUC);
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('init creates the node: settings, private keys (0600) and two CSRs, and says what to do next', () => {
    for (const f of ['node.db', 'sign.csr', 'auth.csr']) assert.ok(existsSync(join(dir, f)), f);
    for (const f of ['sign-key.pem', 'auth-key.pem']) {
      const path = join(dir, 'keys', f);
      assert.match(readFileSync(path, 'utf8'), /BEGIN PRIVATE KEY/);
      assert.equal(statSync(path).mode & 0o777, 0o600);
    }
    assert.match(readFileSync(join(dir, 'sign.csr'), 'utf8'), /BEGIN CERTIFICATE REQUEST/);
  });

  it('init refuses a RUC with a wrong check digit and names the expected one', async () => {
    const expected = rucCheckDigit(JUNTOS_RUC.slice(0, 10));
    const wrong = `${JUNTOS_RUC.slice(0, 10)}${(Number(expected) + 1) % 10}`;
    const target = join(root, 'bad-ruc');
    const r = await init(wrong, target);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^miis-node: RUC no válido: el dígito de verificación de ${wrong} es «${wrong[10]}» pero se esperaba ${expected}\\n$`));
    assert.equal(existsSync(join(target, 'node.db')), false, 'nothing is created');
  });

  it('init refuses a RUC with a bad prefix or length, and a second init in the same folder', async () => {
    const prefix = await init('30511268401', join(root, 'bad-prefix'));
    assert.equal(prefix.code, 2);
    assert.match(prefix.stderr, /RUC no válido: el prefijo «30» no es válido/);
    const short = await init('2051126840', join(root, 'short'));
    assert.equal(short.code, 2);
    assert.match(short.stderr, /exactamente 11 dígitos/);
    const again = await init(JUNTOS_RUC);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /Ya existe: ya hay un nodo en/);
  });

  it('client add accepts only subsystems of this node’s member', async () => {
    const foreign = await node(d('client', 'add', 'PE/GOB/20295613620/RUPN'));
    assert.equal(foreign.code, 2);
    assert.match(foreign.stderr, /PE\/GOB\/20295613620\/RUPN no pertenece a la entidad de este nodo \(PE\/GOB\/20511268401\)/);
    const member = await node(d('client', 'add', JUNTOS));
    assert.equal(member.code, 2);
    assert.match(member.stderr, /indique un subsistema/);
    const malformed = await node(d('client', 'add', 'PE/GOB'));
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /Identificador no válido/);
    const ok = await node(d('client', 'add', `${JUNTOS}/JUNTOS`));
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `Cliente ${JUNTOS}/JUNTOS registrado\n`);
    const list = await node(d('client', 'list', '--json'));
    assert.deepEqual(JSON.parse(list.stdout), [`${JUNTOS}/JUNTOS`]);
  });

  it('service add requires a registered local subsystem and a valid backend URL', async () => {
    const unregistered = await node(d('service', 'add', `${JUNTOS}/OTRO/consultarAfiliado/v1`, '--backend', 'http://127.0.0.1:9001/'));
    assert.equal(unregistered.code, 2);
    assert.match(unregistered.stderr, /No existe: el subsistema PE\/GOB\/20511268401\/OTRO en este nodo; regístrelo con «miis-node client add»/);
    const badUrl = await node(d('service', 'add', SERVICE, '--backend', 'ftp://x/'));
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /URL del backend debe usar http: o https:/);
    const badTimeout = await node(d('service', 'add', SERVICE, '--backend', 'http://127.0.0.1:9001/', '--timeout', '5'));
    assert.equal(badTimeout.code, 2);
    assert.match(badTimeout.stderr, /entero entre 100 y 600000/);
    const ok = await node(d('service', 'add', SERVICE, '--backend', 'http://127.0.0.1:9001/afiliados', '--timeout', '5000'));
    assert.equal(ok.code, 0, ok.stderr);
    const list = JSON.parse((await node(d('service', 'list', '--json'))).stdout) as { servicio: string; backend: string; tiempoMaximoMs: number }[];
    assert.equal(list.length, 1);
    assert.equal(list[0]?.servicio, `${JUNTOS}/JUNTOS/consultarAfiliado`);
    assert.equal(list[0]?.backend, 'http://127.0.0.1:9001/afiliados');
    assert.equal(list[0]?.tiempoMaximoMs, 5000);
  });

  it('acl grant / list --json / revoke, deny by default', async () => {
    const rightsOf = async (): Promise<{ serviceKey: string; client: string }[]> => {
      const r = await node(d('acl', 'list', '--json'));
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { servicio: string; cliente: string }[]).map(({ servicio, cliente }) => ({ serviceKey: servicio, client: cliente }));
    };
    assert.deepEqual(await rightsOf(), []);
    const noService = await node(d('acl', 'grant', `${JUNTOS}/JUNTOS/noExiste/v1`, 'PE/GOB/20545565359/PGH'));
    assert.equal(noService.code, 2);
    assert.match(noService.stderr, /No existe: el servicio .*noExiste en este nodo/);

    const granted = await node(d('acl', 'grant', SERVICE, 'PE/GOB/20545565359/PGH'));
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.stdout, `Acceso concedido: PE/GOB/20545565359/PGH → ${JUNTOS}/JUNTOS/consultarAfiliado\n`);
    const again = await node(d('acl', 'grant', SERVICE, 'PE/GOB/20545565359/PGH'));
    assert.match(again.stdout, /ya tenía acceso/);
    const member = await node(d('acl', 'grant', SERVICE, 'PE/GOB/20295613620'));
    assert.equal(member.code, 0, member.stderr);
    assert.deepEqual((await rightsOf()).sort((a, b) => a.client.localeCompare(b.client)), [
      { serviceKey: `${JUNTOS}/JUNTOS/consultarAfiliado`, client: 'PE/GOB/20295613620' },
      { serviceKey: `${JUNTOS}/JUNTOS/consultarAfiliado`, client: 'PE/GOB/20545565359/PGH' },
    ]);

    const revoked = await node(d('acl', 'revoke', SERVICE, 'PE/GOB/20545565359/PGH'));
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /^Acceso retirado: PE\/GOB\/20545565359\/PGH/);
    const twice = await node(d('acl', 'revoke', SERVICE, 'PE/GOB/20545565359/PGH'));
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /No existe: el acceso de PE\/GOB\/20545565359\/PGH/);
    assert.deepEqual(await rightsOf(), [{ serviceKey: `${JUNTOS}/JUNTOS/consultarAfiliado`, client: 'PE/GOB/20295613620' }]);
    const table = await node(d('acl', 'list'));
    assert.match(table.stdout, /^SERVICIO\s+CLIENTE\s+DESDE \(LIMA\)\n/);
    assert.match(table.stdout, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\n$/, "Lima time, not ISO UTC");
  });

  it('log commands work on a fresh node', async () => {
    const verify = await node(d('log', 'verify'));
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal(verify.stdout, 'Cadena íntegra: 0 registros\n');
    assert.deepEqual(JSON.parse((await node(d('log', 'faults', '--json'))).stdout), []);
    assert.deepEqual(JSON.parse((await node(d('log', 'list', '--json'))).stdout), []);
  });

  it('commands on a folder without a node say so; serve without certificates says what is missing', async () => {
    const none = await node(['client', 'list', '--dir', join(root, 'nada')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^miis-node: No inicializado: no hay un nodo en .*; ejecute «miis-node init»\n$/);
    const serve = await node(d('serve'));
    assert.equal(serve.code, 1);
    assert.match(serve.stderr, /No inicializado: falta el certificado de firma .*miis-node cert import --sign/);
    const conf = await node(d('conf', 'show'));
    assert.equal(conf.code, 1);
    assert.match(conf.stderr, /No hay configuración global/);
  });

  it('speaks Spanish on bad usage', async () => {
    const unknown = await node(d('client', 'list', '--colour'));
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /opción desconocida '--colour'/);
    const missing = await node(['init', '--dir', join(root, 'x')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /falta la opción obligatoria/);
    const help = await node(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Uso: miis-node/);
  });
});
