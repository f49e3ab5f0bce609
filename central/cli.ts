#!/usr/bin/env node
/**
 * miis-central: the command line of the central directory (DGFO).
 * `runCentralCli` runs in-process and returns the exit code (0 ok, 2 bad input, 1 other
 * errors); only the tiny main at the bottom touches process.exitCode.
 */
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Help } from 'commander';
import type { Option } from 'commander';
import { MiisError } from '../core/errors.js';
import { KEY_ALGORITHMS } from '../core/pki.js';
import type { KeyAlgorithm } from '../core/pki.js';
import { CSR_PROFILES, signCsr } from './ca.js';
import type { CsrProfile } from './ca.js';
import { centralPaths, initCentralDir, openCentralStore, readAnchorPem, loadCaMaterial } from './central-dir.js';
import { DEFAULT_CONF_VALIDITY_MS } from './global-conf-publisher.js';
import { openCentral, startCentral } from './main.js';
import type { CentralApp } from './main.js';
import { addNodeClient, registerMember, registerNode, registerService, registerSubsystem } from './registry.js';
import { MEMBER_ROLES } from './registry-store.js';
import type { ChangeContext, RegistryStore } from './registry-store.js';

export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly now?: () => Date;
  /** Stops `serve` when aborted (besides SIGINT/SIGTERM). */
  readonly stop?: AbortSignal;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

interface CommonOptions {
  readonly dir: string;
  readonly actor?: string;
}

const MAX_INPUT_FILE = 64 * 1024;

const defaultIo: CliIo = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
};

// --- helpers -----------------------------------------------------------------------------------

function defaultActor(env: Readonly<Record<string, string | undefined>>): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME ?? 'desconocido';
  }
}

function readInputFile(path: string, what: string): string {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch {
    throw new MiisError('Config.NotFound', `el archivo de ${what} ${path} (o no se puede leer)`);
  }
  if (text.length > MAX_INPUT_FILE) throw new MiisError('Config.InvalidInput', `el archivo de ${what} ${path} supera ${MAX_INPUT_FILE} bytes`);
  return text.toString('utf8');
}

function parseInteger(value: string, what: string, min: number, max: number): number {
  const n = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new MiisError('Config.InvalidInput', `${what} no válido: «${value}» (entero entre ${min} y ${max})`);
  }
  return n;
}

function parseChoice<T extends string>(value: string, choices: readonly T[], what: string): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new MiisError('Config.InvalidInput', `${what} no válido: «${value}». Valores admitidos: ${choices.join(', ')}`);
  }
  return value as T;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '(ninguno)\n';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

const toJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** Spanish for commander's own parse errors. */
function translateCommanderMessage(text: string): string {
  return text
    .replace(/^error: unknown option '([^']*)'/m, "error: opción desconocida '$1'")
    .replace(/^error: unknown command '([^']*)'/m, "error: comando desconocido '$1'")
    .replace(/^error: missing required argument '([^']*)'/m, "error: falta el argumento obligatorio '$1'")
    .replace(/^error: option '([^']*)' argument missing/m, "error: a la opción '$1' le falta su valor")
    .replace(/^error: required option '([^']*)' not specified/m, "error: falta la opción obligatoria '$1'")
    .replace(/^error: too many arguments.*$/m, 'error: sobran argumentos')
    .replace(/\(Did you mean (one of )?([^?]*)\?\)/, '(¿quiso decir $2?)');
}

