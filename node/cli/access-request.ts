/**
 * `miis-node access request`: the IPF asks, from its node, for access to a catalogue component
 * (directive 7.2.2). The request is signed with the member's signing key (keys/sign-key.pem and
 * sign.pem, the certificate the instance CA issued) and posted to central's
 * POST /solicitudes-acceso, which verifies the signature and records it for DGFO's follow-up.
 * The answer comes back as an access right in the global configuration once granted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { MiisError } from '../../core/errors.js';
import {
  ACCESS_ANSWER_PATH, ACCESS_DECISIONS, ACCESS_LIST_PATH, ACCESS_REQUEST_PATH, signAccessAnswer, signAccessListQuery, signAccessRequest,
  type AccessAnswerMessage, type AccessListQuery, type AccessListRow, type AccessRequestMessage,
} from '../../core/access-request-message.js';
import { formatClientId, formatMemberId, parseClientId } from '../../core/identifiers.js';
import { createSigner } from '../../core/signature.js';
import { formatTable, okJson } from '../../runtime/cli-kit.js';
import { listJson } from '../../runtime/cli-json.js';
import type { NodeStore } from '../store/node-store.js';
import type { NodeSettings } from '../store/local-store.js';
import { nodePaths } from '../store/paths.js';
import { hostedMemberKeys, listHostedMembers } from '../certs/hosted-members.js';

export interface NodeAccessCliHelpers {
  readonly withDir: (cmd: Command) => Command;
  readonly withStore: <T>(dir: string, fn: (s: NodeStore) => T | Promise<T>) => Promise<T>;
  readonly out: (s: string) => void;
  readonly now: () => Date;
}

export interface AccessRequestReply {
  readonly id: string;
  readonly estado: string;
  readonly presentada: string;
  readonly vence: string;
}

/** Sign and send; throws MiisError with central's Spanish message when refused. */
export async function sendAccessRequest(opts: { centralUrl: string; message: AccessRequestMessage; signKeyPem: string; signCertPem: string; timeoutMs?: number }): Promise<AccessRequestReply> {
  const body = JSON.stringify(signAccessRequest(opts.message, createSigner(opts.signKeyPem, opts.signCertPem)));
  return await postSigned(opts.centralUrl, ACCESS_REQUEST_PATH, body, 201, 'la solicitud', opts.timeoutMs) as unknown as AccessRequestReply;
}

