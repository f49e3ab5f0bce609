/**
 * `npm start`: runs the MIIS sandbox (see scripts/sandbox/run.ts) until Ctrl-C.
 * MIIS_SANDBOX_DIR (default var/sandbox) and MIIS_SANDBOX_BASE_PORT (default 4400) change where.
 */
import { fileURLToPath } from 'node:url';
import { MiisError } from '../core/errors.js';
import { waitForStop } from '../runtime/cli-kit.js';
import { parseInteger } from '../runtime/cli-kit.js';
import { sandboxGuide, startSandbox } from './sandbox/run.js';
import { defaultLogFormat } from '../runtime/log.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

async function main(): Promise<void> {
  const dir = process.env.MIIS_SANDBOX_DIR ?? `${root}var/sandbox`;
  const basePort = parseInteger(process.env.MIIS_SANDBOX_BASE_PORT ?? '4400', 'MIIS_SANDBOX_BASE_PORT', 1024, 65000);
  const sandbox = await startSandbox({ dir, basePort, logFormat: defaultLogFormat(process.stderr.isTTY), info: (l) => process.stderr.write(`${l}\n`) });
  process.stdout.write(sandboxGuide(sandbox.info, `${root}examples`, `${dir}/sandbox.json`));
  if (process.env.MIIS_SANDBOX_EXIT === '1') {
    await sandbox.close();
    return;
  }
  await waitForStop(undefined);
  process.stdout.write('\nDeteniendo el entorno de prueba…\n');
  await sandbox.close();
  process.stdout.write('Listo.\n');
}

main().catch((err: unknown) => {
  const message = err instanceof MiisError ? err.message : err instanceof Error ? err.message : String(err);
  const busy = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? ' (un puerto está ocupado: ¿otro «npm start» en curso? Use MIIS_SANDBOX_BASE_PORT para cambiarlos)' : '';
  process.stderr.write(`miis sandbox: ${message}${busy}\n`);
  process.exitCode = 1;
});
