/**
 * `miis-node` commands for the evidence chain: log verify|export|archive|rotate-key and
 * cert status. On PostgreSQL: verify and export work on every instance's chain, archive refuses
 * (explained), rotate-key tells to copy the key file to every instance. Wired into node/cli/index.ts with one call; `openCliLog` is also used by log list/faults.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { formatTable, limaDateTime, okJson, readInputFile, textOnly } from '../../runtime/cli-kit.js';
import { listJson } from '../../runtime/cli-json.js';
import { MiisError } from '../../core/errors.js';
import { verifyGlobalConf } from '../../core/global-conf.js';
import type { GlobalConf } from '../../core/global-conf-model.js';
import { createArchiver } from '../evidence/archiver.js';
import { hostedMemberPaths, listHostedMembers } from '../certs/hosted-members.js';
import { certStatus } from '../evidence/cert-status.js';
import { loadLogCipher, openNodeLog } from '../evidence/index.js';
import { evidencePaths, loadEvidenceSettings } from '../evidence/settings.js';
import { createLogCipher, readLogKeyFile, rotateLogKey } from '../evidence/log-crypto.js';
import { exportBatch } from '../evidence/batch-export.js';
import { exportExchange } from '../evidence/log-export.js';
import { formatReport, verifyArchive, verifyInstanceChain, verifyLiveLogParallel, type VerifyReport } from '../evidence/log-verify.js';
import type { MessageLog } from '../evidence/message-log.js';
import { resolveDatabase } from '../store/database.js';
import { asSharedMessageLog, openPgMessageLog, type SharedMessageLog } from '../evidence/pg-message-log.js';
import { nodePaths } from '../store/paths.js';

interface Dir {
  readonly dir: string;
}

export interface EvidenceCliHelpers {
  readonly withDir: (cmd: Command) => Command;
  readonly out: (s: string) => void;
  readonly now: () => Date;
}

/** The node's SQLite message log opened with its key (as the running node opens it); refuses on PostgreSQL. */
export function openCliLog(dir: string, now: Date): MessageLog {
  if (resolveDatabase(dir).engine === 'postgresql') {
    throw new MiisError('Config.InvalidInput', 'con el registro en PostgreSQL esta orden aún no está disponible (sí lo están «log list», «log faults» y «log verify»)');
  }
  const settings = loadEvidenceSettings(dir);
  return openNodeLog(dir, settings, loadLogCipher(dir, { ...settings, encryptLog: false }, now));
}

/** The node's message log on its engine, read only (log list, faults, verify). */
export async function openCliSharedLog(dir: string, now: Date): Promise<SharedMessageLog> {
  const database = resolveDatabase(dir);
  if (database.engine === 'sqlite') return asSharedMessageLog(openCliLog(dir, now));
  const settings = loadEvidenceSettings(dir);
  return openPgMessageLog({ database, writer: false, cipher: loadLogCipher(dir, { ...settings, encryptLog: false }, now) });
}

/** The verified local copy of the global configuration, if any. */
export function readLocalConf(dir: string): GlobalConf | undefined {
  const p = nodePaths(dir);
  if (!existsSync(p.globalConf) || !existsSync(p.anchor)) return undefined;
  return verifyGlobalConf(readFileSync(p.globalConf), readFileSync(p.anchor, 'utf8'));
}

function trustedCas(dir: string, caFile: string | undefined): string[] {
  if (caFile !== undefined) return [readInputFile(caFile, 'certificado de CA')];
  // without a local configuration (node never started) only the chain can be checked: signatures
  // and time-stamps then fail as "not issued by a trusted CA", which is the honest answer
  return [...(readLocalConf(dir)?.trustedCas ?? [])];
}