/** POST a signed JSON body to central; the parsed reply, or MiisError with central's Spanish message. */
async function postSigned(centralUrl: string, path: string, body: string, okStatus: number, what: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(new URL(path, centralUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new MiisError('Config.InvalidInput', `no se pudo contactar al directorio central en ${centralUrl}: ${(err as Error).message}`, { cause: err });
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: reported below
  }
  if (res.status !== okStatus) {
    const mensaje = typeof json.mensaje === 'string' ? json.mensaje : `HTTP ${res.status}`;
    const notAuthorized = res.status === 403 && mensaje.startsWith('No autorizado: ');
    const code = res.status === 409 ? 'Config.Duplicate' : res.status === 404 ? 'Config.NotFound' : notAuthorized ? 'Config.NotAuthorized' : 'Config.InvalidInput';
    const detail = notAuthorized ? mensaje.slice('No autorizado: '.length) : mensaje;
    throw new MiisError(code, `el directorio central rechazó ${what}: ${detail}`);
  }
  return json;
}

/** The member of this node whose signing key signs governance messages, with its key and certificate. */
export interface MemberKeys {
  readonly member: string;
  readonly keyPem: string;
  readonly certPem: string;
}

/** The owner's keys, or (shared node) those of a hosted member given with --member. */
function memberKeys(dir: string, settings: NodeSettings, member?: string): MemberKeys {
  if (member !== undefined && formatMemberId(parseClientId(member.trim())) !== `${settings.instance}/${settings.memberClass}/${settings.memberCode}`) return hostedMemberKeys(dir, member);
  const p = nodePaths(dir);
  if (!existsSync(p.signCert)) throw new MiisError('Config.NotInitialized', `falta el certificado de firma ${p.signCert}; instálelo con «miis-node cert import»`);
  return { member: `${settings.instance}/${settings.memberClass}/${settings.memberCode}`, keyPem: readFileSync(p.signKey, 'utf8'), certPem: readFileSync(p.signCert, 'utf8') };
}

/** Send the designated unit's signed answer to an access request (POST /solicitudes-acceso/respuestas). */
export async function sendAccessAnswer(centralUrl: string, message: AccessAnswerMessage, keys: MemberKeys): Promise<AccessListRow> {
  const body = JSON.stringify(signAccessAnswer(message, createSigner(keys.keyPem, keys.certPem)));
  return await postSigned(centralUrl, ACCESS_ANSWER_PATH, body, 200, 'la respuesta') as unknown as AccessListRow;
}

/** A signed listing of the member's requests (as requester or provider). */
export async function queryAccessRequests(centralUrl: string, message: AccessListQuery, keys: MemberKeys): Promise<AccessListRow[]> {
  const body = JSON.stringify(signAccessListQuery(message, createSigner(keys.keyPem, keys.certPem)));
  const reply = await postSigned(centralUrl, ACCESS_LIST_PATH, body, 200, 'la consulta');
  return (reply.solicitudes ?? []) as AccessListRow[];
}

const dash = (v: string | null): string => v ?? '-';

export function registerNodeAccessCommands(program: Command, h: NodeAccessCliHelpers): void {
  const access = program.command('access').description('solicitudes de acceso a componentes del catálogo del MIIS (7.2)');
  h.withDir(access.command('request'))
    .description('solicita a la entidad administradora, a través del directorio central, acceso a un componente o servicio; la solicitud va firmada con la clave de firma del miembro')
    .requiredOption('--component <código>', 'componente del catálogo (vea el portal: GET /portal en central), p. ej. RUPN')
    .option('--client <subsistema>', 'subsistema solicitante (por omisión, el único cliente local)')
    .option('--service <servicio>', 'un servicio del componente (por omisión, todos)')
    .requiredOption('--purpose <código>', 'finalidad, p. ej. FOCALIZACION')
    .option('--purpose-detail <texto>', 'para qué se usará la información')
    .requiredOption('--legal-basis <texto>', 'base legal')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-node access request --dir ./var/juntos --component RUPN --purpose FOCALIZACION --legal-basis "Ley Nº 30435, art. 13"\n')
    .action(async (o: { dir: string; component: string; client?: string; service?: string; purpose: string; purposeDetail?: string; legalBasis: string; json?: boolean }) => {
      const { settings, clients } = await h.withStore(o.dir, async (s) => ({ settings: await s.settings(), clients: await s.clients() }));
      if (settings.centralUrl === undefined) throw new MiisError('Config.NotInitialized', 'falta la URL de central; ejecute «miis-node anchor import --url …»');
      const member = `${settings.instance}/${settings.memberClass}/${settings.memberCode}`;
      let client: string;
      if (o.client !== undefined) {
        client = formatClientId(parseClientId(o.client));
        const clientMember = formatMemberId(parseClientId(client));
        if (clientMember !== member && !listHostedMembers(o.dir).some((m) => m.id === clientMember)) throw new MiisError('Config.InvalidIdentifier', `${client} no pertenece a la entidad de este nodo (${member}) ni a un miembro alojado`);
      } else if (clients.length === 1) {
        client = clients[0] as string;
      } else {
        throw new MiisError('Config.InvalidInput', `indique --client: este nodo tiene ${clients.length} clientes locales (${clients.join(', ') || 'ninguno'})`);
      }
      // signed with the key of the client's member (the owner's, or a hosted member's on a shared node)
      const keys = memberKeys(o.dir, settings, formatMemberId(parseClientId(client)));
      const message: AccessRequestMessage = {
        requestId: randomUUID(),
        client,
        component: o.component.trim().toUpperCase(),
        ...(o.service === undefined ? {} : { service: o.service }),
        purpose: o.purpose,
        ...(o.purposeDetail === undefined ? {} : { purposeDetail: o.purposeDetail }),
        legalBasis: o.legalBasis,
        createdAt: h.now().toISOString(),
      };
      const reply = await sendAccessRequest({ centralUrl: settings.centralUrl, message, signKeyPem: keys.keyPem, signCertPem: keys.certPem });
      h.out(o.json === true ? okJson(reply) : `Solicitud ${reply.id} presentada (${reply.estado}); la unidad responsable debe responder hasta el ${reply.vence}. La DGFO hace el seguimiento.`);
    });

  h.withDir(access.command('responder'))
    .description('la unidad designada de la entidad administradora responde, desde su nodo, una solicitud de acceso (7.2.3); la respuesta va firmada con la clave de firma del miembro y central comprueba que sea la entidad administradora del componente')
    .requiredOption('--solicitud <id>', 'solicitud, p. ej. SA-2026-0001 (vea «miis-node access list --recibidas»)')
    .requiredOption('--decision <aprobar|denegar>', 'aprobar (otorga el acceso y registra el convenio) o denegar')
    .option('--motivo <texto>', 'motivo (obligatorio para denegar)')
    .option('--convenio <id>', 'al aprobar: convenio que el cliente citará (por omisión, el id de la solicitud)')
    .option('--hasta <AAAA-MM-DD>', 'al aprobar: fin de vigencia del acceso')
    .option('--member <miembro>', 'nodo compartido: responde por este miembro alojado (firma con su clave)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplos:\n  miis-node access responder --dir ./var/reniec --solicitud SA-2026-0001 --decision aprobar --convenio CONV-001-2026 --hasta 2026-12-31\n  miis-node access responder --dir ./var/reniec --solicitud SA-2026-0002 --decision denegar --motivo "La finalidad no corresponde a focalización"\n')
    .action(async (o: { dir: string; solicitud: string; decision: string; motivo?: string; convenio?: string; hasta?: string; member?: string; json?: boolean }) => {
      if (!(ACCESS_DECISIONS as readonly string[]).includes(o.decision)) throw new MiisError('Config.InvalidInput', `decisión no válida: «${o.decision}»; use ${ACCESS_DECISIONS.join(' o ')}`);
      if (o.decision === 'denegar' && (o.motivo ?? '').trim() === '') throw new MiisError('Config.InvalidInput', 'indique --motivo: una denegación lleva su motivo');
      const settings = await h.withStore(o.dir, (s) => s.settings());
      if (settings.centralUrl === undefined) throw new MiisError('Config.NotInitialized', 'falta la URL de central; ejecute «miis-node anchor import --url …»');
      const keys = memberKeys(o.dir, settings, o.member);
      const message: AccessAnswerMessage = {
        answerId: randomUUID(),
        requestId: o.solicitud.trim().toUpperCase(),
        member: keys.member,
        decision: o.decision as AccessAnswerMessage['decision'],
        ...(o.motivo === undefined ? {} : { reason: o.motivo }),
        ...(o.convenio === undefined ? {} : { agreementId: o.convenio }),
        ...(o.hasta === undefined ? {} : { validUntil: o.hasta }),
        createdAt: h.now().toISOString(),
      };
      const r = await sendAccessAnswer(settings.centralUrl, message, keys);
      if (o.json === true) return h.out(okJson(r));
      h.out(r.estado === 'otorgada'
        ? `Solicitud ${r.id} OTORGADA por ${dash(r.unidad)} (firmada por ${keys.member}); convenio ${dash(r.convenio)}; el derecho de acceso se publica en la próxima configuración global.`
        : `Solicitud ${r.id} DENEGADA por ${dash(r.unidad)} (firmada por ${keys.member}): ${dash(r.motivo)}`);
      return undefined;
    });

  h.withDir(access.command('list'))
    .description('consulta a central, con una petición firmada por el miembro, sus solicitudes de acceso: estado, respuesta y el convenio que debe citar; con --recibidas, las dirigidas a los componentes que administra')
    .option('--recibidas', 'las solicitudes que la entidad de este nodo debe responder (como administradora)')
    .option('--member <miembro>', 'nodo compartido: las de este miembro alojado (consulta firmada con su clave)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplos:\n  miis-node access list --dir ./var/juntos\n  miis-node access list --dir ./var/reniec --recibidas --json\n')
    .action(async (o: { dir: string; recibidas?: boolean; member?: string; json?: boolean }) => {
      const settings = await h.withStore(o.dir, (s) => s.settings());
      if (settings.centralUrl === undefined) throw new MiisError('Config.NotInitialized', 'falta la URL de central; ejecute «miis-node anchor import --url …»');
      const keys = memberKeys(o.dir, settings, o.member);
      const rows = await queryAccessRequests(settings.centralUrl, { queryId: randomUUID(), member: keys.member, role: o.recibidas === true ? 'proveedor' : 'solicitante', createdAt: h.now().toISOString() }, keys);
      if (o.json === true) return h.out(listJson(rows));
      if (rows.length === 0) return h.out(o.recibidas === true ? 'No hay solicitudes dirigidas a los componentes de esta entidad.' : 'Esta entidad no tiene solicitudes de acceso.');
      h.out(formatTable(['SOLICITUD', 'ESTADO', 'CLIENTE', 'COMPONENTE/SERVICIO', 'PRESENTADA', 'VENCE', 'RESPONDIDA', 'UNIDAD', 'CONVENIO A CITAR', 'MOTIVO'],
        rows.map((r) => [r.id, r.revocada === null ? r.estado : `${r.estado} (${r.revocada})`, r.cliente, r.servicio ?? r.componente, r.presentada, r.vence, dash(r.respondida), dash(r.unidad), r.estado === 'otorgada' ? dash(r.convenio) : '-', dash(r.motivo)])));
      return undefined;
    });
}
