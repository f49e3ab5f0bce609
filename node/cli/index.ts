#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * miis-node: the command line of an entity's security server.
 * `runNodeCli` runs in-process and returns the exit code (0 ok, 2 bad input, 1 other errors).
 */
import { tuneServeHeap } from '../../runtime/heap-tuning.js';
import { registerBatchCommands } from './batch.js';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { registerServiceUnitCommand } from '../../runtime/service-unit.js';
import { createProgram, okJson, textOnly, isMainModule, limaDateTime, readInputFile, formatTable, parseChoice, parseInteger, processIo, runProgram, toJson, waitForStop, type CliIo } from '../../runtime/cli-kit.js';
import { listJson } from '../../runtime/cli-json.js';
import { MiisError } from '../../core/errors.js';
import { formatClientId, formatMemberId, parseClientId, parseServiceId, serviceKey } from '../../core/identifiers.js';
import { validateRuc } from '../../core/peru-ids.js';
import { KEY_ALGORITHMS, certMatchesKey, certificateInfo, createCsr, generateKeyPair, type KeyAlgorithm } from '../../core/pki.js';
import { verifyGlobalConf } from '../../core/global-conf.js';
import { PASSPHRASE_ENV, restoreBackup, writeBackup } from '../../runtime/backup.js';
import { packageVersion } from '../../runtime/version.js';
import { acceptedAuthCerts, type GlobalConf } from '../../core/global-conf-model.js';
import { checkPublicUrl } from '../store/local-store.js';
import { notInitialized, nodeStoreInitialized, openNodeStore, type NodeStore } from '../store/node-store.js';
import { describeDatabase, resolveDatabase } from '../store/database.js';
import { redactPgUrl } from '../../runtime/pg.js';
import { openCliSharedLog, readLocalConf, registerEvidenceCommands, runLogVerify } from './evidence.js';
import { importSigningCert, startSigningKeyRotation } from '../certs/signing-rotation.js';
import { startNode } from '../main.js';
import { findWsdlFile, nodePaths, WSDL_DIR, WSDL_FILE_NAME } from '../store/paths.js';
import { DEFAULT_LIMITS, SERVICE_TIMEOUT_MARGIN_MS, maxServiceTimeoutMs } from '../pipeline/context.js';
import { registerNodeAccessCommands } from './access-request.js';
import { registerNodeMemberCommands } from './members.js';
import { listHostedMembers } from '../certs/hosted-members.js';
import { registerTitularCommand } from './titular.js';
import { defaultLogFormat, parseLogFormat } from '../../runtime/log.js';
import { NODE_CONFIG_KEYS, nodeConfigPath, parseNodeConfigValue, readNodeConfig, writeNodeConfig, type DatabaseConfig, type NodeConfig, type NodeConfigKey } from '../store/node-config.js';
import { adapterFromCliOptions, describeAdapter, redactSecrets, type AdapterCliOptions } from '../adapters/settings.js';

function parseHttpUrl(value: string, what: string, protocols: readonly string[]): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new MiisError('Config.InvalidInput', `${what} no válida: «${value}» (ejemplo: http://127.0.0.1:9001/servicio)`);
  }
  if (!protocols.includes(u.protocol)) throw new MiisError('Config.InvalidInput', `${what} debe usar ${protocols.join(' o ')}: «${value}»`);
  return u.toString();
}

/** Text that goes into a certificate subject (O, CN): 1 to 64 printable characters, checked before init writes. */
function checkSubjectText(value: string, what: string): void {
  const n = [...value.trim()].length;
  if (n === 0 || n > 64 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new MiisError('Config.InvalidInput', `${what} no válido: «${value.slice(0, 80)}${value.length > 80 ? '…' : ''}» tiene ${n} caracteres; los certificados admiten de 1 a 64 caracteres imprimibles`);
  }
}

/** A listening address option (--is-host, --proxy-host), checked as node.json checks it. */
function hostOption(key: 'isHost' | 'proxyHost', option: string, value: string): string {
  try {
    return parseNodeConfigValue(key, value).value as string;
  } catch {
    throw new MiisError('Config.InvalidInput', `${option} no válido: «${value.slice(0, 80)}»; debe ser una dirección IP o un nombre de host (sin espacios ni barras)`);
  }
}

interface Dir {
  readonly dir: string;
}

/** The node store of an initialised node folder (SQLite node.db, or the PostgreSQL database node.json names). */
async function openInitialized(dir: string): Promise<NodeStore> {
  const database = resolveDatabase(dir);
  if (database.engine === 'sqlite' && !existsSync(nodePaths(dir).db)) throw notInitialized(dir);
  const store = await openNodeStore(dir, database);
  if (!(await store.initialized())) {
    await store.close();
    throw notInitialized(dir);
  }
  return store;
}

