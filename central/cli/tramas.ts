/**
 * `miis-central trama add|list`: the record layouts (tramas) of batch exchanges, registered with
 * their agreement and published in the global configuration (central/registry/tramas.ts).
 */
import type { Command } from 'commander';
import { formatTable, okJson, readInputFile } from '../../runtime/cli-kit.js';
import { listJson } from '../../runtime/cli-json.js';
import { MiisError } from '../../core/errors.js';
import { PERIODICITIES } from '../../core/trama.js';
import { addTrama, listTramaVersions } from '../registry/tramas.js';
import { deliverySchedule } from '../governance/deliveries.js';
import { limaDate, parseIsoDate } from '../../core/iso-date.js';
import type { CentralCliHelpers, CommonOptions } from './helpers.js';

export function registerTramaCommands(program: Command, h: CentralCliHelpers): void {
  const trama = program.command('trama').description('tramas de los intercambios por lotes: campos, tipos y validaciones de cada registro, por convenio');
  h.common(trama.command('add'))
    .description('registra una versión de la trama de un servicio bajo un convenio; se publica en la configuración global y ambos nodos la exigen')
    .requiredOption('--servicio <servicio>', 'servicio: INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO')
    .requiredOption('--convenio <convenio>', 'convenio que fija la trama (debe cubrir el servicio)')
    .requiredOption('--archivo <trama.json>', 'definición JSON: id, version, key, fields [{name, type, rule, required}], opcionales periodicity, chunkRecords, title')
    .option('--periodicidad <p>', `periodicidad de las entregas: ${PERIODICITIES.join(', ')}`)
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central trama add --servicio PE/GOB/20295613620/RUPN/consultarPadron \\\n    --convenio CONV-001-2026-MIDIS-RENIEC --archivo trama-padron.json --periodicidad mensual\n')
    .action(async (o: CommonOptions & { servicio: string; convenio: string; archivo: string; periodicidad?: string; json?: boolean }) => {
      const text = readInputFile(o.archivo, 'la trama');
      let definition: unknown;
      try {
        definition = JSON.parse(text);
      } catch {
        throw new MiisError('Config.InvalidInput', `la trama ${o.archivo} no es JSON válido: revise comillas, comas y llaves`);
      }
      const t = await h.withStore(o, (store) => addTrama(store, { definition, service: o.servicio, agreement: o.convenio, periodicity: o.periodicidad }, h.ctxOf(o)));
      if (o.json === true) return h.out(okJson({ id: t.id, version: t.version, servicio: t.service, convenio: t.agreement, periodicidad: t.periodicity ?? null }));
      h.out(`Trama registrada: ${t.id} versión ${t.version} (${t.service}, convenio ${t.agreement}${t.periodicity === undefined ? '' : `, entregas ${t.periodicity}`}); se publica en la próxima configuración global`);
    });
  h.common(trama.command('entregas'))
    .description('entregas por lotes según la periodicidad de cada trama: el periodo anterior (a tiempo, tarde, no entregado) y el actual (entregado, pendiente), por cliente del convenio, según lo que informan los nodos proveedores')
    .option('--today <AAAA-MM-DD>', 'fecha de referencia (por omisión, hoy en Lima)')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { today?: string; json?: boolean }) => {
      const today = o.today === undefined ? limaDate(h.ctxOf(o).at) : parseIsoDate(o.today);
      const rows = await h.withStore(o, (store) => deliverySchedule(store, today));
      h.out(o.json === true ? listJson(rows) : `Entregas por lotes al ${today}:\n${formatTable(['ESTADO', 'PERIODO', 'VENCE', 'ENTREGADO', 'TRAMA', 'CLIENTE', 'CONVENIO'],
        rows.map((r) => [r.status.toUpperCase(), r.period, r.dueAt, r.deliveredAt ?? '-', r.trama, r.client, r.agreement]))}`);
    });
  h.common(trama.command('list'))
    .description('lista las tramas registradas, todas sus versiones')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const rows = await h.withStore(o, (store) => listTramaVersions(store));
      h.out(o.json === true ? listJson(rows.map((r) => ({ ...r.trama, registrada: r.createdAt })))
        : formatTable(['TRAMA', 'VERSIÓN', 'SERVICIO', 'CONVENIO', 'PERIODICIDAD', 'CAMPOS'],
          rows.map(({ trama: t }) => [t.id, String(t.version), t.service, t.agreement, t.periodicity ?? '-', t.fields.map((f) => `${f.name}${f.rule === undefined ? '' : `:${f.rule}`}`).join(',')])));
    });
}
