/**
 * The one JSON vocabulary of the command lines (miis-central and miis-node, `--json`): Spanish keys,
 * instants in ISO 8601 UTC, documented in docs/operator-guide.md («Salida JSON»). Records keep their
 * English field names in code; `spanishJson` is the single mapping layer between them and what a
 * listing prints, so the same field is called the same everywhere. Only CLI output goes through
 * here: the JSON of the HTTP APIs (global configuration, /health, evidence exports) is unchanged.
 */
import { toJson } from './cli-kit.js';

/** English field name → Spanish key. Every value is part of the documented vocabulary. */
export const JSON_KEYS: Readonly<Record<string, string>> = {
  // batch exchanges (trama list, trama entregas)
  fields: 'campos', rule: 'regla', chunkRecords: 'registrosPorTrozo', period: 'periodo', deliveredAt: 'entregado',
  // identity and naming
  name: 'nombre', title: 'titulo', description: 'descripcion', acronym: 'sigla', code: 'codigo', number: 'numero',
  instance: 'instancia', memberClass: 'clase', memberCode: 'codigoMiembro', memberId: 'miembro', member: 'miembro', members: 'miembrosAlojados',
  memberName: 'nombreMiembro', subsystemCode: 'subsistema', subsystemId: 'subsistema', nodeName: 'nodo',
  role: 'rol', sector: 'sector', contact: 'contacto', rucPlaceholder: 'rucProvisional', operatingSince: 'operativoDesde',
  owner: 'propietario', ownerId: 'propietario', ownerUnit: 'unidadResponsable', address: 'direccion',
  client: 'cliente', clientId: 'cliente', clients: 'clientes', provider: 'proveedor',
  service: 'servicio', serviceId: 'servicio', serviceKey: 'servicio', services: 'servicios',
  entity: 'entidad', entityRuc: 'rucEntidad', entityName: 'nombreEntidad', requester: 'solicitante', requesterRuc: 'rucSolicitante',
  component: 'componente', componentCode: 'componente', componentName: 'nombreComponente', components: 'componentes',
  program: 'programa', programCode: 'programa', programs: 'programas',
  // times (instants in ISO 8601 UTC; days as AAAA-MM-DD)
  createdAt: 'creado', updatedAt: 'actualizado', issuedAt: 'emitido', addedAt: 'agregado', at: 'fecha', date: 'fecha',
  notAfter: 'vence', expiresAt: 'vence', dueAt: 'vence', generatedAt: 'generada', grantedAt: 'concedido',
  validFrom: 'vigenteDesde', validUntil: 'vigenteHasta', requestedAt: 'solicitada', answeredAt: 'respondida',
  filedAt: 'presentado', evaluationDue: 'evaluarHasta', evaluatedAt: 'evaluado', evaluationStartedAt: 'evaluacionIniciada', availableAt: 'disponibleDesde',
  decidedAt: 'decidida', revokedAt: 'revocado', revokedOn: 'revocadaEl', signedAt: 'firmada', doneAt: 'cumplida',
  previousAuthUntil: 'anteriorAceptadoHasta', daysLeft: 'diasRestantes', businessDaysLeft: 'diasHabilesRestantes', year: 'anio',
  // state
  status: 'estado', state: 'estado', statusLabel: 'nombreEstado', level: 'nivel', kind: 'tipo', type: 'tipo', message: 'mensaje',
  reason: 'motivo', detail: 'detalle', action: 'accion', actor: 'actor', key: 'clave', value: 'valor', before: 'antes', after: 'despues',
  // certificates and hashes
  profile: 'perfil', serial: 'serie', serialHex: 'serie', subject: 'sujeto', certSha256: 'sha256Cert', authCertSha256: 'sha256CertAuth',
  previousAuthCertSha256: 'sha256CertAuthAnterior', signerCertSha256: 'sha256CertFirmante', decisionSignerCertSha256: 'sha256CertFirmanteDecision',
  contentSha256: 'sha256Contenido', memberMapping: 'correspondencia', field: 'campo', pattern: 'patron', ocspUrl: 'urlOcsp',
  // agreements, access, governance
  agreementId: 'convenio', agreements: 'convenios', purposes: 'finalidades', purpose: 'finalidad', purposeDetail: 'detalleFinalidad',
  maxIdsPerRequest: 'maxIdsPorSolicitud', validations: 'validaciones', supersedes: 'reemplazaA', supersededBy: 'reemplazadoPor', replacedBy: 'reemplazadaPor',
  legalBasis: 'baseLegal', family: 'familia', familyLabel: 'nombreFamilia', referenceUnit: 'unidadReferencia',
  personal: 'datosPersonales', sensitive: 'datosSensibles', personalData: 'datosPersonales', sensitiveData: 'datosSensibles',
  technicalReport: 'informeTecnico', source: 'origen', responsibleUnit: 'unidadResponsable', unit: 'unidad',
  headName: 'titularNombre', headPost: 'titularCargo', headContact: 'titularContacto', headUser: 'titularUsuario',
  decidedBy: 'decididaPor', decisionUnit: 'unidadDecisora', revokeReason: 'motivoRevocacion', revokedBy: 'revocadaPor',
  meetingId: 'reunion', meeting: 'reunion', place: 'lugar', participants: 'participantes', activity: 'actividad',
  signatures: 'firmas', exchangeForm: 'formaIntercambio', met: 'cumplidos', missed: 'incumplidos', facts: 'hechos', sanctions: 'sanciones',
  infraction: 'infraccion', resolution: 'resolucion', ciasApproval: 'aprobacionCias', ciasDate: 'fechaCias', ciasRef: 'referenciaCias',
  interventionType: 'tipoIntervencion', targetPopulation: 'poblacionObjetivo', administrator: 'administradora',
  // node: services, log, verification
  backendUrl: 'backend', timeoutMs: 'tiempoMaximoMs', adapter: 'adaptador', faultId: 'referencia',
  records: 'registros', recordsPerSecond: 'registrosPorSegundo', problems: 'problemas', timestamps: 'sellos', unstamped: 'sinSello',
  messageId: 'idMensaje', side: 'lado', direction: 'direccion', userId: 'usuario', fault: 'falla', from: 'desde', to: 'hasta',
  // meetings, designations, deadlines, compliance
  requestRef: 'referenciaSolicitud', channel: 'canal', startTime: 'horaInicio', endTime: 'horaFin', post: 'cargo', development: 'desarrollo',
  responsible: 'responsable', obligation: 'obligacion', periodicity: 'periodicidad', howToRequest: 'comoSolicitar', firstMeeting: 'primeraReunion',
  designationRequest: 'solicitudDesignacion', designationAnswer: 'respuestaDesignacion', sourceEvaluation: 'evaluacionFuente', accessAnswer: 'respuestaAcceso',
  byNode: 'porNodo', ref: 'referencia', label: 'etiqueta', required: 'obligatorio', metadataOnly: 'soloMetadatos', answered: 'respondidas',
};

