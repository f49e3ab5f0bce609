/**
 * `miis-central cert revoke|revocations`: revoke a certificate (published in the next global
 * configuration as revokedCerts and answered by POST /ocsp). Wired into central/cli/index.ts with one call.
 */
import type { Command } from 'commander';
import { formatTable, limaDateTime, readInputFile, okJson, textOnly } from '../../runtime/cli-kit.js';
import { listJson, spanishJson } from '../../runtime/cli-json.js';
import type { CentralCliHelpers, CommonOptions } from './helpers.js';
import { listRevocations, parseRevocationReason, REVOCATION_REASONS, revokeCertificate } from '../pki/revocation.js';


export function registerRevocationCommands(cert: Command, h: CentralCliHelpers): void {
  h.common(cert.command('revoke'))
    .description('revoca un certificado: los nodos lo rechazan en cuanto descargan la siguiente configuración global')
    .argument('[serie|sha256]', 'número de serie (hex) o SHA-256 de un certificado emitido por la CA, o SHA-256 de uno externo')
    .option('--file <certificado.pem>', 'o bien el certificado en PEM (p. ej. de una CA externa)')
    .option('--reason <motivo>', `motivo: ${Object.keys(REVOCATION_REASONS).join(' | ')}`, 'unspecified')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nEjemplo:\n  miis-central cert revoke 4f1c…9a --reason keyCompromise\n')
    .action(async (ref: string | undefined, o: CommonOptions & { json?: boolean; file?: string; reason: string }) => {
      const say = textOnly(o, h.out);
      const reason = parseRevocationReason(o.reason);
      const target = o.file !== undefined ? readInputFile(o.file, 'certificado') : ref ?? '';
      const r = await h.withStore(o, (store) => revokeCertificate(store, target, reason, h.ctxOf(o)));
      say(`Certificado revocado (${r.reason}): SHA-256 ${r.sha256}${r.serialHex === null ? '' : `, serie ${r.serialHex}`}. Se publica en la próxima configuración global.`);
      if (o.json === true) h.out(okJson(spanishJson(r) as object));
    });
  h.common(cert.command('revocations'))
    .description('lista los certificados revocados')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const rows = await h.withStore(o, (store) => listRevocations(store));
      h.out(o.json === true ? listJson(rows) : formatTable(['SHA-256', 'SERIE', 'MOTIVO', 'FECHA (LIMA)', 'ACTOR'], rows.map((r) => [r.sha256, r.serialHex ?? '-', r.reason, limaDateTime(r.revokedAt), r.actor])));
    });
}
