#!/usr/bin/env node
/**
 * miis-central: the command line of the central directory (DGFO).
 * `runCentralCli` runs in-process and returns the exit code (0 ok, 2 bad input, 1 other
 * errors); only the tiny main at the bottom touches process.exitCode.
 */
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { registerServiceUnitCommand } from '../../runtime/service-unit.js';
import { collect, createProgram, formatTable, limaDateTime, okJson, textOnly, isMainModule, parseChoice, parseInteger, processIo, readInputFile, runProgram, toJson, waitForStop, type CliIo } from '../../runtime/cli-kit.js';
import { listJson } from '../../runtime/cli-json.js';
import { KEY_ALGORITHMS } from '../../core/pki.js';
import { formatClientId, parseClientId } from '../../core/identifiers.js';
import type { KeyAlgorithm } from '../../core/pki.js';
import { CSR_PROFILES, signCsr } from '../pki/ca.js';
import type { CsrProfile } from '../pki/ca.js';
import { centralPaths, initCentralDir, openCentralStore, readAnchorPem, loadCaMaterial } from '../pki/central-dir.js';
import { DEFAULT_CONF_VALIDITY_MS } from '../conf/publisher.js';
import { openCentral, startCentral } from '../main.js';
import { createLogger, defaultLogFormat, parseLogFormat } from '../../runtime/log.js';
import type { CentralApp } from '../main.js';
import { addNodeClient, registerNode, registerService, registerSubsystem } from '../registry/rules.js';
import { removeMember, removeService, removeSubsystem } from '../registry/removals.js';
import { registerMemberEntity, setMemberEntity } from '../governance/entities.js';
import { MEMBER_ROLES } from '../registry/store.js';
import { registerAgreementCommands } from './agreements.js';
import { registerTramaCommands } from './tramas.js';
import { plural, registerGovernanceCommands } from './governance.js';
import { registerProgramCommands } from './programs.js';
import { seedCatalogue } from '../governance/catalogue-seed.js';
import { registerRevocationCommands } from './revocation.js';
import { registerExternalCaCommands } from './external-ca.js';
import type { ChangeContext, RegistryStore } from '../registry/store.js';
import { outResult, type CommonOptions } from './helpers.js';
import { setNextSerial } from '../conf/publisher.js';
import { SETTING } from '../registry/rules.js';
import { PASSPHRASE_ENV, restoreBackup, writeBackup } from '../../runtime/backup.js';
import { packageVersion } from '../../runtime/version.js';
import { DEFAULT_AUTH_OVERLAP_HOURS, removeNode, setNode } from '../registry/node-lifecycle.js';
import { addNodeMember, hostedMembersByNode, removeNodeMember } from '../registry/node-members.js';
import type { NodeRecord } from '../registry/store.js';
import { MiisError } from '../../core/errors.js';

function describeNodeChange(n: NodeRecord): string {
  const lines = [`Nodo ${n.name}: dirección ${n.address}; certificado auth SHA-256 ${n.authCertSha256}`];
  if (n.previousAuthCertSha256 !== undefined) lines.push(`Se sigue aceptando el certificado anterior (SHA-256 ${n.previousAuthCertSha256}) hasta ${n.previousAuthUntil ?? '-'}; quítelo antes con «miis-central node set ${n.name} --drop-previous».`);
  lines.push('El cambio se publica en la próxima configuración global (los nodos la descargan en su siguiente consulta).');
  return lines.join('\n');
}


function defaultActor(env: Readonly<Record<string, string | undefined>>): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME ?? 'desconocido';
  }
}

// --- program -----------------------------------------------------------------------------------

interface Context {
  readonly io: CliIo;
  readonly now: () => Date;
  readonly env: Readonly<Record<string, string | undefined>>;
}

