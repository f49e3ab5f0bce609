/**
 * The printable acta in the layout of Anexo Nº 02 of the directive (HTML, A4) and its PDF
 * (printed by headless Chromium). renderActaHtml is pure; writeActaPdf runs chromium.
 */
import type { EntityRecord } from './entities.js';
import type { MeetingRecord, Participant } from './meetings.js';
import { DEFAULT_PLACE } from './meetings.js';
import { EXCHANGE_FORM_LABELS, type ActaRecord, type TramaField } from './actas.js';
import { printHtmlToPdf } from '../../runtime/chromium.js';

const MONTHS = ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre', 'noviembre', 'diciembre'] as const;

const FEMININE = new Set(['municipalidad', 'superintendencia', 'dirección', 'direccion', 'oficina', 'autoridad', 'universidad', 'gerencia', 'agencia', 'comisión', 'comision',
  'contraloría', 'contraloria', 'defensoría', 'defensoria', 'procuraduría', 'procuraduria', 'secretaría', 'secretaria', 'sociedad', 'beneficencia', 'empresa', 'junta',
  'red', 'unidad', 'intendencia', 'presidencia', 'policía', 'policia', 'mancomunidad', 'corte', 'fiscalía', 'fiscalia', 'escuela', 'biblioteca', 'caja', 'sunat', 'sunarp', 'sunafil', 'onp']);
const MASCULINE = new Set(['gobierno', 'ministerio', 'programa', 'seguro', 'instituto', 'consejo', 'organismo', 'registro', 'fondo', 'banco', 'centro', 'servicio',
  'poder', 'congreso', 'jurado', 'tribunal', 'hospital', 'sistema', 'proyecto', 'despacho', 'archivo', 'midis', 'reniec', 'inei', 'minsa', 'minedu', 'sis', 'mef', 'osinergmin', 'conadis', 'mimp']);

/**
 * An entity's name with its Spanish article for the acta title ("la Municipalidad …", "el
 * Registro …"); a name whose gender we cannot tell is written without one (neutral form).
 */
