/**
 * The public portal page (directive 7.1.7, 7.2.1): the MIIS components and their status,
 * administering entity, family, responsible unit and services, and how to request access.
 * GET /portal (HTML, Spanish, no external assets; the table is rendered on the server and a small
 * inline script filters it) and GET /portal.json (the same data). Only public metadata: no
 * personal data, no contact details beyond the unit and its head's post.
 */
import { createHash } from 'node:crypto';
import type { RegistryStore } from '../registry/store.js';
import { FAMILIES, FAMILY_LABELS, COMPONENT_STATUSES, STATUS_LABELS, listComponents, type ComponentStatus, type Family } from './catalogue.js';
import { escapeHtml } from './acta-render.js';
import { operatingSince } from './meetings.js';
import { limaDate } from '../../core/business-days.js';
import { SETTING } from '../registry/rules.js';
import { PROGRAM_STATUS_LABELS, listPrograms, programEntityName } from './programs.js';

export interface PortalComponent {
  readonly code: string;
  readonly name: string;
  readonly description: string;
  readonly entity: { readonly ruc: string; readonly name: string; readonly acronym: string | null; readonly rucProvisional: boolean };
  readonly family: Family;
  readonly familyLabel: string;
  readonly referenceUnit: string;
  readonly personalData: boolean;
  readonly sensitiveData: boolean;
  readonly legalBasis: string;
  readonly status: ComponentStatus;
  readonly statusLabel: string;
  readonly responsibleUnit: { readonly unit: string; readonly headPost: string; readonly headName: string } | null;
  readonly services: readonly { readonly id: string; readonly title: string }[];
  readonly operatingSince: string | null;
}

export interface PortalData {
  readonly title: string;
  readonly operator: string;
  readonly generatedAt: string;
  readonly howToRequest: readonly string[];
  readonly components: readonly PortalComponent[];
  /** The Registro Nacional de Programas Sociales (RPS, 4.1 e, 5.17): programmes not closed. */
  readonly programs: readonly PortalProgram[];
}

export interface PortalProgram {
  readonly code: string;
  readonly name: string;
  readonly entity: { readonly ruc: string; readonly name: string };
  readonly ciasApproval: string;
  readonly ciasDate: string;
  readonly targetPopulation: string;
  readonly interventionType: string;
  readonly status: string;
  readonly statusLabel: string;
}

export const HOW_TO_REQUEST = [
  'Verifique en este listado que el componente que necesita su intervención pública focalizada esté «Disponible» (7.2.1).',
  'Solicite el acceso a la entidad que lo administra indicando la finalidad y la base legal, desde su nodo: miis-node access request --component CÓDIGO --purpose FOCALIZACION --legal-basis "…" (o por oficio, que la DGFO registra). La DGFO queda informada para el seguimiento (7.2.2).',
  'La unidad responsable designada por la entidad responde en un máximo de 10 días hábiles (7.2.3); el acceso otorgado llega a los nodos con la configuración global.',
];

/** Available components first (what IPFs can ask for, 7.2.1), then those on the way. */
const STATUS_RANK: Readonly<Record<ComponentStatus, number>> = { disponible: 0, 'en-incorporacion': 1, suspendido: 2, 'en-evaluacion': 3, identificado: 4, descartado: 5 };

