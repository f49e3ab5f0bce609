/**
 * `miis-central ca trust|list|untrust`: external CAs (e.g. ECEP-RENIEC) and the rules that map
 * their certificates to members. Wired into central/cli/index.ts with one call.
 */
import type { Command } from 'commander';
import { collect, formatTable, readInputFile, okJson, textOnly } from '../../runtime/cli-kit.js';
import { listJson, spanishJson } from '../../runtime/cli-json.js';
import { parseMappingRule } from '../../core/member-mapping.js';
import type { CentralCliHelpers, CommonOptions } from './helpers.js';
import { listExternalCas, trustExternalCa, untrustExternalCa } from '../pki/external-cas.js';
import { requireInstance, SETTING } from '../registry/rules.js';



export function registerExternalCaCommands(program: Command, h: CentralCliHelpers): void {
  const ca = program.command('ca').description('CA externas de confianza (p. ej. ECEP-RENIEC) y la correspondencia de sus certificados con miembros');
  h.common(ca.command('trust'))
    .description('confía en una CA externa: valida la cadena y la publica en la configuración global con sus reglas de correspondencia')
    .requiredOption('--file <cadena.pem>', 'cadena PEM: primero la CA que emite los certificados, luego sus emisoras hasta la raíz')
    .requiredOption('--name <nombre>', 'nombre de la CA externa, p. ej. ECEP-RENIEC')
    .option('--map <regla>', "regla campo:expresión=>plantilla (repetible), p. ej. 'subject.serialNumber:RUC(\\d{11})=>PE/GOB/$1'", collect, [])
    .option('--ocsp-url <url>', 'respondedor OCSP (por omisión, el de cada certificado: Authority Information Access)')
    .option('--json', 'salida en JSON')
    .addHelpText('after', [
      '',
      'Campos: subject.serialNumber, subject.CN, subject.O, subject.OU, subject.emailAddress, san.email.',
      'La expresión debe abarcar el valor completo del campo y tener un solo grupo de captura; $1 en la plantilla es lo capturado.',
      'Un certificado de una CA externa solo vale para firmar si las reglas lo asignan al miembro que envía el mensaje.',
      'Ejemplo:',
      "  miis-central ca trust --file ecep-chain.pem --name ECEP-RENIEC --map 'subject.serialNumber:RUC(\\d{11})=>PE/GOB/$1'",
      '',
    ].join('\n'))
    .action(async (o: CommonOptions & { json?: boolean; file: string; name: string; map: string[]; ocspUrl?: string }) => {
      const say = textOnly(o, h.out);
      const chainPem = readInputFile(o.file, 'cadena de certificados');
      const r = await h.withStore(o, (store) => {
        const instance = requireInstance(store);
        const memberMapping = o.map.map((text) => parseMappingRule(text, instance));
        return trustExternalCa(store, { name: o.name, chainPem, memberMapping, ocspUrl: o.ocspUrl, instanceCaPem: store.getSetting(SETTING.caCertPem) }, h.ctxOf(o));
      });
      say(`CA externa ${r.name} de confianza (SHA-256 ${r.certSha256}; ${r.memberMapping.length} regla(s)${r.ocspUrl === undefined ? '' : `; OCSP ${r.ocspUrl}`}). Se publica en la próxima configuración global.`);
      if (r.memberMapping.length === 0) say('Aviso: sin reglas de correspondencia ningún certificado de esta CA se acepta para firmar mensajes.');
      if (o.json === true) h.out(okJson(spanishJson({ ...r, caPem: undefined, chainPem: undefined }) as object));
    });
  h.common(ca.command('list'))
    .description('lista las CA externas de confianza y sus reglas')
    .option('--json', 'salida en JSON')
    .action(async (o: CommonOptions & { json?: boolean }) => {
      const rows = await h.withStore(o, (store) => listExternalCas(store));
      if (o.json === true) return h.out(listJson(rows.map(({ caPem: _c, chainPem: _p, ...r }) => r)));
      h.out(formatTable(['NOMBRE', 'SHA-256', 'REGLAS', 'OCSP'], rows.map((r) => [
        r.name, r.certSha256, r.memberMapping.map((m) => `${m.field}:${m.pattern}=>${m.member}`).join('; ') || '-', r.ocspUrl ?? '(AIA)',
      ])));
      return undefined;
    });
  h.common(ca.command('untrust'))
    .description('deja de confiar en una CA externa (se retira de la próxima configuración global)')
    .argument('<nombre>')
    .option('--json', 'salida en JSON')
    .action(async (name: string, o: CommonOptions & { json?: boolean }) => {
      const say = textOnly(o, h.out);
      await h.withStore(o, (store) => untrustExternalCa(store, name, h.ctxOf(o)));
      say(`CA externa ${name} retirada. Se publica en la próxima configuración global.`);
      if (o.json === true) h.out(okJson({ nombre: name, retirada: true }));
    });
}
