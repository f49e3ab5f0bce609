/**
 * The governance commands of `miis-central` (DGFO's workflows of the directive): entities and
 * roles, responsible units, catalogue, access requests, meetings and actas, deadlines (plazos),
 * compliance, sanctions, decreed non-working days and the audit log. Wired into central/cli/index.ts
 * with one call; every listing has --json; dates are AAAA-MM-DD (default: today in Lima).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { collect, formatTable, limaDateTime, okJson, parseInteger, readInputFile, textOnly } from '../../runtime/cli-kit.js';
import { listJson, spanishJson } from '../../runtime/cli-json.js';
import { MiisError } from '../../core/errors.js';
import { parseIsoDate } from '../../core/business-days.js';
import { outResult, type CentralCliHelpers, type CommonOptions } from './helpers.js';
import { MEMBER_ROLES } from '../registry/store.js';
import { addEntity, changeEntityRuc, listEntities, requireEntity, rucOf, updateEntity } from '../governance/entities.js';
import { checkProgramCitation, citedProgram, linkProgram } from '../governance/programs.js';
import { answerDesignation, listDesignations, requestDesignation } from '../governance/units.js';
import { COMPONENT_STATUSES, FAMILIES, REFERENCE_UNITS, addComponent, linkComponentService, listComponents, requireComponent, setComponentStatus, viewComponent } from '../governance/catalogue.js';
import { seedCatalogue } from '../governance/catalogue-seed.js';
import { listSourceRequests, requestNewSource } from '../governance/intake.js';
import { ACCESS_STATUSES, decideAccessRequest, fileAccessRequest, listAccessRequests, revokeAccess } from '../governance/access-requests.js';
import { addMeeting, listMeetings, operatingSince, requireMeeting } from '../governance/meetings.js';
import { PLAN_OWNERS, addActivity, completeActivity, listActivities, planStatus, setActivity, type PlanActivity } from '../governance/work-plan.js';
import { DGFO_DIRECTOR, EXCHANGE_FORMS, isDgfoDirector, addActa, listActas, requireActa, signActa, type ActaInput } from '../governance/actas.js';
import { renderActaHtml, writeActaPdf } from '../governance/acta-render.js';
import { DEADLINE_LABELS, computeDeadlines } from '../governance/deadlines.js';
import { computeCompliance } from '../governance/compliance.js';
import { addSanction, exportSanctions, listSanctions, SANCTIONS_COMPONENT } from '../governance/sanctions.js';
import { limaDate } from '../../core/business-days.js';
import { APPROVAL_DATE_SETTING, calendarOf, dateOrToday, decreedDays, setDecreedDays } from '../governance/util.js';

/** Listings accept --json. */
type Json = { readonly json?: boolean };

