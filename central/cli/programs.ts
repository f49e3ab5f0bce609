/**
 * `miis-central programa add|list|set|show`: the Registro Nacional de Programas Sociales (RPS,
 * directive 4.1 c and e, 5.17), central/governance/programs.ts. Wired into central/cli.ts with one call.
 */
import type { Command } from 'commander';
import { formatTable, okJson, textOnly } from '../../runtime/cli-kit.js';
import { listJson, spanishJson } from '../../runtime/cli-json.js';
import { PROGRAM_STATUSES, addProgram, listPrograms, programEntityName, requireProgram, setProgram } from '../governance/programs.js';
import { rucOf } from '../governance/entities.js';
import type { CentralCliHelpers, CommonOptions } from './helpers.js';

interface ProgramOptions extends CommonOptions {
  readonly name?: string;
  readonly cias?: string;
  readonly ciasDate?: string;
  readonly entity?: string;
  readonly population?: string;
  readonly type?: string;
  readonly status?: string;
}

export function registerProgramCommands(program: Command, h: CentralCliHelpers): void {
  const rps = program.command('programa').alias('program')
    .description('Registro Nacional de Programas Sociales (RPS): intervenciones públicas focalizadas aprobadas por la CIAS (4.1 e, 5.17)');
  h.common(rps.command('add'))
    .description('registra un programa aprobado por la CIAS; se publica en el portal y en la configuración global')
    .requiredOption('--code <código>', 'código del programa, p. ej. JUNTOS')
    .requiredOption('--name <nombre>', 'nombre del programa')
    .requiredOption('--cias <referencia>', 'aprobación de la CIAS, p. ej. "Acta de sesión Nº 05-2026-CIAS"')
    .requiredOption('--cias-date <AAAA-MM-DD>', 'fecha de la aprobación de la CIAS')
    .requiredOption('--entity <ruc>', 'RUC de la entidad que lo administra')
    .requiredOption('--population <texto>', 'población objetivo')
    .requiredOption('--type <texto>', 'tipo de intervención, p. ej. "transferencia monetaria condicionada"')
    .option('--status <estado>', `estado inicial: ${PROGRAM_STATUSES.join(', ')} (por omisión, activo)`)
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central programa add --code JUNTOS --name "Programa Nacional de Apoyo Directo a los más Pobres - JUNTOS" \\\n    --cias "Acta Nº 01-2026-CIAS" --cias-date 2026-02-10 --entity 20511268401 \\\n    --population "Hogares en pobreza y pobreza extrema con gestantes, niñas, niños o adolescentes" --type "transferencia monetaria condicionada"\n')
    .action(async (o: ProgramOptions & { json?: boolean; code: string; name: string; cias: string; ciasDate: string; entity: string; population: string; type: string }) => {
      const say = textOnly(o, h.out);
      const p = await h.withStore(o, (s) => addProgram(s, { code: o.code, name: o.name, ciasRef: o.cias, ciasDate: o.ciasDate, entity: o.entity, targetPopulation: o.population, interventionType: o.type, status: o.status }, h.ctxOf(o)));
      say(`Programa ${p.code} registrado en el RPS (${p.status}; RUC ${p.entityRuc}; CIAS: ${p.ciasRef}, ${p.ciasDate})`);
      if (o.json === true) h.out(okJson(spanishJson(p) as object));
    });
  h.common(rps.command('set'))
    .description('cambia datos o el estado de un programa (activo ⇄ suspendido; cerrado es definitivo)')
    .argument('<código>', 'código del programa')
    .option('--name <nombre>').option('--cias <referencia>').option('--cias-date <AAAA-MM-DD>').option('--entity <ruc>')
    .option('--population <texto>').option('--type <texto>').option('--status <estado>', PROGRAM_STATUSES.join(', '))
    .option('--json', 'salida en JSON')
    .action(async (code: string, o: ProgramOptions & { json?: boolean }) => {
      const say = textOnly(o, h.out);
      const p = await h.withStore(o, (s) => setProgram(s, code, {
        name: o.name, ciasRef: o.cias, ciasDate: o.ciasDate, entity: o.entity, targetPopulation: o.population, interventionType: o.type, status: o.status,
      }, h.ctxOf(o)));
      say(`Programa ${p.code} actualizado (${p.status})`);
      if (o.json === true) h.out(okJson(spanishJson(p) as object));
    });
  h.common(rps.command('list'))
    .description('lista los programas del RPS')
    .option('--status <estado>', `solo este estado: ${PROGRAM_STATUSES.join(', ')}`)
    .option('--entity <ruc>', 'solo los de esta entidad')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { status?: string; entity?: string; json?: boolean }) => {
      const rows = await h.withStore(o, (s) => listPrograms(s, { ...(o.status === undefined ? {} : { status: o.status }), ...(o.entity === undefined ? {} : { entity: rucOf(o.entity) }) })
        .map((p) => ({ ...p, entityName: programEntityName(s, p) })));
      h.out(o.json === true ? listJson(rows) : formatTable(['CÓDIGO', 'ESTADO', 'ENTIDAD', 'APROBACIÓN CIAS', 'FECHA', 'TIPO', 'NOMBRE'],
        rows.map((p) => [p.code, p.status, p.entityName, p.ciasRef, p.ciasDate, p.interventionType, p.name])));
    });
  h.common(rps.command('show'))
    .description('muestra un programa del RPS')
    .argument('<código>', 'código del programa')
    .option('--json', 'salida en JSON')
    .action(async (code: string, o: CommonOptions & { json?: boolean }) => {
      const p = await h.withStore(o, (s) => ({ ...requireProgram(s, code), entityName: programEntityName(s, requireProgram(s, code)) }));
      h.out(o.json === true ? listJson(p) : [
        `${p.code} — ${p.name} (${p.status})`,
        `Entidad: ${p.entityName} (RUC ${p.entityRuc})`,
        `Aprobación de la CIAS: ${p.ciasRef} (${p.ciasDate})`,
        `Población objetivo: ${p.targetPopulation}`,
        `Tipo de intervención: ${p.interventionType}`,
        '',
      ].join('\n'));
    });
}
