/**
 * The IS-facing batch API on the IS port (same trust as SOAP: the entity's own network):
 *   POST /lotes?cliente=&servicio=&convenio=&finalidad=&formato=csv|jsonl[&trozo=N]  body = the file (streamed to disk)
 *        → 202 {lote, reanudado}; the same file sent again resumes its batch
 *   GET  /lotes, GET /lotes/<id>                      → progress (JSON)
 *   POST /lotes/<id>/reanudar                         → resume a stopped or failed batch
 *   GET  /lotes/<id>/resultado, /lotes/<id>/rechazados → the result files (JSONL; CSV linea;motivo)
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { MiisError } from '../../core/errors.js';
import { sendJson } from '../../runtime/http-reply.js';
import type { BatchRunner } from './batch-consumer.js';

/** Largest batch file accepted (bytes). */
export const MAX_BATCH_FILE_BYTES = 4 * 1024 * 1024 * 1024;
const ID = /^[0-9a-f-]{36}$/;

export async function serveBatchApi(req: IncomingMessage, res: ServerResponse, url: URL, batches: { runner: BatchRunner; uploadDir: string } | undefined): Promise<void> {
  if (batches === undefined) {
    req.resume();
    throw new MiisError('Server.ServerProxy.BatchNotSupported', 'este nodo no guarda lotes (base de datos PostgreSQL)');
  }
  const { runner } = batches;
  const parts = url.pathname.split('/').filter((p) => p.length > 0);
  if (parts.length === 1 && req.method === 'POST') {
    const q = (k: string): string => {
      const v = url.searchParams.get(k);
      if (v === null || v.length === 0) throw new MiisError('Client.InvalidBatchFile', `falta el parámetro ${k}`);
      return v;
    };
    let input: Parameters<BatchRunner['submit']>[0] | undefined;
    try {
      const formato = q('formato');
      if (formato !== 'csv' && formato !== 'jsonl') throw new MiisError('Client.InvalidBatchFile', 'formato: csv o jsonl');
      const trozo = url.searchParams.get('trozo');
      input = {
        upload: join(batches.uploadDir, `subida-${randomUUID()}`), format: formato,
        client: q('cliente'), service: q('servicio'), convenio: q('convenio'), finalidad: q('finalidad'),
        chunkRecords: trozo === null ? undefined : Number(trozo),
      };
      if (input.chunkRecords !== undefined && (!Number.isSafeInteger(input.chunkRecords) || input.chunkRecords < 1)) throw new MiisError('Client.InvalidBatchFile', 'trozo: entero positivo');
    } catch (err) {
      req.resume();
      throw err;
    }
    mkdirSync(batches.uploadDir, { recursive: true, mode: 0o700 });
    let size = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > MAX_BATCH_FILE_BYTES) cb(new MiisError('Client.MessageTooLarge', `${MAX_BATCH_FILE_BYTES} bytes`));
        else cb(null, chunk);
      },
    });
    try {
      await pipeline(req, limit, createWriteStream(input.upload, { mode: 0o600 }));
    } catch (err) {
      rmSync(input.upload, { force: true });
      throw err;
    }
    const { view, resumed } = await runner.submit(input);
    return sendJson(res, 202, { lote: view, reanudado: resumed });
  }
  if (parts.length === 1 && req.method === 'GET') return sendJson(res, 200, runner.list());
  const id = parts[1] as string;
  if (!ID.test(id)) return sendJson(res, 404, { error: 'lote desconocido' });
  if (parts.length === 2 && req.method === 'GET') {
    const v = runner.view(id);
    return v === undefined ? sendJson(res, 404, { error: `No existe el lote ${id}` }) : sendJson(res, 200, v);
  }
  if (parts.length === 3 && parts[2] === 'reanudar' && req.method === 'POST') {
    req.resume();
    return sendJson(res, 202, runner.resume(id));
  }
  if (parts.length === 3 && (parts[2] === 'resultado' || parts[2] === 'rechazados') && req.method === 'GET') {
    const file = join(runner.folder(id), parts[2] === 'resultado' ? 'resultado.jsonl' : 'rechazados.csv');
    if (!existsSync(file)) return sendJson(res, 404, { error: 'el lote aún no tiene resultados' });
    res.writeHead(200, { 'content-type': parts[2] === 'resultado' ? 'application/x-ndjson; charset=utf-8' : 'text/csv; charset=utf-8', 'content-length': statSync(file).size });
    await pipeline(createReadStream(file), res);
    return undefined;
  }
  return sendJson(res, 404, { error: 'Use POST /lotes, GET /lotes/<id>, POST /lotes/<id>/reanudar, GET /lotes/<id>/resultado|rechazados' });
}