export async function runLogVerify(o: Dir & { archive?: string; ca?: string; json?: boolean }, h: EvidenceCliHelpers): Promise<void> {
  const cas = trustedCas(o.dir, o.ca);
  if (o.archive !== undefined) {
    const keyPath = evidencePaths(o.dir).logKeys;
    const cipher = existsSync(keyPath) ? createLogCipher(readLogKeyFile(keyPath)) : undefined;
    const r = verifyArchive(o.archive, cas, cipher);
    h.out(o.json === true ? listJson(r) : formatReport(`Archivo ${o.archive}`, r));
    if (!r.ok) throw new MiisError('Config.InvalidInput', `el archivo ${o.archive} no supera la verificación`);
    return;
  }
  if (resolveDatabase(o.dir).engine === 'postgresql') {
    // every instance's chain in the shared database
    const shared = await openCliSharedLog(o.dir, h.now());
    try {
      const reports: { instancia: string; informe: VerifyReport }[] = [];
      for (const id of await shared.instances()) reports.push({ instancia: id, informe: await verifyInstanceChain(shared.reader(id), cas) });
      h.out(o.json === true ? listJson(reports) : reports.length === 0 ? 'El registro no tiene registros.' : reports.map((r) => formatReport(`Instancia ${r.instancia}`, r.informe)).join('\n\n'));
      const bad = reports.filter((r) => !r.informe.ok);
      if (bad.length > 0) throw new MiisError('Config.InvalidInput', `el registro de mensajes no supera la verificación (instancias: ${bad.map((r) => r.instancia).join(', ')})`);
    } finally {
      await shared.close();
    }
    return;
  }
  const log = openCliLog(o.dir, h.now());
  try {
    const t0 = performance.now();
    const r = await verifyLiveLogParallel(log, cas);
    const recordsPerSecond = Math.round(r.records / Math.max(0.001, (performance.now() - t0) / 1000));
    h.out(o.json === true ? listJson({ ...r, recordsPerSecond }) : r.records === 0 ? formatReport('', r) : `${formatReport('', r)}\n(${recordsPerSecond} registros/s)`);
    if (!r.ok) throw new MiisError('Config.InvalidInput', `el registro de mensajes no supera la verificación (${r.problems.length} problema(s))`);
  } finally {
    await log.close();
  }
}

type ExportOptions = Dir & { json?: boolean; out: string; ca?: string };

/**
 * An export command (log export, lote exportar): its argument and options, and its action: opens
 * the shared log, runs the export with the trusted CAs, prints its text (or its JSON with --json)
 * and closes the log.
 */
function exportCommand(
  cmd: Command,
  h: EvidenceCliHelpers,
  description: string,
  idDescription: string,
  run: (log: SharedMessageLog, id: string, o: ExportOptions, cas: string[]) => Promise<{ text: string; json: object }>,
): void {
  h.withDir(cmd)
    .description(description)
    .argument('<id>', idDescription)
    .requiredOption('--out <carpeta>', 'carpeta de salida')
    .option('--ca <archivo>', 'CA de confianza (por omisión, las de la configuración global local)')
    .option('--json', 'salida en JSON')
    .action(async (id: string, o: ExportOptions) => {
      const say = textOnly(o, h.out);
      const l = await openCliSharedLog(o.dir, h.now());
      try {
        const r = await run(l, id, o, trustedCas(o.dir, o.ca));
        say(r.text);
        if (o.json === true) h.out(okJson(r.json));
      } finally {
        await l.close();
      }
    });
}