export function buildPortalData(store: RegistryStore, now: Date): PortalData {
  const titles = new Map(store.listServices().map((s) => [s.id, s.title]));
  return {
    title: 'Catálogo de componentes del MIIS',
    operator: store.getSetting(SETTING.operatorName) ?? 'MIDIS - DGFO',
    generatedAt: now.toISOString(),
    howToRequest: HOW_TO_REQUEST,
    components: listComponents(store).filter((c) => c.status !== 'descartado').sort((a, b) => STATUS_RANK[a.status] - STATUS_RANK[b.status] || (a.code < b.code ? -1 : 1)).map((c) => ({
      code: c.code,
      name: c.name,
      description: c.description,
      entity: { ruc: c.entity.ruc, name: c.entity.name, acronym: c.entity.acronym, rucProvisional: c.entity.rucPlaceholder },
      family: c.family,
      familyLabel: FAMILY_LABELS[c.family],
      referenceUnit: c.referenceUnit,
      personalData: c.personal,
      sensitiveData: c.sensitive,
      legalBasis: c.legalBasis,
      status: c.status,
      statusLabel: STATUS_LABELS[c.status],
      responsibleUnit: c.responsibleUnit === null || c.responsibleUnit.unit === null ? null : { unit: c.responsibleUnit.unit, headPost: c.responsibleUnit.headPost ?? '', headName: c.responsibleUnit.headName ?? '' },
      services: c.services.map((id) => ({ id, title: titles.get(id) ?? id })),
      operatingSince: operatingSince(store, c.entityRuc, limaDate(now)),
    })),
    programs: listPrograms(store).filter((p) => p.status !== 'cerrado').map((p) => ({
      code: p.code, name: p.name, entity: { ruc: p.entityRuc, name: programEntityName(store, p) }, ciasApproval: p.ciasRef, ciasDate: p.ciasDate,
      targetPopulation: p.targetPopulation, interventionType: p.interventionType, status: p.status, statusLabel: PROGRAM_STATUS_LABELS[p.status],
    })),
  };
}

const SCRIPT = `
(function () {
  var q = document.getElementById('buscar'), fam = document.getElementById('familia'), est = document.getElementById('estado'), ent = document.getElementById('entidad');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#catalogo tbody tr'));
  var count = document.getElementById('cuenta');
  var params = new URLSearchParams(location.search);
  if (params.get('q')) q.value = params.get('q');
  if (params.get('familia')) fam.value = params.get('familia');
  if (params.get('estado')) est.value = params.get('estado');
  if (params.get('entidad')) ent.value = params.get('entidad');
  function norm(s) { return s.normalize('NFD').replace(/[\\u0300-\\u036f]/g, '').toLowerCase(); }
  function apply() {
    var text = norm(q.value.trim()), shown = 0;
    rows.forEach(function (r) {
      var ok = (!text || norm(r.textContent).indexOf(text) >= 0) && (!fam.value || r.dataset.familia === fam.value) &&
        (!est.value || r.dataset.estado === est.value) && (!ent.value || r.dataset.entidad === ent.value);
      r.hidden = !ok;
      if (ok) shown++;
    });
    count.textContent = shown + ' de ' + rows.length + ' componentes';
  }
  [q, fam, est, ent].forEach(function (el) { el.addEventListener('input', apply); el.addEventListener('change', apply); });
  apply();
})();
`;

export const PORTAL_SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT, 'utf8').digest('base64')}`;
/** Content-Security-Policy for the page: no external resources at all, only this inline script. */
export const PORTAL_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src '${PORTAL_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function yesNo(v: boolean): string {
  return v ? 'Sí' : 'No';
}

export function renderPortalHtml(data: PortalData): string {
  const e = escapeHtml;
  const entities = [...new Map(data.components.map((c) => [c.entity.ruc, c.entity])).values()].sort((a, b) => ((a.acronym ?? a.name) < (b.acronym ?? b.name) ? -1 : 1));
  const rows = data.components.map((c) => `<tr data-familia="${e(c.family)}" data-estado="${e(c.status)}" data-entidad="${e(c.entity.ruc)}">
<td><b>${e(c.code)}</b></td>
<td>${e(c.name)}<div class="desc">${e(c.description)}</div></td>
<td>${e(c.entity.acronym ?? c.entity.name)}<div class="desc">RUC ${e(c.entity.ruc)}${c.entity.rucProvisional ? ' (provisional)' : ''}</div></td>
<td>${e(c.familyLabel)}</td>
<td>${e(c.referenceUnit)}</td>
<td>${c.responsibleUnit === null ? '<span class="pend">Por designar</span>' : `${e(c.responsibleUnit.unit)}<div class="desc">${e(c.responsibleUnit.headPost)}</div>`}</td>
<td>${c.services.length === 0 ? '—' : c.services.map((s) => `<div><code>${e(s.id)}</code></div>`).join('')}</td>
<td>${yesNo(c.personalData)} / ${yesNo(c.sensitiveData)}</td>
<td><span class="st st-${e(c.status)}">${e(c.statusLabel)}</span></td>
</tr>`).join('\n');
  return `<!DOCTYPE html>