/** Spanish for the few words commander writes into help text. */
function translateHelp(text: string): string {
  return text.replaceAll('[options]', '[opciones]').replaceAll('[command]', '[comando]').replaceAll('(default: ', '(por omisión: ');
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

  const program = new Command('miis-central')
    .description('Directorio central del MIIS (DGFO): registro de entidades, CA de la instancia y configuración global firmada')
    .helpOption('-h, --help', 'muestra esta ayuda')
    .helpCommand('help [comando]', 'muestra la ayuda de un comando')
    .configureHelp({
      styleTitle: (t: string) => ({ 'Usage:': 'Uso:', 'Options:': 'Opciones:', 'Commands:': 'Comandos:', 'Arguments:': 'Argumentos:', 'Global Options:': 'Opciones globales:' })[t] ?? t,
      commandUsage(this: Help, cmd: Command) {
        return translateHelp(Help.prototype.commandUsage.call(this, cmd));
      },
      subcommandTerm(this: Help, cmd: Command) {
        return translateHelp(Help.prototype.subcommandTerm.call(this, cmd));
      },
      optionDescription(this: Help, option: Option) {
        return translateHelp(Help.prototype.optionDescription.call(this, option));
      },
    })
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: (s, write) => write(translateCommanderMessage(s)),
    })
    .showHelpAfterError('(use --help para ver la ayuda)')
    .exitOverride();

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
    .addHelpText('after', '\nEjemplo:\n  miis-central init --dir ./var/central --instance PE --name "MIDIS - DGFO"\n')
    .action(async (o: CommonOptions & { instance: string; keyAlgorithm: string; name?: string }) => {
      const paths = await initCentralDir({
        dir: o.dir,
        instance: o.instance,
        keyAlgorithm: parseChoice<KeyAlgorithm>(o.keyAlgorithm, KEY_ALGORITHMS, 'algoritmo de clave'),
        now: cx.now(),
        actor: ctxOf(o).actor,
        ...(o.name === undefined ? {} : { operatorName: o.name }),
      });
      out(`Directorio central inicializado en ${paths.dir} (instancia ${o.instance})`);
      out(`Ancla de confianza para los nodos (certificado de firma de la configuración global): ${paths.anchor}`);
      out(`Certificado de la CA de la instancia: ${paths.caCert}`);
      out(`Claves privadas (modo 0600) en: ${paths.keysDir}`);
    });

  // member
  const member = program.command('member').description('miembros: entidades del SINAFO registradas');
  common(member.command('add'))
    .description('registra una entidad (el código es su RUC)')
    .requiredOption('--class <clase>', 'clase de miembro, p. ej. GOB')
    .requiredOption('--code <ruc>', 'RUC de la entidad (11 dígitos, se verifica el dígito de control)')
    .requiredOption('--name <nombre>', 'nombre de la entidad')
    .requiredOption('--role <rol>', `rol según el Art. 5: ${MEMBER_ROLES.join(', ')}`)
    .addHelpText('after', '\nEjemplo:\n  miis-central member add --class GOB --code 20295613620 --name "RENIEC" --role RENIEC\n')
    .action(async (o: CommonOptions & { class: string; code: string; name: string; role: string }) => {
      const record = await withStore(o, (store) => registerMember(store, { memberClass: o.class, memberCode: o.code, name: o.name, role: o.role }, ctxOf(o)));
      out(`Miembro registrado: ${record.id} (${record.name}, ${record.role})`);
    });
  common(member.command('list'))
    .description('lista los miembros')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const members = await withStore(o, (store) => store.listMembers());
      out(o.json === true ? toJson(members) : formatTable(['ID', 'ROL', 'NOMBRE'], members.map((m) => [m.id, m.role, m.name])));
    });

  // subsystem
  const subsystem = program.command('subsystem').description('subsistemas de los miembros (p. ej. RUPN, PGH, RNU)');
  common(subsystem.command('add'))
    .description('registra un subsistema de un miembro ya registrado')
    .argument('<id>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA')
    .addHelpText('after', '\nEjemplo:\n  miis-central subsystem add PE/GOB/20295613620/RUPN\n')
    .action(async (id: string, o: CommonOptions) => {
      const record = await withStore(o, (store) => registerSubsystem(store, id, ctxOf(o)));
      out(`Subsistema registrado: ${record.id}`);
    });
  common(subsystem.command('list'))
    .description('lista los subsistemas')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const subsystems = await withStore(o, (store) => store.listSubsystems());
      out(o.json === true ? toJson(subsystems) : formatTable(['ID', 'MIEMBRO'], subsystems.map((s) => [s.id, s.memberId])));
    });

  // node
  const node = program.command('node').description('nodos de seguridad de las entidades');
  common(node.command('add'))
    .description('registra un nodo con su certificado de autenticación (perfil auth, emitido por la CA de la instancia)')
    .requiredOption('--name <nombre>', 'nombre único del nodo, p. ej. reniec')
    .requiredOption('--owner <miembro>', 'miembro propietario, INSTANCIA/CLASE/CÓDIGO')
    .requiredOption('--address <url>', 'dirección entre nodos, https://servidor:puerto')
    .requiredOption('--auth-cert <archivo>', 'certificado TLS del nodo (PEM)')
    .addHelpText('after', '\nEjemplo:\n  miis-central node add --name reniec --owner PE/GOB/20295613620 --address https://10.0.0.5:5500 --auth-cert reniec-auth.pem\n')
    .action(async (o: CommonOptions & { name: string; owner: string; address: string; authCert: string }) => {
      const authCertPem = readInputFile(o.authCert, 'certificado');
      const record = await withStore(o, (store) => registerNode(store, { name: o.name, ownerId: o.owner, address: o.address, authCertPem }, ctxOf(o)));
      out(`Nodo registrado: ${record.name} (${record.address}), certificado SHA-256 ${record.authCertSha256}`);
    });
  const nodeClient = node.command('client').description('subsistemas atendidos por un nodo');
  common(nodeClient.command('add'))
    .description('asocia un subsistema registrado a un nodo')
    .requiredOption('--node <nombre>', 'nombre del nodo')
    .argument('<subsistema>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA')
    .addHelpText('after', '\nEjemplo:\n  miis-central node client add --node reniec PE/GOB/20295613620/RUPN\n')
    .action(async (subsystemId: string, o: CommonOptions & { node: string }) => {
      const record = await withStore(o, (store) => addNodeClient(store, o.node, subsystemId, ctxOf(o)));
      out(`El nodo ${record.name} atiende ahora: ${record.clients.join(', ')}`);
    });
  common(node.command('list'))
    .description('lista los nodos')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const nodes = await withStore(o, (store) => store.listNodes());
      const view = nodes.map(({ authCertPem: _pem, ...rest }) => rest);
      out(o.json === true ? toJson(view) : formatTable(['NOMBRE', 'PROPIETARIO', 'DIRECCIÓN', 'CLIENTES', 'SHA-256 CERT. AUTH'], nodes.map((n) => [n.name, n.ownerId, n.address, n.clients.join(',') || '-', n.authCertSha256])));
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
    .addHelpText('after', [
      '',
      'Un CSR sign debe llevar en serialNumber el identificador del miembro (PE/GOB/<RUC>) y en O su nombre registrado.',
      'Ejemplos:',
      '  miis-central cert sign --csr reniec-auth.csr --profile auth --ip 127.0.0.1 --dns localhost --out reniec-auth.pem',
      '  miis-central cert sign --csr reniec-sign.csr --profile sign --out reniec-sign.pem',
      '',
    ].join('\n'))
    .action(async (o: CommonOptions & { csr: string; profile: string; out?: string; ip: string[]; dns: string[]; validDays: string }) => {
      const profile = parseChoice<CsrProfile>(o.profile, CSR_PROFILES, 'perfil');
      const validDays = parseInteger(o.validDays, 'vigencia', 1, 3650);
      const csrPem = readInputFile(o.csr, 'solicitud');
      const record = await withStore(o, (store) =>
        signCsr(store, loadCaMaterial(centralPaths(o.dir), store), { csrPem, profile, validDays, dnsNames: o.dns, ipAddresses: o.ip }, ctxOf(o)),
      );
      if (o.out === undefined) {
        out(record.pem);
      } else {
        writeFileSync(resolve(o.out), record.pem, { mode: 0o644 });
        out(`Certificado ${profile} emitido para ${record.memberId ?? '-'} (serie ${record.serialHex}, vence ${record.notAfter}): ${resolve(o.out)}`);
      }
    });
  common(cert.command('list'))
    .description('lista los certificados emitidos')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const certs = await withStore(o, (store) => store.listIssuedCerts());
      const view = certs.map(({ pem: _pem, ...rest }) => rest);
      out(o.json === true ? toJson(view) : formatTable(['SERIE', 'PERFIL', 'MIEMBRO', 'VENCE', 'SUJETO'], certs.map((c) => [c.serialHex, c.profile, c.memberId ?? '-', c.notAfter, c.subject])));
    });

  // service
  const service = program.command('service').description('servicios publicados en la configuración global');
  common(service.command('add'))
    .description('registra un servicio de un subsistema registrado')
    .argument('<id>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO[/VERSIÓN]')
    .requiredOption('--title <título>', 'título del servicio')
    .addHelpText('after', '\nEjemplo:\n  miis-central service add PE/GOB/20295613620/RUPN/consultarPersona/v1 --title "Consulta de persona por DNI"\n')
    .action(async (id: string, o: CommonOptions & { title: string }) => {
      const record = await withStore(o, (store) => registerService(store, { serviceId: id, title: o.title }, ctxOf(o)));
      out(`Servicio registrado: ${record.id} (${record.title})`);
    });
  common(service.command('list'))
    .description('lista los servicios')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const services = await withStore(o, (store) => store.listServices());
      out(o.json === true ? toJson(services) : formatTable(['ID', 'TÍTULO'], services.map((s) => [s.id, s.title])));
    });

  // conf
  const conf = program.command('conf').description('configuración global firmada');
  common(conf.command('show'))
    .description('muestra el contenido que se publicaría ahora')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const content = await withApp(o, (app) => app.publisher.preview());
      if (o.json === true) return out(toJson(content));
      out(`Configuración global de la instancia ${content.instance} (próxima serie ${content.serial}; vigente de ${content.generatedAt} a ${content.expiresAt})`);
      out(`Miembros (${content.members.length}):\n${formatTable(['ID', 'ROL', 'NOMBRE'], content.members.map((m) => [m.id, m.role, m.name]))}`);
      out(`Subsistemas (${content.subsystems.length}):\n${formatTable(['ID'], content.subsystems.map((s) => [s]))}`);
      out(`Nodos (${content.nodes.length}):\n${formatTable(['NOMBRE', 'PROPIETARIO', 'DIRECCIÓN', 'CLIENTES'], content.nodes.map((n) => [n.name, n.owner, n.address, n.clients.join(',') || '-']))}`);
      out(`Servicios (${content.services.length}):\n${formatTable(['ID', 'TÍTULO'], content.services.map((s) => [s.id, s.title]))}`);
      out(`CA de confianza: ${content.trustedCas.length}`);
      return undefined;
    });
  common(conf.command('anchor'))
    .description('imprime el ancla de confianza (certificado de firma de la configuración global) que se instala en los nodos')
    .action(async (o: CommonOptions) => {
      out(await withStore(o, (store) => readAnchorPem(store)));
    });

  // serve
  common(program.command('serve'))
    .description('sirve la configuración global firmada por HTTP (GET /globalconf, /ca.pem, /health) hasta SIGINT o SIGTERM')
    .option('--host <dirección>', 'dirección en la que escuchar', '127.0.0.1')
    .option('--port <puerto>', 'puerto TCP', '4400')
    .option('--validity-minutes <minutos>', 'vigencia de cada versión de la configuración global', String(DEFAULT_CONF_VALIDITY_MS / 60_000))
    .option('--refresh-seconds <segundos>', 'cada cuánto se revisa si hay que regenerarla', '30')
    .addHelpText('after', '\nEjemplo:\n  miis-central serve --dir ./var/central --host 127.0.0.1 --port 4400\n')
    .action(async (o: CommonOptions & { host: string; port: string; validityMinutes: string; refreshSeconds: string }) => {
      const running = await startCentral({
        dir: o.dir,
        host: o.host,
        port: parseInteger(o.port, 'puerto', 0, 65535),
        clock: cx.now,
        validityMs: parseInteger(o.validityMinutes, 'vigencia', 1, 7 * 24 * 60) * 60_000,
        refreshIntervalMs: parseInteger(o.refreshSeconds, 'intervalo', 1, 3600) * 1000,
        logError: (m) => io.stderr(`${m}\n`),
      });
      out(`Directorio central escuchando en ${running.url} (GET /globalconf, /ca.pem, /health)`);
      await waitForStop(io.stop);
      await running.close();
      out('Directorio central detenido.');
    });

  return program;
}

function waitForStop(stop: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolveStop) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      stop?.removeEventListener('abort', done);
      resolveStop();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    stop?.addEventListener('abort', done, { once: true });
    if (stop?.aborted === true) done();
  });
}

/** Exit code for an error, after telling the user what went wrong (never a stack trace for MiisError). */
function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    return 2; // commander already printed its (translated) message
  }
  if (err instanceof MiisError) {
    io.stderr(`miis-central: ${err.message}\n`);
    return err.httpStatus >= 400 && err.httpStatus < 500 ? 2 : 1;
  }
  io.stderr(`miis-central: error inesperado: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

export async function runCentralCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const cx: Context = { io, now: io.now ?? (() => new Date()), env: io.env ?? process.env };
  try {
    await buildProgram(cx).parseAsync([...argv], { from: "user" });
    return 0;
  } catch (err) {
    return reportError(err, io);
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
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
