/** `miis-node` run as separate processes (kill -9 tests): one CLI command, or `serve` until it listens. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../e2e/fixture.js';

export const NODE_CLI = fileURLToPath(new URL('../../node/cli/index.js', import.meta.url));

/** Run one `miis-node` command in its own process and collect its exit code and output. */
export function runNodeCliProcess(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [NODE_CLI, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** Start `miis-node serve --dir <dir>` for the node called `name` and wait until it says it listens. */
export async function spawnServe(dir: string, name: string, env: Record<string, string> = {}): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [NODE_CLI, 'serve', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let tail = '';
  proc.stdout?.on('data', (c: Buffer) => { stdout += c.toString(); });
  proc.stderr?.on('data', (c: Buffer) => { tail = (tail + c.toString()).slice(-4000); });
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`serve ${name} terminó (${proc.exitCode}): ${stdout}${tail}`);
    return stdout.includes(`Nodo ${name}:`) ? true : undefined;
  }, `serve ${name} arranca (${tail})`, 30_000);
  return proc;
}
