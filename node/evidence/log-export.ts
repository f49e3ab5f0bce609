/**
 * Export of one exchange as a self-contained evidence bundle a third party checks with xmlsec1,
 * openssl and sha256sum alone (docs/verify-evidence.md; `sh verify.sh` runs every step):
 *
 *   <part>.xml          the exact message bytes (part = request | response)
 *   <part>.sig.xml      the detached XML-DSig signature
 *   <part>.cert.pem     the signer's certificate (from the signature's KeyInfo)
 *   <part>.record.txt   the log record's hash preimage (metadata + digests, format miis-log/1)
 *   <part>.proof.txt    inclusion proof: one "L <hex>" or "R <hex>" line per tree level
 *   <part>.root.txt     the hash-tree root of the time-stamped batch
 *   <part>.tsr          the RFC 3161 time-stamp token over that root (DER; openssl -token_in)
 *   <part>.time         the record's instant as Unix seconds (for openssl verify -attime)
 *   ca.pem, tsa.pem     the instance CA(s) and the TSA certificate
 *   verify.sh, SHA256SUMS
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiisError } from '../../core/errors.js';
import { inclusionProof } from '../../core/hash-tree.js';
import { derToPem } from '../../core/pki.js';
import { verifyDetached } from '../../core/signature.js';
import { verifyTimeStampToken } from '../../core/tsp.js';
import { recordPreimage, type TimestampRecord } from './message-log.js';
import type { SharedMessageLog } from './pg-message-log.js';

export interface ExportResult {
  readonly files: readonly string[];
  readonly parts: readonly string[];
}

/** Either engine (SQLite through asSharedMessageLog; on PostgreSQL each record's own instance chain). */
export async function exportExchange(log: SharedMessageLog, messageId: string, outDir: string, trustedCas: readonly string[]): Promise<ExportResult> {
  const records = await log.list({ messageId });
  if (records.length === 0) throw new MiisError('Config.NotFound', `el mensaje ${messageId} en el registro de este nodo`);
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Buffer): void => {
    writeFileSync(join(outDir, name), data);
    files.push(name);
  };
  let tsaPem: string | undefined;
  const parts: string[] = [];
  // each chain's time-stamps read once (an exchange's records are usually in one chain)
  const stampsOf = new Map<string, Promise<readonly TimestampRecord[]>>();
  for (const r of records) {
    const part = parts.includes(r.direction) ? `${r.direction}-${r.seq}` : r.direction;
    if (!r.bodyKept) throw new MiisError('Config.InvalidInput', `el registro ${r.seq} es de un servicio sensible: solo se guardaron metadatos, no hay mensaje que exportar`);
    const instance = r.instanceId ?? log.instanceId;
    const chain = log.reader(instance);
    if (!stampsOf.has(instance)) stampsOf.set(instance, chain.timestamps());
    const stamp = (await stampsOf.get(instance)!).find((t) => t.firstSeq <= r.seq && r.seq <= t.lastSeq);
    if (stamp === undefined) throw new MiisError('Config.InvalidInput', `el registro ${r.seq} aún no tiene sello de tiempo; espere el siguiente lote e inténtelo de nuevo`);
    const v = verifyDetached(r.message, r.signature);
    if (!v.ok) throw new MiisError('Config.InvalidInput', `la firma del registro ${r.seq} no es válida: ${v.reason}`);
    const leaves = (await chain.rawRecords(stamp.firstSeq, stamp.lastSeq - stamp.firstSeq + 1)).map((x) => x.hash);
    const proof = inclusionProof(leaves, r.seq - stamp.firstSeq);
    const tv = verifyTimeStampToken(stamp.token, Buffer.from(stamp.root, 'hex'), trustedCas);
    if (!tv.ok) throw new MiisError('Config.InvalidInput', `el sello del registro ${r.seq} no es válido: ${tv.reason}`);
    tsaPem = derToPem(tv.tsaCertDer);
    write(`${part}.xml`, r.message);
    write(`${part}.sig.xml`, r.signature);
    write(`${part}.cert.pem`, v.certPem);
    write(`${part}.record.txt`, recordPreimage(r.prevHash, r, r.messageSha256, r.signatureSha256));
    write(`${part}.proof.txt`, proof.map((s) => `${s.side} ${s.hash}\n`).join(''));
    write(`${part}.root.txt`, `${stamp.root}\n`);
    write(`${part}.tsr`, stamp.token);
    write(`${part}.time`, `${Math.floor(r.at.getTime() / 1000)}\n`);
    parts.push(part);
  }
  write('ca.pem', trustedCas.map((p) => new X509Certificate(p).toString()).join(''));
  write('tsa.pem', tsaPem!);
  write('verify.sh', verifyScript(parts));
  const sums = files.map((f) => `${createHash('sha256').update(readBack(outDir, f)).digest('hex')}  ${f}\n`).join('');
  writeFileSync(join(outDir, 'SHA256SUMS'), sums);
  return { files: [...files, 'SHA256SUMS'], parts };
}