async function withStore<T>(dir: string, fn: (s: NodeStore) => T | Promise<T>): Promise<T> {
  const store = await openInitialized(dir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const MAX_WSDL_BYTES = 2 * 1024 * 1024;

/**
 * The WSDL of a service (service add --wsdl): a file name found in the node's wsdl/ folder or the
 * package's, or a path to a .wsdl file, copied into the node's wsdl/ folder. Returns the file name.
 */
function installWsdl(dir: string, value: string, out: (s: string) => void): string {
  const p = nodePaths(dir);
  const isPath = value.includes('/') || value.includes('\\') || (existsSync(value) && !WSDL_FILE_NAME.test(value));
  if (!isPath) {
    if (!WSDL_FILE_NAME.test(value) || !value.endsWith('.wsdl')) throw new MiisError('Config.InvalidInput', `nombre de WSDL no válido: «${value}»; use un nombre como servicio.wsdl (letras, dígitos, . _ -) de un archivo en ${p.wsdlDir}, o la ruta del archivo (--wsdl /ruta/servicio.wsdl), que se copia ahí`);
    if (findWsdlFile([p.wsdlDir, WSDL_DIR], value) === undefined) throw new MiisError('Config.NotFound', `el WSDL «${value}»: colóquelo en ${p.wsdlDir} o indique la ruta del archivo (--wsdl /ruta/${value}), que se copia ahí`);
    return value;
  }
  const name = basename(value);
  if (!WSDL_FILE_NAME.test(name) || !name.endsWith('.wsdl')) throw new MiisError('Config.InvalidInput', `nombre de WSDL no válido: «${name}» (${value}); el archivo debe llamarse como servicio.wsdl (letras, dígitos, . _ -) para servirse en /wsdl/${name}`);
  let st;
  try {
    st = statSync(value);
  } catch {
    throw new MiisError('Config.NotFound', `el archivo WSDL ${value}`);
  }
  if (!st.isFile() || st.size > MAX_WSDL_BYTES) throw new MiisError('Config.InvalidInput', `${value} no es un archivo WSDL de hasta ${MAX_WSDL_BYTES} bytes`);
  const text = readFileSync(value, 'utf8');
  if (!/<(\w+:)?definitions\b/.test(text)) throw new MiisError('Config.InvalidInput', `${value} no parece un WSDL (falta el elemento definitions)`);
  mkdirSync(p.wsdlDir, { recursive: true });
  const target = join(p.wsdlDir, name);
  if (resolve(value) !== resolve(target)) copyFileSync(value, target);
  out(`WSDL copiado en ${target} (se sirve en /wsdl/${name})`);
  return name;
}

/** node.json with a change applied; a node without the file gets one holding the values in force (migration from node.db). */
async function updateNodeConfig(dir: string, store: NodeStore, patch: NodeConfig): Promise<NodeConfig> {
  const s = await store.settings();
  const migrated: NodeConfig = { isHost: s.isHost, isPort: s.isPort, proxyHost: s.proxyHost, proxyPort: s.proxyPort, ...(s.centralUrl === undefined ? {} : { centralUrl: s.centralUrl }) };
  const next = { ...migrated, ...readNodeConfig(dir), ...patch };
  writeNodeConfig(dir, next);
  return next;
}

/** The auth certificates central publishes for this node now (live, else the local copy); undefined when unknown. */
async function publishedAuthCerts(dir: string, nodeName: string, centralUrl: string | undefined): Promise<readonly string[] | undefined> {
  const p = nodePaths(dir);
  let conf: GlobalConf | undefined;
  try {
    if (centralUrl !== undefined && existsSync(p.anchor)) {
      const res = await fetch(new URL('/globalconf', centralUrl), { signal: AbortSignal.timeout(3000) });
      if (res.status === 200) conf = verifyGlobalConf(new Uint8Array(await res.arrayBuffer()), readFileSync(p.anchor, 'utf8'));
    }
  } catch {
    conf = undefined;
  }
  try {
    conf ??= readLocalConf(dir);
  } catch {
    return undefined;
  }
  const own = conf?.nodes.find((n) => n.name === nodeName);
  return own === undefined ? undefined : acceptedAuthCerts(own);
}

function buildProgram(io: CliIo): Command {
  const now = io.now ?? (() => new Date());
  const env = io.env ?? process.env;
  const out = (s: string): void => io.stdout(s.endsWith('\n') ? s : `${s}\n`);
  const program = createProgram('miis-node', 'Nodo de seguridad del MIIS: firma, verifica, registra y controla el intercambio de mensajes de una entidad', io);
  const withDir = (cmd: Command): Command => cmd.option('--dir <carpeta>', 'carpeta de datos del nodo (o variable MIIS_NODE_DIR)', env.MIIS_NODE_DIR ?? './var/node');

  withDir(program.command('init'))
    .description('crea el nodo: identidad de la entidad, claves y solicitudes de certificado (CSR)')
    .requiredOption('--instance <instancia>', 'instancia, p. ej. PE')
    .requiredOption('--class <clase>', 'clase de miembro, p. ej. GOB')
    .requiredOption('--code <ruc>', 'RUC de la entidad')
    .requiredOption('--name <nombre>', 'nombre de la entidad')
    .requiredOption('--node-name <nombre>', 'nombre del nodo, único en la instancia (p. ej. reniec)')
    .option('--is-host <ip>', 'dirección para los sistemas de información', '127.0.0.1')
    .option('--is-port <puerto>', 'puerto SOAP para los sistemas de información', '8080')
    .option('--proxy-host <ip>', 'dirección para otros nodos (TLS mutuo)', '127.0.0.1')
    .option('--proxy-port <puerto>', 'puerto para otros nodos (TLS mutuo)', '5500')
    .option('--key-algorithm <algoritmo>', `algoritmo de las claves: ${KEY_ALGORITHMS.join(' | ')}`, 'ecdsa-p256')
    .option('--is-public-url <url>', 'dirección con la que los sistemas de información llegan al nodo, publicada en los WSDL servidos (por omisión http://<is-host>:<is-port>/)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-node init --dir ./var/reniec --instance PE --class GOB --code 20295613620 --name RENIEC --node-name reniec\n')
    .action(async (o: Dir & { json?: boolean; instance: string; class: string; code: string; name: string; nodeName: string; isHost: string; isPort: string; proxyHost: string; proxyPort: string; keyAlgorithm: string; isPublicUrl?: string }) => {
      const say = textOnly(o, out);
      const ruc = validateRuc(o.code);
      const isPublicUrl = o.isPublicUrl === undefined ? undefined : checkPublicUrl(o.isPublicUrl);
      if (o.isPublicUrl !== undefined && isPublicUrl === undefined) throw new MiisError('Config.InvalidInput', `«${o.isPublicUrl.slice(0, 100)}» no es una URL http(s) válida (sin usuario, consulta ni fragmento)`);
      const member = parseClientId(`${o.instance}/${o.class}/${ruc}`);
      parseClientId(`${o.instance}/${o.class}/${o.nodeName}`); // same character rules for the node name
      const alg = parseChoice<KeyAlgorithm>(o.keyAlgorithm, KEY_ALGORITHMS, 'algoritmo de clave');
      // everything is checked before anything is written: a bad option leaves no partial folder
      const operational = {
        isHost: hostOption('isHost', '--is-host', o.isHost), isPort: parseInteger(o.isPort, 'puerto', 0, 65535),
        proxyHost: hostOption('proxyHost', '--proxy-host', o.proxyHost), proxyPort: parseInteger(o.proxyPort, 'puerto', 0, 65535),
      };
      checkSubjectText(o.name, 'nombre de la entidad (--name)');
      checkSubjectText(o.nodeName, 'nombre del nodo (--node-name)');
      const p = nodePaths(o.dir);
      if (existsSync(p.db) || await nodeStoreInitialized(o.dir)) throw new MiisError('Config.Duplicate', `ya hay un nodo en ${o.dir}`);
      mkdirSync(p.keysDir, { recursive: true, mode: 0o700 });
      const store = await openNodeStore(o.dir);
      try {
        await store.saveSettings({
          instance: member.instance, memberClass: member.memberClass, memberCode: member.memberCode, memberName: o.name, nodeName: o.nodeName,
          ...operational, keyAlgorithm: alg, isPublicUrl,
        });
        writeNodeConfig(o.dir, { ...readNodeConfig(o.dir), ...operational });
      } finally {
        await store.close();
      }
      const memberId = formatMemberId(member);
      const sign = await generateKeyPair(alg);
      const auth = await generateKeyPair(alg);
      writeFileSync(p.signKey, sign.privateKeyPem, { mode: 0o600 });
      writeFileSync(p.authKey, auth.privateKeyPem, { mode: 0o600 });
      writeFileSync(p.signCsr, await createCsr(sign, { organization: o.name, commonName: ruc, serialNumber: memberId }));
      writeFileSync(p.authCsr, await createCsr(auth, { organization: o.name, commonName: o.nodeName, serialNumber: memberId }));
      say(`Nodo ${o.nodeName} creado en ${o.dir} para ${memberId} (${o.name})`);
      say(`Solicitud de certificado de firma: ${p.signCsr}`);
      say(`Solicitud de certificado TLS:      ${p.authCsr}`);
      say('Envíe ambas a central («miis-central cert sign») e importe los certificados con «miis-node cert import».');
      if (o.json === true) out(okJson({ nodo: o.nodeName, carpeta: o.dir, miembro: memberId, nombre: o.name, solicitudFirma: p.signCsr, solicitudTls: p.authCsr }));
    });

  const cert = program.command('cert').description('certificados del nodo');
  withDir(cert.command('import'))
    .description('importa los certificados emitidos por central (firma y/o TLS)')
    .option('--sign <archivo>', 'certificado de firma de la entidad (perfil sign)')
    .option('--auth <archivo>', 'certificado TLS del nodo (perfil auth)')
    .option('--json', 'salida en JSON')
    .action(async (o: Dir & { json?: boolean; sign?: string; auth?: string }) => {
      const say = textOnly(o, out);
      if (o.sign === undefined && o.auth === undefined) throw new MiisError('Config.InvalidInput', 'indique --sign y/o --auth');
      let authImported: { sha256: string; nodeName: string; centralUrl: string | undefined } | undefined;
      const imported: { perfil: string; sujeto: string; vence: string; sha256: string; rotacion?: boolean }[] = [];
      let aviso: string | undefined;
      await withStore(o.dir, async (store) => {
        const s = (await store.settings());
        const memberId = `${s.instance}/${s.memberClass}/${s.memberCode}`;
        if (o.sign !== undefined) {
          // signing certificates: renewal, or activation of a rotated key (node/certs/signing-rotation.ts)
          const r = importSigningCert(o.dir, readInputFile(o.sign, 'certificado'), { memberId, conf: readLocalConf(o.dir), now: now(), file: o.sign });
          say(`Certificado sign importado: ${r.info.subject.replaceAll('\n', ', ')} (vence ${r.info.notAfter.toISOString()}, SHA-256 ${r.info.sha256})`);
          imported.push({ perfil: 'sign', sujeto: r.info.subject.replaceAll('\n', ', '), vence: r.info.notAfter.toISOString(), sha256: r.info.sha256, rotacion: r.kind === 'rotation' });
          if (r.kind === 'rotation') say('Rotación completada: la nueva clave firma desde ahora (un nodo en marcha la toma en segundos); la anterior se guarda en keys/sign-key.previous.pem y sign.previous.pem.');
        }
        if (o.auth !== undefined) {
          const p = nodePaths(o.dir);
          const pem = readInputFile(o.auth, 'certificado');
          const info = certificateInfo(pem);
          if (info.profile !== 'auth') throw new MiisError('Config.InvalidCertificate', `${o.auth} tiene perfil ${info.profile}; se esperaba auth`);
          if (!certMatchesKey(pem, readFileSync(p.authKey, 'utf8'))) throw new MiisError('Config.InvalidCertificate', `${o.auth} no corresponde a la clave de este nodo (${p.authKey})`);
          if (info.subjectSerialNumber !== memberId) throw new MiisError('Config.InvalidCertificate', `${o.auth} es de ${info.subjectSerialNumber ?? '(sin miembro)'}, no de ${memberId}`);
          if (info.notAfter.getTime() <= now().getTime()) throw new MiisError('Config.InvalidCertificate', `${o.auth} venció el ${info.notAfter.toISOString()}`);
          writeFileSync(p.authCert, pem);
          say(`Certificado auth importado: ${info.subject.replaceAll('\n', ', ')} (vence ${info.notAfter.toISOString()}, SHA-256 ${info.sha256})`);
          say('Un nodo en marcha lo usa en segundos, sin reiniciar (o al instante con «systemctl reload miis-node», SIGHUP).');
          imported.push({ perfil: 'auth', sujeto: info.subject.replaceAll('\n', ', '), vence: info.notAfter.toISOString(), sha256: info.sha256 });
          authImported = { sha256: info.sha256, nodeName: s.nodeName, centralUrl: s.centralUrl };
        }
      });
      if (authImported !== undefined) {
        const published = await publishedAuthCerts(o.dir, authImported.nodeName, authImported.centralUrl);
        if (published !== undefined && !published.includes(authImported.sha256)) {
          aviso = `central todavía no publica este certificado para el nodo ${authImported.nodeName}; los demás nodos rechazarán las conexiones TLS hasta que lo haga. ` +
            `Pida a central «miis-central node set ${authImported.nodeName} --auth-cert <archivo>» (o «cert sign --node ${authImported.nodeName}»), espere la siguiente configuración global y vuelva a importarlo.`;
          if (o.json !== true) io.stderr(`aviso: ${aviso}\n`);
        }
      }
      if (o.json === true) out(okJson({ importados: imported, ...(aviso === undefined ? {} : { aviso }) }));
    });

  withDir(cert.command('rotate'))
    .description('rotación de la clave de firma sin interrupción: crea una clave nueva y su solicitud (CSR); la actual sigue firmando hasta importar el certificado nuevo')
    .option('--force', 'descarta una rotación pendiente y empieza otra')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nPasos:\n  miis-node cert rotate --dir D\n  miis-central cert sign --csr D/sign.next.csr --profile sign --out nuevo.pem\n  miis-node cert import --sign nuevo.pem --dir D    (el nodo en marcha la activa sin reiniciar)\n')
    .action(async (o: Dir & { json?: boolean; force?: boolean }) => {
      const say = textOnly(o, out);
      const r = await withStore(o.dir, async (store) => startSigningKeyRotation(o.dir, (await store.settings()), { force: o.force === true }));
      say(`Nueva clave de firma: ${r.keyPath}`);
      say(`Solicitud de certificado: ${r.csrPath}`);
      say('Envíela a central («miis-central cert sign --profile sign») e importe el certificado con «miis-node cert import --sign»; hasta entonces firma la clave actual.');
      if (o.json === true) out(okJson({ archivoClave: r.keyPath, solicitudFirma: r.csrPath }));
    });

  const address = program.command('address').description('dirección del nodo para otros nodos');
  withDir(address.command('set'))
    .description('cambia el puerto entre nodos: un nodo en marcha escucha también en el nuevo al instante y deja el anterior con «systemctl reload» (SIGHUP)')
    .requiredOption('--proxy-port <puerto>', 'nuevo puerto para otros nodos (TLS mutuo)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nPasos sin cortes: miis-node address set --proxy-port 5501 → miis-central node set NODO --address https://host:5501 → esperar la siguiente configuración global en los demás nodos → systemctl reload miis-node\n')
    .action(async (o: Dir & { json?: boolean; proxyPort: string }) => {
      const say = textOnly(o, out);
      const port = parseInteger(o.proxyPort, 'puerto', 1, 65535);
      await withStore(o.dir, async (store) => {
        await store.saveSettings({ ...(await store.settings()), proxyPort: port });
        await updateNodeConfig(o.dir, store, { proxyPort: port }); // node.json holds the operational settings
      });
      say(`Puerto entre nodos: ${port}. Un nodo en marcha ya escucha también ahí; publique la dirección nueva en central («miis-central node set … --address https://…:${port}»).`);
      if (o.json === true) out(okJson({ puertoProxy: port }));
    });

  const anchor = program.command('anchor').description('ancla de confianza: central y su certificado de firma de la configuración global');
  withDir(anchor.command('import'))
    .description('registra la URL de central y el certificado que firma la configuración global')
    .requiredOption('--file <archivo>', 'certificado de firma de la configuración global (anchor.pem de central)')
    .requiredOption('--url <url>', 'URL de central, p. ej. http://127.0.0.1:4400')
    .option('--json', 'salida en JSON')
    .action(async (o: Dir & { json?: boolean; file: string; url: string }) => {
      const say = textOnly(o, out);
      const pem = readInputFile(o.file, 'ancla');
      const info = certificateInfo(pem);
      if (info.profile !== 'conf') throw new MiisError('Config.InvalidCertificate', `${o.file} tiene perfil ${info.profile}; se esperaba el certificado de firma de la configuración global (conf)`);
      const url = parseHttpUrl(o.url, 'URL de central', ['http:', 'https:']);
      await withStore(o.dir, async (store) => {
        await store.saveSettings({ ...(await store.settings()), centralUrl: url });
        await updateNodeConfig(o.dir, store, { centralUrl: url });
        writeFileSync(nodePaths(o.dir).anchor, pem);
      });
      say(`Ancla importada (SHA-256 ${info.sha256}); central: ${url}`);
      say('Un nodo en marcha usa la nueva URL en la siguiente descarga de la configuración global; un ancla nueva requiere reiniciarlo.');
      if (o.json === true) out(okJson({ sha256: info.sha256, urlCentral: url }));
    });

  const config = program.command('config').description(`ajustes operativos del nodo (archivo node.json en la carpeta del nodo): ${Object.keys(NODE_CONFIG_KEYS).join(', ')}`);
  withDir(config.command('get'))
    .description('muestra los ajustes en vigor (o uno) y si un cambio se aplica en caliente o requiere reiniciar')
    .argument('[clave]', Object.keys(NODE_CONFIG_KEYS).join(' | '))
    .option('--json', 'salida JSON')
    .action(async (key: string | undefined, o: Dir & { json?: boolean }) => {
      if (key !== undefined && !(key in NODE_CONFIG_KEYS)) throw new MiisError('Config.InvalidInput', `clave desconocida «${key}» (claves válidas: ${Object.keys(NODE_CONFIG_KEYS).join(', ')})`);
      const values = await withStore(o.dir, async (store) => {
        const s = (await store.settings());
        const file = readNodeConfig(o.dir);
        const v: Record<NodeConfigKey, unknown> = {
          isHost: s.isHost, isPort: s.isPort, proxyHost: s.proxyHost, proxyPort: s.proxyPort, centralUrl: s.centralUrl ?? null,
          metricsHost: file.metricsHost ?? '127.0.0.1', metricsPort: file.metricsPort ?? null,
          database: describeDatabase(file.database),
        };
        return v;
      });
      if (key !== undefined) return out(String(values[key as NodeConfigKey] ?? ''));
      const rows = (Object.keys(NODE_CONFIG_KEYS) as NodeConfigKey[]).map((k) => ({ clave: k, valor: values[k], aplicacion: NODE_CONFIG_KEYS[k].live ? 'en caliente' : 'al reiniciar', descripcion: NODE_CONFIG_KEYS[k].description }));
      out(o.json === true ? listJson(rows) : formatTable(['CLAVE', 'VALOR', 'SE APLICA', 'DESCRIPCIÓN'], rows.map((r) => [r.clave, r.valor === null ? '(sin definir)' : String(r.valor), r.aplicacion, r.descripcion])));
    });
  withDir(config.command('set'))
    .description('cambia un ajuste en node.json (valida el valor) e indica si el nodo en marcha lo aplica en caliente o hay que reiniciarlo')
    .argument('<clave>', Object.keys(NODE_CONFIG_KEYS).join(' | '))
    .argument('<valor>', 'nuevo valor («null» desactiva metricsPort)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplos:\n  miis-node config set metricsPort 9464 --dir ./var/node\n  miis-node config set centralUrl http://10.0.0.5:4400 --dir ./var/node\n')
    .action(async (keyText: string, valueText: string, o: Dir & { json?: boolean }) => {
      const say = textOnly(o, out);
      const { key, value } = parseNodeConfigValue(keyText, valueText);
      await withStore(o.dir, async (store) => {
        await updateNodeConfig(o.dir, store, { [key]: value });
        if (key === 'centralUrl' && typeof value === 'string') await store.saveSettings({ ...(await store.settings()), centralUrl: value });
      });
      const shown = key === 'database' ? describeDatabase(value as DatabaseConfig) : value === null || value === undefined ? '(sin definir)' : String(value);
      say(`${key} = ${shown} (${nodeConfigPath(o.dir)})`);
      say(NODE_CONFIG_KEYS[key].live
        ? 'Se aplica en caliente: un nodo en marcha lo usa en la siguiente descarga de la configuración global.'
        : 'Requiere reiniciar el nodo («miis-node serve») para aplicarse.');
      if (o.json === true) out(okJson({ clave: key, valor: key === 'database' ? shown : value ?? null, enCaliente: NODE_CONFIG_KEYS[key].live, archivo: nodeConfigPath(o.dir) }));
    });

  const client = program.command('client').description('clientes locales: subsistemas de la entidad que usan este nodo');
  withDir(client.command('add'))
    .description('permite que los sistemas de información de la entidad (o de un miembro alojado) actúen como este subsistema')
    .argument('<subsistema>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA, p. ej. PE/GOB/20511268401/JUNTOS')
    .option('--json', 'salida en JSON')
    .action(async (id: string, o: Dir & { json?: boolean }) => {
      const say = textOnly(o, out);
      const c = parseClientId(id);
      if (c.subsystemCode === undefined) throw new MiisError('Config.InvalidIdentifier', `«${id}»: indique un subsistema`);
      await withStore(o.dir, async (store) => {
        const s = (await store.settings());
        // the owner's subsystems, or those of a member this (shared) node hosts
        if (formatMemberId(c) !== `${s.instance}/${s.memberClass}/${s.memberCode}` && !listHostedMembers(o.dir).some((m) => m.id === formatMemberId(c))) {
          throw new MiisError('Config.InvalidIdentifier', `${id} no pertenece a la entidad de este nodo (${s.instance}/${s.memberClass}/${s.memberCode}) ni a un miembro alojado («miis-node member add»)`);
        }
        await store.addClient(formatClientId(c));
      });
      say(`Cliente ${formatClientId(c)} registrado`);
      if (o.json === true) out(okJson({ cliente: formatClientId(c) }));
    });
  withDir(client.command('list')).description('lista los clientes locales').option('--json', 'salida JSON')
    .action(async (o: Dir & { json?: boolean }) => {
      const rows = await withStore(o.dir, (s) => s.clients());
      out(o.json === true ? listJson(rows) : formatTable(['SUBSISTEMA'], rows.map((r) => [r])));
    });

  const service = program.command('service').description('servicios que esta entidad ofrece y su sistema de origen');
  withDir(service.command('add'))
    .description('publica un servicio de un subsistema local y lo conecta con su backend')
    .argument('<servicio>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO[/VERSIÓN]')
    .option('--backend <url>', 'URL del servicio SOAP de la entidad (adaptador proxy)')
    .option('--adapter <tipo>', 'proxy: reenvía al backend SOAP; sql: consulta declarativa sobre SQLite o PostgreSQL (--sql-config); rest: servicio REST (--backend = URL base)', 'proxy')
    .option('--openapi <archivo>', 'descripción OpenAPI 3 (JSON o YAML) del servicio REST, servida por getOpenAPI (adaptador rest)')
    .option('--sql-config <archivo>', 'configuración JSON del adaptador sql (base de datos, consulta, elementos, atributos derivados y sensibles)')
    .option('--backend-ca <archivo>', 'certificado PEM de la CA del backend https (adaptador proxy)')
    .option('--max-response <bytes>', 'tamaño máximo de la respuesta del backend (adaptador proxy)')
    .option('--timeout <ms>', `tiempo máximo de respuesta del backend; menor que la espera de los nodos clientes menos ${SERVICE_TIMEOUT_MARGIN_MS / 1000} s (hasta ${maxServiceTimeoutMs(DEFAULT_LIMITS)})`, '20000')
    .option('--wsdl <archivo>', 'WSDL del servicio: un nombre en la carpeta wsdl/ del nodo o del paquete (p. ej. reniec.wsdl), o la ruta de un archivo .wsdl, que se copia en la carpeta wsdl/ del nodo')
    .option('--json', 'salida en JSON')
    .action(async (id: string, o: Dir & { json?: boolean; timeout: string; wsdl?: string } & AdapterCliOptions) => {
      const say = textOnly(o, out);
      const sid = parseServiceId(id);
      const { backendUrl, adapter, summary } = adapterFromCliOptions(o, (url) => parseHttpUrl(url, 'URL del backend', ['http:', 'https:']));
      const timeoutMs = parseInteger(o.timeout, 'tiempo máximo', 100, 600_000);
      if (timeoutMs > maxServiceTimeoutMs(DEFAULT_LIMITS)) {
        throw new MiisError('Config.InvalidInput', `el tiempo máximo del backend (${timeoutMs} ms) debe ser menor que la espera de los nodos clientes (${DEFAULT_LIMITS.peerTimeoutMs} ms) menos un margen de ${SERVICE_TIMEOUT_MARGIN_MS} ms: use como mucho ${maxServiceTimeoutMs(DEFAULT_LIMITS)} ms, para que un backend lento se informe como falla del proveedor y no como falla de la red`);
      }
      await withStore(o.dir, async (store) => {
        const wsdl = o.wsdl === undefined ? undefined : installWsdl(o.dir, o.wsdl, say);
        const own = formatClientId({ instance: sid.instance, memberClass: sid.memberClass, memberCode: sid.memberCode, subsystemCode: sid.subsystemCode });
        if (!(await store.clients()).includes(own)) throw new MiisError('Config.NotFound', `el subsistema ${own} en este nodo; regístrelo con «miis-node client add»`);
        await store.upsertService({ serviceKey: serviceKey(sid), backendUrl, timeoutMs, wsdl, adapter });
      });
      say(`Servicio ${serviceKey(sid)} → ${summary}`);
      if (o.json === true) out(okJson({ servicio: serviceKey(sid), backend: summary, tiempoMaximoMs: timeoutMs }));
    });
  withDir(service.command('list')).description('lista los servicios locales').option('--json', 'salida JSON')
    .action(async (o: Dir & { json?: boolean }) => {
      const rows = await withStore(o.dir, (s) => s.services());
      // never print a database password kept in an adapter's settings
      out(o.json === true ? redactSecrets(listJson(rows)) : formatTable(['SERVICIO', 'BACKEND', 'TIEMPO MÁX. (ms)'], rows.map((r) => [r.serviceKey, describeAdapter(r.backendUrl, r.adapter), String(r.timeoutMs)])));
    });

  const acl = program.command('acl').description('derechos de acceso: quién puede usar cada servicio local (denegado por omisión)');
  const aclTarget = async (id: string, clientText: string, store: NodeStore): Promise<{ key: string; clientId: string }> => {
    const key = serviceKey(parseServiceId(id));
    if (!(await store.services()).some((s) => s.serviceKey === key)) throw new MiisError('Config.NotFound', `el servicio ${key} en este nodo`);
    return { key, clientId: formatClientId(parseClientId(clientText)) };
  };
  withDir(acl.command('grant'))
    .description('concede a un cliente (subsistema o miembro) el uso de un servicio')
    .argument('<servicio>', 'INSTANCIA/CLASE/CÓDIGO/SUBSISTEMA/SERVICIO')
    .argument('<cliente>', 'INSTANCIA/CLASE/CÓDIGO[/SUBSISTEMA]')
    .option('--json', 'salida en JSON')
    .action(async (id: string, clientText: string, o: Dir & { json?: boolean }) => {
      const say = textOnly(o, out);
      const { t, added } = await withStore(o.dir, async (store) => {
        const target = await aclTarget(id, clientText, store);
        return { t: target, added: await store.grant(target.key, target.clientId, now()) };
      });
      say(added ? `Acceso concedido: ${t.clientId} → ${t.key}` : `${t.clientId} ya tenía acceso a ${t.key}`);
      if (o.json === true) out(okJson({ servicio: t.key, cliente: t.clientId, concedido: added }));
    });
  withDir(acl.command('revoke'))
    .description('retira el acceso de un cliente a un servicio')
    .argument('<servicio>').argument('<cliente>')
    .option('--json', 'salida en JSON')
    .action(async (id: string, clientText: string, o: Dir & { json?: boolean }) => {
      const say = textOnly(o, out);
      const t = await withStore(o.dir, async (store) => {
        const target = await aclTarget(id, clientText, store);
        if (!await store.revoke(target.key, target.clientId)) throw new MiisError('Config.NotFound', `el acceso de ${target.clientId} a ${target.key}`);
        return target;
      });
      say(`Acceso retirado: ${t.clientId} → ${t.key}`);
      if (o.json === true) out(okJson({ servicio: t.key, cliente: t.clientId, retirado: true }));
    });
  withDir(acl.command('list')).description('lista los derechos de acceso').option('--json', 'salida JSON')
    .action(async (o: Dir & { json?: boolean }) => {
      const rows = await withStore(o.dir, (s) => s.accessRights());
      out(o.json === true ? listJson(rows) : formatTable(['SERVICIO', 'CLIENTE', 'DESDE (LIMA)'], rows.map((r) => [r.serviceKey, r.client, limaDateTime(r.grantedAt)])));
    });

  const conf = program.command('conf').description('configuración global descargada de central');
  withDir(conf.command('show')).description('muestra la copia local verificada de la configuración global').option('--json', 'salida JSON')
    .action(async (o: Dir & { json?: boolean }) => {
      const p = nodePaths(o.dir);
      if (!existsSync(p.globalConf)) throw new MiisError('Config.NoGlobalConf', `no hay copia local en ${o.dir}; inicie el nodo con «miis-node serve»`);
      const c = verifyGlobalConf(readFileSync(p.globalConf), readInputFile(p.anchor, 'ancla'));
      if (o.json === true) return out(toJson(c));
      out(`Instancia ${c.instance}, serie ${c.serial}, generada ${limaDateTime(c.generatedAt)}, vence ${limaDateTime(c.expiresAt)} (hora de Lima)${Date.parse(c.expiresAt) <= now().getTime() ? ' (VENCIDA)' : ''}`);
      out(formatTable(['NODO', 'DIRECCIÓN', 'SUBSISTEMAS'], c.nodes.map((n) => [n.name, n.address, n.clients.join(', ')])));
      out(formatTable(['SERVICIO', 'TÍTULO'], c.services.map((s) => [s.id, s.title])));
    });

  const log = program.command('log').description('registro de mensajes (evidencia de cada intercambio)');
  withDir(log.command('list')).description('últimos mensajes registrados (sin contenido)').option('--json', 'salida JSON')
    .option('--limit <n>', 'cuántos', '20').option('--id <id>', 'solo los de este identificador de mensaje')
    .action(async (o: Dir & { json?: boolean; limit: string; id?: string }) => {
      const l = await openCliSharedLog(o.dir, now());
      try {
        const rows = (await l.list({ messageId: o.id, limit: parseInteger(o.limit, 'límite', 1, 10_000) })).map((r) => ({
          seq: r.seq, lado: r.side, direccion: r.direction, id: r.messageId, cliente: r.client, servicio: r.service, usuario: r.userId ?? null,
          convenio: r.convenio ?? null, finalidad: r.finalidad ?? null, fecha: r.at.toISOString(), bytes: r.message.length, falla: r.fault ?? null, hash: r.hash,
        }));
        out(o.json === true ? listJson(rows) : formatTable(['SEQ', 'LADO', 'DIR.', 'ID', 'CLIENTE', 'SERVICIO', 'FECHA (LIMA)'], rows.map((r) => [String(r.seq), r.lado, r.direccion, r.id, r.cliente, r.servicio, limaDateTime(r.fecha)])));
      } finally {
        await l.close();
      }
    });
  withDir(log.command('verify')).description('verifica la cadena de hashes, cada firma y cada sello de tiempo del registro o de un archivo, e indica qué registro falla y por qué')
    .option('--archive <archivo>', 'verifica un archivo (manifiesto .manifest.json o datos .jsonl) en lugar del registro vivo')
    .option('--ca <archivo>', 'CA de confianza (por omisión, las de la configuración global local)')
    .option('--json', 'salida JSON')
    .action(async (o: Dir & { archive?: string; ca?: string; json?: boolean }) => runLogVerify(o, { withDir, out, now }));
  withDir(log.command('faults')).description('últimas fallas (busque aquí el faultDetail de una respuesta)').option('--json', 'salida JSON')
    .option('--id <uuid>', 'una falla concreta')
    .action(async (o: Dir & { json?: boolean; id?: string }) => {
      const l = await openCliSharedLog(o.dir, now());
      try {
        const rows = (await l.faults(1000)).filter((f) => o.id === undefined || f.faultId === o.id);
        out(o.json === true ? listJson(rows) : formatTable(['FECHA (LIMA)', 'CÓDIGO', 'REFERENCIA', 'DETALLE'], rows.map((f) => [limaDateTime(f.at), f.code, f.faultId, f.detail])));
      } finally {
        await l.close();
      }
    });

  registerTitularCommand(log, { withDir, withStore, out, now });

  registerNodeAccessCommands(program, { withDir, withStore, out, now });
  registerNodeMemberCommands(program, { withDir, withStore, out, now });
  registerBatchCommands(program, { withDir, withStore, out, err: (s) => io.stderr(s), tty: io === processIo && process.stderr.isTTY === true });

  registerEvidenceCommands(program, { withDir, out, now });

  withDir(program.command('backup'))
    .description('copia de respaldo en línea (consistente, con el nodo en marcha): bases de datos, claves, certificados, claves del registro y ajustes en un solo archivo')
    .requiredOption('--out <archivo>', 'archivo de la copia')
    .option('--encrypt', `cifra la copia (AES-256-GCM) con la frase de paso de la variable ${PASSPHRASE_ENV}`)
    .option('--json', 'salida en JSON')
    .addHelpText('after', `\nEjemplo:\n  ${PASSPHRASE_ENV}=… miis-node backup --dir /var/lib/miis/node --out nodo-2026-12-02.miisbak --encrypt\n`)
    .action(async (o: Dir & { json?: boolean; out: string; encrypt?: boolean }) => {
      const say = textOnly(o, out);
      await (await openInitialized(o.dir)).close();
      const r = await writeBackup({ dir: o.dir, out: resolve(o.out), kind: 'node', version: packageVersion(), now: now(), encrypt: o.encrypt === true, env });
      say(`Copia de respaldo${o.encrypt === true ? ' cifrada' : ''}: ${resolve(o.out)} (${r.files} archivos, ${r.databases} bases de datos, ${r.bytes} bytes). Contiene claves privadas: guárdela fuera de este servidor.`);
      const database = resolveDatabase(o.dir);
      const pgNote = database.engine === 'postgresql' ? pgBackupNote(database.display, resolve(o.out)) : undefined;
      if (pgNote !== undefined) say(pgNote);
      if (o.json === true) out(okJson({ archivo: resolve(o.out), cifrada: o.encrypt === true, archivos: r.files, basesDeDatos: r.databases, bytes: r.bytes, ...(pgNote === undefined ? {} : { aviso: pgNote }) }));
    });
  withDir(program.command('restore'))
    .description('restaura una copia de respaldo en una carpeta nueva o vacía (--dir)')
    .requiredOption('--from <archivo>', 'archivo de la copia')
    .option('--json', 'salida en JSON')
    .action(async (o: Dir & { json?: boolean; from: string }) => {
      const say = textOnly(o, out);
      const r = restoreBackup({ from: resolve(o.from), dir: resolve(o.dir), kind: 'node', env });
      say(`Restaurado en ${resolve(o.dir)}: ${r.files} archivos de la copia del ${r.createdAt} (versión ${r.version}). Verifique el registro con «miis-node log verify» e inicie el nodo con «miis-node serve».`);
      const db = readNodeConfig(resolve(o.dir)).database;
      if (db?.engine === 'postgresql') {
        say(`Atención: este nodo usa PostgreSQL (${redactPgUrl(db.url)}); la copia no contiene la base (configuración local, replay y registro de mensajes). Antes de «miis-node serve», restaure el volcado de esa base con pg_restore (p. ej. pg_restore --clean --if-exists --dbname='${redactPgUrl(db.url)}' <archivo>.pgdump); sin él el nodo arranca con la base que encuentre en esa URL.`);
      }
      if (o.json === true) out(okJson({ carpeta: resolve(o.dir), archivos: r.files, copiaDel: r.createdAt, version: r.version }));
    });

  withDir(program.command('serve'))
    .description('inicia el nodo (puerto SOAP para sistemas de información y puerto TLS mutuo para otros nodos)')
    .option('--conf-interval <s>', 'cada cuántos segundos se descarga la configuración global', '30')
    .option('--log-format <formato>', 'registro operativo en la salida de errores: json (líneas JSON) o pretty (legible); por omisión pretty en una consola y json si no')
    .option('--drain-seconds <s>', 'al recibir SIGTERM o SIGINT: cuánto se espera a que terminen los intercambios en curso', '30')
    .action(async (o: Dir & { confInterval: string; logFormat?: string; drainSeconds: string }) => {
      const drainMs = parseInteger(o.drainSeconds, 'espera', 0, 3600) * 1000;
      tuneServeHeap();
      const logFormat = o.logFormat === undefined ? defaultLogFormat(io === processIo && process.stderr.isTTY) : parseLogFormat(o.logFormat);
      const node = await startNode({ dir: o.dir, now, confIntervalMs: parseInteger(o.confInterval, 'intervalo', 1, 3600) * 1000, logFormat, info: (l) => io.stderr(`${l}\n`) });
      out(`Nodo ${node.name}: sistemas de información en ${node.isUrl} · nodos en ${node.proxyUrl} · salud en ${node.healthUrl}${node.metricsUrl === undefined ? '' : ` · métricas en ${node.metricsUrl}`}`);
      // SIGHUP (systemctl reload): re-read the TLS certificate, let go of an old node-to-node port
      const onHup = (): void => void node.reload();
      process.on('SIGHUP', onHup);
      await waitForStop(io.stop);
      process.off('SIGHUP', onHup);
      await node.close({ drainMs });
      out(`Nodo ${node.name} detenido`);
    });

  registerServiceUnitCommand(program, 'miis-node', (t) => io.stdout(t));

  return program;
}

/** The command tree (for tests that walk every command); `runNodeCli` runs it. */
export function buildNodeProgram(io: CliIo = processIo): Command {
  return buildProgram(io);
}

/** What `backup` says on PostgreSQL: the copy holds the folder (keys, certificates, log keys, node.json), not the database. */
export function pgBackupNote(display: string, out: string): string {
  return `Atención: este nodo usa PostgreSQL (${display}); la copia contiene la carpeta del nodo (claves, certificados, claves del registro, node.json) pero NO la base de datos (configuración local, memoria de identificadores y registro de mensajes de todas las instancias). Respáldela con pg_dump, con el nodo en marcha (la copia es consistente), por ejemplo:\n  pg_dump --format=custom --schema=miis_node --schema=miis_log --file=${out}.pgdump '${display}'\ny guarde ambos archivos juntos; «miis-node restore» restaura la carpeta y pg_restore la base.`;
}

export function runNodeCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  return runProgram(buildNodeProgram(io), argv, io);
}

if (isMainModule(import.meta.url)) {
  runNodeCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (err: unknown) => {
    process.stderr.write(`miis-node: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