<html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(data.title)} — ${e(data.operator)}</title>
<style>
 body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 0; color: #1b1b1b; background: #f6f6f4; font-size: 14px; }
 header { background: #8c1b1b; color: #fff; padding: 14px 24px; }
 header h1 { margin: 0; font-size: 22px; } header p { margin: 4px 0 0; opacity: .9; }
 main { padding: 16px 24px; }
 .filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin: 10px 0; }
 label { display: flex; flex-direction: column; font-size: 12px; gap: 3px; }
 input, select { padding: 5px 7px; font-size: 14px; border: 1px solid #999; border-radius: 3px; }
 table { border-collapse: collapse; width: 100%; background: #fff; }
 th, td { border: 1px solid #ccc; padding: 5px 7px; text-align: left; vertical-align: top; }
 th { background: #eee; position: sticky; top: 0; }
 .desc { font-size: 11px; color: #555; } code { font-size: 11px; }
 .st { padding: 1px 6px; border-radius: 8px; font-size: 12px; white-space: nowrap; }
 .st-disponible { background: #d8f0d8; } .st-identificado { background: #eee; } .st-en-incorporacion { background: #fff1c2; } .st-suspendido { background: #f6d0d0; } .st-en-evaluacion { background: #e3ecf8; }
 .pend { color: #8a5a00; } #cuenta { font-size: 12px; color: #444; }
 section.como { background: #fff; border: 1px solid #ddd; padding: 8px 16px; margin-bottom: 12px; }
</style></head>
<body>
<header><h1>${e(data.title)}</h1><p>Mecanismo de Intercambio de Información Social — ${e(data.operator)}. Directiva Nº 003-2017-MIDIS, numeral 7.1.7.</p></header>
<main>
<section class="como"><h2>Cómo solicitar acceso</h2><ol>${data.howToRequest.map((s) => `<li>${e(s)}</li>`).join('')}</ol>
<p>Los mismos datos en JSON: <a href="portal.json">portal.json</a>. Actualizado: ${e(data.generatedAt)}.</p></section>
<div class="filters">
<label>Buscar<input id="buscar" type="search" placeholder="nombre, entidad, servicio…"></label>
<label>Familia<select id="familia"><option value="">Todas</option>${FAMILIES.map((f) => `<option value="${f}">${e(FAMILY_LABELS[f])}</option>`).join('')}</select></label>
<label>Estado<select id="estado"><option value="">Todos</option>${COMPONENT_STATUSES.filter((s) => s !== 'descartado').map((s) => `<option value="${s}">${e(STATUS_LABELS[s])}</option>`).join('')}</select></label>
<label>Entidad<select id="entidad"><option value="">Todas</option>${entities.map((x) => `<option value="${e(x.ruc)}">${e(x.acronym ?? x.name)}</option>`).join('')}</select></label>
<span id="cuenta">${data.components.length} ${data.components.length === 1 ? 'componente' : 'componentes'}</span>
</div>
<table id="catalogo"><thead><tr><th>Código</th><th>Componente</th><th>Entidad</th><th>Familia</th><th>Unidad de referencia</th><th>Unidad responsable</th><th>Servicios</th><th>Datos personales / sensibles</th><th>Estado</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<section id="rps"><h2>Registro Nacional de Programas Sociales (RPS)</h2>
<p>Intervenciones públicas focalizadas aprobadas por la CIAS y registradas por la DGFO (Directiva Nº 003-2017-MIDIS, 4.1 e y 5.17).</p>
${data.programs.length === 0 ? '<p>No hay programas registrados.</p>' : `<table id="programas"><thead><tr><th>Código</th><th>Programa</th><th>Entidad</th><th>Aprobación CIAS</th><th>Población objetivo</th><th>Tipo de intervención</th><th>Estado</th></tr></thead>
<tbody>
${data.programs.map((p) => `<tr><td><b>${e(p.code)}</b></td><td>${e(p.name)}</td><td>${e(p.entity.name)}<div class="desc">RUC ${e(p.entity.ruc)}</div></td><td>${e(p.ciasApproval)}<div class="desc">${e(p.ciasDate)}</div></td><td>${e(p.targetPopulation)}</td><td>${e(p.interventionType)}</td><td>${e(p.statusLabel)}</td></tr>`).join('\n')}
</tbody></table>`}
</section>
</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
