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

/** The envelope every signed node-to-central message uses: base64 of the exact JSON bytes and a detached signature over them. */
function signAs<F extends string>(format: F, reference: string, msg: object, signer: Signer): { format: F; message: string; signature: string } {
  const bytes = Buffer.from(JSON.stringify(msg), 'utf8');
  return { format, message: bytes.toString('base64'), signature: signDetached(bytes, signer, reference) };
}

export function signAccessRequest(msg: AccessRequestMessage, signer: Signer): SignedAccessRequest {
  return signAs(ACCESS_REQUEST_FORMAT, ACCESS_REQUEST_REFERENCE, msg, signer);
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

// --- the provider's signed answer and the signed listing (issue 14 item 7) -----------------------
//
// Same envelope ({ format, message, signature }), other formats and references, so a body signed
// for one purpose is never accepted for another:
//   POST /solicitudes-acceso/respuestas  format miis-respuesta-acceso/1, reference respuesta-acceso.json:
//     { answerId, requestId (SA-YYYY-NNNN), member (the signer's member), decision: 'aprobar'|'denegar',
//       reason?, agreementId?, validUntil?, createdAt }
//   POST /solicitudes-acceso/consultas   format miis-consulta-solicitudes/1, reference consulta-solicitudes.json:
//     { queryId, member, role: 'solicitante'|'proveedor', createdAt }

export const ACCESS_ANSWER_FORMAT = 'miis-respuesta-acceso/1' as const;
export const ACCESS_ANSWER_REFERENCE = 'respuesta-acceso.json';
export const ACCESS_ANSWER_PATH = '/solicitudes-acceso/respuestas';
export const ACCESS_LIST_FORMAT = 'miis-consulta-solicitudes/1' as const;
export const ACCESS_LIST_REFERENCE = 'consulta-solicitudes.json';
export const ACCESS_LIST_PATH = '/solicitudes-acceso/consultas';

export const ACCESS_DECISIONS = ['aprobar', 'denegar'] as const;
export type AccessDecisionWord = (typeof ACCESS_DECISIONS)[number];

export interface AccessAnswerMessage {
  /** Unique per member: a second body with the same answerId is refused (replay). */
  readonly answerId: string;
  /** The access request answered, SA-YYYY-NNNN. */
  readonly requestId: string;
  /** The signer's member, INSTANCE/CLASS/CODE: must administer the requested component. */
  readonly member: string;
  readonly decision: AccessDecisionWord;
  readonly reason?: string;
  /** For a grant: the agreement id the client will cite (default: the request id). */
  readonly agreementId?: string;
  /** For a grant: last day of the access, YYYY-MM-DD. */
  readonly validUntil?: string;
  readonly createdAt: string;
}

export const ACCESS_LIST_ROLES = ['solicitante', 'proveedor'] as const;
export type AccessListRole = (typeof ACCESS_LIST_ROLES)[number];

export interface AccessListQuery {
  readonly queryId: string;
  /** The signer's member. */
  readonly member: string;
  /** 'solicitante': the requests the member's subsystems made; 'proveedor': those addressed to its components. */
  readonly role: AccessListRole;
  readonly createdAt: string;
}

/** One row of central's answer to a signed listing (JSON, Spanish keys as the CLI shows them). */
export interface AccessListRow {
  readonly id: string;
  readonly estado: string;
  readonly cliente: string;
  readonly componente: string;
  readonly servicio: string | null;
  readonly finalidad: string;
  readonly presentada: string;
  readonly vence: string;
  readonly respondida: string | null;
  readonly respondidaPor: string | null;
  readonly unidad: string | null;
  readonly motivo: string | null;
  readonly convenio: string | null;
  readonly revocada: string | null;
}

interface Envelope { readonly format: string; readonly message: string; readonly signature: string }

export function signAccessAnswer(msg: AccessAnswerMessage, signer: Signer): Envelope {
  return signAs(ACCESS_ANSWER_FORMAT, ACCESS_ANSWER_REFERENCE, msg, signer);
}

export function signAccessListQuery(msg: AccessListQuery, signer: Signer): Envelope {
  return signAs(ACCESS_LIST_FORMAT, ACCESS_LIST_REFERENCE, msg, signer);
}

function readEnvelope<T>(body: Buffer, format: string, what: string, required: readonly string[]): { bytes: Buffer; message: T; signature: string } {
  const fail = (detail: string): MiisError => new MiisError('Config.InvalidInput', `${what} no válida: ${detail}`);
  let env: Partial<Envelope>;
  try {
    env = JSON.parse(body.toString('utf8')) as Partial<Envelope>;
  } catch {
    throw fail('el cuerpo no es JSON');
  }
  if (env.format !== format || typeof env.message !== 'string' || typeof env.signature !== 'string') {
    throw fail(`se espera {"format": "${format}", "message", "signature"}`);
  }
  const bytes = Buffer.from(env.message, 'base64');
  let message: Record<string, unknown>;
  try {
    message = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw fail('el mensaje firmado no es JSON');
  }
  if (message === null || typeof message !== 'object') throw fail('el mensaje firmado no es un objeto JSON');
  for (const k of required) {
    const v = message[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > 2000) throw fail(`falta el campo ${k}`);
  }
  for (const [k, v] of Object.entries(message)) {
    if (v !== undefined && (typeof v !== 'string' || v.length > 2000)) throw fail(`el campo ${k} debe ser texto`);
  }
  return { bytes, message: message as T, signature: env.signature };
}

export function readSignedAccessAnswer(body: Buffer): { bytes: Buffer; message: AccessAnswerMessage; signature: string } {
  const r = readEnvelope<AccessAnswerMessage>(body, ACCESS_ANSWER_FORMAT, 'respuesta a solicitud de acceso', ['answerId', 'requestId', 'member', 'decision', 'createdAt']);
  if (!(ACCESS_DECISIONS as readonly string[]).includes(r.message.decision)) {
    throw new MiisError('Config.InvalidInput', `respuesta a solicitud de acceso no válida: decisión «${r.message.decision}» (use ${ACCESS_DECISIONS.join(' o ')})`);
  }
  return r;
}

export function readSignedAccessListQuery(body: Buffer): { bytes: Buffer; message: AccessListQuery; signature: string } {
  const r = readEnvelope<AccessListQuery>(body, ACCESS_LIST_FORMAT, 'consulta de solicitudes de acceso', ['queryId', 'member', 'role', 'createdAt']);
  if (!(ACCESS_LIST_ROLES as readonly string[]).includes(r.message.role)) {
    throw new MiisError('Config.InvalidInput', `consulta de solicitudes de acceso no válida: rol «${r.message.role}» (use ${ACCESS_LIST_ROLES.join(' o ')})`);
  }
  return r;
}
