/**
 * `miis-central agreement add|end|show|list`: register the agreements (convenios) provider nodes enforce.
 * Wired into central/cli/index.ts with one call; the helpers come from there.
 */
import type { Command } from 'commander';
import { checkCitedActa } from '../governance/actas.js';
import { collect, formatTable, okJson, parseInteger, textOnly } from '../../runtime/cli-kit.js';
import { listJson, spanishJson } from '../../runtime/cli-json.js';
import { MiisError } from '../../core/errors.js';
import type { GlobalConfValidation } from '../../core/global-conf-model.js';
import { addAgreement, agreementChain, endAgreement, listAgreementRecords, parseValidationSpec, type AgreementRecord } from '../registry/agreements.js';
import { limaDateTime } from '../../core/iso-date.js';
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
    .option('--validate <campo:regla>', 'validación mínima de la trama: dni, ruc, carne-extranjeria, pasaporte, cpp, documento (numeroDocumento según tipoDocumento), ubigeo-inei, ubigeo-reniec, centro-poblado, required o pattern:EXPR (repetible)', collect, [])
    .option('--acta <número>', 'acta que lo registra, p. ej. ACTA Nº 01-2026-MIDIS/DGFO')
    .option('--programa <código>', 'programa del RPS al que sirve el convenio (lo administra uno de los clientes)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central agreement add --id CONV-001-2026-MIDIS-RENIEC --provider PE/GOB/20295613620 \\\n    --client PE/GOB/20511268401/JUNTOS --service PE/GOB/20295613620/RUPN/consultarPersona \\\n    --purpose FOCALIZACION --from 2026-01-01 --until 2026-12-31 --max-ids 100 --validate dni:dni\n')
    .action(async (o: CommonOptions & { json?: boolean; id: string; provider: string; client: string[]; service: string[]; purpose: string[]; from: string; until?: string; maxIds?: string; validate: string[]; acta?: string; programa?: string }) => {
      const say = textOnly(o, h.out);
      const validations: GlobalConfValidation[] = o.validate.map((spec) => {
        const v = parseValidationSpec(spec);
        if (typeof v === 'string') throw new MiisError('Config.InvalidInput', v);
        return v;
      });
      const a = await h.withStore(o, (store) => store.transaction(() => {
        const cited = o.programa === undefined ? undefined : checkProgramCitation(store, o.programa, o.client.map((c) => rucOf(c)));
        if (o.acta !== undefined) checkCitedActa(store, o.acta);
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
      say(`Convenio registrado: ${a.id} (${a.provider}; vigente desde ${a.validFrom}${a.validUntil === undefined ? '' : ` hasta ${a.validUntil}`})`);
      if (o.json === true) h.out(okJson(spanishJson(a) as object));
    });
  h.common(agreement.command('end'))
    .description('termina un convenio antes de tiempo: queda en el historial con su fecha y motivo; la próxima configuración global lo publica con esa fecha de fin y los nodos proveedores lo rechazan desde el día siguiente')
    .argument('<convenio>', 'identificador del convenio')
    .requiredOption('--date <AAAA-MM-DD>', 'último día de vigencia (para cortarlo hoy mismo, use la fecha de ayer)')
    .requiredOption('--reason <texto>', 'motivo del fin anticipado')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central agreement end CONV-001-2026-MIDIS-RENIEC --date 2026-06-30 --reason "Resolución del convenio por mutuo acuerdo"\n')
    .action(async (id: string, o: CommonOptions & { date: string; reason: string; json?: boolean }) => {
      const r = await h.withStore(o, (store) => endAgreement(store, { id, date: o.date, reason: o.reason }, h.ctxOf(o)));
      if (o.json === true) return h.out(okJson(spanishJson(agreementView(r)) as Record<string, unknown>));
      h.out(`Convenio ${r.agreement.id} terminado: rige hasta el ${r.endedOn ?? '-'} (${r.endReason ?? '-'}). Se publica en la próxima configuración global; los nodos proveedores lo rechazan desde el día siguiente.`);
      return undefined;
    });
  h.common(agreement.command('show'))
    .description('muestra un convenio con su historial: fin anticipado, y la cadena de convenios que reemplaza o que lo reemplazan')
    .argument('<convenio>', 'identificador del convenio')
    .option('--json', 'salida en JSON')
    .action(async (id: string, o: CommonOptions & { json?: boolean }) => {
      const chain = await h.withStore(o, (store) => agreementChain(store, id));
      const r = chain.find((x) => x.agreement.id === id.trim()) as AgreementRecord;
      if (o.json === true) return h.out(listJson({ ...agreementView(r), cadena: chain.map(agreementView) }));
      const a = r.agreement;
      h.out([
        `Convenio ${a.id}${a.acta === undefined ? '' : ` (${a.acta})`} — proveedor ${a.provider}`,
        `Vigencia acordada: desde el ${a.validFrom}${a.validUntil === undefined ? ', sin vencimiento' : ` hasta el ${a.validUntil}`}`,
        r.endedOn === null ? 'Estado: sin fin anticipado' : `Terminado: rige hasta el ${r.endedOn} — ${r.endReason ?? '-'} (registrado el ${limaDateTime(r.endedAt ?? '')} hora de Lima, por ${r.endedBy ?? '-'})`,
        `Clientes: ${a.clients.join(', ')}`,
        `Servicios: ${a.services.join(', ')}`,
        `Finalidades: ${a.purposes.join(', ')}`,
        ...(chain.length > 1 ? [`Historial: ${chain.map((x) => `${x.agreement.id} (${x.agreement.validFrom} a ${x.endedOn ?? x.agreement.validUntil ?? '…'})`).join(' → ')}`] : []),
        '',
      ].join('\n'));
      return undefined;
    });
  h.common(agreement.command('list'))
    .description('lista los convenios registrados, también los terminados (columna FIN ANTICIPADO)')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const records = await h.withStore(o, (store) => listAgreementRecords(store));
      h.out(o.json === true ? listJson(records.map(agreementView)) : formatTable(['CONVENIO', 'PROVEEDOR', 'DESDE', 'HASTA', 'FIN ANTICIPADO', 'FINALIDADES', 'CLIENTES', 'SERVICIOS'],
        records.map((r) => {
          const a = r.agreement;
          return [a.id, a.provider, a.validFrom, a.validUntil ?? '-', r.endedOn === null ? '-' : `${r.endedOn}${r.supersededBy === null ? '' : ` (→ ${r.supersededBy})`}`, a.purposes.join(','), a.clients.join(','), a.services.join(',')];
        })));
    });
}

/** JSON of an agreement: its global-configuration form plus the history fields, in Spanish. */
function agreementView(r: AgreementRecord): object {
  return {
    ...r.agreement,
    finAnticipado: r.endedOn === null ? null : { vigenteHasta: r.endedOn, motivo: r.endReason, registrado: r.endedAt, por: r.endedBy, reemplazadoPor: r.supersededBy },
    reemplazaA: r.supersedes,
  };
}
