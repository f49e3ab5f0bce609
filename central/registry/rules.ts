/**
 * Registry rules: what may be registered in central. Each function validates its input,
 * checks references against the store and then writes through the store (which audits).
 * Errors are MiisError with Spanish messages; nothing here touches files or sockets.
 */
import { MiisError } from '../../core/errors.js';
import { formatClientId, formatMemberId, formatServiceId, parseClientId, parseServiceId, providerOf } from '../../core/identifiers.js';
import { validateRuc } from '../../core/peru-ids.js';
import { certificateInfo, verifyChain } from '../../core/pki.js';
import { MEMBER_ROLES } from './store.js';
import { nodeServes } from './node-members.js';
import type { ChangeContext, MemberRecord, MemberRole, NodeRecord, RegistryStore, ServiceRecord, SubsystemRecord } from './store.js';

/** Settings keys kept in the registry database. */
export const SETTING = {
  instance: 'instance',
  operatorName: 'operator_name',
  keyAlgorithm: 'key_algorithm',
  caCertPem: 'ca_cert_pem',
  confCertPem: 'conf_cert_pem',
  /** `conf set-serial N`: the next version published gets at least this serial. */
  nextSerialMin: 'next_serial_min',
  /** Set by `restore`: central does not serve until `conf set-serial` (serials must stay above every one issued). */
  restoredNeedsSerial: 'restored_needs_serial',
} as const;

const CODE_PART = /^[A-Za-z0-9._\-]{1,64}$/;
const NODE_NAME = /^[a-z0-9][a-z0-9._\-]{0,63}$/;
const MAX_NAME = 200;

/** The instance this central serves; throws Config.NotInitialized before `init`. */
export function requireInstance(store: RegistryStore): string {
  const instance = store.getSetting(SETTING.instance);
  if (instance === undefined) throw new MiisError('Config.NotInitialized', 'el directorio central no tiene instancia; ejecute primero «miis-central init»');
  return instance;
}

export function parseMemberRole(value: string): MemberRole {
  const role = value.trim().toUpperCase();
  if (!(MEMBER_ROLES as readonly string[]).includes(role)) {
    throw new MiisError('Config.InvalidInput', `rol no válido: «${value}». Roles admitidos (Art. 5): ${MEMBER_ROLES.join(', ')}`);
  }
  return role as MemberRole;
}

function checkText(value: string, what: string): string {
  const text = value.trim();
  if (text === '' || text.length > MAX_NAME || /[\u0000-\u001f]/.test(text)) {
    throw new MiisError('Config.InvalidInput', `${what} no válido: debe tener de 1 a ${MAX_NAME} caracteres imprimibles`);
  }
  return text;
}

function checkInstance(found: string, instance: string, full: string): void {
  if (found !== instance) {
    throw new MiisError('Config.InvalidIdentifier', `«${full}» es de la instancia ${found}, pero este directorio central es de la instancia ${instance}`);
  }
}

export function requireMember(store: RegistryStore, memberId: string): MemberRecord {
  const id = parseClientId(memberId);
  if (id.subsystemCode !== undefined) throw new MiisError('Config.InvalidIdentifier', `«${memberId}»: se esperaba un miembro INSTANCIA/CLASE/CÓDIGO, sin subsistema`);
  const member = store.getMember(formatMemberId(id));
  if (member === undefined) throw new MiisError('Config.NotFound', `el miembro ${memberId} no está registrado`);
  return member;
}

/** Longest member name: it goes into the certificates' subject (O, CN), at most 64 characters (RFC 5280 upper bounds). */
export const MAX_MEMBER_NAME = 64;

/** A member name that fits in a certificate, checked when the member is registered or renamed (not later at CSR). */
export function checkMemberName(value: string): string {
  const name = checkText(value, 'nombre');
  if ([...name].length > MAX_MEMBER_NAME) {
    throw new MiisError('Config.InvalidInput', `el nombre del miembro «${name}» tiene ${[...name].length} caracteres y los certificados admiten hasta ${MAX_MEMBER_NAME} (campos O y CN): use un nombre más corto con --name, p. ej. la sigla de la entidad`);
  }
  return name;
}

export function registerMember(
  store: RegistryStore,
  input: { memberClass: string; memberCode: string; name: string; role: string },
  ctx: ChangeContext,
): MemberRecord {
  const instance = requireInstance(store);
  if (!CODE_PART.test(input.memberClass)) {
    throw new MiisError('Config.InvalidIdentifier', `clase de miembro no válida: «${input.memberClass}» (p. ej. GOB)`);
  }
  const memberCode = validateRuc(input.memberCode);
  const id = formatMemberId({ instance, memberClass: input.memberClass, memberCode });
  if (store.getMember(id) !== undefined) throw new MiisError('Config.Duplicate', `el miembro ${id}`);
  return store.addMember(
    { id, instance, memberClass: input.memberClass, memberCode, name: checkMemberName(input.name), role: parseMemberRole(input.role) },
    ctx,
  );
}

