/**
 * The node's evidence chain, wired once by node/main.ts: the (encrypted) message log, the batch
 * time-stamper, the archiver, and the pieces of /health they report. Exchanges only touch the
 * in-memory gate (`check`); time-stamping and archiving run on their own timers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaultCode } from '../../core/errors.js';
import type { GlobalConf } from '../../core/global-conf-model.js';
import { createArchiver, type Archiver } from './archiver.js';
import { startLogCheckpointer, type LogCheckpointer } from './checkpointer.js';
import { certStatus, type CertStatusRow } from './cert-status.js';
import { evidencePaths, isSensitiveService, type EvidenceSettings } from './settings.js';
import { createLogCipher, ensureLogKeyFile, type LogCipher } from './log-crypto.js';
import { openMessageLog, type MessageLog } from './message-log.js';
import { ensureSubjectKey } from './subject-index.js';
import type { SharedMessageLog } from './pg-message-log.js';
import { nodePaths } from '../store/paths.js';
import { createTimestamper, type Timestamper, type TsaPost } from './timestamper.js';

export interface NodeEvidence {
  /** The SQLite log (messagelog.db), or the PostgreSQL one when node.json selects it. */
  readonly log: MessageLog | SharedMessageLog;
  readonly cipher: LogCipher | undefined;
  readonly timestamper: Timestamper | undefined;
  /** Undefined on PostgreSQL (archiving a shared database is not implemented yet). */
  readonly archiver: Archiver | undefined;
  check(code: FaultCode): void;
  health(conf: GlobalConf | undefined): Record<string, unknown>;
  start(): void;
  close(): Promise<void>;
}

/** The log cipher of a node directory (creating the key file when encryption is on and it is missing). */
export function loadLogCipher(dir: string, settings: EvidenceSettings, now: Date): LogCipher | undefined {
  const path = evidencePaths(dir).logKeys;
  if (!settings.encryptLog && !existsSync(path)) return undefined;
  return createLogCipher(ensureLogKeyFile(path, now));
}

export function openNodeLog(dir: string, settings: EvidenceSettings, cipher: LogCipher | undefined): MessageLog {
  return openMessageLog(nodePaths(dir).messageLog, {
    cipher, sealNew: settings.encryptLog, faultsPerMinute: settings.faultLog.perSourcePerMinute, subjectKey: ensureSubjectKey(dir),
    metadataOnly: settings.sensitiveServices.length === 0 ? undefined : (service) => isSensitiveService(settings, service),
  });
}

/** The checkpoint thread as /health shows it (Spanish keys, like the rest of the document). */
function checkpointHealth(c: LogCheckpointer): Record<string, unknown> {
  const s = c.status();
  return {
    hilo: s.fallback !== undefined ? 'desactivado' : s.workerRunning ? 'activo' : 'en espera',
    rondas: s.checkpoints, reiniciosDelWal: s.restarts, paginasCopiadas: s.framesCopied, esperaMaximaMs: Math.round(s.longestHoldMs),
    aviso: s.fallback === undefined ? null : `los puntos de control volvieron al hilo principal: ${s.fallback}`,
  };
}

export function openNodeEvidence(opts: {
  dir: string;
  settings: EvidenceSettings;
  centralUrl: string;
  trustedCas: () => readonly string[];
  now: () => Date;
  info: (line: string) => void;
  tsaPost?: TsaPost;
  /** An already opened PostgreSQL log (opened with `cipher`); default: messagelog.db. */
  sharedLog?: SharedMessageLog;
  cipher?: LogCipher | undefined;
}): NodeEvidence {
  const { settings, now } = opts;
  const cipher = opts.sharedLog !== undefined ? opts.cipher : loadLogCipher(opts.dir, settings, now());
  const log: MessageLog | SharedMessageLog = opts.sharedLog ?? openNodeLog(opts.dir, settings, cipher);
  const ts = settings.timestamping;
  const timestamper = ts.enabled
    ? createTimestamper({
      log, url: ts.url ?? new URL('tsa', opts.centralUrl.endsWith('/') ? opts.centralUrl : `${opts.centralUrl}/`).toString(),
      trustedCas: opts.trustedCas, now, intervalMs: ts.intervalSec * 1000, graceMs: ts.graceSec * 1000, onOutage: ts.onOutage,
      info: opts.info, ...(opts.tsaPost === undefined ? {} : { post: opts.tsaPost }),
    })
    : undefined;
  const archiver = 'engine' in log ? undefined : createArchiver({ log, dir: evidencePaths(opts.dir).archives, cipher, settings: settings.archive, now, info: opts.info });
  const paths = nodePaths(opts.dir);
  let archiveTimer: NodeJS.Timeout | undefined;
  let checkpointer: LogCheckpointer | undefined;
  return {
    log, cipher, timestamper, archiver,
    check(code) {
      timestamper?.check(code);
    },
    health(conf) {
      const certs: CertStatusRow[] = [];
      // sign.previous.pem: the certificate of the key replaced by the last rotation (node/certs/signing-rotation.ts)
      for (const [role, file] of [['sign', paths.signCert], ['auth', paths.authCert], ['sign-previous', join(opts.dir, 'sign.previous.pem')]] as const) {
        if (existsSync(file)) certs.push(certStatus(role, readFileSync(file, 'utf8'), conf, now(), settings.certificates.warnDays));
      }
      return {
        selladoDeTiempo: timestamper === undefined ? { estado: 'desactivado' } : (() => {
          const s = timestamper.status();
          return {
            estado: s.state, politica: s.policy, ultimoSello: s.lastSuccessAt, sinSelloDesde: s.oldestUnstampedAt, lotes: s.batches, ultimoError: s.lastError,
            aviso: s.state === 'outage' ? (s.policy === 'refuse' ? 'TSA inaccesible más allá del período de gracia: el nodo RECHAZA intercambios' : 'TSA inaccesible más allá del período de gracia: el nodo sigue operando con registros sin sello') : null,
          };
        })(),
        registro: {
          cifrado: cipher !== undefined && settings.encryptLog, claveActiva: cipher?.activeKeyId ?? null, archivos: archiver?.status() ?? null,
          ...('engine' in log ? { baseDeDatos: log.engine, instancia: log.instanceId } : {}),
          ...(checkpointer === undefined ? {} : { puntosDeControl: checkpointHealth(checkpointer) }),
        },
        certificados: certs.map((c) => ({ rol: c.role, estado: c.state, venceEn: c.notAfter, diasRestantes: c.daysLeft, mensaje: c.message })),
      };
    },
    start() {
      timestamper?.start();
      // SQLite log: WAL checkpoints in a worker thread, off the exchanges' event loop (checkpointer.ts)
      if (!('engine' in log)) checkpointer ??= startLogCheckpointer({ log, path: paths.messageLog, info: opts.info });
      if (archiver === undefined) return;
      archiveTimer = setInterval(() => {
        try {
          archiver.run();
        } catch (err) {
          opts.info(`archivo del registro: ${err instanceof Error ? err.message : String(err)}`);
        }
      }, settings.archive.intervalSec * 1000);
      archiveTimer.unref();
    },
    async close() {
      if (archiveTimer !== undefined) clearInterval(archiveTimer);
      await timestamper?.stop();
      await checkpointer?.close();
      await log.close();
    },
  };
}
