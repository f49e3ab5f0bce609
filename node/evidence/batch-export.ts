/**
 * Export of one batch exchange (lote) as a self-contained evidence bundle that a third party checks
 * with sh, sha256sum, openssl and xmlsec1 alone (docs/verify-evidence.md, «Lotes»):
 *
 *   manifiesto/     the signed manifest and its acknowledgement, exported like one exchange
 *                   (node/evidence/log-export.ts: message bytes, signature, certificate, record
 *                   preimage, inclusion proof, sealed root, RFC 3161 token, verify.sh)
 *   trozo-<n>/      each chunk and its signed result, the same way (request.xml = header line + the
 *                   chunk's exact bytes)
 *   verify.sh       runs every folder's verify.sh and checks that the bytes of each chunk have the
 *                   SHA-256 the signed manifest lists for it, and that no chunk is missing or extra
 *   SHA256SUMS
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiisError } from '../../core/errors.js';
import { exportExchange } from './log-export.js';
import type { SharedMessageLog } from './pg-message-log.js';

export interface BatchExportResult {
  readonly chunks: number;
  readonly folders: readonly string[];
}

/** The manifest's JSON header (its first line; format in node/pipeline/batch-format.ts, not imported: evidence sits below pipeline). */
function manifestHeader(message: Buffer): { chunks: unknown[] } | undefined {
  const nl = message.indexOf(0x0a);
  try {
    const h = JSON.parse(message.subarray(0, nl < 0 ? message.length : nl).toString('utf8')) as { type?: unknown; chunks?: unknown };
    return h.type === 'manifiesto' && Array.isArray(h.chunks) ? { chunks: h.chunks } : undefined;
  } catch {
    return undefined;
  }
}

export const chunkFolder = (i: number): string => `trozo-${i}`;

export async function exportBatch(log: SharedMessageLog, batchId: string, outDir: string, trustedCas: readonly string[]): Promise<BatchExportResult> {
  const manifestId = `lote:${batchId}:manifiesto`;
  const records = (await log.list({ messageId: manifestId })).filter((r) => r.direction === 'request');
  const first = records[0];
  if (first === undefined) throw new MiisError('Config.NotFound', `el lote ${batchId} en el registro de este nodo`);
  if (!first.bodyKept) throw new MiisError('Config.InvalidInput', `el manifiesto del lote ${batchId} no se guardó (servicio sensible): no hay lote que exportar`);
  const manifest = manifestHeader(first.message);
  if (manifest === undefined) throw new MiisError('Config.InvalidInput', `el manifiesto registrado del lote ${batchId} no es válido`);
  mkdirSync(outDir, { recursive: true });
  const folders = ['manifiesto'];
  await exportExchange(log, manifestId, join(outDir, 'manifiesto'), trustedCas);
  for (let i = 0; i < manifest.chunks.length; i += 1) {
    const messageId = `lote:${batchId}:${i}`;
    if ((await log.list({ messageId })).length === 0) throw new MiisError('Config.InvalidInput', `el trozo ${i} del lote ${batchId} no está en el registro de este nodo (¿lote sin terminar?)`);
    await exportExchange(log, messageId, join(outDir, chunkFolder(i)), trustedCas);
    folders.push(chunkFolder(i));
  }
  writeFileSync(join(outDir, 'verify.sh'), batchVerifyScript());
  const sums = [...folders.flatMap((f) => [`${f}/verify.sh`, `${f}/request.xml`]), 'verify.sh']
    .map((f) => `${createHash('sha256').update(readFileSync(join(outDir, f))).digest('hex')}  ${f}\n`).join('');
  writeFileSync(join(outDir, 'SHA256SUMS'), sums);
  return { chunks: manifest.chunks.length, folders };
}

/**
 * POSIX sh; needs only sh, sha256sum, cut, grep, head, tail, openssl and xmlsec1 (the last two
 * through each folder's verify.sh). Exit 0 only if every check passes. The chunk list is read from
 * the signed manifest (its first line, the JSON header): each entry is
 * `{"sha256":"<hex>","records":<n>,"firstLine":<n>}`, in chunk order.
 */
export function batchVerifyScript(): string {
  return `#!/bin/sh
# Verificación independiente de un lote MIIS (ver docs/verify-evidence.md, «Lotes»).
# Requiere solo: sh, sha256sum, cut, grep, head, tail, openssl, xmlsec1. Sale con 0 solo si todo es válido.
set -u
cd "$(dirname "$0")"
fail() { echo "FALLA: $*"; exit 1; }
sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1 || echo "aviso: SHA256SUMS no coincide (algún archivo cambió); se sigue verificando cada parte"
out=$(sh manifiesto/verify.sh 2>&1) || fail "manifiesto: $(echo "$out" | tail -n 1)"
echo "manifiesto: OK (firma, certificado, registro, inclusión y sello de tiempo)"
shas=$(head -n 1 manifiesto/request.xml | grep -o '"sha256":"[0-9a-f]\\{64\\}","records":[0-9]*,"firstLine"' | cut -d'"' -f4)
i=0
for s in $shas; do
  d="trozo-$i"
  [ -f "$d/verify.sh" ] || fail "falta el trozo $i que lista el manifiesto"
  out=$(sh "$d/verify.sh" 2>&1) || fail "$d: $(echo "$out" | tail -n 1)"
  [ "$(tail -n +2 "$d/request.xml" | sha256sum | cut -c1-64)" = "$s" ] || fail "$d: sus bytes no tienen el SHA-256 que lista el manifiesto firmado"
  echo "$d: OK (firma, sello y SHA-256 del manifiesto)"
  i=$((i + 1))
done
[ "$i" -gt 0 ] || fail "el manifiesto no lista trozos"
[ ! -e "trozo-$i" ] || fail "hay más trozos que los que lista el manifiesto"
echo "LOTE VERIFICADO: OK ($i trozos)"
`;
}