export function withArticle(name: string): string {
  const first = (name.trim().split(/\s+/)[0] ?? '').toLowerCase().replace(/[^\p{L}]/gu, '');
  if (first === 'el' || first === 'la' || first === 'los' || first === 'las') return name.trim();
  if (FEMININE.has(first) || /(dad|ción|sión|cion|sion|ía|tura|encia|ancia)$/.test(first)) return `la ${name.trim()}`;
  if (MASCULINE.has(first) || (first.length > 3 && /o$/.test(first))) return `el ${name.trim()}`;
  return name.trim();
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** 2026-04-15 → "15 de abril de 2026". */
export function spanishDate(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  return `${d} de ${MONTHS[(m ?? 1) - 1]} de ${y}`;
}

function participantsTable(list: readonly Participant[]): string {
  const rows = list.map((p, i) => `<tr><td class="n">${i + 1}</td><td>${escapeHtml(p.name)}</td><td>${escapeHtml(p.post)}</td></tr>`).join('');
  return `<table class="grid"><thead><tr><th class="n">Nº</th><th>NOMBRE</th><th>CARGO</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function tramaTable(title: string, fields: readonly TramaField[]): string {
  if (fields.length === 0) return '';
  const rows = fields.map((f) => `<tr><td><code>${escapeHtml(f.field)}</code></td><td>${escapeHtml(f.type)}</td><td>${f.required ? 'Sí' : 'No'}</td><td>${escapeHtml(f.description ?? '')}</td></tr>`).join('');
  return `<p class="sub">${escapeHtml(title)}</p><table class="grid"><thead><tr><th>CAMPO</th><th>TIPO</th><th>OBLIGATORIO</th><th>DESCRIPCIÓN</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function renderActaHtml(acta: ActaRecord, meeting: MeetingRecord, entity: EntityRecord, operatorName = 'MIDIS'): string {
  const entityName = entity.acronym === null ? entity.name : `${entity.name} (${entity.acronym})`;
  const midis = meeting.participants.filter((p) => p.side === 'MIDIS');
  const others = meeting.participants.filter((p) => p.side === 'ENTIDAD');
  const services = acta.services.map((s, i) => `
    <div class="service"><p><b>${i + 1}. Servicio informático <code>${escapeHtml(s.service)}</code></b></p>
    ${tramaTable('Trama de datos de identificación (solicitud)', s.requestTrama)}
    ${tramaTable('Trama de datos resultado', s.responseTrama)}
    <table class="kv"><tr><th>Periodicidad</th><td>${escapeHtml(s.periodicity)}</td></tr>
    <tr><th>Forma del intercambio</th><td>${escapeHtml(EXCHANGE_FORM_LABELS[s.exchangeForm])}</td></tr>
    <tr><th>Validaciones mínimas</th><td>${s.validations.length === 0 ? 'Ninguna' : s.validations.map((v) => `<code>${escapeHtml(v.field)}</code>: ${escapeHtml(v.rule)}${v.pattern === undefined ? '' : ` (${escapeHtml(v.pattern)})`}`).join('; ')}</td></tr></table></div>`).join('');
  const agreements = [
    ...meeting.agreements.map((a) => escapeHtml(a)),
    ...(acta.clients.length === 0 ? [] : [`Los servicios informáticos descritos se prestan a ${acta.clients.map((c) => `<code>${escapeHtml(c)}</code>`).join(', ')} para la finalidad ${acta.purposes.map(escapeHtml).join(', ')}, desde el ${spanishDate(acta.validFrom)}${acta.validUntil === null ? '' : ` hasta el ${spanishDate(acta.validUntil)}`}${acta.agreementId === null ? '' : `, bajo el convenio <code>${escapeHtml(acta.agreementId)}</code>`}.`]),
    ...(acta.supersedes === null ? [] : [`La presente acta reemplaza el convenio <code>${escapeHtml(acta.supersedes)}</code>, que rige hasta el día anterior al ${spanishDate(acta.validFrom)}.`]),
  ];
  const signature = (p: Participant): string => {
    const signed = acta.signatures.find((s) => s.name.toLowerCase() === p.name.toLowerCase());
    return `<div class="sig"><div class="line"></div><div>${escapeHtml(p.name)}</div><div>${escapeHtml(p.post)}</div><div>Representante de ${escapeHtml(p.side === 'MIDIS' ? operatorName : entity.acronym ?? entity.name)}</div><div class="signed">${signed === undefined ? 'Pendiente de firma' : `Firmado el ${escapeHtml(signed.signedAt)}`}</div></div>`;
  };
  return `<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><title>${escapeHtml(acta.number)}</title>
<style>
 @page { size: A4; margin: 22mm 20mm; }
 body { font-family: "DejaVu Serif", "Liberation Serif", serif; font-size: 11pt; line-height: 1.4; color: #000; }
 h1 { font-size: 13pt; text-align: center; margin: 0 0 4pt; }
 h2 { font-size: 11pt; text-align: center; margin: 0 0 10pt; font-weight: normal; }
 h3 { font-size: 11pt; margin: 14pt 0 6pt; }
 .title { text-align: center; font-weight: bold; margin: 8pt 0 14pt; }
 table.grid { width: 100%; border-collapse: collapse; margin: 4pt 0 8pt; font-size: 10pt; }
 table.grid th, table.grid td { border: 1px solid #000; padding: 2pt 5pt; text-align: left; vertical-align: top; }
 table.kv { border-collapse: collapse; font-size: 10pt; margin-bottom: 8pt; }
 table.kv th { text-align: left; padding: 1pt 8pt 1pt 0; font-weight: bold; white-space: nowrap; vertical-align: top; }
 td.n, th.n { width: 18pt; text-align: center; }
 .sub { font-style: italic; margin: 4pt 0 2pt; }
 .sigs { display: flex; flex-wrap: wrap; gap: 18pt 30pt; margin-top: 28pt; page-break-inside: avoid; }
 .sig { width: 45%; font-size: 10pt; text-align: center; }
 .sig .line { border-top: 1px solid #000; margin: 30pt 10pt 3pt; }
 .signed { font-style: italic; color: #333; }
 code { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }
</style></head>
<body>
<h1>${escapeHtml(acta.number)}</h1>
<h2>Mecanismo de Intercambio de Información Social - MIIS</h2>
<p class="title">ACUERDO DE LA ESTANDARIZACIÓN DE DATOS, TRANSACCIONES ELECTRÓNICAS Y PROCEDIMIENTOS PARA EL INTERCAMBIO DE INFORMACIÓN ENTRE ${escapeHtml(withArticle(entityName).toUpperCase())} Y EL MIDIS</p>
<p>Siendo las ${escapeHtml(meeting.startTime ?? '__:__')} horas del día ${escapeHtml(spanishDate(meeting.date))}, en las instalaciones de la ${escapeHtml(meeting.place ?? DEFAULT_PLACE)}, se dio inicio a la reunión de trabajo para acordar los estándares de datos, las transacciones electrónicas y de procedimientos para el intercambio de información en el marco del Mecanismo de Intercambio de Información Social (MIIS).</p>
<h3>I. PARTICIPANTES</h3>
<p>Por el MIDIS:</p>${participantsTable(midis)}
<p>Entidades a cargo de la administración de las bases de datos:</p>${participantsTable(others)}
<h3>II. AGENDA</h3>
<ol>${meeting.agenda.map((a) => `<li>${escapeHtml(a)}</li>`).join('')}</ol>
<h3>III. DESARROLLO DE LA AGENDA</h3>
${meeting.development === null ? '' : `<p>${escapeHtml(meeting.development)}</p>`}
${services}
<h3>IV. ACUERDOS ADOPTADOS</h3>
<ol>${agreements.map((a) => `<li>${a}</li>`).join('')}</ol>
<p>Siendo las ${escapeHtml(meeting.endTime ?? '__:__')} horas del día señalado en la introducción del presente documento y no habiendo ningún otro tema que tratar, se da por finalizada la presente reunión; asimismo, los representantes de ambas instituciones firman, por duplicado, en señal de conformidad.</p>
<div class="sigs">${meeting.participants.map(signature).join('')}</div>
</body></html>
`;
}

/** Print the acta's HTML to a PDF file with headless Chromium (A4, no header/footer). */
export function writeActaPdf(html: string, pdfPath: string, opts: { chromium?: string } = {}): Promise<string> {
  return printHtmlToPdf(html, pdfPath, opts);
}
