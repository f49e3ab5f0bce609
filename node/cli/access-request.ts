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
import { ACCESS_REQUEST_PATH, signAccessRequest, type AccessRequestMessage } from '../../core/access-request-message.js';
import { formatClientId, formatMemberId, parseClientId } from '../../core/identifiers.js';
import { createSigner } from '../../core/signature.js';
import { toJson } from '../../runtime/cli-kit.js';
import type { NodeStore } from '../store/node-store.js';
import { nodePaths } from '../store/paths.js';

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
  let res: Response;
  try {
    res = await fetch(new URL(ACCESS_REQUEST_PATH, opts.centralUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
  } catch (err) {
    throw new MiisError('Config.InvalidInput', `no se pudo contactar al directorio central en ${opts.centralUrl}: ${(err as Error).message}`, { cause: err });
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON: reported below
  }
  if (res.status !== 201) {
    const code = res.status === 409 ? 'Config.Duplicate' : res.status === 404 ? 'Config.NotFound' : 'Config.InvalidInput';
    const detail = typeof json.mensaje === 'string' ? json.mensaje : `HTTP ${res.status}`;
    throw new MiisError(code, `el directorio central rechazó la solicitud: ${detail}`);
  }
  return json as unknown as AccessRequestReply;
}

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
        if (formatMemberId(parseClientId(client)) !== member) throw new MiisError('Config.InvalidIdentifier', `${client} no pertenece a la entidad de este nodo (${member})`);
      } else if (clients.length === 1) {
        client = clients[0] as string;
      } else {
        throw new MiisError('Config.InvalidInput', `indique --client: este nodo tiene ${clients.length} clientes locales (${clients.join(', ') || 'ninguno'})`);
      }
      const p = nodePaths(o.dir);
      if (!existsSync(p.signCert)) throw new MiisError('Config.NotInitialized', `falta el certificado de firma ${p.signCert}; instálelo con «miis-node cert import»`);
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
      const reply = await sendAccessRequest({ centralUrl: settings.centralUrl, message, signKeyPem: readFileSync(p.signKey, 'utf8'), signCertPem: readFileSync(p.signCert, 'utf8') });
      h.out(o.json === true ? toJson(reply) : `Solicitud ${reply.id} presentada (${reply.estado}); la unidad responsable debe responder hasta el ${reply.vence}. La DGFO hace el seguimiento.`);
    });
}