export function registerSubsystem(store: RegistryStore, subsystemId: string, ctx: ChangeContext): SubsystemRecord {
  const instance = requireInstance(store);
  const id = parseClientId(subsystemId);
  if (id.subsystemCode === undefined) {
    throw new MiisError('Config.InvalidIdentifier', `«${subsystemId}»: un subsistema se escribe INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA`);
  }
  checkInstance(id.instance, instance, subsystemId);
  const member = requireMember(store, formatMemberId(id));
  const fullId = formatClientId(id);
  if (store.getSubsystem(fullId) !== undefined) throw new MiisError('Config.Duplicate', `el subsistema ${fullId}`);
  return store.addSubsystem({ id: fullId, memberId: member.id, subsystemCode: id.subsystemCode }, ctx);
}

/** https://host:port with nothing else (no path, query, credentials). */
export function parseNodeAddress(address: string): string {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new MiisError('Config.InvalidInput', `dirección de nodo no válida: «${address}». Use https://servidor:puerto`);
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/') {
    throw new MiisError('Config.InvalidInput', `dirección de nodo no válida: «${address}». Use https://servidor:puerto, sin ruta ni parámetros`);
  }
  return url.origin;
}

export function registerNode(
  store: RegistryStore,
  input: { name: string; ownerId: string; address: string; authCertPem: string },
  ctx: ChangeContext,
): NodeRecord {
  requireInstance(store);
  if (!NODE_NAME.test(input.name)) {
    throw new MiisError('Config.InvalidInput', `nombre de nodo no válido: «${input.name}» (minúsculas, dígitos, punto, guion; hasta 64)`);
  }
  if (store.getNode(input.name) !== undefined) throw new MiisError('Config.Duplicate', `el nodo ${input.name}`);
  const owner = requireMember(store, input.ownerId);
  const address = parseNodeAddress(input.address);
  const info = checkAuthCert(store, input.authCertPem, ctx.at);
  const clash = store.listNodes().find((n) => n.authCertSha256 === info.sha256);
  if (clash !== undefined) throw new MiisError('Config.Duplicate', `el certificado de autenticación ya está registrado para el nodo ${clash.name}`);
  return store.addNode({ name: input.name, ownerId: owner.id, address, authCertPem: input.authCertPem.trim() + '\n', authCertSha256: info.sha256 }, ctx);
}

export function checkAuthCert(store: RegistryStore, certPem: string, now: Date): { sha256: string } {
  const caPem = store.getSetting(SETTING.caCertPem);
  if (caPem === undefined) throw new MiisError('Config.NotInitialized', 'no hay CA de la instancia; ejecute primero «miis-central init»');
  const info = certificateInfo(certPem);
  const chain = verifyChain(certPem, [caPem], now);
  if (!chain.ok) throw new MiisError('Config.InvalidCertificate', chain.reason);
  if (info.profile !== 'auth') {
    throw new MiisError('Config.InvalidCertificate', `el certificado tiene el perfil «${info.profile}»; un nodo necesita uno de autenticación (auth)`);
  }
  return { sha256: info.sha256 };
}

export function addNodeClient(store: RegistryStore, nodeName: string, subsystemId: string, ctx: ChangeContext): NodeRecord {
  const node = store.getNode(nodeName);
  if (node === undefined) throw new MiisError('Config.NotFound', `el nodo ${nodeName} no está registrado`);
  const id = formatClientId(parseClientId(subsystemId));
  if (store.getSubsystem(id) === undefined) throw new MiisError('Config.NotFound', `el subsistema ${subsystemId} no está registrado`);
  if (node.clients.includes(id)) throw new MiisError('Config.Duplicate', `el cliente ${id} en el nodo ${nodeName}`);
  const member = formatMemberId(parseClientId(id));
  if (!nodeServes(store, node, member)) {
    throw new MiisError('Config.InvalidInput', `el nodo ${nodeName} es de ${node.ownerId} y no aloja a ${member}; para un nodo compartido, regístrelo antes con «miis-central node member add --node ${nodeName} ${member}»`);
  }
  return store.addNodeClient(nodeName, id, ctx);
}

export function registerService(store: RegistryStore, input: { serviceId: string; title: string }, ctx: ChangeContext): ServiceRecord {
  const instance = requireInstance(store);
  const serviceId = parseServiceId(input.serviceId);
  checkInstance(serviceId.instance, instance, input.serviceId);
  const subsystemId = formatClientId(providerOf(serviceId));
  if (store.getSubsystem(subsystemId) === undefined) {
    throw new MiisError('Config.NotFound', `el subsistema ${subsystemId} que ofrecería el servicio no está registrado`);
  }
  const id = formatServiceId(serviceId);
  if (store.getService(id) !== undefined) throw new MiisError('Config.Duplicate', `el servicio ${id}`);
  return store.addService({ id, subsystemId, title: checkText(input.title, 'título') }, ctx);
}