export function registerEvidenceCommands(program: Command, h: EvidenceCliHelpers): void {
  const log = program.commands.find((c) => c.name() === 'log') ?? program.command('log');
  exportCommand(log.command('export'), h, 'exporta un intercambio como paquete verificable por terceros con xmlsec1, openssl y sha256sum',
    'identificador del mensaje (cabecera id)', async (l, id, o, cas) => {
      const r = await exportExchange(l, id, o.out, cas);
      return {
        text: `Intercambio ${id} exportado en ${o.out} (${r.parts.join(', ')}; ${r.files.length} archivos). Verifíquelo con: sh ${o.out}/verify.sh`,
        json: { idMensaje: id, carpeta: o.out, partes: r.parts, archivos: r.files.length },
      };
    });
  const lote = program.commands.find((c) => c.name() === 'lote') ?? program.command('lote');
  exportCommand(lote.command('exportar'), h, 'exporta un lote (manifiesto, trozos, firmas y sellos) como paquete verificable por terceros con sh, openssl y xmlsec1',
    'identificador del lote', async (l, id, o, cas) => {
      const r = await exportBatch(l, id, o.out, cas);
      return {
        text: `Lote ${id} exportado en ${o.out} (manifiesto y ${r.chunks} trozos). Verifíquelo con: sh ${o.out}/verify.sh`,
        json: { lote: id, carpeta: o.out, trozos: r.chunks },
      };
    });
  h.withDir(log.command('archive'))
    .description('archiva ahora los registros sellados y purga los archivados según la retención (evidence.json)')
    .option('--json', 'salida en JSON')
    .action(async (o: Dir & { json?: boolean }) => {
      const say = textOnly(o, h.out);
      const database = resolveDatabase(o.dir);
      if (database.engine === 'postgresql') {
        throw new MiisError('Config.InvalidInput', `con el registro en PostgreSQL (${database.display}) «log archive» no está disponible: el registro compartido no se archiva en archivos ni se purga desde el nodo. Consérvelo con las copias de la base (pg_dump) y verifíquelo con «miis-node log verify»; «log export» sigue sirviendo para entregar un intercambio como evidencia`);
      }
      const settings = loadEvidenceSettings(o.dir);
      const cipher = loadLogCipher(o.dir, { ...settings, encryptLog: false }, h.now());
      const l = openNodeLog(o.dir, settings, cipher);
      try {
        const m = createArchiver({ log: l, dir: evidencePaths(o.dir).archives, cipher, settings: settings.archive, now: h.now, info: (s) => say(s) }).run();
        say(m === undefined ? 'Nada que archivar (solo se archivan registros ya sellados)' : `Último archivo: ${m.file} (registros ${m.firstSeq}–${m.lastSeq})`);
        if (o.json === true) h.out(okJson({ archivo: m === undefined ? null : m.file, desde: m?.firstSeq ?? null, hasta: m?.lastSeq ?? null }));
      } finally {
        await l.close();
      }
    });
  h.withDir(log.command('rotate-key'))
    .description('crea una nueva clave de cifrado del registro y la activa; las anteriores se conservan para leer registros antiguos')
    .option('--json', 'salida en JSON')
    .action((o: Dir & { json?: boolean }) => {
      const say = textOnly(o, h.out);
      const id = rotateLogKey(evidencePaths(o.dir).logKeys, h.now());
      say(`Clave del registro ${id} activa desde el próximo inicio del nodo (${evidencePaths(o.dir).logKeys})`);
      const sharedNote = resolveDatabase(o.dir).engine === 'postgresql'
        // instances sharing the log must hold the same keys (pg-message-log.ts refuses one whose key of an id differs)
        ? `Registro en PostgreSQL: copie este archivo de claves, tal cual, a la carpeta de CADA instancia del nodo antes de reiniciarlas (no ejecute «log rotate-key» en cada una: cada ejecución crea una clave distinta y una instancia con otra clave ${id} no podrá iniciar)`
        : undefined;
      if (sharedNote !== undefined) say(sharedNote);
      if (o.json === true) h.out(okJson({ idClave: id, archivo: evidencePaths(o.dir).logKeys, ...(sharedNote === undefined ? {} : { aviso: sharedNote }) }));
    });

  const cert = program.commands.find((c) => c.name() === 'cert') ?? program.command('cert');
  h.withDir(cert.command('status'))
    .description('vigencia y revocación de los certificados del nodo, con aviso anticipado de vencimiento')
    .option('--json', 'salida JSON')
    .action((o: Dir & { json?: boolean }) => {
      const p = nodePaths(o.dir);
      const settings = loadEvidenceSettings(o.dir);
      const conf = readLocalConf(o.dir);
      const rows = ([['sign', p.signCert], ['auth', p.authCert]] as const).filter(([, f]) => existsSync(f))
        .map(([role, f]) => certStatus(role, readFileSync(f, 'utf8'), conf, h.now(), settings.certificates.warnDays));
      // shared node: the signing certificates of the members it hosts
      for (const m of listHostedMembers(o.dir)) {
        if (m.cert === undefined) continue;
        rows.push(certStatus(`sign ${m.id}`, readFileSync(hostedMemberPaths(o.dir, m.id).cert, 'utf8'), conf, h.now(), settings.certificates.warnDays,
          `pida un certificado nuevo para ${m.id} y reimpórtelo con «miis-node member cert-import ${m.id} --sign …»`));
      }
      if (rows.length === 0) throw new MiisError('Config.NotFound', `certificados en ${o.dir}; impórtelos con «miis-node cert import»`);
      h.out(o.json === true ? listJson(rows) : formatTable(['ROL', 'ESTADO', 'VENCE (LIMA)', 'DÍAS', 'DETALLE'], rows.map((r) => [r.role, r.state, limaDateTime(r.notAfter), String(r.daysLeft), r.message])));
      if (rows.some((r) => r.state !== 'vigente')) throw new MiisError('Config.InvalidCertificate', rows.filter((r) => r.state !== 'vigente').map((r) => `${r.role}: ${r.message}`).join('; '));
    });
}
