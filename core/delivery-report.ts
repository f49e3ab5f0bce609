/**
 * The signed report of a batch delivery (lote) a provider node sends to central when the last chunk
 * of a batch is done, so central can tell, per trama and periodicity, whether a delivery was on
 * time, late or is still due (central/governance/deliveries.ts).
 *
 * Body of `POST /entregas-lote` (application/json):
 *   { "format": "miis-entrega-lote/1", "message": "<base64 of the report JSON bytes>",
 *     "signature": "<detached XML-DSig over those bytes, reference URI entrega-lote.json>" }
 * Signed with the provider member's signing key; checked by central like an access request.
 */
import { MiisError } from './errors.js';
import { signDetached, type Signer } from './signature.js';

export const DELIVERY_REPORT_FORMAT = 'miis-entrega-lote/1' as const;
export const DELIVERY_REPORT_REFERENCE = 'entrega-lote.json';
export const DELIVERY_REPORT_PATH = '/entregas-lote';
export const MAX_DELIVERY_REPORT_BYTES = 64 * 1024;

export interface DeliveryReport {
  /** Provider member, INSTANCE/CLASS/CODE (the signer). */
  readonly provider: string;
  readonly batchId: string;
  /** Consumer subsystem that delivered. */
  readonly client: string;
  readonly service: string;
  readonly convenio: string;
  readonly trama: { readonly id: string; readonly version: number };
  readonly fileSha256: string;
  readonly records: number;
  readonly chunks: number;
  /** ISO instants: manifest received, last chunk done, report signed. */
  readonly receivedAt: string;
  readonly completedAt: string;
  readonly createdAt: string;
}

export function signDeliveryReport(report: DeliveryReport, signer: Signer): { format: typeof DELIVERY_REPORT_FORMAT; message: string; signature: string } {
  const bytes = Buffer.from(JSON.stringify(report), 'utf8');
  return { format: DELIVERY_REPORT_FORMAT, message: bytes.toString('base64'), signature: signDetached(bytes, signer, DELIVERY_REPORT_REFERENCE) };
}

const bad = (detail: string): MiisError => new MiisError('Config.InvalidInput', `informe de entrega no válido: ${detail}`);

export function readSignedDeliveryReport(body: Buffer): { bytes: Buffer; report: DeliveryReport; signature: string } {
  let env: { format?: unknown; message?: unknown; signature?: unknown };
  try {
    env = JSON.parse(body.toString('utf8')) as typeof env;
  } catch {
    throw bad('el cuerpo no es JSON');
  }
  if (env.format !== DELIVERY_REPORT_FORMAT || typeof env.message !== 'string' || typeof env.signature !== 'string') throw bad(`se espera {"format": "${DELIVERY_REPORT_FORMAT}", "message", "signature"}`);
  const bytes = Buffer.from(env.message, 'base64');
  let report: DeliveryReport;
  try {
    report = JSON.parse(bytes.toString('utf8')) as DeliveryReport;
  } catch {
    throw bad('el informe firmado no es JSON');
  }
  for (const k of ['provider', 'batchId', 'client', 'service', 'convenio', 'fileSha256', 'receivedAt', 'completedAt', 'createdAt'] as const) {
    if (typeof report[k] !== 'string' || report[k].length === 0 || report[k].length > 500) throw bad(`falta el campo ${k}`);
  }
  if (typeof report.trama !== 'object' || report.trama === null || typeof report.trama.id !== 'string' || typeof report.trama.version !== 'number') throw bad('falta la trama');
  if (typeof report.records !== 'number' || typeof report.chunks !== 'number') throw bad('faltan registros o trozos');
  return { bytes, report, signature: env.signature };
}