/**
 * Keys that are already Spanish, or the same in both languages, and pass through as they are. With
 * the values of JSON_KEYS they make the documented vocabulary (test/runtime/cli-json.test.ts checks
 * that listings print nothing else and that docs/operator-guide.md lists every word).
 */
export const NATIVE_KEYS: readonly string[] = [
  'ok', 'id', 'ruc', 'sha256', 'hash', 'seq', 'bytes', 'wsdl', 'agenda', 'acta', 'url',
  'clave', 'valor', 'aplicacion', 'descripcion', 'lado', 'direccion', 'cliente', 'servicio', 'usuario', 'convenio', 'finalidad',
  'fecha', 'falla', 'miembro', 'nombre', 'certificado', 'vence', 'reemplazaA', 'finAnticipado', 'vigenteHasta', 'motivo',
  'registrado', 'por', 'reemplazadoPor', 'cadena', 'instancia', 'informe', 'estado', 'responsable', 'unidad', 'cumplida', 'reunion', 'actividad',
  // the data-subject report (log titular) and access requests answered by central
  'titular', 'desde', 'hasta', 'generado', 'consultas', 'fechaHora', 'instante', 'entidad', 'entidadNombre', 'entidadProveedora',
  'servicioTitulo', 'idMensaje', 'resultado', 'solicitud', 'componente', 'vigencia', 'plazo', 'decision', 'respuesta',
  // what changes print ({"ok":true,…})
  'ancla', 'ahora', 'archivo', 'archivoClave', 'archivos', 'aviso', 'baja', 'basesDeDatos', 'carpeta', 'catalogo', 'certificadoCa', 'cifrada',
  'claves', 'concedido', 'copiaDel', 'diasNoLaborables', 'enCaliente', 'entidadRenombrada', 'entidades', 'faltan', 'fechaAprobacion',
  'html', 'idClave', 'importados', 'nodos', 'partes', 'pdf', 'pem', 'proximaSerie', 'puertoProxy', 'retirada', 'retirado', 'revocada',
  'revocadas', 'rotacion', 'solicitudFirma', 'solicitudTls', 'subsistemasEnOtroNodo', 'subsistemasSinNodo', 'tambienEn', 'ultimaSerie',
  'urlCentral', 'version',
];

/** Values kept as they are: documents with a format of their own (an adapter's --sql-config file, audited snapshots, an agreement's validations as in the global configuration). */
const OPAQUE = new Set(['adapter', 'before', 'after', 'validations']);

/** A value with its keys in Spanish (JSON_KEYS), recursively; Dates become ISO 8601 UTC. */
export function spanishJson(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(spanishJson);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    const spanish = JSON_KEYS[k] ?? k;
    // two fields of one record with the same Spanish name: the second keeps its own (a test catches it)
    const name = spanish !== k && spanish in out ? k : spanish;
    out[name] = OPAQUE.has(k) ? v : spanishJson(v);
  }
  return out;
}

/** What a listing prints with --json: its records (an array of objects, or one object for «show»), in Spanish. */
export const listJson = (value: unknown): string => toJson(spanishJson(value));

/** The documented vocabulary of CLI JSON keys. */
export const JSON_VOCABULARY: ReadonlySet<string> = new Set([...Object.values(JSON_KEYS), ...NATIVE_KEYS]);
