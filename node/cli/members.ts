/**
 * `miis-node member add|cert-import|list`: a shared node hosts members besides its owner (issue 14
 * item 8), each with its own signing key and certificate (node/certs/hosted-members.ts). Central
 * registers the hosting with `miis-central node member add --node <nodo> <miembro>` and the
 * member's subsystems with `miis-central node client add`; then `miis-node client add` here.
 */
import type { Command } from 'commander';
import { formatTable, okJson, readInputFile, textOnly } from '../../runtime/cli-kit.js';
import { listJson } from '../../runtime/cli-json.js';
import { addHostedMember, importHostedSigningCert, listHostedMembers } from '../certs/hosted-members.js';
import type { NodeStore } from '../store/node-store.js';
import { readLocalConf } from './evidence.js';

export interface NodeMemberCliHelpers {
  readonly withDir: (cmd: Command) => Command;
  readonly withStore: <T>(dir: string, fn: (s: NodeStore) => T | Promise<T>) => Promise<T>;
  readonly out: (s: string) => void;
  readonly now: () => Date;
}

export function registerNodeMemberCommands(program: Command, h: NodeMemberCliHelpers): void {
  const member = program.command('member').description('nodo compartido: miembros alojados en este nodo además de la entidad propietaria, cada uno con su clave de firma');
  h.withDir(member.command('add'))
    .description('aloja un miembro (p. ej. una municipalidad en el nodo de su gobierno regional): crea su clave de firma y la solicitud de certificado (CSR)')
    .argument('<miembro>', 'INSTANCIA/CLASE/CÓDIGO, p. ej. PE/GOB/20177539731')
    .requiredOption('--name <nombre>', 'nombre del miembro tal como está registrado en central')
    .option('--json', 'salida en JSON')
    .addHelpText('after', '\nPasos:\n  miis-node member add PE/GOB/20177539731 --name "Municipalidad Provincial del Cusco" --dir D\n  miis-central cert sign --csr D/members/PE_GOB_20177539731/sign.csr --profile sign --out muni-sign.pem\n  miis-central node member add --node gore-cusco PE/GOB/20177539731\n  miis-central node client add --node gore-cusco PE/GOB/20177539731/ULE\n  miis-node member cert-import PE/GOB/20177539731 --sign muni-sign.pem --dir D\n  miis-node client add PE/GOB/20177539731/ULE --dir D\n')
    .action(async (id: string, o: { dir: string; json?: boolean; name: string }) => {
      const say = textOnly(o, h.out);
      const r = await h.withStore(o.dir, async (s) => addHostedMember(o.dir, await s.settings(), { member: id, name: o.name }));
      say(`Miembro alojado ${r.id} (${o.name}): clave de firma creada`);
      say(`Solicitud de certificado de firma: ${r.csrPath}`);
      say(`Envíela a central («miis-central cert sign --profile sign»), pida «miis-central node member add --node <este nodo> ${r.id}» e importe el certificado con «miis-node member cert-import ${r.id} --sign <archivo>».`);
      if (o.json === true) h.out(okJson({ miembro: r.id, nombre: o.name, solicitudFirma: r.csrPath }));
    });
  h.withDir(member.command('cert-import'))
    .description('importa el certificado de firma (perfil sign) que central emitió para un miembro alojado; un nodo en marcha firma con él en segundos, sin reiniciar')
    .argument('<miembro>', 'INSTANCIA/CLASE/CÓDIGO')
    .requiredOption('--sign <archivo>', 'certificado de firma del miembro alojado')
    .option('--json', 'salida en JSON')
    .action(async (id: string, o: { dir: string; json?: boolean; sign: string }) => {
      const say = textOnly(o, h.out);
      const info = importHostedSigningCert(o.dir, id, readInputFile(o.sign, 'certificado'), { conf: readLocalConf(o.dir), now: h.now(), file: o.sign });
      say(`Certificado sign de ${id} importado: ${info.subject.replaceAll('\n', ', ')} (vence ${info.notAfter.toISOString()}, SHA-256 ${info.sha256})`);
      if (o.json === true) h.out(okJson({ miembro: id, sujeto: info.subject, vence: info.notAfter.toISOString(), sha256: info.sha256 }));
    });
  h.withDir(member.command('list'))
    .description('lista los miembros alojados y su certificado de firma')
    .option('--json', 'salida en JSON')
    .action((o: { dir: string; json?: boolean }) => {
      const rows = listHostedMembers(o.dir);
      if (o.json === true) return h.out(listJson(rows.map((m) => ({ miembro: m.id, nombre: m.name, certificado: m.cert === undefined ? null : { sha256: m.cert.sha256, vence: m.cert.notAfter.toISOString() } }))));
      if (rows.length === 0) return h.out('Este nodo no aloja otros miembros.');
      h.out(formatTable(['MIEMBRO', 'NOMBRE', 'CERTIFICADO DE FIRMA'], rows.map((m) => [m.id, m.name, m.cert === undefined ? 'falta (miis-node member cert-import)' : `vence ${m.cert.notAfter.toISOString().slice(0, 10)}, SHA-256 ${m.cert.sha256.slice(0, 16)}…`])));
      return undefined;
    });
}
