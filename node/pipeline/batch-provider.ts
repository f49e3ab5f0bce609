/**
 * Provider side of a batch exchange (lote), on the node-to-node port next to the SOAP path
 * (`POST /miis/v1/lote`): the same peer authentication (TLS certificate of a node hosting the
 * client), signature check and access decision as SOAP (node/pipeline/access-decision.ts), then
 * - a manifest: the published trama must be the one cited; stored; answered with a signed acknowledgement;
 * - a chunk: its bytes must match the manifest's SHA-256; each record is checked with the trama
 *   (node/pipeline/batch-format.ts), the valid ones go to the backend in bulk (sql adapter), and
 *   the signed result (one line per record line) goes back. A (batch, chunk) done is remembered:
 *   a writing service's result is answered again without applying the chunk twice.
 * One message-log record per message and direction (not per record); the request record indexes
 * the chunk's DNIs (data-subject index) when the trama's key is a DNI.
 */
import { MiisError } from '../../core/errors.js';
import { acceptedAuthCerts, type GlobalConfTrama } from '../../core/global-conf-model.js';
import { formatClientId, formatMemberId, parseClientId, parseServiceId, serviceKey, type ClientId, type ServiceId } from '../../core/identifiers.js';
import { limaDate } from '../../core/iso-date.js';
import { signDetached, verifyDetached } from '../../core/signature.js';
import { tramaOfService } from '../../core/trama.js';
import { checkSigningCert, confirmByOcsp, isRevoked } from '../certs/signing-cert.js';
import { nodesOf, type ConfView } from '../conf/global-conf-client.js';
import type { BatchStore } from '../store/batch-store.js';
import type { LocalService } from '../store/local-store.js';
import { decideAccess } from './access-decision.js';
import {
  checkRecord, decodeMessage, encodeMessage, parseRecord, readManifest, sha256Hex, splitLines,
  type BatchManifest, type ChunkHeader, type ResultHeader,
} from './batch-format.js';
import type { NodeContext } from './context.js';
import { decodeProviderMessage, providerSigning } from './server-proxy.js';
import { encodeSignedMessage } from './signed-message.js';

export const BATCH_PATH = '/miis/v1/lote';

/**
 * Test-only crash point (test/e2e/lote-kill9.test.ts): the provider process kills itself with
 * SIGKILL after a writing service committed this chunk index and before node.db records it done.
 */
const KILL_AFTER_APPLY: number | undefined = process.env['MIIS_TEST_KILL_AFTER_APPLY'] === undefined ? undefined : Number(process.env['MIIS_TEST_KILL_AFTER_APPLY']);
/** Test-only hold (same test): chunks from this index on are never answered (kept in flight), nothing of them applied. */
const HOLD_FROM_CHUNK: number | undefined = process.env['MIIS_TEST_HOLD_FROM_CHUNK'] === undefined ? undefined : Number(process.env['MIIS_TEST_HOLD_FROM_CHUNK']);

interface Authorized {
  readonly manifest: BatchManifest;
  readonly client: ClientId;
  readonly service: ServiceId;
  readonly local: LocalService;
  readonly trama: GlobalConfTrama;
}

function peerHostsClient(view: ConfView, client: string, peerSha256: string | undefined): void {
  if (peerSha256 === undefined || !nodesOf(view, client).some((n) => acceptedAuthCerts(n).includes(peerSha256))) {
    throw new MiisError('Server.ServerProxy.SslAuthenticationFailed', client);
  }
  if (isRevoked(view.conf, peerSha256)) throw new MiisError('Server.ServerProxy.SslAuthenticationFailed', `${client} (certificado TLS revocado)`);
}

