/**
 * Signed global configuration: central signs the exact JSON bytes of the configuration, nodes
 * verify them against the anchor certificate they were installed with (central's `conf`
 * signing certificate) before using a single field.
 *
 * Envelope (JSON, UTF-8):
 *   { "format": "miis-signed-globalconf/1", "algorithm": "rsa-sha256" | "ecdsa-sha256",
 *     "signerCertSha256": "<hex SHA-256 of the signing certificate>",
 *     "payload": base64(JSON bytes of the GlobalConf),
 *     "signature": base64(PKCS#1 v1.5 or DER ECDSA signature over the payload bytes) }
 * The signature is plain OpenSSL form, so a third party can check it with
 *   openssl dgst -sha256 -verify pub.pem -signature sig.der payload.json   (see certs/README.md)
 */
import { checkTrama } from './trama.js';
import * as crypto from 'node:crypto';
import { MiisError } from './errors.js';
import { GLOBAL_CONF_FORMAT, VALIDATION_RULES, type GlobalConf } from './global-conf-model.js';
import { parseClientId, parseServiceId } from './identifiers.js';
import { mappingRuleProblem } from './member-mapping.js';
import { certDer, certificateInfo } from './pki.js';
import { signatureAlgorithmOf, type Signer, type SignatureAlgorithm } from './signature.js';
import { isIsoDate } from './iso-date.js';

export const SIGNED_GLOBAL_CONF_FORMAT = 'miis-signed-globalconf/1';
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
const ENVELOPE_KEYS = ['format', 'algorithm', 'signerCertSha256', 'payload', 'signature'] as const;

interface SignedEnvelope {
  readonly format: typeof SIGNED_GLOBAL_CONF_FORMAT;
  readonly algorithm: SignatureAlgorithm;
  readonly signerCertSha256: string;
  readonly payload: string;
  readonly signature: string;
}

function invalid(reason: string): MiisError {
  return new MiisError('Config.InvalidGlobalConf', reason);
}

// --- signing and verification ----------------------------------------------------------------

export function signGlobalConf(conf: GlobalConf, signer: Signer): Buffer {
  const valid = validateGlobalConf(conf);
  const payload = Buffer.from(JSON.stringify(valid), 'utf8');
  const envelope: SignedEnvelope = {
    format: SIGNED_GLOBAL_CONF_FORMAT,
    algorithm: signer.algorithm,
    signerCertSha256: crypto.createHash('sha256').update(certDer(signer.certPem)).digest('hex'),
    payload: payload.toString('base64'),
    signature: signer.sign(payload).toString('base64'),
  };
  return Buffer.from(JSON.stringify(envelope), 'utf8');
}

export function verifyGlobalConf(envelope: Uint8Array, anchorCertPem: string, opts?: { maxBytes?: number }): GlobalConf {
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_BYTES;
  if (envelope.length > maxBytes) throw invalid(`el archivo firmado supera ${maxBytes} bytes`);
  const env = readEnvelope(envelope);
  const anchor = anchorKey(anchorCertPem);
  if (env.signerCertSha256 !== anchor.sha256) throw invalid('está firmada con un certificado distinto del ancla de confianza');
  if (env.algorithm !== anchor.algorithm) throw invalid('el algoritmo de firma no corresponde al certificado ancla');
  const payload = decodeBase64(env.payload, 'payload');
  const signature = decodeBase64(env.signature, 'signature');
  let ok = false;
  try {
    ok = crypto.verify('sha256', payload, anchor.key, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw invalid('la firma no es válida');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw invalid('el contenido firmado no es JSON UTF-8 válido');
  }
  return deepFreeze(validateGlobalConf(value));
}

function readEnvelope(bytes: Uint8Array): SignedEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalid('el archivo firmado no es JSON UTF-8 válido');
  }
  const env = requireObject(value, 'sobre firmado', ENVELOPE_KEYS);
  if (env['format'] !== SIGNED_GLOBAL_CONF_FORMAT) throw invalid(`formato del sobre no admitido (se espera ${SIGNED_GLOBAL_CONF_FORMAT})`);
  if (env['algorithm'] !== 'rsa-sha256' && env['algorithm'] !== 'ecdsa-sha256') throw invalid('algoritmo de firma no admitido');
  const sha = env['signerCertSha256'];
  if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) throw invalid('el campo signerCertSha256 no es válido');
  for (const k of ['payload', 'signature'] as const) if (typeof env[k] !== 'string') throw invalid(`falta el campo ${k}`);
  return env as unknown as SignedEnvelope;
}

