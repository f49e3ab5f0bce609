/**
 * The governance walk-through from a fresh `miis-central init` (issue 3, "done when"):
 *  1. one entity (RENIEC) from DGFO's designation request to its first signed acta (HTML + PDF);
 *  2. an IPF (Juntos) from an access request sent by its node to a right granted by RENIEC's
 *     designated unit, which its node then uses in a real exchange refused before;
 *  3. the public portal shows the seeded catalogue in headless Chromium.
 * The provider's local ACL is empty and no agreement is provisioned: access comes from central.
 * With MIIS_WRITE_DOCS=1 the acta image and the portal screenshot are copied to docs/.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { findChromium, runChromium } from '../../runtime/chromium.js';
import { runNodeCli } from '../../node/cli/index.js';
import { signAccessRequest } from '../../core/access-request-message.js';
import { createSigner } from '../../core/signature.js';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { CONSULTAR_PERSONA, JUNTOS_CLIENT, faultCodeOf, personaRequest, postSoap, runCli, startInstance, type Instance } from '../e2e/fixture.js';
import { pdfToPng, pngSize } from './chromium-helpers.js';
import { needTool } from '../helpers/tools.js';

const RENIEC_RUC = '20295613620';
const DOCS = join(process.cwd(), 'docs');

describe('governance walk-through: designation → acta, access request → granted exchange, portal', () => {
  let inst: Instance;
  let work: string;
  let centralDir: string;
  const c = (...argv: string[]) => runCli(runCentralCli, [...argv, '--dir', centralDir]);
  const ok = async (...argv: string[]): Promise<string> => {
    const r = await c(...argv);
    assert.equal(r.code, 0, `${argv.join(' ')}\n${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    inst = await startInstance({ allowJuntos: false, agreements: [] });
    centralDir = join(inst.dir, 'central');
    work = mkdtempSync(join(tmpdir(), 'miis-walk-'));
  });
  after(async () => {
    await inst?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('starts from the seeded catalogue: 5 core databases (6.1) and 15 Anexo 01 sources', async () => {
    const list = JSON.parse(await ok('component', 'list', '--json')) as { codigo: string; estado: string; entidad: { ruc: string } }[];
    assert.equal(list.length, 20);
    assert.deepEqual(list.filter((x) => x.estado === 'disponible').map((x) => x.codigo).sort(), ['MARCO-CENSAL', 'PGH', 'REG-SANCIONES', 'RNU', 'RUPN']);
    assert.equal(list.find((x) => x.codigo === 'RUPN')?.entidad.ruc, RENIEC_RUC);
  });

  it('takes RENIEC from the designation request to its first signed acta', async (t) => {
    await ok('directive', 'set-approval', '2026-02-02');
    let plazos = JSON.parse(await ok('plazos', '--json', '--entity', RENIEC_RUC, '--today', '2026-02-20')) as { tipo: string; vence: string; estado: string }[];
    assert.deepEqual(plazos.map((p) => p.tipo), ['solicitar-designacion']);
    assert.match(await ok('unit', 'request', '--entity', RENIEC_RUC, '--date', '2026-03-02', '--ref', 'Oficio Nº 012-2026-MIDIS/DGFO'), /vence el 2026-03-23/);
    plazos = JSON.parse(await ok('plazos', '--json', '--entity', RENIEC_RUC, '--today', '2026-03-20')) as { tipo: string; vence: string; estado: string }[];
    assert.deepEqual(plazos.map((p) => [p.tipo, p.vence, p.estado]), [['responder-designacion', '2026-03-23', 'por-vencer']]);
    await ok('unit', 'answer', '--entity', RENIEC_RUC, '--date', '2026-03-16', '--unit', 'Gerencia de Registros de Identificación',
      '--head', 'Ana Quispe Rojas', '--post', 'Gerente', '--contact', 'aquispe@reniec.gob.pe', '--user', 'aquispe');
    plazos = JSON.parse(await ok('plazos', '--json', '--entity', RENIEC_RUC, '--today', '2026-03-20')) as { tipo: string; vence: string; estado: string }[];
    assert.deepEqual(plazos.map((p) => p.tipo), ['primera-reunion']);
    await ok('meeting', 'add', '--entity', RENIEC_RUC, '--date', '2026-04-15', '--start', '10:00', '--end', '12:30',
      '--participant', 'MIDIS|Luis Torres Vega|Director General de Focalización',
      '--participant', 'MIDIS|Carla Mendoza Ríos|Especialista en interoperabilidad',
      '--participant', 'ENTIDAD|Ana Quispe Rojas|Gerente de Registros de Identificación',
      '--agenda', 'Alcances del MIIS y plan de trabajo', '--agenda', 'Trama del servicio consultarPersona',
      '--development', 'La DGFO presentó los alcances del MIIS; RENIEC expuso el servicio de consulta por DNI.',
      '--agreement', 'Aprobar el plan de trabajo para la implementación de los estándares de datos.');
    const entities = JSON.parse(await ok('entity', 'list', '--json')) as { ruc: string; operativoDesde: string | null }[];
    assert.equal(entities.find((e) => e.ruc === RENIEC_RUC)?.operativoDesde, '2026-04-15');
    const actaFile = join(work, 'acta.json');
    writeFileSync(actaFile, JSON.stringify({
      services: [{
        service: CONSULTAR_PERSONA,
        requestTrama: [{ field: 'dni', type: 'texto(8)', required: true, description: 'DNI de la persona' }],
        responseTrama: [{ field: 'prenombres', type: 'texto(60)', required: true }, { field: 'apPrimer', type: 'texto(40)', required: true }, { field: 'ubigeo', type: 'texto(6)', required: false }],
        periodicity: 'A demanda (tiempo real)', exchangeForm: 'servicio-web', validations: ['dni:dni'],
      }],
      clients: [JUNTOS_CLIENT], purposes: ['FOCALIZACION'], validFrom: '2026-04-15',
    }));
    assert.match(await ok('acta', 'add', '--meeting', '1', '--file', actaFile), /ACTA Nº 01-2026-MIDIS\/DGFO redactada/);
    await ok('acta', 'sign', '01-2026', '--signer', 'Luis Torres Vega', '--date', '2026-04-15');
    await ok('acta', 'sign', '01-2026', '--signer', 'Carla Mendoza Ríos', '--date', '2026-04-15');
    assert.match(await ok('acta', 'sign', '01-2026', '--signer', 'Ana Quispe Rojas', '--date', '2026-04-16'), /FIRMADA por todos; convenio ACTA-01-2026/);
    const agreements = JSON.parse(await ok('agreement', 'list', '--json')) as { id: string; acta?: string; validaciones?: unknown[] }[];
    assert.deepEqual(agreements.map((a) => [a.id, a.acta]), [['ACTA-01-2026', 'ACTA Nº 01-2026-MIDIS/DGFO']]);
    assert.deepEqual(agreements[0]?.validaciones, [{ field: 'dni', rule: 'dni' }]);
    assert.deepEqual(JSON.parse(await ok('plazos', '--json', '--entity', RENIEC_RUC, '--today', '2026-04-20')), []);
    const compliance = JSON.parse(await ok('compliance', 'list', '--json', '--entity', RENIEC_RUC, '--today', '2026-04-20')) as { nivel: string; cumplidos: number; incumplidos: number }[];
    assert.deepEqual(compliance.map((r) => [r.nivel, r.cumplidos, r.incumplidos]), [['alto', 2, 0]]);

    const html = join(work, 'acta.html');
    const pdf = join(work, 'acta.pdf');
    await ok('acta', 'render', '01-2026', '--html', html);
    const text = readFileSync(html, 'utf8');
    for (const s of ['ACTA Nº 01-2026-MIDIS/DGFO', 'I. PARTICIPANTES', 'II. AGENDA', 'III. DESARROLLO DE LA AGENDA', 'IV. ACUERDOS ADOPTADOS', 'Ana Quispe Rojas', 'Tiempo real vía servicio web', 'texto(8)', '15 de abril de 2026']) {
      assert.ok(text.includes(s), `falta «${s}» en el acta`);
    }
    await t.test('the acta prints to an A4 PDF (chromium, pdftoppm)', { skip: needTool('chromium', 'pdftoppm') }, async () => {
      await ok('acta', 'render', '01-2026', '--html', join(work, 'acta-pdf.html'), '--pdf', pdf);
      assert.equal(readFileSync(pdf).subarray(0, 5).toString('latin1'), '%PDF-');
      const png = pdfToPng(pdf, join(work, 'acta'));
      const size = pngSize(png);
      assert.ok(size.height > size.width, `A4 vertical: ${size.width}x${size.height}`);
      if (process.env.MIIS_WRITE_DOCS === '1') copyFileSync(pdfToPng(pdf, join(work, 'acta-doc'), 90), join(DOCS, 'acta-ejemplo.png'));
    });
  });

  it('takes Juntos from an access request on its node to a granted right used in a real exchange', async () => {
    // before: the provider's local ACL is empty and nothing is granted centrally
    const refused = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(faultCodeOf(refused.text), 'Server.ServerProxy.AccessDenied', refused.text);

    await ok('component', 'link', 'RUPN', CONSULTAR_PERSONA);
    const juntosDir = nodeDir(inst.plan, 'juntos');
    const sent = await runCli(runNodeCli, ['access', 'request', '--dir', juntosDir, '--component', 'RUPN', '--purpose', 'FOCALIZACION',
      '--purpose-detail', 'Verificar la identidad de los miembros de hogares afiliados', '--legal-basis', 'Ley Nº 30435, art. 13', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    const reply = JSON.parse(sent.stdout) as { id: string; estado: string; vence: string };
    assert.match(reply.id, /^SA-\d{4}-0001$/);
    assert.equal(reply.estado, 'pendiente');
    // DGFO sees it for follow-up, with its signature and channel
    const pending = JSON.parse(await ok('access', 'list', '--status', 'pendiente', '--json')) as { id: string; canal: string; sha256CertFirmante: string | null; cliente: string }[];
    assert.deepEqual(pending.map((p) => [p.id, p.canal, p.cliente]), [[reply.id, 'nodo', JUNTOS_CLIENT]]);
    assert.match(pending[0]?.sha256CertFirmante ?? '', /^[0-9a-f]{64}$/);
    // a tampered request (signature no longer matches) and a skewed clock are refused with 403 / 400
    const signer = createSigner(readFileSync(join(juntosDir, 'keys', 'sign-key.pem'), 'utf8'), readFileSync(join(juntosDir, 'sign.pem'), 'utf8'));
    const message = { requestId: 'x', client: JUNTOS_CLIENT, component: 'PGH', purpose: 'FOCALIZACION', legalBasis: 'Ley Nº 30435', createdAt: new Date().toISOString() };
    const signed = signAccessRequest(message, signer);
    const tampered = { ...signed, message: Buffer.from(JSON.stringify({ ...message, component: 'RNU' })).toString('base64') };
    const post = (body: unknown) => fetch(`${inst.central.url}/solicitudes-acceso`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await post(tampered);
    assert.equal(bad.status, 403);
    assert.match(((await bad.json()) as { mensaje: string }).mensaje, /firma de la solicitud no es válida/);
    const old = await post(signAccessRequest({ ...message, createdAt: new Date(Date.now() - 3_600_000).toISOString() }, signer));
    assert.equal(old.status, 400);
    assert.match(((await old.json()) as { mensaje: string }).mensaje, /fuera de ±10 minutos/);
    // the same request again is refused by central, and nothing is recorded
    const again = await runCli(runNodeCli, ['access', 'request', '--dir', juntosDir, '--component', 'RUPN', '--purpose', 'FOCALIZACION', '--legal-basis', 'Ley Nº 30435, art. 13']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /Ya existe: .*SA-\d{4}-0001/);

    // only the designated unit may answer
    const byDgfo = await c('access', 'grant', reply.id, '--actor', 'dgfo-operador', '--agreement', 'CONV-001-2026');
    assert.equal(byDgfo.code, 2);
    assert.match(byDgfo.stderr, /«dgfo-operador» no actúa por la unidad designada/);
    assert.match(await ok('access', 'grant', reply.id, '--actor', 'aquispe', '--agreement', 'CONV-001-2026'), /OTORGADA por Gerencia de Registros de Identificación; convenio CONV-001-2026/);

    // central publishes the right and the agreement; the provider's node takes them up
    const { version } = inst.central.app.publisher.refresh();
    assert.ok(version.serial > 1);
    await inst.reniec.ctx.conf.refresh();
    const conf = inst.reniec.ctx.conf.latest()?.conf;
    assert.deepEqual(conf?.accessRights, [{ service: CONSULTAR_PERSONA.replace(/\/v1$/, ''), client: JUNTOS_CLIENT }]);
    assert.ok(conf?.agreements?.some((a) => a.id === 'CONV-001-2026' && a.clients.includes(JUNTOS_CLIENT)));

    const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni));
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, new RegExp(`<dni>${inst.dni}</dni>`));
    assert.match(res.text, /<encontrado>true<\/encontrado>/);

    const audit = JSON.parse(await ok('audit', 'list', '--action', 'access.', '--json')) as { accion: string; actor: string; antes: { status: string } | null; despues: { status: string } }[];
    assert.deepEqual(audit.map((a) => [a.accion, a.actor, a.antes?.status ?? null, a.despues.status]), [
      ['access.request', 'nodo:PE/GOB/20511268401', null, 'pendiente'],
      ['access.grant', 'aquispe', 'pendiente', 'otorgada'],
    ]);
  });

  it('shows the seeded catalogue on the public portal, in JSON and in Chromium', async (t) => {
    const json = (await (await fetch(`${inst.central.url}/portal.json`)).json()) as { components: { code: string; responsibleUnit: { unit: string } | null; services: { id: string }[] }[] };
    assert.equal(json.components.length, 20);
    const rupn = json.components.find((x) => x.code === 'RUPN');
    assert.equal(rupn?.responsibleUnit?.unit, 'Gerencia de Registros de Identificación');
    assert.deepEqual(rupn?.services.map((s) => s.id), [CONSULTAR_PERSONA]);
    const page = await fetch(`${inst.central.url}/portal`);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);

    const missing = needTool('chromium');
    if (missing !== false) return t.skip(missing);
    const chromium = findChromium()!;
    const dom = await runChromium(['--virtual-time-budget=3000', '--dump-dom', `${inst.central.url}/portal?q=reniec`], { chromium });
    const rows = [...dom.matchAll(/<tr data-familia="[^"]*" data-estado="[^"]*" data-entidad="(\d+)"( hidden="")?>/g)];
    assert.equal(rows.length, 20, 'the table has the 20 seeded components');
    assert.deepEqual(rows.filter((r) => r[2] === undefined).map((r) => r[1]), [RENIEC_RUC], 'the search keeps only RENIEC\'s component');
    assert.match(dom, /<span id="cuenta">1 de 20 componentes<\/span>/);

    const full = join(work, 'portal.png');
    const empty = join(work, 'portal-vacio.png');
    await runChromium(['--window-size=1400,1100', `--screenshot=${full}`, `${inst.central.url}/portal`], { chromium });
    await runChromium(['--window-size=1400,1100', `--screenshot=${empty}`, `${inst.central.url}/portal?q=zzzz-nada`], { chromium });
    const a = pngSize(full);
    const b = pngSize(empty);
    assert.deepEqual([a.width, a.height], [1400, 1100]);
    assert.ok(a.bytes > b.bytes * 1.5, `la captura con la tabla (${a.bytes} B) debe pesar bastante más que sin filas (${b.bytes} B)`);
    if (process.env.MIIS_WRITE_DOCS === '1' && existsSync(DOCS)) copyFileSync(full, join(DOCS, 'portal.png'));
  });
});