function readBack(dir: string, f: string): Buffer {
  return readFileSync(join(dir, f));
}

/** POSIX sh; needs only sha256sum, cut, openssl and xmlsec1. Exit 0 only if every check passes. */
export function verifyScript(parts: readonly string[]): string {
  return `#!/bin/sh
# Verificación independiente de un intercambio MIIS (ver docs/verify-evidence.md).
# Requiere solo: sh, sha256sum, cut, openssl, xmlsec1. Sale con 0 solo si todo es válido.
set -u
cd "$(dirname "$0")"
fail() { echo "FALLA: $*"; exit 1; }
sha() { sha256sum "$1" | cut -c1-64; }
line() { sed -n "$2p" "$1"; }
sha256sum -c --quiet SHA256SUMS >/dev/null 2>&1 || echo "aviso: SHA256SUMS no coincide (algún archivo cambió); se sigue verificando cada parte"
for p in ${parts.join(' ')}; do
  [ "$(sha "$p.xml")" = "$(line "$p.record.txt" 14)" ] || fail "$p: el mensaje no corresponde al resumen del registro"
  [ "$(sha "$p.sig.xml")" = "$(line "$p.record.txt" 15)" ] || fail "$p: la firma no corresponde al resumen del registro"
  [ "$(openssl x509 -in "$p.cert.pem" -outform DER | sha256sum | cut -c1-64)" = "$(line "$p.record.txt" 13)" ] || fail "$p: el certificado no es el registrado"
  xmlsec1 --verify --pubkey-cert-pem "$p.cert.pem" --enabled-key-data rsa --url-map:message.xml "$p.xml" "$p.sig.xml" >/dev/null 2>&1 || fail "$p: la firma XML no es válida (xmlsec1)"
  openssl verify -partial_chain -attime "$(cat "$p.time")" -CAfile ca.pem "$p.cert.pem" >/dev/null 2>&1 || fail "$p: el certificado de firma no fue emitido por la CA o no era válido en la fecha del registro"
  h=$(sha "$p.record.txt")
  while read -r side sib; do
    [ -n "$side" ] || continue
    if [ "$side" = L ]; then h=$(printf 'miis-tree/1\\n%s\\n%s' "$sib" "$h" | sha256sum | cut -c1-64)
    else h=$(printf 'miis-tree/1\\n%s\\n%s' "$h" "$sib" | sha256sum | cut -c1-64); fi
  done < "$p.proof.txt"
  [ "$h" = "$(cat "$p.root.txt")" ] || fail "$p: la prueba de inclusión no lleva a la raíz sellada"
  openssl ts -verify -digest "$h" -token_in -in "$p.tsr" -CAfile ca.pem -untrusted tsa.pem >/dev/null 2>&1 || fail "$p: el sello de tiempo no es válido para la raíz del lote (openssl ts)"
  echo "$p: OK (firma, certificado, registro, inclusión y sello de tiempo)"
done
echo "VERIFICACIÓN COMPLETA: OK"
`;
}