function decodeBase64(text: string, field: string): Buffer {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw invalid(`el campo ${field} no es base64 válido`);
  return Buffer.from(text, 'base64');
}

const anchorCache = new Map<string, { key: crypto.KeyObject; algorithm: SignatureAlgorithm; sha256: string }>();

function anchorKey(pem: string): { key: crypto.KeyObject; algorithm: SignatureAlgorithm; sha256: string } {
  const hit = anchorCache.get(pem);
  if (hit !== undefined) return hit;
  let cert: crypto.X509Certificate;
  let der: Buffer;
  try {
    der = certDer(pem);
    cert = new crypto.X509Certificate(der);
  } catch {
    throw invalid('el certificado ancla no se puede leer');
  }
  const algorithm = signatureAlgorithmOf(cert.publicKey);
  if (algorithm === undefined) throw invalid('el certificado ancla tiene un tipo de clave no admitido');
  const entry = { key: cert.publicKey, algorithm, sha256: crypto.createHash('sha256').update(der).digest('hex') };
  if (anchorCache.size >= 16) anchorCache.clear();
  anchorCache.set(pem, entry);
  return entry;
}

export function isGlobalConfExpired(conf: GlobalConf, now: Date): boolean {
  const expires = Date.parse(conf.expiresAt);
  return !Number.isFinite(expires) || now.getTime() >= expires;
}

// --- structural validation -------------------------------------------------------------------

const CONF_KEYS = ['format', 'instance', 'serial', 'generatedAt', 'expiresAt', 'members', 'subsystems', 'nodes', 'services', 'trustedCas'] as const;
const MEMBER_KEYS = ['id', 'name', 'role'] as const;
const NODE_KEYS = ['name', 'owner', 'address', 'authCertSha256', 'clients'] as const;
const SERVICE_KEYS = ['id', 'title'] as const;
const CONF_OPTIONAL_KEYS = ['agreements', 'accessRights', 'revokedCerts', 'externalCas', 'programs', 'tramas'] as const;
const PROGRAM_KEYS = ['code', 'name', 'administrator', 'ciasApproval', 'ciasDate', 'targetPopulation', 'interventionType', 'status'] as const;
const PROGRAM_CODE = /^[A-Z0-9][A-Z0-9_-]{1,39}$/;
const AGREEMENT_KEYS = ['id', 'provider', 'clients', 'services', 'purposes', 'validFrom'] as const;
const AGREEMENT_OPTIONAL_KEYS = ['acta', 'validUntil', 'maxIdsPerRequest', 'validations'] as const;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const NODE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_TEXT = 500;

