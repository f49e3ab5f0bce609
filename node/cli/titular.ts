/**
 * `miis-node log titular --dni N`: who consulted a person's data through this node (Ley 29733,
 * right of access), from the data-subject index of the message log (evidence/subject-index.ts):
 * text, JSON, HTML or PDF (headless Chromium, runtime/chromium.ts). Bodies are never opened.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatTable } from '../../runtime/cli-kit.js';
import { listJson } from '../../runtime/cli-json.js';
import { printHtmlToPdf } from '../../runtime/chromium.js';
import { validateDni } from '../../core/peru-ids.js';
import { parseIsoDate } from '../../core/iso-date.js';
import { formatMemberId } from '../../core/identifiers.js';
import { ensureSubjectKey, subjectMac } from '../evidence/subject-index.js';
import { buildSubjectReport, limaRange, renderSubjectReportHtml, summaryLine, TEXT_HEADERS, textRows, type SubjectReport } from '../evidence/subject-report.js';
import type { NodeStore } from '../store/local-store.js';
import { openCliLog, readLocalConf } from './evidence.js';

interface TitularOptions {
  readonly dir: string;
  readonly dni: string;
  readonly desde?: string;
  readonly hasta?: string;
  readonly json?: boolean;
  readonly html?: string;
  readonly pdf?: string;
}

export interface TitularCliHelpers {
  readonly withDir: (cmd: Command) => Command;
  readonly withStore: <T>(dir: string, fn: (s: NodeStore) => T | Promise<T>) => Promise<T>;
  readonly out: (s: string) => void;
  readonly now: () => Date;
}

/** The report for one DNI (canonicalised: a check character is accepted and dropped). */
export async function subjectReport(dir: string, o: { dni: string; desde?: string; hasta?: string }, provider: string, now: Date): Promise<SubjectReport> {
  const dni = validateDni(o.dni).dni;
  const desde = o.desde === undefined ? undefined : parseIsoDate(o.desde);
  const hasta = o.hasta === undefined ? undefined : parseIsoDate(o.hasta);
  const range = limaRange(desde, hasta);
  const log = openCliLog(dir, now);
  try {
    const hits = log.subjectRecords(subjectMac(ensureSubjectKey(dir), dni), range);
    let conf;
    try {
      conf = readLocalConf(dir);
    } catch {
      conf = undefined; // names are then left out; the identifiers are still there
    }
    return buildSubjectReport({ dni, provider, hits, conf, now, desde, hasta });
  } finally {
    await log.close();
  }
}

export function registerTitularCommand(log: Command, h: TitularCliHelpers): void {
  h.withDir(log.command('titular'))
    .description('quién consultó los datos de una persona (Ley 29733, derecho de acceso): fecha, entidad, servicio, finalidad y convenio de cada consulta recibida')
    .requiredOption('--dni <dni>', 'DNI del titular de los datos')
    .option('--desde <AAAA-MM-DD>', 'desde esta fecha (hora de Lima), inclusive')
    .option('--hasta <AAAA-MM-DD>', 'hasta esta fecha (hora de Lima), inclusive')
    .option('--json', 'salida JSON')
    .option('--html <archivo>', 'escribe el informe imprimible (HTML)')
    .option('--pdf <archivo>', 'escribe el informe en PDF (necesita el paquete chromium)')
    .action(async (o: TitularOptions) => {
      const provider = await h.withStore(o.dir, async (s) => {
        const st = await s.settings();
        return `${st.memberName} (${formatMemberId({ instance: st.instance, memberClass: st.memberClass, memberCode: st.memberCode })})`;
      });
      const report = await subjectReport(o.dir, o, provider, h.now());
      if (o.html !== undefined) {
        writeFileSync(o.html, renderSubjectReportHtml(report), 'utf8');
        h.out(`Informe HTML: ${resolve(o.html)}`);
      }
      if (o.pdf !== undefined) h.out(`Informe PDF: ${await printHtmlToPdf(renderSubjectReportHtml(report), o.pdf)}`);
      if (o.json === true) h.out(listJson(report));
      else if (o.html === undefined && o.pdf === undefined) {
        h.out(summaryLine(report));
        if (report.consultas.length > 0) h.out(formatTable([...TEXT_HEADERS], textRows(report)));
      }
    });
}
