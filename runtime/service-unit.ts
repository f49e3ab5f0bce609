/**
 * systemd unit for `miis-node serve` / `miis-central serve`: a dedicated user, the data folder as
 * the only writable path, and the usual hardening. `miis-… service-unit` prints it; the files in
 * deploy/ are the same text with the default values (test/runtime/service-unit.test.ts keeps them
 * in step).
 */
import { basename, isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';

export interface ServiceUnitOptions {
  readonly program: 'miis-node' | 'miis-central';
  /** System user (and group) the service runs as. */
  readonly user: string;
  /** Data folder (--dir), the only path the service may write. */
  readonly dir: string;
  /** Absolute path of the installed command (e.g. /usr/bin/miis-node). */
  readonly exec: string;
  /** Extra arguments for `serve` (e.g. --host 0.0.0.0 --port 4400 for central). */
  readonly serveArgs?: readonly string[];
}

export const SERVICE_DEFAULTS = {
  'miis-node': { user: 'miis', dir: '/var/lib/miis/node', exec: '/usr/bin/miis-node' },
  'miis-central': { user: 'miis', dir: '/var/lib/miis/central', exec: '/usr/bin/miis-central' },
} as const;

export function serviceUnit(o: ServiceUnitOptions): string {
  const what = o.program === 'miis-node' ? 'MIIS: nodo de seguridad (miis-node)' : 'MIIS: directorio central (miis-central)';
  const args = ['serve', '--dir', o.dir, ...(o.serveArgs ?? [])].join(' ');
  return `# ${o.program}.service — generado por «${o.program} service-unit»
# Instalación: cree el usuario (useradd --system --home ${o.dir} --shell /usr/sbin/nologin ${o.user}),
# la carpeta de datos (install -d -o ${o.user} -g ${o.user} -m 0700 ${o.dir}), copie este archivo a
# /etc/systemd/system/${o.program}.service y ejecute: systemctl daemon-reload && systemctl enable --now ${o.program}
[Unit]
Description=${what}
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
User=${o.user}
Group=${o.user}
Environment=NODE_ENV=production
ExecStart=${o.exec} ${args}
${o.program === 'miis-node' ? '# SIGHUP: vuelve a leer el certificado TLS (auth.pem) y su clave sin reiniciar\nExecReload=/bin/kill -HUP $MAINPID\n' : ''}# SIGTERM: deja de aceptar, termina los intercambios en curso y vacía el registro antes de salir
KillSignal=SIGTERM
TimeoutStopSec=45
Restart=on-failure
RestartSec=5
UMask=0077
LimitNOFILE=65536

# endurecimiento
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${o.dir}
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
RemoveIPC=yes
CapabilityBoundingSet=
AmbientCapabilities=
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
`;
}

/** `<program> service-unit [--user U] [--dir D] [--exec PATH]`: prints the unit on stdout. */
export function registerServiceUnitCommand(program: Command, name: ServiceUnitOptions['program'], out: (s: string) => void, argv1: string | undefined = process.argv[1]): void {
  const d = SERVICE_DEFAULTS[name];
  // the command as it was invoked (e.g. /usr/local/bin/miis-node after npm install -g), else the default
  const invoked = argv1 !== undefined && basename(argv1) === name && isAbsolute(argv1) ? argv1 : d.exec;
  program.command('service-unit')
    .description('imprime una unidad systemd endurecida para ejecutar «serve» como servicio (usuario dedicado, solo la carpeta de datos escribible)')
    .option('--user <usuario>', 'usuario del sistema con el que corre el servicio', d.user)
    .option('--dir <carpeta>', 'carpeta de datos (la única en la que el servicio puede escribir)', d.dir)
    .option('--exec <ruta>', 'ruta absoluta del comando instalado', invoked)
    .addHelpText('after', `\nEjemplo:\n  ${name} service-unit --user miis --dir ${d.dir} > /etc/systemd/system/${name}.service\n`)
    .action((o: { user: string; dir: string; exec: string }) => {
      out(serviceUnit({ program: name, user: o.user, dir: resolve(o.dir), exec: o.exec }));
    });
}
