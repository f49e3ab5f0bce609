/**
 * Batch exchanges (lotes) in node.db (migration 5): on the consumer, each batch's state (manifest,
 * chunk boundaries, chunks acknowledged, bytes of the result files at the last acknowledgement) so a
 * stopped batch resumes from the last acknowledged chunk; on the provider, the manifests received
 * and the (batch, chunk) pairs done, so a chunk is never applied twice (a writing service's result
 * is kept and answered again). SQLite only (a node on PostgreSQL refuses batches for now).
 */
import Database from 'better-sqlite3';

export type BatchStatus = 'pendiente' | 'en-curso' | 'detenido' | 'terminado' | 'fallido';

export interface BatchRow {
  readonly id: string;
  readonly fileSha256: string;
  readonly client: string;
  readonly service: string;
  readonly convenio: string;
  readonly finalidad: string;
  readonly status: BatchStatus;
  readonly chunksDone: number;
  readonly state: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ChunkDone {
  readonly requestSha256: string;
  readonly result: Buffer | null;
}

export interface BatchStore {
  create(row: Omit<BatchRow, 'updatedAt'>): void;
  get(id: string): BatchRow | undefined;
  /** The unfinished (or finished) batch of the same file, client, service, agreement and purpose. */
  findSame(fileSha256: string, client: string, service: string, convenio: string, finalidad: string): BatchRow | undefined;
  list(limit?: number): BatchRow[];
  /** Acknowledge chunks: new count and state, in one transaction. */
  update(id: string, patch: { status?: BatchStatus; chunksDone?: number; state?: string }, at: Date): void;
  // provider side
  putManifest(batchId: string, client: string, manifestJson: string, at: Date): void;
  manifest(batchId: string, client: string): string | undefined;
  chunkDone(batchId: string, client: string, chunk: number): ChunkDone | undefined;
  markChunk(batchId: string, client: string, chunk: number, requestSha256: string, result: Buffer | null, at: Date): void;
  /** Chunks done of a received batch, and when its manifest arrived. */
  progress(batchId: string, client: string): { chunksDone: number; receivedAt: string } | undefined;
  /** Manifests received (provider): for reports of deliveries. */
  received(limit?: number): { batchId: string; client: string; manifestJson: string; receivedAt: string; chunksDone: number }[];
  close(): void;
}

interface Row {
  id: string; file_sha256: string; client: string; service: string; convenio: string; finalidad: string; status: BatchStatus;
  chunks_done: number; state_json: string; created_at: string; updated_at: string;
}

const toRow = (r: Row): BatchRow => ({
  id: r.id, fileSha256: r.file_sha256, client: r.client, service: r.service, convenio: r.convenio, finalidad: r.finalidad,
  status: r.status, chunksDone: r.chunks_done, state: r.state_json, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Opens its own connection to node.db (already migrated by the node store). */
export function openBatchStore(path: string): BatchStore {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  const get = db.prepare('SELECT * FROM batches WHERE id = ?');
  const markChunk = db.prepare('INSERT INTO batch_chunks_done (batch_id, client, chunk, request_sha256, result, done_at) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING');
  const chunkDone = db.prepare('SELECT request_sha256, result FROM batch_chunks_done WHERE batch_id = ? AND client = ? AND chunk = ?');
  return {
    create(r) {
      db.prepare(`INSERT INTO batches (id, file_sha256, client, service, convenio, finalidad, status, chunks_done, state_json, created_at, updated_at)
        VALUES (?,?,?,?,?,?,?,?,?,?,?)`).run(r.id, r.fileSha256, r.client, r.service, r.convenio, r.finalidad, r.status, r.chunksDone, r.state, r.createdAt, r.createdAt);
    },
    get(id) {
      const r = get.get(id) as Row | undefined;
      return r === undefined ? undefined : toRow(r);
    },
    findSame(sha, client, service, convenio, finalidad) {
      const r = db.prepare(`SELECT * FROM batches WHERE file_sha256 = ? AND client = ? AND service = ? AND convenio = ? AND finalidad = ?
        ORDER BY (status = 'terminado'), created_at DESC LIMIT 1`).get(sha, client, service, convenio, finalidad) as Row | undefined;
      return r === undefined ? undefined : toRow(r);
    },
    list(limit = 50) {
      return (db.prepare('SELECT * FROM batches ORDER BY created_at DESC LIMIT ?').all(limit) as Row[]).map(toRow);
    },
    update(id, patch, at) {
      const sets: string[] = ['updated_at = ?'];
      const values: unknown[] = [at.toISOString()];
      if (patch.status !== undefined) { sets.push('status = ?'); values.push(patch.status); }
      if (patch.chunksDone !== undefined) { sets.push('chunks_done = ?'); values.push(patch.chunksDone); }
      if (patch.state !== undefined) { sets.push('state_json = ?'); values.push(patch.state); }
      db.prepare(`UPDATE batches SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    },
    putManifest(batchId, client, manifestJson, at) {
      db.prepare('INSERT INTO batches_received (batch_id, client, manifest_json, received_at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING').run(batchId, client, manifestJson, at.toISOString());
    },
    manifest(batchId, client) {
      return (db.prepare('SELECT manifest_json FROM batches_received WHERE batch_id = ? AND client = ?').get(batchId, client) as { manifest_json: string } | undefined)?.manifest_json;
    },
    chunkDone(batchId, client, chunk) {
      const r = chunkDone.get(batchId, client, chunk) as { request_sha256: string; result: Buffer | null } | undefined;
      return r === undefined ? undefined : { requestSha256: r.request_sha256, result: r.result };
    },
    markChunk(batchId, client, chunk, requestSha256, result, at) {
      markChunk.run(batchId, client, chunk, requestSha256, result, at.toISOString());
    },
    progress(batchId, client) {
      const r = db.prepare(`SELECT r.received_at, (SELECT COUNT(*) FROM batch_chunks_done d WHERE d.batch_id = r.batch_id AND d.client = r.client) AS done
        FROM batches_received r WHERE r.batch_id = ? AND r.client = ?`).get(batchId, client) as { received_at: string; done: number } | undefined;
      return r === undefined ? undefined : { chunksDone: r.done, receivedAt: r.received_at };
    },
    received(limit = 100) {
      return (db.prepare(`SELECT r.batch_id, r.client, r.manifest_json, r.received_at,
          (SELECT COUNT(*) FROM batch_chunks_done d WHERE d.batch_id = r.batch_id AND d.client = r.client) AS done
        FROM batches_received r ORDER BY r.received_at DESC LIMIT ?`).all(limit) as { batch_id: string; client: string; manifest_json: string; received_at: string; done: number }[])
        .map((r) => ({ batchId: r.batch_id, client: r.client, manifestJson: r.manifest_json, receivedAt: r.received_at, chunksDone: r.done }));
    },
    close() {
      db.close();
    },
  };
}
