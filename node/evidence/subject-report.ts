/**
 * "¿Quién consultó mis datos?" (Ley 29733, right of access): the rows of the data-subject report
 * from the index hits (message-log.ts subjectRecords) and the global configuration (member names,
 * service titles, agreements' actas), as JSON-ready rows, a text table and printable HTML (A4; its
 * PDF is printed by runtime/chromium.ts). Pure. The DNI appears only in the report the entity
 * hands to the person, never in the index.
 */
import type { GlobalConf } from '../../core/global-conf-model.js';
import { parseClientId, formatMemberId } from '../../core/identifiers.js';
import { MiisError } from '../../core/errors.js';
import { dayNumberOf, fromDayNumber } from '../../core/iso-date.js';
import type { SubjectHit } from './message-log.js';

const LIMA_OFFSET_MS = 5 * 3_600_000;

/** "YYYY-MM-DD HH:MM:SS" in Lima (UTC−5, no daylight saving time). */
export function limaDateTime(at: Date): string {
  return new Date(at.getTime() - LIMA_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** [from, to) as ISO instants for Lima dates desde..hasta, both inclusive and optional. */
export function limaRange(desde?: string, hasta?: string): { from?: string; to?: string } {
  const start = (d: string): string => new Date(dayNumberOf(d) * 86_400_000 + LIMA_OFFSET_MS).toISOString();
  if (desde !== undefined && hasta !== undefined && dayNumberOf(desde) > dayNumberOf(hasta)) {
    throw new MiisError('Config.InvalidInput', `--desde ${desde} es posterior a --hasta ${hasta}`);
  }
  return {
    ...(desde === undefined ? {} : { from: start(desde) }),
    ...(hasta === undefined ? {} : { to: start(fromDayNumber(dayNumberOf(hasta) + 1)) }),
  };
}

export interface SubjectReportRow {
  /** Lima local time. */
  readonly fechaHora: string;
  readonly instante: string;
  /** Consuming entity: member id and its registered name. */
  readonly entidad: string;
  readonly entidadNombre: string | null;
  /** The consuming subsystem (client id as sent). */
  readonly cliente: string;
  readonly servicio: string;
  readonly servicioTitulo: string | null;
  readonly finalidad: string | null;
  readonly convenio: string | null;
  readonly acta: string | null;
  readonly idMensaje: string;
  /** respondida | falla <código> | sin respuesta registrada */
  readonly resultado: string;
}

export interface SubjectReport {
  readonly titular: string;
  readonly entidadProveedora: string;
  readonly desde: string | null;
  readonly hasta: string | null;
  readonly generado: string;
  readonly consultas: readonly SubjectReportRow[];
}

export function buildSubjectReport(input: {
  dni: string;
  provider: string;
  hits: readonly SubjectHit[];
  conf: GlobalConf | undefined;
  now: Date;
  desde?: string | undefined;
  hasta?: string | undefined;
}): SubjectReport {
  const members = new Map((input.conf?.members ?? []).map((m) => [m.id, m.name] as const));
  const titles = new Map((input.conf?.services ?? []).map((s) => [s.id, s.title] as const));
  const actas = new Map((input.conf?.agreements ?? []).map((a) => [a.id, a.acta] as const));
  const memberOf = (client: string): string => {
    try {
      return formatMemberId(parseClientId(client));
    } catch {
      return client;
    }
  };
  return {
    titular: input.dni,
    entidadProveedora: input.provider,
    desde: input.desde ?? null,
    hasta: input.hasta ?? null,
    generado: limaDateTime(input.now),
    consultas: input.hits.map((h) => {
      const member = memberOf(h.client);
      return {
        fechaHora: limaDateTime(h.at), instante: h.at.toISOString(), entidad: member, entidadNombre: members.get(member) ?? null,
        cliente: h.client, servicio: h.service, servicioTitulo: titles.get(h.service) ?? null,
        finalidad: h.finalidad ?? null, convenio: h.convenio ?? null, acta: (h.convenio === undefined ? undefined : actas.get(h.convenio)) ?? null,
        idMensaje: h.messageId,
        resultado: !h.answered ? 'sin respuesta registrada' : h.responseFault === undefined ? 'respondida' : `falla ${h.responseFault}`,
      };
    }),
  };
}

const period = (r: SubjectReport): string => (r.desde === null && r.hasta === null ? 'todo el registro conservado'
  : `${r.desde ?? 'inicio del registro'} a ${r.hasta ?? 'hoy'}`);

export const TEXT_HEADERS = ['FECHA Y HORA (LIMA)', 'ENTIDAD', 'CLIENTE', 'SERVICIO', 'FINALIDAD', 'CONVENIO', 'ID DE MENSAJE', 'RESULTADO'] as const;

export function textRows(r: SubjectReport): string[][] {
  return r.consultas.map((c) => [c.fechaHora, c.entidadNombre ?? c.entidad, c.cliente, c.servicio, c.finalidad ?? '-', c.convenio ?? '-', c.idMensaje, c.resultado]);
}

export function summaryLine(r: SubjectReport): string {
  return r.consultas.length === 0
    ? `No se registran consultas de datos del titular con DNI ${r.titular} en ${r.entidadProveedora} (período: ${period(r)}).`
    : `${r.consultas.length} consulta(s) de datos del titular con DNI ${r.titular} en ${r.entidadProveedora} (período: ${period(r)}):`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** Printable A4 HTML of the report (no external resources). */
export function renderSubjectReportHtml(r: SubjectReport): string {
  const rows = r.consultas.map((c) => `<tr><td>${esc(c.fechaHora)}</td><td>${esc(c.entidadNombre ?? '')}<br><small>${esc(c.entidad)}</small></td>`
    + `<td>${esc(c.cliente)}</td><td>${esc(c.servicioTitulo ?? '')}<br><small>${esc(c.servicio)}</small></td><td>${esc(c.finalidad ?? '—')}</td>`
    + `<td>${esc(c.convenio ?? '—')}${c.acta === null ? '' : `<br><small>${esc(c.acta)}</small>`}</td><td><small>${esc(c.idMensaje)}</small></td><td>${esc(c.resultado)}</td></tr>`).join('\n');
  return `<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Consultas de datos personales del titular ${esc(r.titular)}</title>
<style>@page{size:A4 landscape;margin:15mm}body{font-family:sans-serif;font-size:10pt}table{border-collapse:collapse;width:100%}th,td{border:1px solid #444;padding:3px;vertical-align:top;text-align:left}th{background:#eee}small{color:#444;word-break:break-all}</style>
</head><body>
<h1>Consultas de datos personales</h1>
<p>Ley Nº 29733, Ley de Protección de Datos Personales: derecho de acceso del titular.</p>
<p><b>Titular:</b> DNI ${esc(r.titular)}<br><b>Entidad que administra los datos:</b> ${esc(r.entidadProveedora)}<br><b>Período:</b> ${esc(period(r))}<br><b>Generado:</b> ${esc(r.generado)} (hora de Lima), a partir del registro de mensajes del nodo MIIS.</p>
<p>${esc(summaryLine(r))}</p>
${r.consultas.length === 0 ? '' : `<table><thead><tr><th>Fecha y hora (Lima)</th><th>Entidad consultante</th><th>Subsistema</th><th>Servicio</th><th>Finalidad</th><th>Convenio</th><th>ID de mensaje</th><th>Resultado</th></tr></thead>
<tbody>
${rows}
</tbody></table>`}
</body></html>
`;
}
