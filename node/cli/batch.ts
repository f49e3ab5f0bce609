/**
 * `miis-node lote enviar|reanudar|estado`: batch exchanges (lotes) through the running node's IS
 * port (node/pipeline/batch-api.ts). `enviar` streams the file to the node, which splits, signs
 * and sends it (node/pipeline/batch-consumer.ts); the same file sent again resumes its batch. The
 * command waits, printing progress (rate and ETA on a terminal), then writes the result file (one
 * line per input line) and the rejected-records file (line number and reason).
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { MiisError, isFaultCode } from '../../core/errors.js';
import { formatTable, toJson } from '../../runtime/cli-kit.js';
import type { BatchView } from '../pipeline/batch-consumer.js';
import type { NodeStore } from '../store/node-store.js';

export interface BatchCliHelpers {
  readonly withDir: (cmd: Command) => Command;
  readonly withStore: <T>(dir: string, fn: (s: NodeStore) => T | Promise<T>) => Promise<T>;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  /** Whether standard error is a terminal (progress line with rate and ETA). */
  readonly tty: boolean;
}

interface Reply {
  readonly status: number;
  readonly body: Buffer;
}

function call(base: string, method: string, path: string, body?: { file: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': String(statSync(body.file).size) };
    const req = request(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(new MiisError('Config.InvalidInput', `no se pudo contactar al nodo en ${base} (¿está en marcha? «miis-node serve»): ${err.message}`, { cause: err })));
    if (body === undefined) req.end();
    else pipeline(createReadStream(body.file), req).catch(reject);
  });
}

function json<T>(r: Reply): T {
  const value = JSON.parse(r.body.toString('utf8') || 'null') as T & { codigo?: string; error?: string };
  if (r.status >= 400) {
    const code = value?.codigo !== undefined && isFaultCode(value.codigo) ? value.codigo : 'Config.InvalidInput';
    const e = new MiisError(code, value?.error ?? `HTTP ${r.status}`);
    throw Object.assign(e, { message: value?.error ?? e.message });
  }
  return value;
}