function authorizeManifest(ctx: NodeContext, view: ConfView, manifest: BatchManifest): Authorized {
  let client: ClientId;
  let service: ServiceId;
  try {
    client = parseClientId(manifest.client);
    service = parseServiceId(manifest.service);
  } catch (err) {
    throw new MiisError('Server.ServerProxy.InvalidBatch', `manifiesto: ${(err as Error).message}`, { cause: err });
  }
  const local = ctx.local();
  const decision = decideAccess({
    localServices: local.services, localClients: local.clients, acl: local.acl,
    accessRights: view.conf.accessRights ?? [], agreements: view.conf.agreements ?? [], today: limaDate(ctx.now()),
  }, { client, service, convenio: manifest.convenio, finalidad: manifest.finalidad });
  if (!decision.allowed) throw new MiisError(decision.code, decision.detail);
  const trama = tramaOfService(view.conf.tramas, serviceKey(service), manifest.convenio);
  if (trama === undefined) throw new MiisError('Server.ServerProxy.UnknownTrama', `${serviceKey(service)} bajo ${manifest.convenio}`);
  if (trama.id !== manifest.trama.id || trama.version !== manifest.trama.version) {
    throw new MiisError('Server.ServerProxy.UnknownTrama', `el lote cita ${manifest.trama.id} v${manifest.trama.version}; la publicada es ${trama.id} v${trama.version}`);
  }
  return { manifest, client, service, local: local.services.get(serviceKey(service)) as LocalService, trama };
}

async function verifyBatchSignature(ctx: NodeContext, view: ConfView, message: Buffer, signature: Buffer, client: ClientId): Promise<string> {
  const verdict = verifyDetached(message, signature);
  if (!verdict.ok) {
    ctx.info(`firma de lote rechazada: ${verdict.reason}`);
    throw new MiisError('Server.ServerProxy.InvalidSignatureValue');
  }
  const cert = checkSigningCert(view.conf, verdict.certPem, verdict.certSha256, formatMemberId(client), ctx.now());
  if (!cert.ok) throw new MiisError('Server.ServerProxy.IncorrectCertificate', cert.reason);
  if (cert.ocsp !== undefined) await confirmByOcsp(ctx.ocsp, cert.ocsp, 'Server.ServerProxy.IncorrectCertificate');
  return verdict.certSha256;
}

/** One result line per record line, in order; the number rejected. */
export async function answerChunk(ctx: NodeContext, a: Authorized, header: ChunkHeader, body: Buffer): Promise<{ lines: string[]; rejected: number; subjects: string[] }> {
  const entry = a.manifest.chunks[header.chunk] as BatchManifest['chunks'][number];
  const lines = splitLines(body);
  if (lines.length !== entry.records) throw new MiisError('Server.ServerProxy.InvalidBatch', `trozo ${header.chunk}: ${lines.length} registros; el manifiesto dice ${entry.records}`);
  const out: string[] = new Array<string>(lines.length);
  const valid: { i: number; id: string; fields: Record<string, string> }[] = [];
  let rejected = 0;
  lines.forEach((line, i) => {
    const lineNo = entry.firstLine + i;
    const rec = parseRecord(line, a.manifest.file);
    const checked = typeof rec === 'string' ? { ok: false as const, reason: rec } : checkRecord(rec, a.trama);
    if (!checked.ok) {
      out[i] = JSON.stringify({ linea: lineNo, rechazado: checked.reason });
      rejected += 1;
    } else valid.push({ i, id: checked.id, fields: checked.fields });
  });
  if (valid.length > 0) {
    const adapter = await ctx.adapters?.get(a.local);
    if (adapter?.bulk === undefined) throw new MiisError('Server.ServerProxy.BatchNotSupported', `${a.local.serviceKey} (use el adaptador sql)`);
    // a writing service records (batch, client, chunk) in its own database with the writes: at most once
    const answers = await adapter.bulk(valid.map((v) => ({ id: v.id, fields: v.fields })), formatClientId(a.client),
      { batchId: a.manifest.batchId, client: a.manifest.client, chunk: header.chunk });
    valid.forEach((v, k) => {
      const ans = answers[k];
      const lineNo = entry.firstLine + v.i;
      out[v.i] = ans === undefined ? JSON.stringify({ linea: lineNo, id: v.id, error: 'sin respuesta del servicio' })
        : 'changed' in ans ? JSON.stringify({ linea: lineNo, id: v.id, aplicado: ans.changed })
          : JSON.stringify({ linea: lineNo, id: v.id, encontrado: ans.found, ...(ans.found ? { datos: ans.rows } : {}) });
    });
  }
  const keyRule = a.trama.fields.find((f) => f.name === a.trama.key)?.rule;
  return { lines: out, rejected, subjects: keyRule === 'dni' ? valid.map((v) => v.id) : [] };
}

