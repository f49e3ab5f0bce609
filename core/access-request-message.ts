/**
 * The signed access request a node sends to central (directive 7.2, `miis-node access request`).
 *
 * Body of `POST /solicitudes-acceso` (application/json):
 *   { "format": "miis-solicitud-acceso/1", "message": "<base64 of the request JSON bytes>",
 *     "signature": "<detached XML-DSig over those bytes, reference URI solicitud-acceso.json>" }
 * The request JSON: { requestId, client, component, service?, purpose, purposeDetail?, legalBasis, createdAt }.
 * Central checks the signature with the member's signing certificate (issued by the instance CA,
 * subject serialNumber = the client's member id), the time window, and then records the request.
 */
import { MiisError } from './errors.js';
import { signDetached, type Signer } from './signature.js';

export const ACCESS_REQUEST_FORMAT = 'miis-solicitud-acceso/1' as const;
export const ACCESS_REQUEST_REFERENCE = 'solicitud-acceso.json';
export const ACCESS_REQUEST_PATH = '/solicitudes-acceso';
export const MAX_ACCESS_REQUEST_BYTES = 64 * 1024;

export interface AccessRequestMessage {
  readonly requestId: string;
  /** The requesting subsystem (or member), INSTANCE/CLASS/CODE[/SUBSYSTEM]. */
  readonly client: string;
  /** Catalogue component code (e.g. RUPN). */
  readonly component: string;
  readonly service?: string;
  /** Purpose code, e.g. FOCALIZACION. */
  readonly purpose: string;
  readonly purposeDetail?: string;
  readonly legalBasis: string;
  /** ISO 8601 instant. */
  readonly createdAt: string;
}

export interface SignedAccessRequest {
  readonly format: typeof ACCESS_REQUEST_FORMAT;
  readonly message: string;
  readonly signature: string;
}

export function signAccessRequest(msg: AccessRequestMessage, signer: Signer): SignedAccessRequest {
  const bytes = Buffer.from(JSON.stringify(msg), 'utf8');
  return { format: ACCESS_REQUEST_FORMAT, message: bytes.toString('base64'), signature: signDetached(bytes, signer, ACCESS_REQUEST_REFERENCE) };
}

const bad = (detail: string): MiisError => new MiisError('Config.InvalidInput', `solicitud de acceso no válida: ${detail}`);

/** Parse the envelope; returns the exact signed bytes, the parsed request and the signature. */
export function readSignedAccessRequest(body: Buffer): { bytes: Buffer; message: AccessRequestMessage; signature: string } {
  let env: Partial<SignedAccessRequest>;
  try {
    env = JSON.parse(body.toString('utf8')) as Partial<SignedAccessRequest>;
  } catch {
    throw bad('el cuerpo no es JSON');
  }
  if (env.format !== ACCESS_REQUEST_FORMAT || typeof env.message !== 'string' || typeof env.signature !== 'string') {
    throw bad(`se espera {"format": "${ACCESS_REQUEST_FORMAT}", "message", "signature"}`);
  }
  const bytes = Buffer.from(env.message, 'base64');
  let message: AccessRequestMessage;
  try {
    message = JSON.parse(bytes.toString('utf8')) as AccessRequestMessage;
  } catch {
    throw bad('el mensaje firmado no es JSON');
  }
  for (const k of ['requestId', 'client', 'component', 'purpose', 'legalBasis', 'createdAt'] as const) {
    if (typeof message[k] !== 'string' || message[k].length === 0 || message[k].length > 2000) throw bad(`falta el campo ${k}`);
  }
  return { bytes, message, signature: env.signature };
}