async function download(base: string, path: string, file: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = request(new URL(path, base), { method: 'GET' }, (res) => {
      if ((res.statusCode ?? 0) !== 200) {
        res.resume();
        reject(new MiisError('Config.NotFound', `${path} (HTTP ${res.statusCode})`));
        return;
      }
      pipeline(res, createWriteStream(file)).then(resolve, reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const fmt = (n: number): string => Math.round(n).toLocaleString('es-PE');

function progressLine(v: BatchView, startedMs: number, startedRecords: number, nowMs: number): string {
  const secs = Math.max(0.001, (nowMs - startedMs) / 1000);
  const rate = (v.registrosHechos - startedRecords) / secs;
  const eta = rate > 0 ? (v.registros - v.registrosHechos) / rate : undefined;
  return `lote ${v.id.slice(0, 8)}: trozo ${v.trozosHechos}/${v.trozos}, ${fmt(v.registrosHechos)}/${fmt(v.registros)} registros, ${fmt(rate)}/s${eta === undefined ? '' : `, faltan ~${Math.ceil(eta)} s`}`;
}

/** Poll until the batch is done, failed or stopped; progress on a terminal. */
async function waitFor(h: BatchCliHelpers, base: string, id: string): Promise<BatchView> {
  let v = json<BatchView>(await call(base, 'GET', `/lotes/${id}`));
  const t0 = Date.now();
  const r0 = v.registrosHechos;
  while (v.estado === 'en-curso' || v.estado === 'pendiente') {
    await new Promise((r) => setTimeout(r, 300));
    v = json<BatchView>(await call(base, 'GET', `/lotes/${id}`));
    if (h.tty) h.err(`\r${progressLine(v, t0, r0, Date.now())}\x1b[K`);
  }
  if (h.tty) h.err('\n');
  return v;
}

async function finish(h: BatchCliHelpers, base: string, v0: BatchView, prefix: string, asJson: boolean): Promise<void> {
  const v = await waitFor(h, base, v0.id);
  if (v.estado !== 'terminado') {
    throw new MiisError('Config.InvalidInput', `el lote ${v.id} quedó ${v.estado} en el trozo ${v.trozosHechos}/${v.trozos}${v.error === null ? '' : `: ${v.error}`}; continúe con «miis-node lote reanudar ${v.id}»`);
  }
  const resultado = `${prefix}.resultado.jsonl`;
  const rechazados = `${prefix}.rechazados.csv`;
  await download(base, `/lotes/${v.id}/resultado`, resultado);
  await download(base, `/lotes/${v.id}/rechazados`, rechazados);
  if (asJson) h.out(toJson({ ...v, archivos: { resultado, rechazados } }));
  else h.out(`Lote ${v.id} terminado: ${fmt(v.registros)} registros en ${v.trozos} trozos, ${fmt(v.rechazados)} rechazados.\nResultado: ${resultado}\nRechazados: ${rechazados}`);
}

async function isBase(h: BatchCliHelpers, dir: string): Promise<string> {
  const s = await h.withStore(dir, (store) => store.settings());
  const host = s.isHost === '0.0.0.0' ? '127.0.0.1' : s.isHost === '::' ? '[::1]' : s.isHost.includes(':') ? `[${s.isHost}]` : s.isHost;
  return `http://${host}:${s.isPort}/`;
}

export function registerBatchCommands(program: Command, h: BatchCliHelpers): void {
  const lote = program.command('lote').description('intercambios por lotes: un archivo de registros (CSV o JSONL) enviado por trozos firmados, reanudable');
  h.withDir(lote.command('enviar'))
    .description('entrega un archivo al nodo (en marcha), que lo envía por trozos firmados al nodo proveedor; espera y escribe el resultado y los rechazados')
    .requiredOption('--servicio <servicio>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO[/VERSIÓN]')
    .requiredOption('--convenio <convenio>', 'convenio bajo el que se hace el intercambio')
    .requiredOption('--finalidad <código>', 'finalidad, p. ej. FOCALIZACION')
    .requiredOption('--archivo <ruta>', 'archivo .csv (con encabezado de la trama) o .jsonl')
    .option('--cliente <subsistema>', 'subsistema cliente (por omisión, el único del nodo)')
    .option('--trozo <n>', 'registros por trozo (por omisión, los de la trama o 10 000)')
    .option('--salida <prefijo>', 'prefijo de los archivos de salida (por omisión, la ruta del archivo)')
    .option('--json', 'salida JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-node lote enviar --servicio PE/GOB/20295613620/RUPN/consultarPadron/v1 \\\n    --convenio CONV-001-2026 --finalidad FOCALIZACION --archivo padron-2026-06.csv\n')
    .action(async (o: { dir: string; servicio: string; convenio: string; finalidad: string; archivo: string; cliente?: string; trozo?: string; salida?: string; json?: boolean }) => {
      const format = /\.jsonl$/i.test(o.archivo) || /\.ndjson$/i.test(o.archivo) ? 'jsonl' : /\.csv$/i.test(o.archivo) ? 'csv' : undefined;
      if (format === undefined) throw new MiisError('Client.InvalidBatchFile', 'use un archivo .csv o .jsonl');
      try {
        statSync(o.archivo);
      } catch {
        throw new MiisError('Config.NotFound', `el archivo ${o.archivo}`);
      }
      const client = o.cliente ?? await h.withStore(o.dir, async (s) => {
        const clients = await s.clients();
        if (clients.length !== 1) throw new MiisError('Config.InvalidInput', `indique --cliente (el nodo tiene ${clients.length} subsistemas)`);
        return clients[0] as string;
      });
      const base = await isBase(h, o.dir);
      const q = new URLSearchParams({ cliente: client, servicio: o.servicio, convenio: o.convenio, finalidad: o.finalidad, formato: format, ...(o.trozo === undefined ? {} : { trozo: o.trozo }) });
      const r = json<{ lote: BatchView; reanudado: boolean }>(await call(base, 'POST', `/lotes?${q.toString()}`, { file: o.archivo }));
      if (r.reanudado && o.json !== true) h.err(`el mismo archivo ya era el lote ${r.lote.id} (${r.lote.estado}, trozo ${r.lote.trozosHechos}/${r.lote.trozos}): se continúa\n`);
      await finish(h, base, r.lote, o.salida ?? o.archivo, o.json === true);
    });
  h.withDir(lote.command('reanudar'))
    .description('continúa un lote detenido o fallido desde el último trozo confirmado, espera y escribe el resultado')
    .argument('<id>', 'identificador del lote (miis-node lote estado)')
    .requiredOption('--salida <prefijo>', 'prefijo de los archivos de salida')
    .option('--json', 'salida JSON')
    .action(async (id: string, o: { dir: string; salida: string; json?: boolean }) => {
      const base = await isBase(h, o.dir);
      const v = json<BatchView>(await call(base, 'POST', `/lotes/${encodeURIComponent(id)}/reanudar`));
      await finish(h, base, v, o.salida, o.json === true);
    });
  h.withDir(lote.command('estado'))
    .description('progreso de un lote, o de los últimos lotes')
    .argument('[id]', 'identificador del lote')
    .option('--json', 'salida JSON')
    .action(async (id: string | undefined, o: { dir: string; json?: boolean }) => {
      const base = await isBase(h, o.dir);
      if (id !== undefined) {
        const v = json<BatchView>(await call(base, 'GET', `/lotes/${encodeURIComponent(id)}`));
        h.out(o.json === true ? toJson(v) : `Lote ${v.id} — ${v.estado}\nServicio: ${v.servicio} (convenio ${v.convenio}, ${v.finalidad}; trama ${v.trama})\nTrozos: ${v.trozosHechos}/${v.trozos}; registros: ${fmt(v.registrosHechos)}/${fmt(v.registros)}; rechazados: ${fmt(v.rechazados)}${v.error === null ? '' : `\nError: ${v.error}`}`);
        return;
      }
      const list = json<BatchView[]>(await call(base, 'GET', '/lotes'));
      h.out(o.json === true ? toJson(list) : formatTable(['LOTE', 'ESTADO', 'TROZOS', 'REGISTROS', 'RECHAZADOS', 'SERVICIO', 'CREADO'],
        list.map((v) => [v.id, v.estado, `${v.trozosHechos}/${v.trozos}`, `${v.registrosHechos}/${v.registros}`, String(v.rechazados), v.servicio, v.creado])));
    });
}