export function validateGlobalConf(value: unknown): GlobalConf {
  const conf = requireObject(value, 'configuración', CONF_KEYS, CONF_OPTIONAL_KEYS);
  if (conf['format'] !== GLOBAL_CONF_FORMAT) throw invalid(`campo format: se espera «${GLOBAL_CONF_FORMAT}»`);
  const instance = conf['instance'];
  if (typeof instance !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(instance)) throw invalid('campo instance: identificador de instancia no válido');
  const serial = conf['serial'];
  if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 1) throw invalid('campo serial: debe ser un entero positivo');
  const generatedAt = requireInstant(conf['generatedAt'], 'generatedAt');
  const expiresAt = requireInstant(conf['expiresAt'], 'expiresAt');
  if (expiresAt <= generatedAt) throw invalid('campo expiresAt: debe ser posterior a generatedAt');

  const members = requireArray(conf['members'], 'members');
  const memberIds = new Set<string>();
  members.forEach((m, i) => {
    const where = `members[${i}]`;
    const member = requireObject(m, where, MEMBER_KEYS);
    const id = requireClientId(member['id'], `${where}.id`, instance, 3);
    if (memberIds.has(id)) throw invalid(`${where}.id: miembro duplicado ${id}`);
    memberIds.add(id);
    requireText(member['name'], `${where}.name`);
    requireText(member['role'], `${where}.role`);
  });

  const subsystems = requireArray(conf['subsystems'], 'subsystems');
  const seenSubsystems = new Set<string>();
  subsystems.forEach((s, i) => {
    const id = requireClientId(s, `subsystems[${i}]`, instance, 4);
    if (seenSubsystems.has(id)) throw invalid(`subsystems[${i}]: subsistema duplicado ${id}`);
    seenSubsystems.add(id);
  });

  const nodes = requireArray(conf['nodes'], 'nodes');
  const nodeNames = new Set<string>();
  nodes.forEach((n, i) => {
    const where = `nodes[${i}]`;
    const node = requireObject(n, where, NODE_KEYS, ['authCertsSha256', 'members'] as const);
    const name = node['name'];
    if (typeof name !== 'string' || !NODE_NAME.test(name)) throw invalid(`${where}.name: nombre de nodo no válido`);
    if (nodeNames.has(name)) throw invalid(`${where}.name: nodo duplicado ${name}`);
    nodeNames.add(name);
    requireClientId(node['owner'], `${where}.owner`, instance, 3);
    requireAddress(node['address'], `${where}.address`);
    const sha = node['authCertSha256'];
    if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) throw invalid(`${where}.authCertSha256: se esperan 64 dígitos hexadecimales en minúscula`);
    if (node['authCertsSha256'] !== undefined) {
      const list = requireArray(node['authCertsSha256'], `${where}.authCertsSha256`);
      list.forEach((h, j) => {
        if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) throw invalid(`${where}.authCertsSha256[${j}]: se esperan 64 dígitos hexadecimales en minúscula`);
      });
      if (list.length < 1 || list.length > 4 || list[0] !== sha || new Set(list).size !== list.length) {
        throw invalid(`${where}.authCertsSha256: de 1 a 4 huellas distintas, la primera igual a authCertSha256`);
      }
    }
    const served = new Set<string>([node['owner'] as string]);
    if (node['members'] !== undefined) {
      const list = requireArray(node['members'], `${where}.members`);
      list.forEach((m, j) => {
        const id = requireClientId(m, `${where}.members[${j}]`, instance, 3);
        if (served.has(id)) throw invalid(`${where}.members[${j}]: ${id} repetido o igual al propietario`);
        served.add(id);
      });
      if (list.length === 0) throw invalid(`${where}.members: se omite cuando el nodo no aloja otros miembros`);
    }
    requireArray(node['clients'], `${where}.clients`).forEach((c, j) => {
      const id = requireClientId(c, `${where}.clients[${j}]`, instance, 4);
      // a shared node (members) serves only its owner's and its hosted members' subsystems
      if (node['members'] !== undefined && !served.has(id.split('/').slice(0, 3).join('/'))) {
        throw invalid(`${where}.clients[${j}]: ${id} no es del propietario ni de un miembro alojado (members)`);
      }
    });
  });

  const services = requireArray(conf['services'], 'services');
  const serviceIds = new Set<string>();
  services.forEach((s, i) => {
    const where = `services[${i}]`;
    const service = requireObject(s, where, SERVICE_KEYS);
    const id = service['id'];
    if (typeof id !== 'string') throw invalid(`${where}.id: se espera un identificador de servicio`);
    try {
      parseServiceId(id);
    } catch (err) {
      throw invalid(`${where}.id: ${(err as Error).message}`);
    }
    if (!id.startsWith(`${instance}/`)) throw invalid(`${where}.id: pertenece a otra instancia`);
    if (serviceIds.has(id)) throw invalid(`${where}.id: servicio duplicado ${id}`);
    serviceIds.add(id);
    requireText(service['title'], `${where}.title`);
  });

  requireArray(conf['trustedCas'], 'trustedCas').forEach((pem, i) => {
    if (typeof pem !== 'string') throw invalid(`trustedCas[${i}]: se espera un certificado PEM`);
    try {
      certificateInfo(pem);
    } catch {
      throw invalid(`trustedCas[${i}]: el certificado no se puede leer`);
    }
  });
  validateOptionalSections(conf, instance);
  return value as GlobalConf;
}