/** Help text with examples; lines that start with spaces continue the previous example. */
function example(...lines: string[]): string {
  const count = lines.filter((l) => !l.startsWith(' ')).length;
  return `\n${count > 1 ? 'Ejemplos' : 'Ejemplo'}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

/** "1 firma" / "2 firmas": a count with the right number. */
export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const SINGULAR: Readonly<Record<string, string>> = { componentes: 'componente', designaciones: 'designación', reuniones: 'reunión', actas: 'acta', sanciones: 'sanción' };

/** A value for a table cell or a sentence, '-' when there is none. */
function dash(value: string | null | undefined): string {
  return value === null || value === undefined || value === '' ? '-' : value;
}

export function registerGovernanceCommands(program: Command, h: CentralCliHelpers): void {
  const { common, withStore, ctxOf, out } = h;
  const show = (o: Json, value: unknown, table: () => string): void => out(o.json === true ? listJson(value) : table());

  // --- entity ------------------------------------------------------------------------------
  const entity = program.command('entity').description('entidades del SINAFO: rol (Art. 5), sector y contacto (con o sin nodo)');
  common(entity.command('add'))
    .description('registra una entidad por su RUC')
    .requiredOption('--ruc <ruc>', 'RUC (11 dígitos; se verifica el dígito de control)')
    .requiredOption('--name <nombre>', 'nombre de la entidad')
    .requiredOption('--role <rol>', `rol según el Art. 5: ${MEMBER_ROLES.join(', ')}`)
    .option('--acronym <sigla>', 'sigla, p. ej. SIS')
    .option('--sector <sector>', 'sector, p. ej. Salud')
    .option('--contact <contacto>', 'contacto institucional (correo, teléfono)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central entity add --ruc 20511268401 --name "Programa Juntos" --acronym JUNTOS --role IPF --sector "Desarrollo e Inclusión Social"'))
    .action(async (o: CommonOptions & { json?: boolean; ruc: string; name: string; role: string; acronym?: string; sector?: string; contact?: string }) => {
      const say = textOnly(o, out);
      const e = await withStore(o, (s) => addEntity(s, { ruc: o.ruc, name: o.name, role: o.role, acronym: o.acronym, sector: o.sector, contact: o.contact }, ctxOf(o)));
      say(`Entidad registrada: ${e.name} (RUC ${e.ruc}, ${e.role})`);
      if (o.json === true) out(okJson(spanishJson(e) as object));
    });
  common(entity.command('set'))
    .description('cambia datos de una entidad (rol, sector, contacto, nombre, sigla; nombre y rol son también los de su miembro) o reemplaza su RUC provisional (--ruc)')
    .argument('<ruc>', 'RUC o identificador de miembro')
    .option('--name <nombre>').option('--acronym <sigla>').option('--role <rol>', `rol: ${MEMBER_ROLES.join(', ')}`).option('--sector <sector>').option('--contact <contacto>')
    .option('--ruc <nuevo>', 'RUC real que reemplaza al provisional: la entidad y sus componentes, designaciones, reuniones, actas y sanciones pasan al nuevo RUC')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central entity set 20295613620 --contact "mesadepartes@reniec.gob.pe"', 'miis-central entity set 20999990038 --ruc 20151942629'))
    .action(async (ruc: string, o: CommonOptions & Json & { name?: string; acronym?: string; role?: string; sector?: string; contact?: string; ruc?: string }) => {
      const { ruc: newRuc, json: _json, ...patch } = o;
      const fields = { name: patch.name, acronym: patch.acronym, role: patch.role, sector: patch.sector, contact: patch.contact };
      const r = await withStore(o, (s) => s.transaction(() => {
        const moved = newRuc === undefined ? undefined : changeEntityRuc(s, ruc, newRuc, ctxOf(o));
        const touched = Object.values(fields).some((v) => v !== undefined);
        const e = touched || moved === undefined ? updateEntity(s, moved?.to ?? ruc, fields, ctxOf(o)) : moved.entity;
        return { e, moved };
      }));
      const { e, moved } = r;
      if (o.json === true) {
        return out(okJson({ ruc: e.ruc, nombre: e.name, sigla: e.acronym, rol: e.role, sector: e.sector, contacto: e.contact, rucProvisional: e.rucPlaceholder,
          ...(moved === undefined ? {} : { rucAnterior: moved.from, movidos: moved.moved }) }));
      }
      if (moved !== undefined) {
        const counts = Object.entries(moved.moved).filter(([, n]) => n > 0).map(([label, n]) => plural(n, SINGULAR[label] ?? label, label));
        out(`RUC de ${e.name}: ${moved.from} → ${moved.to}${counts.length === 0 ? '' : ` (pasan al nuevo RUC: ${counts.join(', ')})`}`);
      }
      out(`Entidad actualizada: ${e.name} (RUC ${e.ruc}, ${e.role}, sector ${dash(e.sector)}, contacto ${dash(e.contact)})`);
      return undefined;
    });
  common(entity.command('list'))
    .description('lista las entidades; «operativo desde» es la fecha de su primera reunión (8.1)')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json) => {
      const rows = await withStore(o, (s) => listEntities(s).map((e) => ({ ...e, operatingSince: operatingSince(s, e.ruc, limaDate(ctxOf(o).at)) })));
      show(o, rows, () => formatTable(['RUC', 'SIGLA', 'ROL', 'SECTOR', 'OPERATIVO DESDE', 'NOMBRE'], rows.map((e) => [`${e.ruc}${e.rucPlaceholder ? '*' : ''}`, dash(e.acronym), e.role, dash(e.sector), dash(e.operatingSince), e.name])) + (rows.some((e) => e.rucPlaceholder) ? '* RUC provisional (generado): reemplácelo por el RUC real.\n' : ''));
    });

  // --- unit (responsible units) --------------------------------------------------------------
  const unit = program.command('unit').description('unidades responsables (6.2.2, 6.7, 7.1.1–7.1.2): solicitud de designación y respuesta');
  common(unit.command('request'))
    .description('registra la solicitud de la DGFO a una entidad para que designe su unidad responsable; vence a los 15 días hábiles')
    .requiredOption('--entity <ruc>', 'RUC (o miembro) de la entidad')
    .option('--date <AAAA-MM-DD>', 'fecha de la solicitud (por omisión, hoy)')
    .option('--ref <oficio>', 'referencia del documento, p. ej. "Oficio Nº 012-2026-MIDIS/DGFO"')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central unit request --entity 20295613620 --date 2026-03-02 --ref "Oficio Nº 012-2026-MIDIS/DGFO"'))
    .action(async (o: CommonOptions & { json?: boolean; entity: string; date?: string; ref?: string }) => {
      const say = textOnly(o, out);
      const d = await withStore(o, (s) => requestDesignation(s, { entity: o.entity, requestedAt: dateOrToday(o.date, ctxOf(o)), requestRef: o.ref }, calendarOf(s), ctxOf(o)));
      say(`Solicitud de designación ${d.id} registrada para el RUC ${d.entityRuc}: del ${d.requestedAt}, vence el ${d.dueAt} (15 días hábiles)`);
      if (o.json === true) out(okJson(spanishJson(d) as object));
    });
  common(unit.command('answer'))
    .description('registra la respuesta: la unidad designada y su titular (una nueva respuesta reemplaza a la vigente)')
    .requiredOption('--entity <ruc>', 'RUC (o miembro) de la entidad')
    .option('--date <AAAA-MM-DD>', 'fecha de la respuesta (por omisión, hoy)')
    .requiredOption('--unit <unidad>', 'órgano, área o unidad orgánica designada')
    .requiredOption('--head <nombre>', 'nombre del titular')
    .requiredOption('--post <cargo>', 'cargo del titular')
    .requiredOption('--contact <contacto>', 'contacto del titular')
    .option('--user <usuario>', 'usuario con el que el titular responde solicitudes de acceso (--actor)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central unit answer --entity 20295613620 --date 2026-03-16 --unit "Gerencia de Registros de Identificación" \\', '    --head "Ana Quispe Rojas" --post "Gerente" --contact "aquispe@reniec.gob.pe" --user aquispe'))
    .action(async (o: CommonOptions & { json?: boolean; entity: string; date?: string; unit: string; head: string; post: string; contact: string; user?: string }) => {
      const say = textOnly(o, out);
      const d = await withStore(o, (s) => answerDesignation(s, { entity: o.entity, answeredAt: dateOrToday(o.date, ctxOf(o)), unit: o.unit, headName: o.head, headPost: o.post, headContact: o.contact, headUser: o.user }, ctxOf(o)));
      say(`Unidad responsable vigente para el RUC ${d.entityRuc}: ${d.unit} (titular ${d.headName}, ${d.headPost}), respuesta del ${d.answeredAt}${d.answeredAt !== null && d.answeredAt > d.dueAt ? ` — FUERA DE PLAZO (vencía el ${d.dueAt})` : ''}`);
      if (o.json === true) out(okJson(spanishJson(d) as object));
    });
  common(unit.command('list'))
    .description('lista las designaciones (con su historial)')
    .option('--entity <ruc>', 'solo esta entidad')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json & { entity?: string }) => {
      const rows = await withStore(o, (s) => listDesignations(s, o.entity === undefined ? {} : { entity: o.entity }));
      show(o, rows, () => formatTable(['ID', 'RUC', 'ESTADO', 'SOLICITADA', 'VENCE', 'RESPONDIDA', 'UNIDAD', 'TITULAR'], rows.map((d) => [String(d.id), d.entityRuc, d.status, d.requestedAt, d.dueAt, dash(d.answeredAt), dash(d.unit), d.headName === null ? '-' : `${d.headName} (${dash(d.headPost)})`])));
    });

  // --- catalogue / component ------------------------------------------------------------------
  const catalogue = program.command('catalogue').description('catálogo de componentes del MIIS');
  common(catalogue.command('seed'))
    .description('agrega lo que falte del catálogo inicial: las 5 bases de datos de 6.1 y las 15 fuentes del Anexo Nº 01 (también lo hace «init»)')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const say = textOnly(o, out);
      const r = await withStore(o, (s) => seedCatalogue(s, ctxOf(o)));
      say(`Catálogo inicial: ${plural(r.entities, 'entidad agregada', 'entidades agregadas')} y ${plural(r.components, 'componente agregado', 'componentes agregados')}`);
      if (o.json === true) out(okJson({ entidades: r.entities, componentes: r.components }));
    });
  common(catalogue.command('request'))
    .description('registra el pedido de una IPF de información que no está en el catálogo (6.6.1.2, 6.6.2.3, 8.2): un componente nuevo «identificado» con su solicitante; la DGFO lo evalúa en 30 días hábiles')
    .requiredOption('--entidad <ruc>', 'entidad que administra la información (registrada con «entity add»)')
    .requiredOption('--solicitante <id>', 'subsistema (o miembro) de la IPF que la pide, p. ej. PE/GOB/20511268401/JUNTOS')
    .requiredOption('--descripcion <texto>', 'qué información necesita y para qué')
    .option('--familia <familia>', 'identificacion (6.6.1.2) o criterios-elegibilidad (6.6.2.3)', 'criterios-elegibilidad')
    .option('--nombre <nombre>', 'nombre del componente (por omisión, sale de la descripción)')
    .option('--codigo <código>', 'código del componente (por omisión, el del pedido: NF-AAAA-NNNN)')
    .option('--unidad <unidad>', `unidad de referencia: ${REFERENCE_UNITS.join(', ')}`, 'persona')
    .option('--personal', 'contiene datos personales')
    .option('--sensitive', 'contiene datos sensibles (Ley 29733)')
    .option('--programa <código>', 'programa del RPS para el que se pide')
    .option('--date <AAAA-MM-DD>', 'fecha del pedido (por omisión, hoy)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central catalogue request --entidad 20131370645 --solicitante PE/GOB/20511268401/JUNTOS \\', '    --descripcion "Matrícula escolar de los niños de los hogares afiliados, para verificar corresponsabilidades" --personal --programa JUNTOS'))
    .action(async (o: CommonOptions & { json?: boolean; entidad: string; solicitante: string; descripcion: string; familia: string; nombre?: string; codigo?: string; unidad: string; personal?: boolean; sensitive?: boolean; programa?: string; date?: string }) => {
      const say = textOnly(o, out);
      const r = await withStore(o, (s) => requestNewSource(s, {
        entity: o.entidad, requester: o.solicitante, description: o.descripcion, family: o.familia, name: o.nombre, code: o.codigo, referenceUnit: o.unidad,
        personal: o.personal, sensitive: o.sensitive, program: o.programa, filedAt: dateOrToday(o.date, ctxOf(o)),
      }, calendarOf(s), ctxOf(o)));
      say(`Pedido ${r.id} registrado: componente ${r.componentCode} (${r.status}) de la entidad ${r.entityRuc}, pedido por ${r.requester}; la DGFO debe evaluarlo hasta el ${r.evaluationDue} (informe técnico, 7.1.5)`);
      if (o.json === true) out(okJson(spanishJson(r) as object));
    });
  common(catalogue.command('requests'))
    .description('seguimiento de los pedidos de fuentes nuevas: estado del componente y fecha de cada paso')
    .option('--entity <ruc>', 'solo los de esta entidad (administradora o solicitante)')
    .option('--status <estado>', `solo este estado del componente: ${COMPONENT_STATUSES.join(', ')}`)
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json & { entity?: string; status?: string }) => {
      const rows = await withStore(o, (s) => listSourceRequests(s, { ...(o.entity === undefined ? {} : { entity: rucOf(o.entity) }), ...(o.status === undefined ? {} : { status: o.status }) }));
      show(o, rows, () => formatTable(['PEDIDO', 'COMPONENTE', 'ESTADO', 'ENTIDAD', 'SOLICITANTE', 'PEDIDO EL', 'EVALUAR HASTA', 'EVALUADO', 'DISPONIBLE'],
        rows.map((r) => [r.id, r.componentCode, r.status, r.entityRuc, r.requester, r.filedAt, r.evaluationDue, dash(r.evaluatedAt), dash(r.availableAt)])));
    });
  const component = program.command('component').description('componentes del catálogo (6.1, 6.6, 7.1.5–7.1.7, Anexo Nº 01)');
  common(component.command('add'))
    .description('agrega un componente en estado «identificado»')
    .requiredOption('--code <código>', 'código, p. ej. CUNAMAS-PADRON')
    .requiredOption('--name <nombre>', 'nombre')
    .requiredOption('--entity <ruc>', 'entidad que lo administra')
    .requiredOption('--description <texto>', 'descripción')
    .requiredOption('--legal-basis <texto>', 'base legal')
    .requiredOption('--family <familia>', `familia de servicios: ${FAMILIES.join(', ')}`)
    .requiredOption('--reference-unit <unidad>', `unidad de referencia: ${REFERENCE_UNITS.join(', ')}`)
    .option('--personal', 'contiene datos personales')
    .option('--sensitive', 'contiene datos sensibles (Ley 29733)')
    .option('--report <informe>', 'informe técnico que lo justifica (7.1.5)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central component add --code PADRON-JUNTOS --name "Padrón de hogares afiliados a Juntos" --entity 20511268401 \\', '    --description "Hogares afiliados, desafiliados y egresados" --legal-basis "D.S. Nº 032-2005-PCM" --family afiliacion-egreso --reference-unit hogar --personal'))
    .action(async (o: CommonOptions & { json?: boolean; code: string; name: string; entity: string; description: string; legalBasis: string; family: string; referenceUnit: string; personal?: boolean; sensitive?: boolean; report?: string }) => {
      const say = textOnly(o, out);
      const c = await withStore(o, (s) => addComponent(s, { code: o.code, name: o.name, entity: o.entity, description: o.description, legalBasis: o.legalBasis, family: o.family, referenceUnit: o.referenceUnit, personal: o.personal === true, sensitive: o.sensitive === true, technicalReport: o.report }, ctxOf(o)));
      say(`Componente ${c.code} agregado (${c.status})`);
      if (o.json === true) out(okJson(spanishJson(c) as object));
    });
  common(component.command('status'))
    .description(`cambia el estado: identificado → [en-evaluacion →] en-incorporacion (con informe técnico) → disponible ⇄ suspendido; identificado o en-evaluacion → descartado (con informe técnico)`)
    .argument('<código>', 'código del componente')
    .argument('<estado>', `nuevo estado: ${COMPONENT_STATUSES.join(', ')}`)
    .option('--report <informe>', 'informe técnico (obligatorio para en-incorporacion si no lo tiene, y para descartado)')
    .option('--date <AAAA-MM-DD>', 'fecha del paso, para el seguimiento de los pedidos de fuentes nuevas (por omisión, hoy)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central component status SIS-AFILIADOS en-incorporacion --report "Informe Nº 005-2026-MIDIS/DGFO/DDF"', 'miis-central component status RUPN suspendido'))
    .action(async (code: string, status: string, o: CommonOptions & { json?: boolean; report?: string; date?: string }) => {
      const say = textOnly(o, out);
      const c = await withStore(o, (s) => setComponentStatus(s, code, status, { technicalReport: o.report, date: o.date === undefined ? undefined : parseIsoDate(o.date) }, ctxOf(o)));
      say(`Componente ${c.code}: ${c.status}`);
      if (o.json === true) out(okJson(spanishJson(c) as object));
    });
  common(component.command('link'))
    .description('vincula un servicio registrado (de la misma entidad) al componente')
    .argument('<código>', 'código del componente')
    .argument('<servicio>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO[/VERSIÓN]')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central component link RUPN PE/GOB/20295613620/RUPN/consultarPersona/v1'))
    .action(async (code: string, service: string, o: CommonOptions & { json?: boolean }) => {
      const say = textOnly(o, out);
      const services = await withStore(o, (s) => linkComponentService(s, code, service, ctxOf(o)));
      say(`Servicios de ${code.toUpperCase()}: ${services.join(', ')}`);
      if (o.json === true) out(okJson({ componente: code.toUpperCase(), servicios: services }));
    });
  common(component.command('list'))
    .description('lista el catálogo con su unidad responsable y servicios')
    .option('--entity <ruc>', 'solo esta entidad')
    .option('--status <estado>', `solo este estado: ${COMPONENT_STATUSES.join(', ')}`)
    .option('--family <familia>', `solo esta familia: ${FAMILIES.join(', ')}`)
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json & { entity?: string; status?: string; family?: string }) => {
      const rows = await withStore(o, (s) => listComponents(s, { ...(o.entity === undefined ? {} : { entity: o.entity }), ...(o.status === undefined ? {} : { status: o.status }), ...(o.family === undefined ? {} : { family: o.family }) }));
      show(o, rows, () => formatTable(['CÓDIGO', 'ESTADO', 'FAMILIA', 'ENTIDAD', 'UNIDAD RESPONSABLE', 'SERVICIOS', 'NOMBRE'], rows.map((c) => [c.code, c.status, c.family, c.entity.acronym ?? c.entity.ruc, dash(c.responsibleUnit?.unit), String(c.services.length), c.name])));
    });
  common(component.command('show'))
    .description('muestra un componente')
    .argument('<código>', 'código del componente')
    .option('--json', 'salida en JSON')
    .action(async (code: string, o: CommonOptions & Json) => {
      const c = await withStore(o, (s) => viewComponent(s, requireComponent(s, code)));
      show(o, c, () => [
        `${c.code} — ${c.name} (${c.status})`,
        `Entidad: ${c.entity.name} (RUC ${c.entity.ruc}${c.entity.rucPlaceholder ? ', provisional' : ''})`,
        `Familia: ${c.family}; unidad de referencia: ${c.referenceUnit}; datos personales: ${c.personal ? 'sí' : 'no'}; sensibles: ${c.sensitive ? 'sí' : 'no'}`,
        `Base legal: ${c.legalBasis}`,
        `Informe técnico: ${dash(c.technicalReport)}`,
        `Unidad responsable: ${c.responsibleUnit === null ? 'por designar' : `${dash(c.responsibleUnit.unit)} (titular ${dash(c.responsibleUnit.headName)}, ${dash(c.responsibleUnit.headPost)})`}`,
        `Servicios: ${c.services.length === 0 ? '-' : c.services.join(', ')}`,
        `Descripción: ${c.description}`,
        '',
      ].join('\n'));
    });

  // --- access requests --------------------------------------------------------------------------
  const access = program.command('access').description('solicitudes de acceso de las IPF a los componentes (7.2)');
  common(access.command('request'))
    .description('registra una solicitud recibida por oficio (las de los nodos llegan solas con «miis-node access request»); vence a los 10 días hábiles')
    .requiredOption('--client <id>', 'subsistema (o miembro) de la IPF solicitante, p. ej. PE/GOB/20511268401/JUNTOS')
    .requiredOption('--component <código>', 'componente del catálogo, p. ej. RUPN')
    .option('--service <servicio>', 'un servicio del componente (por omisión, todos)')
    .requiredOption('--purpose <código>', 'finalidad, p. ej. FOCALIZACION')
    .option('--purpose-detail <texto>', 'para qué se usará la información')
    .requiredOption('--legal-basis <texto>', 'base legal de la solicitud')
    .option('--date <AAAA-MM-DD>', 'fecha de presentación (por omisión, hoy)')
    .option('--programa <código>', 'programa del RPS para el que se pide (lo administra la entidad solicitante)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central access request --client PE/GOB/20511268401/JUNTOS --component RUPN --purpose FOCALIZACION \\', '    --legal-basis "Ley Nº 30435, art. 13" --date 2026-04-06 --programa JUNTOS'))
    .action(async (o: CommonOptions & { json?: boolean; client: string; component: string; service?: string; purpose: string; purposeDetail?: string; legalBasis: string; date?: string; programa?: string }) => {
      const say = textOnly(o, out);
      const r = await withStore(o, (s) => s.transaction(() => {
        const cited = o.programa === undefined ? undefined : checkProgramCitation(s, o.programa, [rucOf(o.client)]);
        const filed = fileAccessRequest(s, { client: o.client, component: o.component, service: o.service, purpose: o.purpose, purposeDetail: o.purposeDetail, legalBasis: o.legalBasis, filedAt: dateOrToday(o.date, ctxOf(o)), channel: 'dgfo' }, calendarOf(s), ctxOf(o));
        if (cited !== undefined) linkProgram(s, 'solicitud-acceso', filed.id, cited.code, ctxOf(o));
        return { ...filed, program: cited?.code };
      }));
      say(`Solicitud ${r.id} registrada (${r.clientId} → ${r.serviceId ?? r.componentCode}${r.program === undefined ? '' : `, programa ${r.program}`}); la unidad responsable debe responder hasta el ${r.dueAt}`);
      if (o.json === true) out(okJson(spanishJson(r) as object));
    });
  const decide = (grant: boolean) => async (id: string, o: CommonOptions & { json?: boolean; date?: string; reason?: string; agreement?: string; until?: string }) => {
    const r = await withStore(o, (s) => s.transaction(() => {
      const decided = decideAccessRequest(s, { id, grant, reason: o.reason, decidedAt: dateOrToday(o.date, ctxOf(o)), agreementId: o.agreement, validUntil: o.until }, ctxOf(o));
      // the agreement a grant registers serves the programme the request cited (RPS)
      const program = citedProgram(s, 'solicitud-acceso', decided.id);
      if (program !== undefined && decided.agreementId !== null && citedProgram(s, 'convenio', decided.agreementId) === undefined) linkProgram(s, 'convenio', decided.agreementId, program, ctxOf(o));
      return decided;
    }));
    if (o.json === true) return out(okJson(spanishJson(r) as object));
    out(grant
      ? `Solicitud ${r.id} OTORGADA por ${r.decisionUnit}; convenio ${r.agreementId}; el derecho de acceso se publica en la próxima configuración global${r.decidedAt !== null && r.decidedAt > r.dueAt ? ` (respuesta fuera de plazo: vencía el ${r.dueAt})` : ''}`
      : `Solicitud ${r.id} DENEGADA por ${r.decisionUnit}: ${r.reason}`);
    return undefined;
  };
  common(access.command('grant'))
    .description('la unidad responsable otorga el acceso (use --actor con el usuario del titular designado)')
    .argument('<id>', 'solicitud, p. ej. SA-2026-0001')
    .option('--date <AAAA-MM-DD>', 'fecha de la respuesta (por omisión, hoy)')
    .option('--agreement <convenio>', 'identificador del convenio que el cliente citará (por omisión, el de la solicitud)')
    .option('--until <AAAA-MM-DD>', 'fin de vigencia del acceso')
    .option('--reason <texto>', 'observaciones')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central access grant SA-2026-0001 --actor aquispe --agreement CONV-001-2026 --until 2026-12-31'))
    .action(decide(true));
  common(access.command('deny'))
    .description('la unidad responsable deniega el acceso, con el motivo')
    .argument('<id>', 'solicitud, p. ej. SA-2026-0001')
    .requiredOption('--reason <texto>', 'motivo de la denegación')
    .option('--date <AAAA-MM-DD>', 'fecha de la respuesta (por omisión, hoy)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central access deny SA-2026-0002 --actor aquispe --reason "La finalidad no corresponde a focalización"'))
    .action(decide(false));
  common(access.command('revoke'))
    .description('revoca un acceso otorgado en central: por la solicitud que lo otorgó o por cliente y servicio; sale de la próxima configuración global y el nodo proveedor responde AccessDenied (el convenio se termina aparte con «agreement end»)')
    .argument('<solicitud-o-cliente>', 'solicitud (SA-2026-0001) o cliente (PE/GOB/20511268401/JUNTOS)')
    .argument('[servicio]', 'con un cliente: el servicio, INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO[/VERSIÓN]')
    .requiredOption('--reason <texto>', 'motivo de la revocación')
    .option('--date <AAAA-MM-DD>', 'fecha de la revocación (por omisión, hoy)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central access revoke SA-2026-0001 --actor aquispe --reason "Convenio resuelto"', 'miis-central access revoke PE/GOB/20511268401/JUNTOS PE/GOB/20295613620/RUPN/consultarPersona --actor aquispe --reason "Fin de la intervención"'))
    .action(async (ref: string, service: string | undefined, o: CommonOptions & Json & { reason: string; date?: string }) => {
      const rows = await withStore(o, (s) => revokeAccess(s, { ref, service, reason: o.reason, date: dateOrToday(o.date, ctxOf(o)) }, ctxOf(o)));
      if (o.json === true) return out(okJson({ revocadas: rows.map((r) => ({ solicitud: r.id, cliente: r.clientId, componente: r.componentCode, servicio: r.serviceId, estado: r.status, revocada: r.revokedOn, motivo: r.revokeReason, convenio: r.agreementId })) }));
      for (const r of rows) out(`Solicitud ${r.id} REVOCADA el ${r.revokedOn ?? '-'} (${r.clientId} → ${r.serviceId ?? r.componentCode}): ${r.revokeReason ?? '-'}`);
      out(`El derecho de acceso sale de la próxima configuración global.${rows.some((r) => r.agreementId !== null) ? ` El convenio sigue vigente: termínelo con «miis-central agreement end ${rows.find((r) => r.agreementId !== null)?.agreementId ?? ''} --date … --reason …» si corresponde.` : ''}`);
      return undefined;
    });
  common(access.command('list'))
    .description('lista las solicitudes (seguimiento de la DGFO)')
    .option('--status <estado>', `solo este estado: ${ACCESS_STATUSES.join(', ')}`)
    .option('--entity <ruc>', 'solo las de esta entidad (solicitante o administradora)')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json & { status?: string; entity?: string }) => {
      const rows = await withStore(o, (s) => listAccessRequests(s, { ...(o.status === undefined ? {} : { status: o.status }), ...(o.entity === undefined ? {} : { entity: o.entity }) }));
      show(o, rows, () => formatTable(['ID', 'ESTADO', 'CANAL', 'PRESENTADA', 'VENCE', 'CLIENTE', 'COMPONENTE/SERVICIO', 'CONVENIO'], rows.map((r) => [r.id, r.revokedOn === null ? r.status : `${r.status} (${r.revokedOn})`, r.channel, r.filedAt, r.dueAt, r.clientId, r.serviceId ?? r.componentCode, dash(r.agreementId)])));
    });

  // --- meetings and actas ---------------------------------------------------------------------
  const meeting = program.command('meeting').description('reuniones de coordinación con las entidades (6.2.4, 7.1.3, 8.1)');
  common(meeting.command('add'))
    .description('registra una reunión; la primera con una entidad inicia la operatividad del MIIS para ella (8.1)')
    .requiredOption('--entity <ruc>', 'entidad')
    .requiredOption('--date <AAAA-MM-DD>', 'fecha')
    .option('--start <HH:MM>', 'hora de inicio')
    .option('--end <HH:MM>', 'hora de fin')
    .option('--place <lugar>', 'lugar (por omisión, la sede de la DGFO)')
    .option('--participant <"LADO|Nombre|Cargo">', 'participante; LADO es MIDIS o ENTIDAD (repetible)', collect, [])
    .option('--agenda <punto>', 'punto de agenda (repetible)', collect, [])
    .option('--development <texto>', 'desarrollo de la agenda')
    .option('--agreement <texto>', 'acuerdo adoptado (repetible)', collect, [])
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central meeting add --entity 20295613620 --date 2026-04-15 --start 10:00 --end 12:00 \\', '    --participant "MIDIS|Luis Torres|Director General de Focalización" --participant "ENTIDAD|Ana Quispe Rojas|Gerente" \\', '    --agenda "Alcances del MIIS" --agenda "Trama del servicio consultarPersona" --agreement "Plan de trabajo aprobado"'))
    .action(async (o: CommonOptions & { json?: boolean; entity: string; date: string; start?: string; end?: string; place?: string; participant: string[]; agenda: string[]; development?: string; agreement: string[] }) => {
      const say = textOnly(o, out);
      const today = limaDate(ctxOf(o).at);
      const { m, firstDue } = await withStore(o, (s) => {
        // the first meeting's deadline (7.1.3) as it stood before this one was recorded
        const known = listEntities(s).some((e) => e.ruc === o.entity.trim() || o.entity.trim().endsWith(`/${e.ruc}`));
        const due = known ? computeDeadlines(s, today, calendarOf(s), { entity: o.entity }).find((d) => d.kind === 'primera-reunion')?.dueAt : undefined;
        return { m: addMeeting(s, { entity: o.entity, date: o.date, startTime: o.start, endTime: o.end, place: o.place, participants: o.participant, agenda: o.agenda, development: o.development, agreements: o.agreement }, ctxOf(o)), firstDue: due };
      });
      const late = firstDue !== undefined && m.date > firstDue ? ` — primera reunión FUERA DE PLAZO (vencía el ${firstDue})` : '';
      say(`Reunión ${m.id} ${m.date > today ? 'programada' : 'registrada'} con el RUC ${m.entityRuc} el ${m.date} (${plural(m.participants.length, 'participante', 'participantes')})${late}`);
      if (o.json === true) out(okJson(spanishJson(m) as object));
    });
  common(meeting.command('list'))
    .description('lista las reuniones')
    .option('--entity <ruc>', 'solo esta entidad')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json & { entity?: string }) => {
      const rows = await withStore(o, (s) => listMeetings(s, o.entity === undefined ? {} : { entity: o.entity }));
      show(o, rows, () => formatTable(['ID', 'FECHA', 'RUC', 'PARTICIPANTES', 'AGENDA'], rows.map((m) => [String(m.id), m.date, m.entityRuc, String(m.participants.length), m.agenda.join('; ')])));
    });
  // --- work plan (7.1.3) --------------------------------------------------------------------
  const plan = program.command('plan').description('plan de trabajo de la primera reunión (7.1.3): actividades con responsable (DGFO o la entidad), unidad y fecha límite; se siguen en «plazos» y «compliance»');
  const activityJson = (a: PlanActivity, today: string): Record<string, unknown> => ({ id: a.id, reunion: a.meetingId, ruc: a.entityRuc, actividad: a.activity, responsable: a.owner, unidad: a.ownerUnit, vence: a.dueAt, cumplida: a.doneAt, estado: planStatus(a, today) });
  const ownerText = (a: PlanActivity): string => `${a.owner === 'DGFO' ? 'DGFO' : `entidad ${a.entityRuc}`}${a.ownerUnit === null ? '' : ` (${a.ownerUnit})`}`;
  common(plan.command('add'))
    .description('agrega una actividad al plan de trabajo de una reunión')
    .requiredOption('--meeting <id>', 'reunión que aprueba el plan (la primera con la entidad, 7.1.3)')
    .requiredOption('--activity <texto>', 'actividad, p. ej. "Definir la trama del servicio consultarPersona"')
    .requiredOption('--owner <responsable>', `responsable: ${PLAN_OWNERS.join(' o ')} (o el RUC de la entidad de la reunión)`)
    .option('--unit <unidad>', 'órgano, área o unidad que la ejecuta (por omisión, la unidad designada de la entidad o la DGFO)')
    .requiredOption('--due <AAAA-MM-DD>', 'fecha límite')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central plan add --meeting 1 --activity "Definir la trama del servicio consultarPersona" --owner ENTIDAD --due 2026-05-15', 'miis-central plan add --meeting 1 --activity "Publicar el servicio en el catálogo" --owner DGFO --due 2026-06-01'))
    .action(async (o: CommonOptions & Json & { meeting: string; activity: string; owner: string; unit?: string; due: string }) => {
      const today = limaDate(ctxOf(o).at);
      const a = await withStore(o, (s) => addActivity(s, { meeting: parseInteger(o.meeting, 'reunión', 1, 1e9), activity: o.activity, owner: o.owner, unit: o.unit, dueAt: o.due }, ctxOf(o)));
      outResult(o, out, activityJson(a, today), `Actividad ${a.id} agregada al plan de la reunión ${a.meetingId}: «${a.activity}», a cargo de ${ownerText(a)}, vence el ${a.dueAt}`);
    });
  common(plan.command('set'))
    .description('cambia una actividad del plan: texto, responsable, unidad o fecha límite')
    .argument('<id>', 'actividad')
    .option('--activity <texto>', 'nuevo texto')
    .option('--owner <responsable>', `nuevo responsable: ${PLAN_OWNERS.join(' o ')}`)
    .option('--unit <unidad>', 'nueva unidad que la ejecuta')
    .option('--due <AAAA-MM-DD>', 'nueva fecha límite')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central plan set 2 --due 2026-06-15'))
    .action(async (id: string, o: CommonOptions & Json & { activity?: string; owner?: string; unit?: string; due?: string }) => {
      const today = limaDate(ctxOf(o).at);
      const a = await withStore(o, (s) => setActivity(s, parseInteger(id, 'actividad', 1, 1e9), { activity: o.activity, owner: o.owner, unit: o.unit, dueAt: o.due }, ctxOf(o)));
      outResult(o, out, activityJson(a, today), `Actividad ${a.id} actualizada: «${a.activity}», a cargo de ${ownerText(a)}, vence el ${a.dueAt}`);
    });
  common(plan.command('done'))
    .description('registra que una actividad se cumplió (después de su fecha límite cuenta como incumplida en «compliance»)')
    .argument('<id>', 'actividad')
    .option('--date <AAAA-MM-DD>', 'fecha en que se cumplió (por omisión, hoy)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central plan done 2 --date 2026-05-14'))
    .action(async (id: string, o: CommonOptions & Json & { date?: string }) => {
      const today = limaDate(ctxOf(o).at);
      const a = await withStore(o, (s) => completeActivity(s, parseInteger(id, 'actividad', 1, 1e9), dateOrToday(o.date, ctxOf(o)), today, ctxOf(o)));
      outResult(o, out, activityJson(a, today), `Actividad ${a.id} cumplida el ${a.doneAt ?? '-'}${a.doneAt !== null && a.doneAt > a.dueAt ? ` — FUERA DE PLAZO (vencía el ${a.dueAt})` : ''}`);
    });
  common(plan.command('list'))
    .description('lista las actividades del plan de trabajo con su estado: pendiente, vencida, cumplida o cumplida-fuera-de-plazo')
    .option('--entity <ruc>', 'solo esta entidad')
    .option('--meeting <id>', 'solo el plan de esta reunión')
    .option('--today <AAAA-MM-DD>', 'fecha de referencia (por omisión, hoy en Lima)')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json & { entity?: string; meeting?: string; today?: string }) => {
      const today = o.today === undefined ? limaDate(ctxOf(o).at) : parseIsoDate(o.today);
      const meetingId = o.meeting === undefined ? undefined : parseInteger(o.meeting, 'reunión', 1, 1e9);
      const rows = await withStore(o, (s) => listActivities(s, today, { ...(o.entity === undefined ? {} : { entity: o.entity }), ...(meetingId === undefined ? {} : { meeting: meetingId }) }));
      show(o, rows, () => formatTable(['ID', 'REUNIÓN', 'RUC', 'ESTADO', 'VENCE', 'CUMPLIDA', 'RESPONSABLE', 'UNIDAD', 'ACTIVIDAD'], rows.map((a) => [String(a.id), String(a.meetingId), a.entityRuc, a.status, a.dueAt, dash(a.doneAt), a.owner, dash(a.ownerUnit), a.activity])));
    });
  const acta = program.command('acta').description('actas de acuerdos (7.1.4, Anexo Nº 02)');
  common(acta.command('add'))
    .description('redacta el acta de una reunión a partir de un archivo JSON con los servicios acordados; recibe su número ACTA Nº NN-AAAA-MIDIS/DGFO. Con --supersedes, al firmarse reemplaza un convenio: el anterior termina el día antes de que rija el nuevo')
    .requiredOption('--meeting <id>', 'reunión')
    .option('--supersedes <convenio-o-acta>', 'convenio (o acta firmada) que esta acta reemplaza, p. ej. ACTA-01-2026 o 01-2026')
    .option('--json', 'salida en JSON')
    .requiredOption('--file <acta.json>', `JSON: {"services":[{"service","requestTrama":[{"field","type","required"}],"responseTrama":[…],"periodicity","exchangeForm","validations":["dni:dni"]}],"clients":[…],"purposes":["FOCALIZACION"],"validFrom","validUntil","convenio"}; exchangeForm: ${EXCHANGE_FORMS.join(', ')}`)
    .addHelpText('after', example('miis-central acta add --meeting 1 --file acta-reniec.json', 'miis-central acta add --meeting 4 --file acta-reniec-2027.json --supersedes ACTA-01-2026'))
    .action(async (o: CommonOptions & Json & { meeting: string; file: string; supersedes?: string }) => {
      let input: ActaInput;
      try {
        input = JSON.parse(readInputFile(o.file, 'acta')) as ActaInput;
      } catch (err) {
        if (err instanceof MiisError) throw err;
        throw new MiisError('Config.InvalidInput', `el archivo ${o.file} no es JSON válido: ${(err as Error).message}`);
      }
      if (o.supersedes !== undefined) input = { ...input, supersedes: o.supersedes };
      const a = await withStore(o, (s) => addActa(s, parseInteger(o.meeting, 'reunión', 1, 1e9), input, ctxOf(o)));
      outResult(o, out, { numero: a.number, estado: a.status, servicios: a.services.length, convenio: a.agreementId, reemplazaA: a.supersedes }, `${a.number} redactada (${plural(a.services.length, 'servicio', 'servicios')})${a.supersedes === null ? '' : `; al firmarse reemplaza al convenio ${a.supersedes}, que termina el día antes de que rija la nueva`}; firmen con «miis-central acta sign»`);
    });
  common(acta.command('sign'))
    .description('registra la firma de un participante; con todas las firmas el acta queda firmada y su convenio se publica')
    .argument('<número>', 'p. ej. 01-2026 o "ACTA Nº 01-2026-MIDIS/DGFO"')
    .requiredOption('--signer <nombre>', 'nombre del participante que firma')
    .option('--date <AAAA-MM-DD>', 'fecha de la firma (por omisión, hoy)')
    .addHelpText('after', example('miis-central acta sign 01-2026 --signer "Ana Quispe Rojas" --date 2026-04-15'))
    .option('--json', 'salida en JSON')
    .action(async (number: string, o: CommonOptions & Json & { signer: string; date?: string }) => {
      const { a, pending } = await withStore(o, (s) => {
        const signed = signActa(s, number, { signer: o.signer, signedAt: dateOrToday(o.date, ctxOf(o)) }, ctxOf(o));
        const norm = (x: string): string => x.trim().toLowerCase();
        const missing = requireMeeting(s, signed.meetingId).participants.filter((p) => !signed.signatures.some((x) => norm(x.name) === norm(p.name)));
        return { a: signed, pending: missing.map((p) => `${p.name}${isDgfoDirector(p) ? ` (${DGFO_DIRECTOR})` : ''}`) };
      });
      outResult(o, out, { numero: a.number, estado: a.status, firmas: a.signatures.length, faltan: pending, convenio: a.agreementId }, a.status === 'firmada' ? `${a.number} FIRMADA por todos${a.agreementId === null ? '' : `; convenio ${a.agreementId} publicado en la configuración global`}${a.supersedes === null ? '' : `; el convenio ${a.supersedes} termina el día antes (lo reemplaza ${a.agreementId ?? '-'})`}` : `Firma registrada en ${a.number} (${plural(a.signatures.length, 'firma', 'firmas')}); faltan: ${pending.join(', ')}`);
    });
  common(acta.command('list'))
    .description('lista las actas')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json) => {
      const rows = await withStore(o, (s) => listActas(s));
      show(o, rows, () => formatTable(['NÚMERO', 'ESTADO', 'REUNIÓN', 'RUC', 'SERVICIOS', 'FIRMAS', 'CONVENIO', 'REEMPLAZA A'], rows.map((a) => [a.number, a.status, String(a.meetingId), a.entityRuc, String(a.services.length), String(a.signatures.length), dash(a.agreementId), dash(a.supersedes)])));
    });
  common(acta.command('render'))
    .description('genera el acta imprimible con el formato del Anexo Nº 02 (HTML y/o PDF con chromium)')
    .argument('<número>', 'p. ej. 01-2026')
    .option('--html <archivo>', 'escribe el HTML')
    .option('--pdf <archivo>', 'escribe el PDF (necesita el paquete chromium)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central acta render 01-2026 --html acta.html --pdf acta.pdf'))
    .action(async (number: string, o: CommonOptions & { json?: boolean; html?: string; pdf?: string }) => {
      const say = textOnly(o, out);
      if (o.html === undefined && o.pdf === undefined) throw new MiisError('Config.InvalidInput', 'indique --html y/o --pdf');
      const html = await withStore(o, (s) => {
        const a = requireActa(s, number);
        return renderActaHtml(a, requireMeeting(s, a.meetingId), requireEntity(s, a.entityRuc));
      });
      if (o.html !== undefined) {
        writeFileSync(resolve(o.html), html, 'utf8');
        say(`HTML: ${resolve(o.html)}`);
      }
      if (o.pdf !== undefined) say(`PDF: ${await writeActaPdf(html, o.pdf)}`);
      if (o.json === true) out(okJson({ acta: number, html: o.html === undefined ? null : resolve(o.html), pdf: o.pdf === undefined ? null : resolve(o.pdf) }));
    });

  // --- deadlines, calendar --------------------------------------------------------------------
  common(program.command('plazos').alias('deadlines'))
    .description('plazos vencidos y por vencer en días hábiles: designación (30 y 15), primera reunión (30), solicitudes de acceso (10)')
    .option('--entity <ruc>', 'solo esta entidad')
    .option('--today <AAAA-MM-DD>', 'fecha de referencia (por omisión, hoy en Lima)')
    .option('--feriados-decretados <fechas>', 'días no laborables decretados adicionales, separados por comas (los permanentes: «holiday add»)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central plazos', 'miis-central plazos --entity 20295613620 --json', 'miis-central plazos --feriados-decretados 2026-07-27,2026-12-24'))
    .action(async (o: CommonOptions & Json & { entity?: string; today?: string; feriadosDecretados?: string }) => {
      const today = o.today === undefined ? limaDate(ctxOf(o).at) : parseIsoDate(o.today);
      const extra = (o.feriadosDecretados ?? '').split(',').map((d) => d.trim()).filter((d) => d !== '');
      const rows = await withStore(o, (s) => computeDeadlines(s, today, calendarOf(s, extra), o.entity === undefined ? {} : { entity: o.entity }));
      show(o, rows, () => `Plazos al ${today}:\n${formatTable(['ESTADO', 'VENCE', 'DÍAS HÁB.', 'RESPONSABLE', 'ENTIDAD', 'OBLIGACIÓN', 'ASUNTO'], rows.map((d) => [d.status.toUpperCase(), d.dueAt, String(d.businessDaysLeft), d.responsible, d.entityName, DEADLINE_LABELS[d.kind], d.subject]))}`);
    });
  const holiday = program.command('holiday').description('días no laborables decretados del sector público (además de fines de semana y feriados nacionales)');
  common(holiday.command('add'))
    .description('agrega días no laborables decretados')
    .argument('<fechas...>', 'AAAA-MM-DD')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central holiday add 2026-01-02 2026-07-27'))
    .action(async (dates: string[], o: CommonOptions & { json?: boolean }) => {
      const say = textOnly(o, out);
      const all = await withStore(o, (s) => setDecreedDays(s, [...decreedDays(s), ...dates], ctxOf(o)));
      say(`Días no laborables decretados: ${all.join(', ')}`);
      if (o.json === true) out(okJson({ diasNoLaborables: all }));
    });
  common(holiday.command('remove'))
    .description('quita un día no laborable decretado')
    .argument('<fecha>', 'AAAA-MM-DD')
    .option('--json', 'salida en JSON')
    .action(async (date: string, o: CommonOptions & { json?: boolean }) => {
      const say = textOnly(o, out);
      const all = await withStore(o, (s) => {
        const days = decreedDays(s);
        if (!days.includes(date)) throw new MiisError('Config.NotFound', `el día no laborable decretado ${date}`);
        return setDecreedDays(s, days.filter((d) => d !== date), ctxOf(o));
      });
      say(`Días no laborables decretados: ${all.join(', ') || '(ninguno)'}`);
      if (o.json === true) out(okJson({ diasNoLaborables: all }));
    });
  common(holiday.command('list'))
    .description('lista los días no laborables decretados')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json) => {
      const days = await withStore(o, (s) => decreedDays(s));
      show(o, days, () => formatTable(['FECHA'], days.map((d) => [d])));
    });
  const directive = program.command('directive').description('datos de la directiva que rigen los plazos');
  common(directive.command('set-approval'))
    .description('fecha de aprobación de la directiva: desde ella corren los 30 días hábiles para solicitar las designaciones (7.1.1)')
    .argument('<fecha>', 'AAAA-MM-DD')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central directive set-approval 2026-03-02'))
    .action(async (date: string, o: CommonOptions & { json?: boolean }) => {
      const say = textOnly(o, out);
      await withStore(o, (s) => s.setSetting(APPROVAL_DATE_SETTING, parseIsoDate(date), ctxOf(o)));
      say(`Fecha de aprobación de la directiva: ${date}`);
      if (o.json === true) out(okJson({ fechaAprobacion: date }));
    });

  // --- compliance and sanctions ----------------------------------------------------------------
  const compliance = program.command('compliance').description('nivel de cumplimiento de los acuerdos (7.3.1)');
  common(compliance.command('list'))
    .description('nivel de cumplimiento por entidad y convenio, según los plazos cumplidos o incumplidos')
    .option('--entity <ruc>', 'solo esta entidad (muestra los hechos)')
    .option('--today <AAAA-MM-DD>', 'fecha de referencia (por omisión, hoy en Lima)')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json & { entity?: string; today?: string }) => {
      const today = o.today === undefined ? limaDate(ctxOf(o).at) : parseIsoDate(o.today);
      const rows = await withStore(o, (s) => computeCompliance(s, today, calendarOf(s), o.entity === undefined ? {} : { entity: o.entity }));
      show(o, rows, () => formatTable(['RUC', 'NIVEL', 'CUMPLIDOS', 'INCUMPLIDOS', 'SANCIONES', 'CONVENIOS', 'ENTIDAD'], rows.map((r) => [r.entityRuc, r.level, String(r.met), String(r.missed), String(r.sanctions), r.agreements.map((a) => `${a.agreementId}:${a.level}`).join(' ') || '-', r.entityName]))
        + (o.entity === undefined ? '' : rows.flatMap((r) => r.facts.map((f) => `  ${f.met ? 'CUMPLIDO  ' : 'INCUMPLIDO'} ${f.obligation}: vencía ${f.dueAt}, hecho ${dash(f.doneAt)}\n`)).join('')));
    });
  const sanction = program.command('sanction').description(`registro de sanciones del SINAFO (6.1 e, 7.3.2; componente ${SANCTIONS_COMPONENT})`);
  common(sanction.command('add'))
    .description('registra una sanción impuesta')
    .requiredOption('--entity <ruc>', 'entidad sancionada')
    .requiredOption('--infraction <texto>', 'infracción')
    .requiredOption('--resolution <número>', 'resolución de sanción')
    .requiredOption('--date <AAAA-MM-DD>', 'fecha de la resolución')
    .option('--legal-basis <texto>', 'base legal (por omisión, Art. 21 de la Ley Nº 30435)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central sanction add --entity 20295613620 --infraction "No otorgó el acceso acordado en el plazo" --resolution "R.D. Nº 015-2026-MIDIS/DGFO" --date 2026-06-01'))
    .action(async (o: CommonOptions & { json?: boolean; entity: string; infraction: string; resolution: string; date: string; legalBasis?: string }) => {
      const say = textOnly(o, out);
      const r = await withStore(o, (s) => addSanction(s, { entity: o.entity, infraction: o.infraction, resolution: o.resolution, date: o.date, legalBasis: o.legalBasis }, ctxOf(o)));
      say(`Sanción ${r.id} registrada para el RUC ${r.entityRuc} (${r.resolution})`);
      if (o.json === true) out(okJson(spanishJson(r) as object));
    });
  common(sanction.command('list'))
    .description('lista las sanciones')
    .option('--entity <ruc>', 'solo esta entidad')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & Json & { entity?: string }) => {
      const rows = await withStore(o, (s) => listSanctions(s, o.entity === undefined ? {} : { entity: o.entity }));
      show(o, rows, () => formatTable(['ID', 'FECHA', 'RUC', 'RESOLUCIÓN', 'INFRACCIÓN'], rows.map((r) => [String(r.id), r.date, r.entityRuc, r.resolution, r.infraction])));
    });

  common(sanction.command('export'))
    .description(`copia el registro de sanciones a un archivo SQLite propio, para el nodo que atiende consultarSanciones (componente ${SANCTIONS_COMPONENT}) con el adaptador sql`)
    .requiredOption('--out <archivo.db>', 'archivo SQLite a escribir (se reemplaza completo)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central sanction export --out /srv/miis/midis/registros/sanciones.db'))
    .action(async (o: CommonOptions & Json & { out: string }) => {
      const say = textOnly(o, out);
      const target = resolve(o.out);
      const r = await withStore(o, (s) => exportSanctions(s, target, ctxOf(o).at));
      say(`Registro de sanciones copiado en ${target}: ${r.sanctions} sanciones de ${r.entities} entidades. Programe este comando (p. ej. cada noche) para que el servicio consultarSanciones responda con lo vigente.`);
      if (o.json === true) out(okJson({ archivo: target, sanciones: r.sanctions, entidades: r.entities }));
    });

  // --- audit ------------------------------------------------------------------------------------
  const audit = program.command('audit').description('registro de auditoría de los cambios administrativos');
  common(audit.command('list'))
    .description('lista los cambios: quién, cuándo, qué, antes y después')
    .option('--action <prefijo>', 'solo acciones que empiezan así, p. ej. access. o component.')
    .option('--limit <n>', 'solo los últimos n')
    .option('--json', 'salida en JSON')
    .addHelpText('after', example('miis-central audit list --action access. --json'))
    .action(async (o: CommonOptions & Json & { action?: string; limit?: string }) => {
      let rows = await withStore(o, (s) => s.listAudit());
      if (o.action !== undefined) rows = rows.filter((r) => r.action.startsWith(o.action as string));
      if (o.limit !== undefined) rows = rows.slice(-parseInteger(o.limit, 'límite', 1, 1e6));
      const brief = (v: unknown): string => (v === null || v === undefined ? '-' : JSON.stringify(v).slice(0, 80));
      show(o, rows, () => formatTable(['ID', 'CUÁNDO (LIMA)', 'QUIÉN', 'ACCIÓN', 'ANTES', 'DESPUÉS'], rows.map((r) => [String(r.id), limaDateTime(r.at), r.actor, r.action, brief(r.before), brief(r.after)])));
    });
}
