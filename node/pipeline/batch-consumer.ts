/**
 * Consumer side of a batch exchange (lote): a file handed in by the IS (or `miis-node lote enviar`)
 * is scanned once (SHA-256 of the file and of each chunk of whole lines, streamed, never loaded
 * whole), a manifest is signed and sent to the provider's node, then the chunks, a few in flight,
 * committed in order: each acknowledged chunk appends its result lines (one per input record line)
 * and its rejected lines (line number and Spanish reason), and the batch state in node.db moves on
 * (node/store/batch-store.ts). A stopped node resumes from the last acknowledged chunk (the result
 * files are cut back to the bytes recorded with it). The same file sent again resumes its batch.
 */
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { appendFile, open, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { MiisError, isFaultCode, toMiisError } from '../../core/errors.js';
import type { GlobalConfTrama } from '../../core/global-conf-model.js';
import { formatClientId, formatMemberId, formatServiceId, parseClientId, parseServiceId, providerOf, serviceKey, type ServiceId } from '../../core/identifiers.js';
import { signDetached, verifyDetached } from '../../core/signature.js';
import { DEFAULT_CHUNK_RECORDS, MAX_CHUNK_RECORDS, tramaOfService } from '../../core/trama.js';
import { checkSigningCert, confirmByOcsp, isRevoked } from '../certs/signing-cert.js';
import { nodesOf, type ConfView } from '../conf/global-conf-client.js';
import { checkClient, sendToProviderNodes } from './client-proxy.js';
import type { BatchRow, BatchStatus, BatchStore } from '../store/batch-store.js';
import { BATCH_PATH } from './batch-provider.js';
import {
  MANIFEST_FORMAT, decodeMessage, encodeMessage, readCsvHeader, sha256Hex, splitLines,
  type BatchManifest, type ChunkEntry, type FileFormat, type ResultHeader,
} from './batch-format.js';
import type { MemberSigning, NodeContext } from './context.js';
import { decodeSignedMessage, encodeSignedMessage } from './signed-message.js';

/** Chunks sent before the oldest one is acknowledged. */
export const CHUNKS_IN_FLIGHT = 3;

interface BatchState {
  readonly manifest: BatchManifest;
  /** Byte range of each chunk in the stored input file. */
  readonly ranges: readonly (readonly [number, number])[];
  manifestAcked: boolean;
  resultBytes: number;
  rejectedBytes: number;
  recordsDone: number;
  rejected: number;
  error?: string;
  startedAtMs?: number;
}

export interface BatchView {
  readonly id: string;
  readonly estado: BatchStatus;
  readonly cliente: string;
  readonly servicio: string;
  readonly convenio: string;
  readonly finalidad: string;
  readonly trama: string;
  readonly archivoSha256: string;
  readonly registros: number;
  readonly registrosHechos: number;
  readonly rechazados: number;
  readonly trozos: number;
  readonly trozosHechos: number;
  readonly creado: string;
  readonly actualizado: string;
  readonly error: string | null;
}

export interface SubmitInput {
  /** The uploaded file, already in the node's folder (moved under lotes/<id>/). */
  readonly upload: string;
  readonly format: FileFormat;
  readonly client: string;
  readonly service: string;
  readonly convenio: string;
  readonly finalidad: string;
  /** Records per chunk (default: the trama's, else 10,000). */
  readonly chunkRecords?: number | undefined;
}

export interface BatchRunner {
  /** Scan the file, create the batch (or find the same file's batch) and start it. */
  submit(input: SubmitInput): Promise<{ view: BatchView; resumed: boolean }>;
  /** Start (or resume) a stopped or failed batch. */
  resume(id: string): BatchView;
  view(id: string): BatchView | undefined;
  list(): BatchView[];
  /** Files of a batch: its folder. */
  folder(id: string): string;
  /** Stop sending: chunks in flight are awaited but not committed; batches stay resumable. */
  stop(): Promise<void>;
  /** Test hook: awaited after each committed chunk. */
  afterChunk?: ((id: string, chunk: number) => Promise<void>) | undefined;
}

function toView(r: BatchRow): BatchView {
  const s = JSON.parse(r.state) as BatchState;
  return {
    id: r.id, estado: r.status, cliente: r.client, servicio: r.service, convenio: r.convenio, finalidad: r.finalidad,
    trama: `${s.manifest.trama.id} v${s.manifest.trama.version}`, archivoSha256: r.fileSha256,
    registros: s.manifest.file.records, registrosHechos: s.recordsDone, rechazados: s.rejected,
    trozos: s.manifest.chunks.length, trozosHechos: r.chunksDone, creado: r.createdAt, actualizado: r.updatedAt, error: s.error ?? null,
  };
}

interface Scan {
  readonly sha256: string;
  readonly header: string | undefined;
  readonly chunks: ChunkEntry[];
  readonly ranges: [number, number][];
  readonly records: number;
}

/** One streaming pass: file SHA-256, the CSV header line, chunk boundaries (whole lines) and their SHA-256. */
export async function scanFile(path: string, format: FileFormat, chunkRecords: number, maxChunkBytes: number): Promise<Scan> {
  const fileHash = createHash('sha256');
  let chunkHash = createHash('sha256');
  let inHeader = format === 'csv';
  const headerParts: Buffer[] = [];
  let headerBytes = 0;
  let pos = 0;
  let line = 0; // lines completed
  let chunkStart = 0;
  let chunkFirst = 1;
  let inChunk = 0;
  let trailing = false; // bytes after the last newline
  const chunks: ChunkEntry[] = [];
  const ranges: [number, number][] = [];
  let records = 0;
  const close = (end: number): void => {
    if (end - chunkStart > maxChunkBytes) throw new MiisError('Client.InvalidBatchFile', `el trozo que empieza en la línea ${chunkFirst} ocupa ${end - chunkStart} bytes (máximo ${maxChunkBytes}); use trozos más pequeños`);
    chunks.push({ sha256: chunkHash.digest('hex'), records: inChunk, firstLine: chunkFirst });
    ranges.push([chunkStart, end]);
    chunkHash = createHash('sha256');
    chunkStart = end;
    chunkFirst = line + 1;
    inChunk = 0;
  };
  for await (const data of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
    const buf = data as Buffer;
    fileHash.update(buf);
    let seg = 0;
    for (let nl = buf.indexOf(10, 0); nl >= 0; nl = buf.indexOf(10, nl + 1)) {
      line += 1;
      if (inHeader) {
        headerParts.push(buf.subarray(seg, nl));
        inHeader = false;
        seg = nl + 1;
        chunkStart = pos + nl + 1;
        chunkFirst = line + 1;
        continue;
      }
      inChunk += 1;
      records += 1;
      if (inChunk === chunkRecords) {
        chunkHash.update(buf.subarray(seg, nl + 1));
        seg = nl + 1;
        close(pos + nl + 1);
      }
    }
    if (inHeader) {
      headerBytes += buf.length - seg;
      if (headerBytes > 64 * 1024) throw new MiisError('Client.InvalidBatchFile', 'la primera línea (encabezado) supera 64 KiB');
      headerParts.push(buf.subarray(seg));
    } else chunkHash.update(buf.subarray(seg));
    trailing = buf.length > 0 ? buf[buf.length - 1] !== 10 : trailing;
    pos += buf.length;
  }
  if (!inHeader && trailing && pos > chunkStart) {
    line += 1;
    inChunk += 1;
    records += 1;
  }
  if (inChunk > 0) close(pos);
  const header = format === 'csv' ? Buffer.concat(headerParts).toString('utf8').replace(/\r$/, '').replace(/^\uFEFF/, '') : undefined;
  return { sha256: fileHash.digest('hex'), header, chunks, ranges, records };
}

function faultOf(body: Buffer): MiisError {
  const text = body.toString('utf8');
  const code = /<faultcode>([^<]*)<\/faultcode>/.exec(text)?.[1] ?? '';
  const message = (/<faultstring[^>]*>([^<]*)<\/faultstring>/.exec(text)?.[1] ?? '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  if (isFaultCode(code)) {
    const e = new MiisError(code, message);
    return Object.assign(e, { message });
  }
  return new MiisError('Server.ClientProxy.InvalidResponse', `falla del proveedor: ${code} ${message}`.slice(0, 300));
}

export function createBatchRunner(ctx: NodeContext, store: BatchStore, dir: string): BatchRunner {
  const root = join(dir, 'lotes');
  const running = new Map<string, Promise<void>>();
  let stopping = false;

  const stateOf = (r: BatchRow): BatchState => JSON.parse(r.state) as BatchState;
  const require = (id: string): BatchRow => {
    const r = store.get(id);
    if (r === undefined) throw new MiisError('Config.NotFound', `el lote ${id}`);
    return r;
  };

  const providers = (view: ConfView, service: ServiceId) => {
    const nodes = nodesOf(view, formatClientId(providerOf(service))).filter((n) => !isRevoked(view.conf, n.authCertSha256));
    if (nodes.length === 0) throw new MiisError('Server.ClientProxy.UnknownService', `${formatServiceId(service)} (ningún nodo lo atiende)`);
    return nodes;
  };

  /** Sign (the client member's key), log, send, verify and log one message; returns the provider's signed answer. */
  const exchange = async (m: BatchManifest, signing: MemberSigning, messageId: string, message: Buffer, expectChunk: number): Promise<{ header: ResultHeader; body: Buffer }> => {
    const view = ctx.conf.current('Server.ClientProxy.OutdatedGlobalConf');
    const service = parseServiceId(m.service);
    const signature = signDetached(message, signing.signer);
    const base = { side: 'client' as const, messageId, client: m.client, service: m.service, convenio: m.convenio, finalidad: m.finalidad };
    await ctx.log.append({ ...base, direction: 'request', at: ctx.now(), message, signature, signerCertSha256: signing.sha256 });
    const { body, contentType } = encodeSignedMessage(message, signature);
    const reply = await sendToProviderNodes(ctx, view, providers(view, service), body, contentType, BATCH_PATH);
    if (reply.contentType?.startsWith('multipart/related') !== true) {
      const fault = faultOf(reply.body);
      await ctx.log.recordFault({ faultId: fault.faultId, code: fault.code, side: 'client', at: ctx.now(), messageId, client: m.client, service: m.service, detail: fault.message.slice(0, 2000) });
      throw fault;
    }
    const signed = decodeSignedMessage(reply.body, reply.contentType, 'Server.ClientProxy.InvalidResponse');
    const verdict = verifyDetached(signed.message, signed.signature);
    if (!verdict.ok) throw new MiisError('Server.ClientProxy.InvalidSignatureValue');
    const cert = checkSigningCert(view.conf, verdict.certPem, verdict.certSha256, formatMemberId(service), ctx.now());
    if (!cert.ok) throw new MiisError('Server.ClientProxy.IncorrectCertificate', cert.reason);
    if (cert.ocsp !== undefined) await confirmByOcsp(ctx.ocsp, cert.ocsp, 'Server.ClientProxy.IncorrectCertificate');
    let decoded: ReturnType<typeof decodeMessage>;
    try {
      decoded = decodeMessage(signed.message);
    } catch (err) {
      throw new MiisError('Server.ClientProxy.InvalidResponse', (err as Error).message, { cause: err });
    }
    const h = decoded.header as Partial<ResultHeader>;
    if (h.type !== 'resultado' || h.batchId !== m.batchId || h.chunk !== expectChunk || h.requestSha256 !== sha256Hex(message)) {
      throw new MiisError('Server.ClientProxy.InconsistentResponse', `resultado de lote (trozo ${expectChunk})`);
    }
    await ctx.log.append({ ...base, direction: 'response', at: ctx.now(), message: signed.message, signature: signed.signature.toString('utf8'), signerCertSha256: verdict.certSha256 });
    return { header: h as ResultHeader, body: decoded.body };
  };

  const readRange = async (path: string, [start, end]: readonly [number, number]): Promise<Buffer> => {
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(end - start);
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
        if (bytesRead === 0) throw new MiisError('Client.InvalidBatchFile', 'el archivo guardado del lote cambió o se acortó');
        off += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  };

  const work = async (id: string): Promise<void> => {
    const row = require(id);
    const s = stateOf(row);
    const m = s.manifest;
    // the key of the client's member (the owner's, or a hosted member's on a shared node), looked up once per run
    const signing = checkClient(ctx, ctx.conf.current('Server.ClientProxy.OutdatedGlobalConf'), { client: parseClientId(m.client) });
    const folder = join(root, id);
    const input = join(folder, 'entrada');
    const resultPath = join(folder, 'resultado.jsonl');
    const rejectedPath = join(folder, 'rechazados.csv');
    // cut the result files back to the last acknowledged chunk (a stop between append and commit)
    if (!existsSync(resultPath)) await appendFile(resultPath, '');
    if (!existsSync(rejectedPath)) await appendFile(rejectedPath, 'linea;motivo\n');
    await truncate(resultPath, s.resultBytes);
    if (s.rejectedBytes > 0) await truncate(rejectedPath, s.rejectedBytes);
    else s.rejectedBytes = Buffer.byteLength('linea;motivo\n');
    delete s.error;
    s.startedAtMs = ctx.now().getTime();
    store.update(id, { status: 'en-curso', state: JSON.stringify(s) }, ctx.now());
    if (!s.manifestAcked) {
      await exchange(m, signing, `lote:${id}:manifiesto`, encodeMessage(m), -1);
      s.manifestAcked = true;
      store.update(id, { state: JSON.stringify(s) }, ctx.now());
    }
    let next = row.chunksDone;
    const inFlight: Promise<{ header: ResultHeader; body: Buffer }>[] = [];
    let launched = next;
    const launch = (): void => {
      while (!stopping && launched < m.chunks.length && inFlight.length < CHUNKS_IN_FLIGHT) {
        const i = launched;
        const entry = m.chunks[i] as ChunkEntry;
        const p = readRange(input, s.ranges[i] as [number, number]).then((bytes) => {
          if (sha256Hex(bytes) !== entry.sha256) throw new MiisError('Client.InvalidBatchFile', `el trozo ${i} del archivo guardado no es el del manifiesto`);
          return exchange(m, signing, `lote:${id}:${i}`, encodeMessage({ type: 'trozo', batchId: id, chunk: i, sha256: entry.sha256 }, bytes), i);
        });
        p.catch(() => undefined);
        inFlight.push(p);
        launched += 1;
      }
    };
    launch();
    while (inFlight.length > 0) {
      const answer = await (inFlight.shift() as Promise<{ header: ResultHeader; body: Buffer }>);
      if (stopping) {
        await Promise.allSettled(inFlight);
        break;
      }
      const entry = m.chunks[next] as ChunkEntry;
      const lines = splitLines(answer.body);
      if (lines.length !== entry.records) throw new MiisError('Server.ClientProxy.InconsistentResponse', `trozo ${next}: ${lines.length} resultados para ${entry.records} registros`);
      let rejectedText = '';
      let rejected = 0;
      for (const l of lines) {
        if (!l.includes('"rechazado"')) continue;
        const r = JSON.parse(l) as { linea: number; rechazado?: string };
        if (r.rechazado === undefined) continue;
        rejected += 1;
        rejectedText += `${r.linea};${r.rechazado.replace(/[;\r\n]/g, ' ')}\n`;
      }
      const resultText = `${lines.join('\n')}\n`;
      await appendFile(resultPath, resultText);
      if (rejectedText.length > 0) await appendFile(rejectedPath, rejectedText);
      s.resultBytes += Buffer.byteLength(resultText);
      s.rejectedBytes += Buffer.byteLength(rejectedText);
      s.recordsDone += entry.records;
      s.rejected += rejected;
      next += 1;
      store.update(id, { chunksDone: next, state: JSON.stringify(s), ...(next === m.chunks.length ? { status: 'terminado' as const } : {}) }, ctx.now());
      if (runner.afterChunk !== undefined) await runner.afterChunk(id, next - 1);
      launch();
    }
    if (next < m.chunks.length) store.update(id, { status: 'detenido' }, ctx.now());
  };

  const start = (id: string): void => {
    if (running.has(id) || stopping) return;
    store.update(id, { status: 'en-curso' }, ctx.now()); // at once: a caller polling right after sees it running
    const p = work(id).catch((err: unknown) => {
      const e = toMiisError(err, 'Server.ClientProxy.InternalError');
      const r = store.get(id);
      if (r === undefined) return;
      const s = stateOf(r);
      s.error = `${e.code}: ${e.message}`.slice(0, 1000);
      store.update(id, { status: stopping ? 'detenido' : 'fallido', state: JSON.stringify(s) }, ctx.now());
      ctx.info(`lote ${id}: ${s.error}`);
    }).finally(() => running.delete(id));
    running.set(id, p);
  };

  const runner: BatchRunner = {
    async submit(input) {
      const view = ctx.conf.current('Server.ClientProxy.OutdatedGlobalConf');
      let service: ServiceId;
      let client: ReturnType<typeof parseClientId>;
      try {
        client = parseClientId(input.client);
        service = parseServiceId(input.service);
      } catch (err) {
        rmSync(input.upload, { force: true });
        throw new MiisError('Client.InvalidBatchFile', (err as Error).message, { cause: err });
      }
      const clientText = formatClientId(client);
      try {
        checkClient(ctx, view, { client }); // the owner's subsystems, or a hosted member's
      } catch (err) {
        rmSync(input.upload, { force: true });
        throw err;
      }
      const trama: GlobalConfTrama | undefined = tramaOfService(view.conf.tramas, serviceKey(service), input.convenio);
      if (trama === undefined) {
        rmSync(input.upload, { force: true });
        throw new MiisError('Client.InvalidBatchFile', `no hay trama publicada para ${serviceKey(service)} bajo el convenio ${input.convenio}`);
      }
      const size = Math.min(MAX_CHUNK_RECORDS, input.chunkRecords ?? trama.chunkRecords ?? DEFAULT_CHUNK_RECORDS);
      let scan: Scan;
      try {
        scan = await scanFile(input.upload, input.format, size, ctx.limits.maxMessageBytes);
      } catch (err) {
        rmSync(input.upload, { force: true });
        throw err;
      }
      let columns: { columns: string[]; separator: string } | undefined;
      if (input.format === 'csv') {
        const h = readCsvHeader(scan.header ?? '', trama);
        if (typeof h === 'string') {
          rmSync(input.upload, { force: true });
          throw new MiisError('Client.InvalidBatchFile', h);
        }
        columns = h;
      }
      if (scan.records === 0) {
        rmSync(input.upload, { force: true });
        throw new MiisError('Client.InvalidBatchFile', 'el archivo no tiene registros');
      }
      const serviceText = formatServiceId(service);
      const same = store.findSame(scan.sha256, clientText, serviceText, input.convenio, input.finalidad);
      if (same !== undefined) {
        rmSync(input.upload, { force: true });
        if (same.status !== 'terminado') start(same.id);
        return { view: toView(store.get(same.id) as BatchRow), resumed: true };
      }
      const id = randomUUID();
      const now = ctx.now();
      const manifest: BatchManifest = {
        format: MANIFEST_FORMAT, type: 'manifiesto', batchId: id, client: clientText, service: serviceText,
        convenio: input.convenio, finalidad: input.finalidad, trama: { id: trama.id, version: trama.version },
        file: { sha256: scan.sha256, format: input.format, records: scan.records, ...(columns === undefined ? {} : columns) },
        chunks: scan.chunks, createdAt: now.toISOString(),
      };
      mkdirSync(join(root, id), { recursive: true, mode: 0o700 });
      renameSync(input.upload, join(root, id, 'entrada'));
      const state: BatchState = { manifest, ranges: scan.ranges, manifestAcked: false, resultBytes: 0, rejectedBytes: 0, recordsDone: 0, rejected: 0 };
      store.create({ id, fileSha256: scan.sha256, client: clientText, service: serviceText, convenio: input.convenio, finalidad: input.finalidad, status: 'pendiente', chunksDone: 0, state: JSON.stringify(state), createdAt: now.toISOString() });
      start(id);
      return { view: toView(store.get(id) as BatchRow), resumed: false };
    },
    resume(id) {
      const r = require(id);
      if (r.status !== 'terminado') start(id);
      return toView(store.get(id) as BatchRow);
    },
    view(id) {
      const r = store.get(id);
      return r === undefined ? undefined : toView(r);
    },
    list() {
      return store.list().map(toView);
    },
    folder(id) {
      require(id);
      return join(root, id);
    },
    async stop() {
      stopping = true;
      await Promise.allSettled([...running.values()]);
    },
  };
  return runner;
}

/** At start: batches a previous run left in progress (stopped without a drain) are marked stopped, to be resumed. */
export function markInterrupted(store: BatchStore, now: Date): void {
  for (const b of store.list(1000)) if (b.status === 'en-curso' || b.status === 'pendiente') store.update(b.id, { status: 'detenido' }, now);
}