function validateOptionalSections(conf: Record<string, unknown>, instance: string): void {
  if (conf['agreements'] !== undefined) {
    const ids = new Set<string>();
    requireArray(conf['agreements'], 'agreements').forEach((a, i) => {
      const where = `agreements[${i}]`;
      const ag = requireObject(a, where, AGREEMENT_KEYS, AGREEMENT_OPTIONAL_KEYS);
      const id = requireText(ag['id'], `${where}.id`);
      if (ids.has(id)) throw invalid(`${where}.id: convenio duplicado ${id}`);
      ids.add(id);
      if (ag['acta'] !== undefined) requireText(ag['acta'], `${where}.acta`);
      requireClientId(ag['provider'], `${where}.provider`, instance, 3);
      requireArray(ag['clients'], `${where}.clients`).forEach((c, j) => requireAnyClientId(c, `${where}.clients[${j}]`, instance));
      requireArray(ag['services'], `${where}.services`).forEach((sv, j) => requireServiceKey(sv, `${where}.services[${j}]`, instance));
      requireArray(ag['purposes'], `${where}.purposes`).forEach((p, j) => requireText(p, `${where}.purposes[${j}]`));
      requireDate(ag['validFrom'], `${where}.validFrom`);
      if (ag['validUntil'] !== undefined) requireDate(ag['validUntil'], `${where}.validUntil`);
      const max = ag['maxIdsPerRequest'];
      if (max !== undefined && (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1)) throw invalid(`${where}.maxIdsPerRequest: debe ser un entero positivo`);
      if (ag['validations'] !== undefined) {
        requireArray(ag['validations'], `${where}.validations`).forEach((v, j) => {
          const vw = `${where}.validations[${j}]`;
          const val = requireObject(v, vw, ['field', 'rule'] as const, ['pattern'] as const);
          requireText(val['field'], `${vw}.field`);
          if (!(VALIDATION_RULES as readonly unknown[]).includes(val['rule'])) throw invalid(`${vw}.rule: se espera uno de ${VALIDATION_RULES.join(', ')}`);
          if (val['rule'] === 'pattern') {
            const pattern = requireText(val['pattern'], `${vw}.pattern`);
            try {
              new RegExp(pattern);
            } catch {
              throw invalid(`${vw}.pattern: expresión regular no válida`);
            }
          }
        });
      }
    });
  }
  if (conf['accessRights'] !== undefined) {
    requireArray(conf['accessRights'], 'accessRights').forEach((r, i) => {
      const ar = requireObject(r, `accessRights[${i}]`, ['service', 'client'] as const);
      requireServiceKey(ar['service'], `accessRights[${i}].service`, instance);
      requireAnyClientId(ar['client'], `accessRights[${i}].client`, instance);
    });
  }
  if (conf['revokedCerts'] !== undefined) {
    requireArray(conf['revokedCerts'], 'revokedCerts').forEach((sha, i) => {
      if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) throw invalid(`revokedCerts[${i}]: se esperan 64 dígitos hexadecimales en minúscula`);
    });
  }
  if (conf['externalCas'] !== undefined) validateExternalCas(conf, instance);
  if (conf['programs'] !== undefined) validatePrograms(conf);
  if (conf['tramas'] !== undefined) {
    const seen = new Set<string>();
    requireArray(conf['tramas'], 'tramas').forEach((t, i) => {
      const r = checkTrama(t, `tramas[${i}]`);
      if (!r.ok) throw invalid(r.reason);
      requireServiceKey(r.trama.service, `tramas[${i}].service`, instance);
      const k = `${r.trama.id}@${r.trama.version}`;
      if (seen.has(k)) throw invalid(`tramas[${i}]: trama duplicada ${k}`);
      seen.add(k);
    });
  }
}

/** programs (RPS): distinct codes, an 11-digit RUC, a real CIAS date, status activo or suspendido. */
function validatePrograms(conf: Record<string, unknown>): void {
  const codes = new Set<string>();
  requireArray(conf['programs'], 'programs').forEach((p, i) => {
    const where = `programs[${i}]`;
    const pr = requireObject(p, where, PROGRAM_KEYS);
    const code = pr['code'];
    if (typeof code !== 'string' || !PROGRAM_CODE.test(code)) throw invalid(`${where}.code: se espera un código en mayúsculas (p. ej. JUNTOS)`);
    if (codes.has(code)) throw invalid(`${where}.code: programa duplicado ${code}`);
    codes.add(code);
    for (const k of ['name', 'ciasApproval', 'targetPopulation', 'interventionType'] as const) requireText(pr[k], `${where}.${k}`);
    if (typeof pr['administrator'] !== 'string' || !/^\d{11}$/.test(pr['administrator'])) throw invalid(`${where}.administrator: se espera el RUC (11 dígitos)`);
    requireDate(pr['ciasDate'], `${where}.ciasDate`);
    if (pr['status'] !== 'activo' && pr['status'] !== 'suspendido') throw invalid(`${where}.status: se espera activo o suspendido`);
  });
}

