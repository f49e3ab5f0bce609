/**
 * The one error type of MIIS. Every failure that reaches a caller (SOAP fault, CLI error,
 * start-up error) is a MiisError with a stable code from FAULTS. `docs/faults.md` lists every
 * code; test/core/errors.test.ts keeps the table and the code in step both ways.
 *
 * Fault codes follow X-Road's origin prefixes:
 *   Client.*               the information system (or CLI user) sent something wrong
 *   Server.ClientProxy.*   the consumer's node could not complete the exchange
 *   Server.ServerProxy.*   the provider's node refused or failed
 *   Config.*               configuration, CLI input or start-up problems (never sent as SOAP)
 */
import { randomUUID } from 'node:crypto';

export interface FaultSpec {
  /** Spanish message a person can act on; `{detail}` is replaced by the instance detail. */
  readonly message: string;
  /** HTTP status used when the fault is sent over HTTP. */
  readonly http: number;
}

export const FAULTS = {
  // --- Client.*: the information system's request is wrong -------------------------------
  'Client.InvalidXml': { http: 500, message: 'El mensaje no es XML bien formado: {detail}' },
  'Client.DtdNotAllowed': { http: 500, message: 'El mensaje contiene una declaración DOCTYPE; no se admiten DTD ni entidades externas' },
  'Client.EntityNotAllowed': { http: 500, message: 'El mensaje usa una referencia a entidad no permitida: {detail}' },
  'Client.MessageTooLarge': { http: 413, message: 'El mensaje supera el tamaño máximo permitido ({detail})' },
  'Client.XmlTooDeep': { http: 500, message: 'El XML supera la profundidad máxima de anidamiento ({detail})' },
  'Client.XmlTooManyAttributes': { http: 500, message: 'Un elemento del XML tiene demasiados atributos ({detail}); pase los datos como elementos hijos' },
  'Client.XmlTooManyNamespaceDeclarations': { http: 500, message: 'Un elemento del XML declara demasiados espacios de nombres ({detail}); declare solo los prefijos que el mensaje usa' },
  'Client.XmlTooManyAttributesInDocument': { http: 500, message: 'El XML tiene demasiados atributos en total ({detail}); pase los datos como elementos y texto, no como atributos' },
  'Client.XmlTooManyNamespaceDeclarationsInDocument': { http: 500, message: 'El XML declara demasiados espacios de nombres en total ({detail}); declare cada espacio de nombres una sola vez, en el elemento raíz' },
  'Client.XmlNameTooLong': { http: 500, message: 'Un nombre de elemento o de atributo del XML es demasiado largo ({detail})' },
  'Client.XmlAttributeValueTooLong': { http: 500, message: 'El valor de un atributo del XML es demasiado largo ({detail}); envíe los datos extensos como contenido de un elemento' },
  'Client.XmlTextTooLong': { http: 500, message: 'El texto de un elemento del XML es demasiado largo ({detail})' },
  'Client.InvalidSoap': { http: 500, message: 'El mensaje no es un sobre SOAP 1.1 válido: {detail}' },
  'Client.InvalidContentType': { http: 415, message: 'Tipo de contenido no admitido: {detail}. Use text/xml' },
  'Client.MissingHeaderField': { http: 500, message: 'Falta la cabecera obligatoria {detail}' },
  'Client.InvalidHeaderField': { http: 500, message: 'La cabecera {detail} no es válida' },
  'Client.InvalidClientIdentifier': { http: 500, message: 'El identificador de cliente no es válido: {detail}' },
  'Client.InvalidServiceIdentifier': { http: 500, message: 'El identificador de servicio no es válido: {detail}' },
  'Client.ForbiddenHeader': { http: 500, message: 'La cabecera {detail} la agregan los nodos; el sistema de información no debe enviarla' },
  'Client.ControlCharacter': { http: 500, message: 'La cabecera {detail} contiene caracteres de control (no se admiten en identificadores ni valores de cabecera)' },
  'Client.InvalidProtocolVersion': { http: 500, message: 'Versión de protocolo no admitida: {detail}. Use 4.0' },
  'Client.InvalidRestRequest': { http: 400, message: 'La solicitud REST no es válida: {detail}' },
  // --- Server.ClientProxy.*: the consumer's node --------------------------------------------
  'Server.ClientProxy.UnknownClient': { http: 500, message: 'El cliente {detail} no está registrado en este nodo' },
  'Server.ClientProxy.UnknownService': { http: 500, message: 'El servicio {detail} no figura en la configuración global' },
  'Server.ClientProxy.OutdatedGlobalConf': { http: 500, message: 'La configuración global está vencida o no está disponible; el nodo no puede intercambiar mensajes' },
  'Server.ClientProxy.NetworkError': { http: 500, message: 'No se pudo conectar con el nodo proveedor: {detail}' },
  'Server.ClientProxy.Timeout': { http: 500, message: 'El nodo proveedor no respondió a tiempo ({detail})' },
  'Server.ClientProxy.SslAuthenticationFailed': { http: 500, message: 'El certificado TLS del nodo proveedor no es el registrado en la configuración global' },
  'Server.ClientProxy.InvalidSignatureValue': { http: 500, message: 'La firma de la respuesta no es válida' },
  'Server.ClientProxy.IncorrectCertificate': { http: 500, message: 'El certificado de firma de la respuesta no corresponde al proveedor: {detail}' },
  'Server.ClientProxy.InconsistentResponse': { http: 500, message: 'La respuesta no corresponde a la solicitud: {detail}' },
  'Server.ClientProxy.InvalidResponse': { http: 500, message: 'La respuesta del nodo proveedor no es válida: {detail}' },
  'Server.ClientProxy.DuplicateMessage': { http: 500, message: 'El identificador de mensaje {detail} ya fue usado por este cliente: use uno nuevo en cada solicitud' },
  'Server.ClientProxy.InternalError': { http: 500, message: 'Error interno del nodo cliente (referencia en el registro)' },
  'Server.ClientProxy.TimestampUnavailable': { http: 500, message: 'El nodo cliente no acepta intercambios: su registro de mensajes lleva demasiado tiempo sin sello de tiempo ({detail})' },
  'Server.ClientProxy.MessageLogUnavailable': { http: 500, message: 'El nodo cliente no pudo guardar el intercambio en su registro de mensajes (la base de datos no respondió); el intercambio no se completó: reintente con un identificador de mensaje nuevo' },
  // --- Server.ServerProxy.*: the provider's node --------------------------------------------
  'Server.ServerProxy.SslAuthenticationFailed': { http: 500, message: 'El certificado TLS del nodo remitente no es el registrado para el cliente {detail}' },
  'Server.ServerProxy.InvalidMessage': { http: 500, message: 'El mensaje recibido del nodo cliente no es válido: {detail}' },
  'Server.ServerProxy.InvalidSignatureValue': { http: 500, message: 'La firma de la solicitud no es válida' },
  'Server.ServerProxy.IncorrectCertificate': { http: 500, message: 'El certificado de firma no es válido para el cliente: {detail}' },
  'Server.ServerProxy.DuplicateMessage': { http: 500, message: 'El identificador de mensaje {detail} ya fue usado por este cliente' },
  'Server.ServerProxy.UnknownService': { http: 500, message: 'El servicio {detail} no existe en este nodo' },
  'Server.ServerProxy.AccessDenied': { http: 500, message: 'El cliente {detail} no tiene permiso para usar este servicio' },
  // agreements (convenios), purposes and minimum validations, checked per request (issue 5)
  'Server.ServerProxy.MissingAgreement': { http: 500, message: 'La solicitud no indica el convenio (miis:convenio) bajo el que se hace' },
  'Server.ServerProxy.UnknownAgreement': { http: 500, message: 'El convenio {detail} no existe para este proveedor en la configuración global' },
  'Server.ServerProxy.AgreementNotInForce': { http: 500, message: 'El convenio no está vigente: {detail}' },
  'Server.ServerProxy.AgreementDoesNotCover': { http: 500, message: 'El convenio no cubre esta solicitud: {detail}' },
  'Server.ServerProxy.PurposeNotAllowed': { http: 500, message: 'La finalidad no está permitida por el convenio: {detail}' },
  'Server.ServerProxy.ValidationFailed': { http: 500, message: 'La solicitud no cumple las validaciones mínimas del convenio: {detail}' },
  'Server.ServerProxy.TooManyIds': { http: 500, message: 'La solicitud lleva más identificadores de los que permite el convenio: {detail}' },
  'Server.ServerProxy.InvalidServiceResponse': { http: 500, message: 'El servicio de la entidad proveedora respondió algo que no es un mensaje SOAP válido: {detail}' },
  'Server.ServerProxy.OutdatedGlobalConf': { http: 500, message: 'La configuración global del nodo proveedor está vencida' },
  'Server.ServerProxy.ServiceFailed': { http: 500, message: 'El servicio de la entidad proveedora falló: {detail}' },
  'Server.ServerProxy.ServiceTimeout': { http: 500, message: 'El servicio de la entidad proveedora no respondió a tiempo ({detail})' },
  'Server.ServerProxy.InternalError': { http: 500, message: 'Error interno del nodo proveedor (referencia en el registro)' },
  'Server.ServerProxy.TimestampUnavailable': { http: 500, message: 'El nodo proveedor no acepta intercambios: su registro de mensajes lleva demasiado tiempo sin sello de tiempo ({detail})' },
  'Server.ServerProxy.MessageLogUnavailable': { http: 500, message: 'El nodo proveedor no pudo guardar el intercambio en su registro de mensajes (la base de datos no respondió); no se entrega una respuesta sin su registro: reintente con un identificador de mensaje nuevo' },
  // batch exchanges (lotes, issue 13): manifest and chunks over the node-to-node channel
  'Server.ServerProxy.UnknownTrama': { http: 500, message: 'No hay una trama publicada para este lote: {detail}' },
  'Server.ServerProxy.InvalidBatch': { http: 500, message: 'El lote o uno de sus trozos no es válido: {detail}' },
  'Server.ServerProxy.BatchNotSupported': { http: 500, message: 'El servicio no admite intercambios por lotes: {detail}' },
  'Client.InvalidBatchFile': { http: 400, message: 'El archivo del lote no es válido: {detail}' },
  // --- Config.*: CLI, configuration and start-up --------------------------------------------
  'Config.InvalidInput': { http: 400, message: '{detail}' },
  'Config.InvalidRuc': { http: 400, message: 'RUC no válido: {detail}' },
  'Config.InvalidDni': { http: 400, message: 'DNI no válido: {detail}' },
  'Config.InvalidIdentifier': { http: 400, message: 'Identificador no válido: {detail}' },
  'Config.NotFound': { http: 404, message: 'No existe: {detail}' },
  'Config.Duplicate': { http: 409, message: 'Ya existe: {detail}' },
  'Config.InvalidCertificate': { http: 400, message: 'Certificado no válido: {detail}' },
  'Config.NotAuthorized': { http: 403, message: 'No autorizado: {detail}' },
  'Config.InvalidGlobalConf': { http: 500, message: 'La configuración global no es válida: {detail}' },
  'Config.NoGlobalConf': { http: 500, message: 'No hay configuración global: {detail}' },
  'Config.InvalidAdapter': { http: 400, message: 'El adaptador del servicio no está bien configurado: {detail}' },
  'Config.NotInitialized': { http: 500, message: 'No inicializado: {detail}' },
} as const satisfies Record<string, FaultSpec>;

export type FaultCode = keyof typeof FAULTS;

export function isFaultCode(code: string): code is FaultCode {
  return Object.prototype.hasOwnProperty.call(FAULTS, code);
}

export class MiisError extends Error {
  readonly code: FaultCode;
  readonly detail: string;
  /** Correlates the fault sent to the caller with the node's log. */
  readonly faultId: string;

  constructor(code: FaultCode, detail = '', options?: { cause?: unknown; faultId?: string }) {
    super(renderMessage(code, detail), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MiisError';
    this.code = code;
    this.detail = detail;
    this.faultId = options?.faultId ?? randomUUID();
  }

  get httpStatus(): number {
    return FAULTS[this.code].http;
  }
}

export function renderMessage(code: FaultCode, detail: string): string {
  return FAULTS[code].message.replace('{detail}', detail);
}

/** Wrap anything thrown into a MiisError, mapping unknown errors to an internal error. */
export function toMiisError(err: unknown, fallback: FaultCode): MiisError {
  if (err instanceof MiisError) return err;
  return new MiisError(fallback, '', { cause: err });
}