export interface BatchReply {
  readonly body: Buffer;
  readonly contentType: string;
}

/** A signed manifest or chunk in, a signed acknowledgement or result out. */
export async function processBatchMessage(ctx: NodeContext, store: BatchStore | undefined, body: Buffer, contentType: string | undefined, peerSha256: string | undefined,
  delivered?: (manifest: BatchManifest, receivedAt: string) => void): Promise<BatchReply> {
  if (store === undefined) throw new MiisError('Server.ServerProxy.BatchNotSupported', 'este nodo no guarda lotes (base de datos PostgreSQL)');
  const view = ctx.conf.current('Server.ServerProxy.OutdatedGlobalConf');
  const signed = decodeProviderMessage(body, contentType);
  let decoded: ReturnType<typeof decodeMessage>;
  try {
    decoded = decodeMessage(signed.message);
  } catch (err) {
    throw new MiisError('Server.ServerProxy.InvalidBatch', (err as Error).message, { cause: err });
  }
  const { header } = decoded;
  let a: Authorized;
  let chunk: ChunkHeader | undefined;
  if (header['type'] === 'manifiesto') {
    const manifest = readManifest(header);
    if (typeof manifest === 'string') throw new MiisError('Server.ServerProxy.InvalidBatch', manifest);
    peerHostsClient(view, manifest.client, peerSha256);
    a = authorizeManifest(ctx, view, manifest);
  } else if (header['type'] === 'trozo') {
    const h = header as Partial<ChunkHeader>;
    if (typeof h.batchId !== 'string' || typeof h.chunk !== 'number' || typeof h.sha256 !== 'string') throw new MiisError('Server.ServerProxy.InvalidBatch', 'cabecera de trozo incompleta');
    // the client is the one of the manifest this node stored; the peer must host it
    const stored = findManifest(store, h.batchId, view, peerSha256);
    if (stored === undefined) throw new MiisError('Server.ServerProxy.InvalidBatch', `lote ${h.batchId.slice(0, 64)} desconocido (envíe primero su manifiesto)`);
    a = authorizeManifest(ctx, view, stored);
    const entry = stored.chunks[h.chunk];
    if (!Number.isSafeInteger(h.chunk) || entry === undefined) throw new MiisError('Server.ServerProxy.InvalidBatch', `trozo ${h.chunk} fuera del lote`);
    if (sha256Hex(decoded.body) !== h.sha256 || h.sha256 !== entry.sha256) throw new MiisError('Server.ServerProxy.InvalidBatch', `trozo ${h.chunk}: su SHA-256 no es el del manifiesto`);
    chunk = h as ChunkHeader;
  } else {
    throw new MiisError('Server.ServerProxy.InvalidBatch', 'tipo de mensaje desconocido');
  }
  ctx.evidence?.check('Server.ServerProxy.TimestampUnavailable');
  const signerSha = await verifyBatchSignature(ctx, view, signed.message, signed.signature, a.client);
  const messageId = chunk === undefined ? `lote:${a.manifest.batchId}:manifiesto` : `lote:${a.manifest.batchId}:${chunk.chunk}`;
  const record = (direction: 'request' | 'response', message: Buffer, signature: string, sha: string, fault?: string) => ({
    side: 'server' as const, direction, messageId, client: a.manifest.client, service: a.manifest.service, convenio: a.manifest.convenio,
    finalidad: a.manifest.finalidad, at: ctx.now(), message, signature, signerCertSha256: sha, fault,
  });
  const requestSha = sha256Hex(signed.message);
  let result: Buffer;
  if (chunk === undefined) {
    await ctx.log.append(record('request', signed.message, signed.signature.toString('utf8'), signerSha));
    store.putManifest(a.manifest.batchId, a.manifest.client, JSON.stringify(a.manifest), ctx.now());
    const ack: ResultHeader = { type: 'resultado', batchId: a.manifest.batchId, chunk: -1, requestSha256: requestSha, records: a.manifest.file.records };
    result = encodeMessage(ack);
  } else {
    const done = store.chunkDone(a.manifest.batchId, a.manifest.client, chunk.chunk);
    if (HOLD_FROM_CHUNK !== undefined && chunk.chunk >= HOLD_FROM_CHUNK) await new Promise<never>(() => undefined);
    let lines: string[];
    let rejected: number;
    let subjects: string[] = [];
    if (done?.result !== undefined && done.result !== null) {
      // a writing service's chunk already applied: the same answer again, nothing applied twice
      const prev = decodeMessage(done.result);
      lines = splitLines(prev.body);
      rejected = Number((prev.header as Partial<ResultHeader>).rejected ?? 0);
    } else {
      const adapter = await ctx.adapters?.get(a.local).catch((err: unknown) => {
        throw new MiisError('Server.ServerProxy.ServiceFailed', 'el adaptador del servicio está mal configurado', { cause: err });
      });
      if (adapter?.bulk === undefined) throw new MiisError('Server.ServerProxy.BatchNotSupported', `${a.local.serviceKey} (use el adaptador sql)`);
      ({ lines, rejected, subjects } = await answerChunk(ctx, a, chunk, decoded.body));
    }
    await ctx.log.append({ ...record('request', signed.message, signed.signature.toString('utf8'), signerSha), subjects });
    const h: ResultHeader = { type: 'resultado', batchId: a.manifest.batchId, chunk: chunk.chunk, requestSha256: requestSha, records: lines.length, rejected };
    result = encodeMessage(h, Buffer.from(lines.length === 0 ? '' : `${lines.join('\n')}\n`, 'utf8'));
    if (done === undefined) {
      const adapter = await ctx.adapters?.get(a.local);
      if (adapter?.writes === true && KILL_AFTER_APPLY !== undefined && KILL_AFTER_APPLY === chunk.chunk) process.kill(process.pid, 'SIGKILL');
      store.markChunk(a.manifest.batchId, a.manifest.client, chunk.chunk, requestSha, adapter?.writes === true ? result : null, ctx.now());
      // the last chunk of the batch: central hears of the delivery (periodicity of the trama)
      const p = store.progress(a.manifest.batchId, a.manifest.client);
      if (delivered !== undefined && p !== undefined && p.chunksDone === a.manifest.chunks.length) delivered(a.manifest, p.receivedAt);
    }
  }
  // signed with the key of the service's member (a hosted member's on a shared node)
  const signing = providerSigning(ctx, a);
  const signature = signDetached(result, signing.signer);
  await ctx.log.append(record('response', result, signature, signing.sha256));
  return encodeSignedMessage(result, signature) as BatchReply;
}

/** The stored manifest of a batch whose client the peer's node hosts. */
function findManifest(store: BatchStore, batchId: string, view: ConfView, peerSha256: string | undefined): BatchManifest | undefined {
  // the client is not in the chunk header: try the peer's subsystems
  for (const node of view.conf.nodes) {
    if (peerSha256 === undefined || !acceptedAuthCerts(node).includes(peerSha256)) continue;
    for (const client of node.clients) {
      const json = store.manifest(batchId, client);
      if (json !== undefined) {
        peerHostsClient(view, client, peerSha256);
        return JSON.parse(json) as BatchManifest;
      }
    }
  }
  return undefined;
}