/** externalCas: each names one CA of trustedCas (by SHA-256) and carries valid mapping rules. */
function validateExternalCas(conf: Record<string, unknown>, instance: string): void {
  const trusted = new Set((conf['trustedCas'] as readonly string[]).map((pem) => certificateInfo(pem).sha256));
  const names = new Set<string>();
  requireArray(conf['externalCas'], 'externalCas').forEach((e, i) => {
    const where = `externalCas[${i}]`;
    const ext = requireObject(e, where, ['name', 'certSha256', 'memberMapping'] as const, ['ocspUrl'] as const);
    const name = requireText(ext['name'], `${where}.name`);
    if (names.has(name)) throw invalid(`${where}.name: CA externa duplicada ${name}`);
    names.add(name);
    const sha = ext['certSha256'];
    if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) throw invalid(`${where}.certSha256: se esperan 64 dígitos hexadecimales en minúscula`);
    if (!trusted.has(sha)) throw invalid(`${where}.certSha256: el certificado de la CA no está en trustedCas`);
    requireArray(ext['memberMapping'], `${where}.memberMapping`).forEach((rule, j) => {
      const problem = mappingRuleProblem(rule, instance);
      if (problem !== undefined) throw invalid(`${where}.memberMapping[${j}]: ${problem}`);
    });
    const url = ext['ocspUrl'];
    if (url !== undefined && (typeof url !== 'string' || !/^https?:\/\/[^\s]{1,2000}$/.test(url))) throw invalid(`${where}.ocspUrl: se espera una URL http(s)`);
  });
}

function requireAnyClientId(value: unknown, where: string, instance: string): void {
  const parts = typeof value === 'string' ? value.split('/').length : 0;
  requireClientId(value, where, instance, parts === 4 ? 4 : 3);
}

function requireServiceKey(value: unknown, where: string, instance: string): void {
  if (typeof value !== 'string' || value.split('/').length !== 5) throw invalid(`${where}: se espera INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO (sin versión)`);
  try {
    parseServiceId(value);
  } catch (err) {
    throw invalid(`${where}: ${(err as Error).message}`);
  }
  if (!value.startsWith(`${instance}/`)) throw invalid(`${where}: pertenece a otra instancia`);
}

function requireDate(value: unknown, where: string): void {
  if (typeof value !== 'string' || !isIsoDate(value)) {
    throw invalid(`${where}: se espera una fecha AAAA-MM-DD válida`);
  }
}

function requireObject<K extends string, O extends string = never>(value: unknown, where: string, keys: readonly K[], optional: readonly O[] = []): Record<K | O, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${where}: se espera un objeto`);
  for (const k of Object.keys(value)) {
    if (!(keys as readonly string[]).includes(k) && !(optional as readonly string[]).includes(k)) throw invalid(`${where}: campo desconocido «${k.slice(0, 64)}»`);
  }
  for (const k of keys) if (!(k in value)) throw invalid(`${where}: falta el campo ${k}`);
  return value as Record<K | O, unknown>;
}

function requireArray(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) throw invalid(`campo ${where}: se espera una lista`);
  return value;
}

function requireText(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_TEXT) {
    throw invalid(`${where}: se espera un texto de 1 a ${MAX_TEXT} caracteres`);
  }
  return value;
}

function requireInstant(value: unknown, field: string): number {
  const t = typeof value === 'string' && ISO_INSTANT.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(t)) throw invalid(`campo ${field}: se espera una fecha y hora ISO 8601`);
  return t;
}

function requireClientId(value: unknown, where: string, instance: string, parts: 3 | 4): string {
  const what = parts === 3 ? 'miembro (INSTANCIA/CLASE/CÓDIGO)' : 'subsistema (INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA)';
  if (typeof value !== 'string') throw invalid(`${where}: se espera un identificador de ${what}`);
  let id;
  try {
    id = parseClientId(value);
  } catch (err) {
    throw invalid(`${where}: ${(err as Error).message}`);
  }
  if ((id.subsystemCode === undefined ? 3 : 4) !== parts) throw invalid(`${where}: se espera un identificador de ${what}`);
  if (id.instance !== instance) throw invalid(`${where}: pertenece a otra instancia (${id.instance})`);
  return value;
}

function requireAddress(value: unknown, where: string): void {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.hostname === '') {
    throw invalid(`${where}: se espera una dirección https://host:puerto`);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
