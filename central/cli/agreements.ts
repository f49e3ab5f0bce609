/**
 * `miis-central agreement add|list`: register the agreements (convenios) provider nodes enforce.
 * Wired into central/cli.ts with one call; the helpers come from there.
 */
import type { Command } from 'commander';
import { collect, formatTable, parseInteger, toJson } from '../../runtime/cli-kit.js';
import { MiisError } from '../../core/errors.js';
import type { GlobalConfValidation } from '../../core/global-conf-model.js';
import { addAgreement, listAgreements, parseValidationSpec } from '../registry/agreements.js';
import type { CentralCliHelpers, CommonOptions } from './helpers.js';
import { rucOf } from '../governance/entities.js';
import { checkProgramCitation, linkProgram } from '../governance/programs.js';


export function registerAgreementCommands(program: Command, h: CentralCliHelpers): void {
  const agreement = program.command('agreement').description('convenios: quién puede usar qué servicios, con qué finalidad y hasta cuándo');
  h.common(agreement.command('add'))
    .description('registra un convenio; se publica en la configuración global y los nodos proveedores lo exigen en cada solicitud')
    .requiredOption('--id <convenio>', 'identificador que las solicitudes citan en miis:convenio, p. ej. CONV-001-2026-MIDIS-RENIEC')
    .requiredOption('--provider <miembro>', 'entidad que administra los datos: INSTANCIA/CLASE/CÓDIGO')
    .option('--client <id>', 'cliente cubierto, subsistema o miembro (repetible)', collect, [])
    .option('--service <servicio>', 'servicio cubierto, INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO (repetible)', collect, [])
    .option('--purpose <código>', 'finalidad permitida, p. ej. FOCALIZACION (repetible)', collect, [])
    .requiredOption('--from <AAAA-MM-DD>', 'inicio de vigencia (inclusive)')
    .option('--until <AAAA-MM-DD>', 'fin de vigencia (inclusive); sin él no vence')
    .option('--max-ids <n>', 'máximo de identificadores por solicitud')
    .option('--validate <campo:regla>', 'validación mínima de la trama: dni, ruc, carne-extranjeria, ubigeo-inei, ubigeo-reniec, centro-poblado, required o pattern:EXPR (repetible)', collect, [])
    .option('--acta <número>', 'acta que lo registra, p. ej. ACTA Nº 01-2026-MIDIS/DGFO')
    .option('--programa <código>', 'programa del RPS al que sirve el convenio (lo administra uno de los clientes)')
    .addHelpText('after', '\nEjemplo:\n  miis-central agreement add --id CONV-001-2026-MIDIS-RENIEC --provider PE/GOB/20295613620 \\\n    --client PE/GOB/20511268401/JUNTOS --service PE/GOB/20295613620/RUPN/consultarPersona \\\n    --purpose FOCALIZACION --from 2026-01-01 --until 2026-12-31 --max-ids 100 --validate dni:dni\n')
    .action(async (o: CommonOptions & { id: string; provider: string; client: string[]; service: string[]; purpose: string[]; from: string; until?: string; maxIds?: string; validate: string[]; acta?: string; programa?: string }) => {
      const validations: GlobalConfValidation[] = o.validate.map((spec) => {
        const v = parseValidationSpec(spec);
        if (typeof v === 'string') throw new MiisError('Config.InvalidInput', v);
        return v;
      });
      const a = await h.withStore(o, (store) => store.transaction(() => {
        const cited = o.programa === undefined ? undefined : checkProgramCitation(store, o.programa, o.client.map((c) => rucOf(c)));
        const added = addAgreement(store, {
        id: o.id, provider: o.provider, clients: o.client, services: o.service, purposes: o.purpose, validFrom: o.from,
        ...(o.until === undefined ? {} : { validUntil: o.until }),
        ...(o.maxIds === undefined ? {} : { maxIdsPerRequest: parseInteger(o.maxIds, 'máximo de identificadores', 1, 1_000_000) }),
        ...(o.acta === undefined ? {} : { acta: o.acta }),
        validations,
        }, h.ctxOf(o));
        if (cited !== undefined) linkProgram(store, 'convenio', added.id, cited.code, h.ctxOf(o));
        return added;
      }));
      h.out(`Convenio registrado: ${a.id} (${a.provider}; vigente desde ${a.validFrom}${a.validUntil === undefined ? '' : ` hasta ${a.validUntil}`})`);
    });
  h.common(agreement.command('list'))
    .description('lista los convenios registrados')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const rows = await h.withStore(o, (store) => listAgreements(store));
      h.out(o.json === true ? toJson(rows) : formatTable(['CONVENIO', 'PROVEEDOR', 'DESDE', 'HASTA', 'FINALIDADES', 'CLIENTES', 'SERVICIOS'],
        rows.map((a) => [a.id, a.provider, a.validFrom, a.validUntil ?? '-', a.purposes.join(','), a.clients.join(','), a.services.join(',')])));
    });
}
