/**
 * The sandbox provisions a catalogue consistent with what runs (issue 14 item 2): every member is
 * a catalogue entity with one name, INEI and SUNAT carry their sandbox RUCs instead of the seed's
 * provisional ones, and the portal shows RUPN, PGH, MARCO-CENSAL, RNU, REG-SANCIONES and RENTAS-SUNAT
 * with their designated units and the services the sandbox nodes actually serve; every running
 * service is linked to its component.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCentralCli } from '../../central/cli/index.js';
import { seedEntityRucs } from '../../central/governance/catalogue-seed.js';
import { INEI_RUC, JUNTOS_RUC, MIDIS_RUC, PENSION65_RUC, RENIEC_RUC, SERVICES, SUNAT_RUC, startSandbox, type RunningSandbox, SANDBOX_PORT_SPAN } from '../../scripts/sandbox/run.js';
import { runCli } from './fixture.js';
import { freeBasePort } from '../helpers/net.js';

interface PortalJson {
  components: { code: string; entity: { ruc: string; rucProvisional: boolean }; responsibleUnit: { unit: string } | null; services: { id: string }[] }[];
}

describe('sandbox catalogue', () => {
  let dir: string;
  let sb: RunningSandbox;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'miis-sandbox-cat-'));
    sb = await startSandbox({ dir, basePort: await freeBasePort(SANDBOX_PORT_SPAN), persons: 200 });
  });
  after(async () => {
    await sb?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('the portal shows RUPN, PGH and MARCO-CENSAL with their designated units and running services', async () => {
    const portal = (await (await fetch(`${sb.info.central.url}/portal.json`)).json()) as PortalJson;
    const running = new Set(sb.info.services.map((s) => s.id));
    const expect: Record<string, { ruc: string; services: string[] }> = {
      RUPN: { ruc: RENIEC_RUC, services: [SERVICES.consultarPersona, SERVICES.personasRest, SERVICES.reportarBrechaIdentificacion] },
      PGH: { ruc: MIDIS_RUC, services: [SERVICES.consultarCSE, SERVICES.consultarHogar] },
      'MARCO-CENSAL': { ruc: INEI_RUC, services: [SERVICES.consultarCentrosPoblados, SERVICES.consultarAreasCensales, SERVICES.consultarManzanas, SERVICES.consultarViviendas] },
      RNU: {
        ruc: MIDIS_RUC,
        services: [SERVICES.consultarRNU, SERVICES.registrarAfiliacion, SERVICES.registrarDesafiliacion, SERVICES.registrarEgreso, SERVICES.registrarAfiliacionHogar, SERVICES.consultarAfiliacionHogar],
      },
      'REG-SANCIONES': { ruc: MIDIS_RUC, services: [SERVICES.consultarSanciones] },
      'RENTAS-SUNAT': { ruc: SUNAT_RUC, services: [SERVICES.consultarAtributos] },
    };
    for (const [code, want] of Object.entries(expect)) {
      const c = portal.components.find((x) => x.code === code);
      assert.ok(c !== undefined, code);
      assert.equal(c.entity.ruc, want.ruc, code);
      assert.equal(c.entity.rucProvisional, false, code);
      assert.ok(c.responsibleUnit !== null && c.responsibleUnit.unit !== '', `${code} has a designated unit`);
      assert.deepEqual(c.services.map((s) => s.id).sort(), [...want.services].sort(), code);
      for (const s of c.services) assert.ok(running.has(s.id), `${s.id} runs in the sandbox`);
    }
    // and the other way round: every service the sandbox runs is linked to a component
    const linked = new Set(portal.components.flatMap((c) => c.services.map((s) => s.id)));
    for (const id of running) assert.ok(linked.has(id), `${id} is linked to a catalogue component`);
  });

  it('entity list includes every sandbox member with its sandbox RUC and the member name; no provisional RUC left for INEI or SUNAT', async () => {
    const central = sb.info.central.dir;
    const entities = JSON.parse((await runCli(runCentralCli, ['entity', 'list', '--json', '--dir', central])).stdout) as { ruc: string; nombre: string; sigla: string | null }[];
    const members = JSON.parse((await runCli(runCentralCli, ['member', 'list', '--json', '--dir', central])).stdout) as { codigoMiembro: string; nombre: string }[];
    const byRuc = new Map(entities.map((e) => [e.ruc, e]));
    for (const ruc of [RENIEC_RUC, MIDIS_RUC, JUNTOS_RUC, PENSION65_RUC, INEI_RUC, SUNAT_RUC]) {
      const m = members.find((x) => x.codigoMiembro === ruc);
      assert.ok(m !== undefined, `member ${ruc}`);
      assert.equal(byRuc.get(ruc)?.nombre, m.nombre, `one name for ${ruc}`);
    }
    assert.equal(byRuc.get(JUNTOS_RUC)?.sigla, 'JUNTOS');
    assert.equal(byRuc.get(PENSION65_RUC)?.sigla, 'PENSION65');
    const seeded = seedEntityRucs();
    for (const key of ['INEI', 'SUNAT']) assert.equal(byRuc.has(seeded.get(key)!.ruc), false, `${key}'s provisional RUC was replaced`);
    const table = (await runCli(runCentralCli, ['entity', 'list', '--dir', central])).stdout;
    for (const name of ['JUNTOS', 'PENSION65', 'INEI', 'SUNAT']) assert.match(table, new RegExp(name));
  });
});
