import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runNodeCli } from '../../node/cli/index.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { CONSULTAR_PERSONA, runCli, startInstance, type Instance } from './fixture.js';

const WSDL = `<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" name="propio" targetNamespace="urn:propio">
  <wsdl:service name="Propio"><wsdl:port name="p" binding="x"><soap:address xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" location="http://localhost:8080/"/></wsdl:port></wsdl:service>
</wsdl:definitions>
`;

describe('per-node WSDL folder', () => {
  let inst: Instance;
  let dir: string;
  before(async () => {
    inst = await startInstance();
    dir = nodeDir(inst.plan, 'reniec');
  });
  after(async () => {
    await inst.close();
  });
  const add = (wsdl: string) => runCli(runNodeCli, ['service', 'add', CONSULTAR_PERSONA, '--backend', inst.backend.url, '--wsdl', wsdl, '--dir', dir]);

  it('service add --wsdl /path copies the file into the node\'s wsdl/ folder and the node serves it at /wsdl/<file>', async () => {
    const src = join(inst.dir, 'entregado');
    mkdirSync(src);
    writeFileSync(join(src, 'propio.wsdl'), WSDL);
    const r = await add(join(src, 'propio.wsdl'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /WSDL copiado en .*wsdl\/propio\.wsdl \(se sirve en \/wsdl\/propio\.wsdl\)/);
    assert.equal(readFileSync(join(dir, 'wsdl', 'propio.wsdl'), 'utf8'), WSDL);
    const list = await runCli(runNodeCli, ['service', 'list', '--json', '--dir', dir]);
    assert.equal((JSON.parse(list.stdout) as { wsdl?: string }[])[0]?.wsdl, 'propio.wsdl');
    const res = await fetch(new URL('wsdl/propio.wsdl', inst.reniec.isUrl));
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /name="propio"/);
    assert.match(text, new RegExp(`location="http://127\\.0\\.0\\.1:${new URL(inst.reniec.isUrl).port}/"`), 'the placeholder address becomes the node\'s');
    // the package's files are still served beside the node's own
    assert.equal((await fetch(new URL('wsdl/reniec.wsdl', inst.reniec.isUrl))).status, 200);
  });

  it('a file name already in the node\'s wsdl/ folder is accepted as is', async () => {
    writeFileSync(join(dir, 'wsdl', 'otro.wsdl'), WSDL);
    const r = await add('otro.wsdl');
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /copiado/);
  });

  it('says where the WSDL must be when it is missing or badly named', async () => {
    const missing = await add('noexiste.wsdl');
    assert.notEqual(missing.code, 0);
    assert.ok(missing.stderr.includes(`colóquelo en ${join(dir, 'wsdl')}`), missing.stderr);
    assert.match(missing.stderr, /--wsdl \/ruta\/noexiste\.wsdl/);
    const badName = await add('mal nombre.wsdl');
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /nombre de WSDL no válido: «mal nombre\.wsdl»; use un nombre como servicio\.wsdl/);
    writeFileSync(join(inst.dir, 'no-es.wsdl'), '<html/>');
    const notWsdl = await add(join(inst.dir, 'no-es.wsdl'));
    assert.match(notWsdl.stderr, /no parece un WSDL/);
    assert.ok(!existsSync(join(dir, 'wsdl', 'no-es.wsdl')));
  });
});