function buildProgram(cx: Context): Command {
  const { io } = cx;
  const out = (s: string): void => io.stdout(s.endsWith('\n') ? s : `${s}\n`);
  const defaultDir = cx.env.MIIS_CENTRAL_DIR ?? './var/central';

  const program = createProgram('miis-central', 'Directorio central del MIIS (DGFO): registro de entidades, CA de la instancia y configuración global firmada', io);

  /** --dir and --actor on every command. */
  const common = (cmd: Command): Command =>
    cmd
      .option('--dir <carpeta>', 'carpeta de datos del directorio central (o variable MIIS_CENTRAL_DIR)', defaultDir)
      .option('--actor <nombre>', 'quién hace el cambio, para la auditoría (por omisión, el usuario del sistema)');
  const ctxOf = (o: CommonOptions): ChangeContext => ({ actor: o.actor ?? defaultActor(cx.env), at: cx.now() });
  const withStore = async <T>(o: CommonOptions, fn: (store: RegistryStore) => T | Promise<T>): Promise<T> => {
    const store = openCentralStore(centralPaths(o.dir));
    try {
      return await fn(store);
    } finally {
      store.close();
    }
  };
  const withApp = async <T>(o: CommonOptions, fn: (app: CentralApp) => T | Promise<T>): Promise<T> => {
    const app = openCentral({ dir: o.dir, clock: cx.now });
    try {
      return await fn(app);
    } finally {
      app.close();
    }
  };

  // init
  common(program.command('init'))
    .description('crea la carpeta de datos: base de datos, CA de la instancia y clave de firma de la configuración global')
    .requiredOption('--instance <instancia>', 'identificador de la instancia, p. ej. PE')
    .option('--key-algorithm <algoritmo>', `algoritmo de las claves: ${KEY_ALGORITHMS.join(' | ')}`, 'ecdsa-p256')
    .option('--name <nombre>', 'nombre de la entidad operadora (organización en los certificados)')
    .option('--no-catalogue', 'no cargar el catálogo inicial (6.1 y Anexo Nº 01)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central init --dir ./var/central --instance PE --name "MIDIS - DGFO"\n')
    .action(async (o: CommonOptions & { json?: boolean; instance: string; keyAlgorithm: string; name?: string; catalogue: boolean }) => {
      const say = textOnly(o, out);
      const paths = await initCentralDir({
        dir: o.dir,
        instance: o.instance,
        keyAlgorithm: parseChoice<KeyAlgorithm>(o.keyAlgorithm, KEY_ALGORITHMS, 'algoritmo de clave'),
        now: cx.now(),
        actor: ctxOf(o).actor,
        ...(o.name === undefined ? {} : { operatorName: o.name }),
      });
      say(`Directorio central inicializado en ${paths.dir} (instancia ${o.instance})`);
      say(`Ancla de confianza para los nodos (certificado de firma de la configuración global): ${paths.anchor}`);
      say(`Certificado de la CA de la instancia: ${paths.caCert}`);
      say(`Claves privadas (modo 0600) en: ${paths.keysDir}`);
      if (o.catalogue) {
        const seeded = await withStore(o, (store) => seedCatalogue(store, ctxOf(o)));
        say(`Catálogo inicial: ${plural(seeded.components, 'componente', 'componentes')} de ${plural(seeded.entities, 'entidad', 'entidades')} (6.1 y Anexo Nº 01); vea «miis-central component list»`);
      }
      if (o.json === true) out(okJson({ carpeta: paths.dir, instancia: o.instance, ancla: paths.anchor, certificadoCa: paths.caCert, claves: paths.keysDir, catalogo: o.catalogue }));
    });

  // member
  const member = program.command('member').description('miembros: entidades del SINAFO registradas');
  common(member.command('add'))
    .description('registra una entidad como miembro (el código es su RUC); si ya está en el catálogo toma su nombre y rol')
    .requiredOption('--class <clase>', 'clase de miembro, p. ej. GOB')
    .requiredOption('--code <ruc>', 'RUC de la entidad (11 dígitos, se verifica el dígito de control)')
    .option('--name <nombre>', 'nombre de la entidad (por omisión, el de la entidad del catálogo; uno distinto la renombra)')
    .option('--role <rol>', `rol según el Art. 5: ${MEMBER_ROLES.join(', ')} (por omisión, el de la entidad del catálogo)`)
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central member add --class GOB --code 20295613620 --name "RENIEC" --role RENIEC\n')
    .action(async (o: CommonOptions & { class: string; code: string; name?: string; role?: string; json?: boolean }) => {
      const r = await withStore(o, (store) => registerMemberEntity(store, { memberClass: o.class, memberCode: o.code, name: o.name, role: o.role }, ctxOf(o)));
      if (o.json === true) return out(okJson({ miembro: r.member.id, nombre: r.member.name, rol: r.member.role, ruc: r.entity.ruc, entidadRenombrada: r.renamed === null ? null : { antes: r.renamed.from, ahora: r.renamed.to } }));
      out(`Miembro registrado: ${r.member.id} (${r.member.name}, ${r.member.role})`);
      if (r.renamed !== null) out(`La entidad del catálogo con RUC ${r.entity.ruc} se llamaba «${r.renamed.from}»; miembro y entidad comparten ahora el nombre «${r.renamed.to}».`);
      return undefined;
    });
  common(member.command('set'))
    .description('cambia el nombre o el rol de un miembro y de su entidad del catálogo (un solo registro); se publica en la próxima configuración global')
    .argument('<id>', 'INSTANCIA/CLASE/CÓDIGO')
    .option('--name <nombre>', 'nuevo nombre')
    .option('--role <rol>', `nuevo rol: ${MEMBER_ROLES.join(', ')}`)
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central member set PE/GOB/20295613620 --name "Registro Nacional de Identificación y Estado Civil"\n')
    .action(async (id: string, o: CommonOptions & { name?: string; role?: string; json?: boolean }) => {
      const r = await withStore(o, (store) => setMemberEntity(store, id, { name: o.name, role: o.role }, ctxOf(o)));
      outResult(o, out, { miembro: r.member.id, nombre: r.member.name, rol: r.member.role, ruc: r.entity.ruc }, `Miembro actualizado: ${r.member.id} (${r.member.name}, ${r.member.role}); la entidad del catálogo lleva el mismo nombre. Se publica en la próxima configuración global.`);
    });
  common(member.command('remove'))
    .description('da de baja un miembro del MIIS (su entidad del catálogo y su historial se conservan); se rechaza mientras tenga subsistemas, nodos o convenios vigentes')
    .argument('<id>', 'INSTANCIA/CLASE/CÓDIGO')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central member remove PE/GOB/20512333797\n')
    .action(async (id: string, o: CommonOptions & { json?: boolean }) => {
      const m = await withStore(o, (store) => removeMember(store, id, ctxOf(o)));
      outResult(o, out, { miembro: m.id, nombre: m.name, baja: true }, `Miembro dado de baja: ${m.id} (${m.name}); deja de publicarse en la próxima configuración global. Su entidad sigue en el catálogo.`);
    });
  common(member.command('list'))
    .description('lista los miembros')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const members = await withStore(o, (store) => store.listMembers());
      out(o.json === true ? listJson(members) : formatTable(['ID', 'ROL', 'NOMBRE'], members.map((m) => [m.id, m.role, m.name])));
    });

  // subsystem
  const subsystem = program.command('subsystem').description('subsistemas de los miembros (p. ej. RUPN, PGH, RNU)');
  common(subsystem.command('add'))
    .description('registra un subsistema de un miembro ya registrado')
    .argument('<id>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central subsystem add PE/GOB/20295613620/RUPN\n')
    .action(async (id: string, o: CommonOptions & { json?: boolean }) => {
      const say = textOnly(o, out);
      const record = await withStore(o, (store) => registerSubsystem(store, id, ctxOf(o)));
      say(`Subsistema registrado: ${record.id}`);
      if (o.json === true) out(okJson({ subsistema: record.id }));
    });
  common(subsystem.command('remove'))
    .description('da de baja un subsistema (deja de publicarse; los nodos dejan de atenderlo); se rechaza mientras ofrezca servicios o lo nombren convenios vigentes o accesos otorgados')
    .argument('<id>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central subsystem remove PE/GOB/20295613620/RUPN\n')
    .action(async (id: string, o: CommonOptions & { json?: boolean }) => {
      const r = await withStore(o, (store) => removeSubsystem(store, id, ctxOf(o)));
      outResult(o, out, { subsistema: r.subsystem.id, nodos: r.nodes, baja: true }, `Subsistema dado de baja: ${r.subsystem.id}${r.nodes.length === 0 ? '' : `; ${r.nodes.length === 1 ? 'el nodo' : 'los nodos'} ${r.nodes.join(', ')} ya no lo ${r.nodes.length === 1 ? 'atiende' : 'atienden'}`}. Se publica en la próxima configuración global.`);
    });
  common(subsystem.command('list'))
    .description('lista los subsistemas')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const subsystems = await withStore(o, (store) => store.listSubsystems());
      out(o.json === true ? listJson(subsystems) : formatTable(['ID', 'MIEMBRO'], subsystems.map((s) => [s.id, s.memberId])));
    });

  // node
  const node = program.command('node').description('nodos de seguridad de las entidades');
  common(node.command('add'))
    .description('registra un nodo con su certificado de autenticación (perfil auth, emitido por la CA de la instancia)')
    .requiredOption('--name <nombre>', 'nombre único del nodo, p. ej. reniec')
    .requiredOption('--owner <miembro>', 'miembro propietario, INSTANCIA/CLASE/CÓDIGO')
    .requiredOption('--address <url>', 'dirección entre nodos, https://servidor:puerto')
    .requiredOption('--auth-cert <archivo>', 'certificado TLS del nodo (PEM)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central node add --name reniec --owner PE/GOB/20295613620 --address https://10.0.0.5:5500 --auth-cert reniec-auth.pem\n')
    .action(async (o: CommonOptions & { json?: boolean; name: string; owner: string; address: string; authCert: string }) => {
      const say = textOnly(o, out);
      const authCertPem = readInputFile(o.authCert, 'certificado');
      const record = await withStore(o, (store) => registerNode(store, { name: o.name, ownerId: o.owner, address: o.address, authCertPem }, ctxOf(o)));
      say(`Nodo registrado: ${record.name} (${record.address}), certificado SHA-256 ${record.authCertSha256}`);
      if (o.json === true) out(okJson({ nodo: record.name, direccion: record.address, sha256CertAuth: record.authCertSha256 }));
    });
  common(node.command('set'))
    .description('cambia la dirección de un nodo o renueva su certificado de autenticación (se publica en la próxima configuración global)')
    .argument('<nombre>', 'nombre del nodo')
    .option('--address <url>', 'nueva dirección entre nodos, https://servidor:puerto')
    .option('--auth-cert <archivo>', 'nuevo certificado TLS del nodo (PEM); el anterior se sigue aceptando durante el solapamiento')
    .option('--overlap-hours <horas>', 'cuántas horas se sigue aceptando el certificado anterior (como máximo hasta que venza)', String(DEFAULT_AUTH_OVERLAP_HOURS))
    .option('--drop-previous', 'deja de aceptar ya el certificado anterior')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplos:\n  miis-central node set reniec --address https://10.0.0.5:5501\n  miis-central node set reniec --auth-cert reniec-auth-2027.pem\n  miis-central node set reniec --drop-previous\n')
    .action(async (name: string, o: CommonOptions & { json?: boolean; address?: string; authCert?: string; overlapHours: string; dropPrevious?: boolean }) => {
      const say = textOnly(o, out);
      const authCertPem = o.authCert === undefined ? undefined : readInputFile(o.authCert, 'certificado');
      const overlapHours = parseInteger(o.overlapHours, 'solapamiento', 0, 24 * 365);
      const r = await withStore(o, (store) => setNode(store, { name, address: o.address, authCertPem, overlapHours, dropPrevious: o.dropPrevious === true }, ctxOf(o)));
      say(describeNodeChange(r));
      if (o.json === true) out(okJson({ nodo: r.name, direccion: r.address, sha256CertAuth: r.authCertSha256, sha256CertAuthAnterior: r.previousAuthCertSha256 ?? null, anteriorAceptadoHasta: r.previousAuthUntil ?? null }));
    });
  common(node.command('remove'))
    .description('da de baja un nodo (deja de publicarse en la próxima configuración global)')
    .argument('<nombre>', 'nombre del nodo')
    .option('--json', 'salida en JSON')
    .action(async (name: string, o: CommonOptions & { json?: boolean }) => {
      const say = textOnly(o, out);
      const { r, orphans } = await withStore(o, (store) => {
        const removed = removeNode(store, name, ctxOf(o));
        // a subsystem also hosted by another node of the member (high availability) keeps being served
        const hosted = new Set(store.listNodes().flatMap((n) => n.clients));
        return { r: removed, orphans: removed.clients.filter((c) => !hosted.has(c)) };
      });
      const kept = r.clients.filter((c) => !orphans.includes(c));
      say(`Nodo dado de baja: ${r.name} (${r.address}); subsistemas que quedan sin nodo: ${orphans.join(', ') || 'ninguno'}${kept.length === 0 ? '' : `; siguen atendidos por otro nodo: ${kept.join(', ')}`}`);
      if (o.json === true) out(okJson({ nodo: r.name, baja: true, subsistemasSinNodo: orphans, subsistemasEnOtroNodo: kept }));
    });
  const nodeClient = node.command('client').description('subsistemas atendidos por un nodo');
  common(nodeClient.command('add'))
    .description('asocia un subsistema registrado a un nodo (un subsistema puede atenderse desde varios nodos: alta disponibilidad)')
    .requiredOption('--node <nombre>', 'nombre del nodo')
    .argument('<subsistema>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central node client add --node reniec PE/GOB/20295613620/RUPN\n')
    .action(async (subsystemId: string, o: CommonOptions & { json?: boolean; node: string }) => {
      const say = textOnly(o, out);
      const { record, others } = await withStore(o, (store) => {
        const added = addNodeClient(store, o.node, subsystemId, ctxOf(o));
        const id = formatClientId(parseClientId(subsystemId));
        return { record: added, others: store.listNodes().filter((n) => n.name !== added.name && n.clients.includes(id)).map((n) => n.name) };
      });
      say(`El nodo ${record.name} atiende ahora: ${record.clients.join(', ')}${others.length === 0 ? '' : ` (${subsystemId} también en: ${others.join(', ')}; los consumidores conmutan entre ellos)`}`);
      if (o.json === true) out(okJson({ nodo: record.name, clientes: record.clients, tambienEn: others }));
    });
  const nodeMember = node.command('member').description('nodo compartido: miembros que el nodo aloja además de su propietario, cada uno con su propia clave de firma');
  common(nodeMember.command('add'))
    .description('registra un miembro alojado en un nodo compartido (p. ej. una municipalidad en el nodo de su gobierno regional); después se le asocian sus subsistemas con «node client add»')
    .requiredOption('--node <nombre>', 'nombre del nodo')
    .argument('<miembro>', 'INSTANCIA/CLASE/CÓDIGO')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central node member add --node gore-cusco PE/GOB/20177539731\n  miis-central node client add --node gore-cusco PE/GOB/20177539731/ULE\n')
    .action(async (member: string, o: CommonOptions & { json?: boolean; node: string }) => {
      const say = textOnly(o, out);
      const members = await withStore(o, (store) => addNodeMember(store, o.node, member, ctxOf(o)));
      say(`El nodo ${o.node} aloja ahora a: ${members.join(', ')}; cada miembro firma con su propio certificado (perfil sign). Se publica en la próxima configuración global.`);
      if (o.json === true) out(okJson({ nodo: o.node, miembrosAlojados: members }));
    });
  common(nodeMember.command('remove'))
    .description('deja de alojar un miembro (se rechaza mientras el nodo atienda subsistemas suyos)')
    .requiredOption('--node <nombre>', 'nombre del nodo')
    .argument('<miembro>', 'INSTANCIA/CLASE/CÓDIGO')
    .option('--json', 'salida en JSON')
    .action(async (member: string, o: CommonOptions & { json?: boolean; node: string }) => {
      const say = textOnly(o, out);
      const members = await withStore(o, (store) => removeNodeMember(store, o.node, member, ctxOf(o)));
      say(`El nodo ${o.node} aloja ahora a: ${members.join(', ') || 'ninguno (solo su propietario)'}`);
      if (o.json === true) out(okJson({ nodo: o.node, miembrosAlojados: members }));
    });
  common(node.command('list'))
    .description('lista los nodos')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const { nodes, hosted } = await withStore(o, (store) => ({ nodes: store.listNodes(), hosted: hostedMembersByNode(store) }));
      const view = nodes.map(({ authCertPem: _pem, ...rest }) => ({ ...rest, ...(hosted.has(rest.name) ? { members: hosted.get(rest.name) } : {}) }));
      out(o.json === true ? listJson(view) : formatTable(['NOMBRE', 'PROPIETARIO', 'MIEMBROS ALOJADOS', 'DIRECCIÓN', 'CLIENTES', 'SHA-256 CERT. AUTH'], nodes.map((n) => [n.name, n.ownerId, hosted.get(n.name)?.join(',') ?? '-', n.address, n.clients.join(',') || '-', n.previousAuthCertSha256 === undefined ? n.authCertSha256 : `${n.authCertSha256} (+ anterior hasta ${n.previousAuthUntil === undefined ? '-' : `${limaDateTime(n.previousAuthUntil)} (Lima)`})`])));
    });

  // cert
  const cert = program.command('cert').description('certificados emitidos por la CA de la instancia');
  common(cert.command('sign'))
    .description('firma una solicitud (CSR) con la CA: auth = TLS de un nodo, sign = firma de mensajes de un miembro')
    .requiredOption('--csr <archivo>', 'solicitud PKCS#10 en PEM')
    .requiredOption('--profile <perfil>', `perfil: ${CSR_PROFILES.join(' | ')}`)
    .option('--out <archivo>', 'escribe el certificado en este archivo (por omisión, en la salida estándar)')
    .option('--ip <dirección>', 'dirección IP para el certificado auth (repetible)', collect, [])
    .option('--dns <nombre>', 'nombre DNS para el certificado auth (repetible)', collect, [])
    .option('--valid-days <días>', 'vigencia en días', '365')
    .option('--node <nombre>', 'perfil auth: renueva el certificado de este nodo registrado (el anterior se acepta durante el solapamiento)')
    .option('--overlap-hours <horas>', 'con --node: horas en que se sigue aceptando el certificado anterior', String(DEFAULT_AUTH_OVERLAP_HOURS))
    .option('--json', 'salida en JSON')
    .addHelpText('after', [
      '',
      'Un CSR sign debe llevar en serialNumber el identificador del miembro (PE/GOB/<RUC>) y en O su nombre registrado.',
      'Ejemplos:',
      '  miis-central cert sign --csr reniec-auth.csr --profile auth --ip 127.0.0.1 --dns localhost --out reniec-auth.pem',
      '  miis-central cert sign --csr reniec-sign.csr --profile sign --out reniec-sign.pem',
      '  miis-central cert sign --csr reniec-auth.csr --profile auth --node reniec --ip 10.0.0.5 --out reniec-auth-2027.pem',
      '',
    ].join('\n'))
    .action(async (o: CommonOptions & { json?: boolean; csr: string; profile: string; out?: string; ip: string[]; dns: string[]; validDays: string; node?: string; overlapHours: string }) => {
      const say = textOnly(o, out);
      const profile = parseChoice<CsrProfile>(o.profile, CSR_PROFILES, 'perfil');
      const validDays = parseInteger(o.validDays, 'vigencia', 1, 3650);
      const overlapHours = parseInteger(o.overlapHours, 'solapamiento', 0, 24 * 365);
      if (o.node !== undefined && profile !== 'auth') throw new MiisError('Config.InvalidInput', '--node solo se usa con --profile auth');
      const csrPem = readInputFile(o.csr, 'solicitud');
      const { record, node: renewed } = await withStore(o, async (store) => {
        if (o.node !== undefined && store.getNode(o.node) === undefined) throw new MiisError('Config.NotFound', `el nodo ${o.node} no está registrado`);
        const issued = await signCsr(store, loadCaMaterial(centralPaths(o.dir), store), { csrPem, profile, validDays, dnsNames: o.dns, ipAddresses: o.ip }, ctxOf(o));
        return { record: issued, node: o.node === undefined ? undefined : setNode(store, { name: o.node, authCertPem: issued.pem, overlapHours }, ctxOf(o)) };
      });
      if (renewed !== undefined && o.json !== true) io.stderr(`${describeNodeChange(renewed)}\n`);
      if (o.out === undefined) {
        say(record.pem);
      } else {
        writeFileSync(resolve(o.out), record.pem, { mode: 0o644 });
        say(`Certificado ${profile} emitido para ${record.memberId ?? '-'} (serie ${record.serialHex}, vence ${record.notAfter}): ${resolve(o.out)}`);
      }
      if (o.json === true) out(okJson({ perfil: profile, serie: record.serialHex, miembro: record.memberId ?? null, vence: record.notAfter, archivo: o.out === undefined ? null : resolve(o.out), nodo: renewed?.name ?? null, ...(o.out === undefined ? { pem: record.pem } : {}) }));
    });
  common(cert.command('list'))
    .description('lista los certificados emitidos')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const certs = await withStore(o, (store) => store.listIssuedCerts());
      const view = certs.map(({ pem: _pem, ...rest }) => rest);
      out(o.json === true ? listJson(view) : formatTable(['SERIE', 'PERFIL', 'MIEMBRO', 'VENCE (LIMA)', 'SUJETO'], certs.map((c) => [c.serialHex, c.profile, c.memberId ?? '-', limaDateTime(c.notAfter), c.subject])));
    });

  // service
  const service = program.command('service').description('servicios publicados en la configuración global');
  common(service.command('add'))
    .description('registra un servicio de un subsistema registrado')
    .argument('<id>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO[/VERSIÓN]')
    .requiredOption('--title <título>', 'título del servicio')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central service add PE/GOB/20295613620/RUPN/consultarPersona/v1 --title "Consulta de persona por DNI"\n')
    .action(async (id: string, o: CommonOptions & { json?: boolean; title: string }) => {
      const say = textOnly(o, out);
      const record = await withStore(o, (store) => registerService(store, { serviceId: id, title: o.title }, ctxOf(o)));
      say(`Servicio registrado: ${record.id} (${record.title})`);
      if (o.json === true) out(okJson({ servicio: record.id, titulo: record.title }));
    });
  common(service.command('remove'))
    .description('da de baja un servicio (deja de publicarse y se desvincula de sus componentes); se rechaza mientras lo cubran convenios vigentes o accesos otorgados')
    .argument('<id>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO[/VERSIÓN]')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central service remove PE/GOB/20295613620/RUPN/consultarPersona/v1\n')
    .action(async (id: string, o: CommonOptions & { json?: boolean }) => {
      const r = await withStore(o, (store) => removeService(store, id, ctxOf(o)));
      outResult(o, out, { servicio: r.service.id, componentes: r.components, baja: true }, `Servicio dado de baja: ${r.service.id}${r.components.length === 0 ? '' : ` (desvinculado de ${r.components.join(', ')})`}. Se publica en la próxima configuración global.`);
    });
  common(service.command('list'))
    .description('lista los servicios')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const services = await withStore(o, (store) => store.listServices());
      out(o.json === true ? listJson(services) : formatTable(['ID', 'TÍTULO'], services.map((s) => [s.id, s.title])));
    });

  registerAgreementCommands(program, { common, withStore, ctxOf, out });
  registerTramaCommands(program, { common, withStore, ctxOf, out });
  registerGovernanceCommands(program, { common, withStore, ctxOf, out });
  registerProgramCommands(program, { common, withStore, ctxOf, out });
  registerRevocationCommands(cert, { common, withStore, ctxOf, out });
  registerExternalCaCommands(program, { common, withStore, ctxOf, out });

  // conf
  const conf = program.command('conf').description('configuración global firmada');
  common(conf.command('show'))
    .description('muestra el contenido que se publicaría ahora')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const content = await withApp(o, (app) => app.publisher.preview());
      if (o.json === true) return out(toJson(content));
      out(`Configuración global de la instancia ${content.instance} (próxima serie ${content.serial}; vigente de ${limaDateTime(content.generatedAt)} a ${limaDateTime(content.expiresAt)}, hora de Lima)`);
      out(`Miembros (${content.members.length}):\n${formatTable(['ID', 'ROL', 'NOMBRE'], content.members.map((m) => [m.id, m.role, m.name]))}`);
      out(`Subsistemas (${content.subsystems.length}):\n${formatTable(['ID'], content.subsystems.map((s) => [s]))}`);
      out(`Nodos (${content.nodes.length}):\n${formatTable(['NOMBRE', 'PROPIETARIO', 'DIRECCIÓN', 'CLIENTES'], content.nodes.map((n) => [n.name, n.owner, n.address, n.clients.join(',') || '-']))}`);
      out(`Servicios (${content.services.length}):\n${formatTable(['ID', 'TÍTULO'], content.services.map((s) => [s.id, s.title]))}`);
      out(`CA de confianza: ${content.trustedCas.length}`);
      if (content.programs !== undefined) out(`Programas del RPS (${content.programs.length}):\n${formatTable(['CÓDIGO', 'ESTADO', 'ENTIDAD (RUC)', 'NOMBRE'], content.programs.map((p) => [p.code, p.status, p.administrator, p.name]))}`);
      return undefined;
    });
  common(conf.command('anchor'))
    .description('imprime el ancla de confianza (certificado de firma de la configuración global) que se instala en los nodos')
    .action(async (o: CommonOptions) => {
      out(await withStore(o, (store) => readAnchorPem(store)));
    });

  common(conf.command('set-serial'))
    .description('tras restaurar una copia: la próxima configuración global se publica con esta serie (mayor que cualquiera ya publicada)')
    .argument('<serie>', 'serie, mayor que la más alta que tengan los nodos (configuracionGlobal.serie en su /health)')
    .option('--json', 'salida en JSON')
    .action(async (serialText: string, o: CommonOptions & { json?: boolean }) => {
      const say = textOnly(o, out);
      const serial = parseInteger(serialText, 'serie', 1, 999_999_999);
      await withStore(o, (store) => setNextSerial(store, serial, ctxOf(o)));
      say(`La próxima configuración global se publicará con la serie ${serial}; los nodos la aceptan por ser mayor que la suya.`);
      if (o.json === true) out(okJson({ serie: serial }));
    });

  // backup and restore
  common(program.command('backup'))
    .description('copia de respaldo en línea (consistente, con el servicio en marcha): base de datos, claves, certificados y ajustes en un solo archivo')
    .requiredOption('--out <archivo>', 'archivo de la copia')
    .option('--encrypt', `cifra la copia (AES-256-GCM) con la frase de paso de la variable ${PASSPHRASE_ENV}`)
    .option('--json', 'salida en JSON')
    .addHelpText('after', `\nEjemplo:\n  ${PASSPHRASE_ENV}=… miis-central backup --dir /var/lib/miis/central --out central-2026-12-02.miisbak --encrypt\n`)
    .action(async (o: CommonOptions & { json?: boolean; out: string; encrypt?: boolean }) => {
      const say = textOnly(o, out);
      const r = await writeBackup({ dir: o.dir, out: resolve(o.out), kind: 'central', version: packageVersion(), now: cx.now(), encrypt: o.encrypt === true, env: cx.env });
      const serial = await withStore(o, (store) => store.latestConfVersion()?.serial ?? 0);
      say(`Copia de respaldo${o.encrypt === true ? ' cifrada' : ''}: ${resolve(o.out)} (${plural(r.files, 'archivo', 'archivos')}, ${plural(r.databases, 'base de datos', 'bases de datos')}, ${r.bytes} bytes; última serie publicada ${serial}). Contiene claves privadas: guárdela fuera de este servidor.`);
      if (o.json === true) out(okJson({ archivo: resolve(o.out), cifrada: o.encrypt === true, archivos: r.files, basesDeDatos: r.databases, bytes: r.bytes, ultimaSerie: serial }));
    });
  common(program.command('restore'))
    .description('restaura una copia de respaldo en una carpeta nueva o vacía (--dir)')
    .requiredOption('--from <archivo>', 'archivo de la copia')
    .option('--serial <N>', 'serie con la que publicar la próxima configuración (si no, «conf set-serial» es obligatorio antes de «serve»)')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean; from: string; serial?: string }) => {
      const say = textOnly(o, out);
      const r = restoreBackup({ from: resolve(o.from), dir: resolve(o.dir), kind: 'central', env: cx.env });
      const latest = await withStore(o, (store) => {
        store.setSetting(SETTING.restoredNeedsSerial, `copia del ${r.createdAt}`, ctxOf(o));
        if (o.serial !== undefined) setNextSerial(store, parseInteger(o.serial, 'serie', 1, 999_999_999), ctxOf(o));
        return store.latestConfVersion()?.serial ?? 0;
      });
      say(`Restaurado en ${resolve(o.dir)}: ${r.files} archivos de la copia del ${r.createdAt} (versión ${r.version}).`);
      if (o.serial === undefined) {
        say(`IMPORTANTE: la última serie en la copia es ${latest}, pero central pudo publicar series mayores después de la copia y los nodos no aceptan una serie menor que la suya.`);
        say('Antes de «miis-central serve», vea la serie más alta en los nodos (configuracionGlobal.serie en su /health) y ejecute:');
        say(`  miis-central conf set-serial <esa serie + 1> --dir ${resolve(o.dir)}`);
      } else {
        say(`La próxima configuración global se publicará con la serie ${o.serial}.`);
      }
      if (o.json === true) out(okJson({ carpeta: resolve(o.dir), archivos: r.files, copiaDel: r.createdAt, version: r.version, ultimaSerie: latest, proximaSerie: o.serial === undefined ? null : Number(o.serial) }));
    });

  // serve
  common(program.command('serve'))
    .description('sirve la configuración global firmada por HTTP (GET /globalconf, /ca.pem, /health) hasta SIGINT o SIGTERM')
    .option('--host <dirección>', 'dirección en la que escuchar', '127.0.0.1')
    .option('--port <puerto>', 'puerto TCP', '4400')
    .option('--validity-minutes <minutos>', 'vigencia de cada versión de la configuración global', String(DEFAULT_CONF_VALIDITY_MS / 60_000))
    .option('--refresh-seconds <segundos>', 'cada cuánto se revisa si hay que regenerarla', '30')
    .option('--log-format <formato>', 'registro operativo en la salida de errores: json (líneas JSON) o pretty (legible); por omisión pretty en una consola y json si no')
    .addHelpText('after', '\nEjemplo:\n  miis-central serve --dir ./var/central --host 127.0.0.1 --port 4400\n')
    .action(async (o: CommonOptions & { host: string; port: string; validityMinutes: string; refreshSeconds: string; logFormat?: string }) => {
      const format = o.logFormat === undefined ? defaultLogFormat(io === processIo && process.stderr.isTTY) : parseLogFormat(o.logFormat);
      const logger = createLogger({ component: 'central', format, now: cx.now, write: (line) => io.stderr(line.endsWith('\n') ? line : `${line}\n`) });
      const running = await startCentral({
        dir: o.dir,
        host: o.host,
        port: parseInteger(o.port, 'puerto', 0, 65535),
        clock: cx.now,
        validityMs: parseInteger(o.validityMinutes, 'vigencia', 1, 7 * 24 * 60) * 60_000,
        refreshIntervalMs: parseInteger(o.refreshSeconds, 'intervalo', 1, 3600) * 1000,
        logError: (m) => logger.error(m.replace(/^miis-central: /, '')),
      });
      logger.info({ event: 'start', url: running.url }, 'directorio central iniciado');
      out(`Directorio central escuchando en ${running.url} (GET /globalconf, /ca.pem, /health)`);
      await waitForStop(io.stop);
      await running.close();
      logger.info({ event: 'stop' }, 'directorio central detenido');
      out('Directorio central detenido.');
    });

  registerServiceUnitCommand(program, 'miis-central', (t) => io.stdout(t));

  return program;
}

/** The command tree (for tests that walk every command); `runCentralCli` runs it. */
export function buildCentralProgram(io: CliIo = processIo): Command {
  return buildProgram({ io, now: io.now ?? (() => new Date()), env: io.env ?? process.env });
}

export function runCentralCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  return runProgram(buildCentralProgram(io), argv, io);
}

if (isMainModule(import.meta.url)) {
  runCentralCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`miis-central: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
