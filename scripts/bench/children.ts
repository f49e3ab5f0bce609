/**
 * Child processes of the benchmarks (bench.ts, bench/rss.ts, bench/lote.ts): start one (a node: spawnNode, with nodeFlags()) and wait for
 * its ready text, read its memory and CPU time from /proc, stop them all. Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NODE_START_FLAGS } from '../../runtime/heap-tuning.js';

const NODE_CLI = fileURLToPath(new URL('../../node/cli/index.js', import.meta.url));

/**
 * Node flags of the node processes: those the installed `miis-node` command starts with (its first
 * line, runtime/heap-tuning.ts), then BENCH_NODE_FLAGS (e.g. "--perf-basic-prof",
 * "--max-semi-space-size=2"; later flags win).
 */
export function nodeFlags(): string[] {
  return [...NODE_START_FLAGS, ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '')];
}

/** `miis-node serve --dir <dir>` with nodeFlags(), resolved once the node says it is listening. */
export function spawnNode(dir: string, opts: { readonly profile?: boolean } = {}): Promise<ChildProcess> {
  return spawnChild([...nodeFlags(), NODE_CLI, 'serve', '--dir', dir], 'sistemas de información en', opts);
}

/**
 * Run `node <args>` and resolve once `readyText` appears on its stdout or stderr; reject if it exits
 * first (with the tail of its output). With `profile`, BENCH_PROFILE_DIR (if set) adds --cpu-prof.
 */
export function spawnChild(args: string[], readyText: string, opts: { readonly profile?: boolean } = {}): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const profile = opts.profile === true && process.env.BENCH_PROFILE_DIR !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
    const child = spawn(process.execPath, [...profile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.length > 100_000) out = out.slice(-50_000);
      if (out.includes(readyText)) resolve(child);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const script = args.find((a) => a.endsWith('.js')) ?? args[0];
    child.once('exit', (code) => reject(new Error(`${script} terminó (${code}): ${out.slice(-2000)}`)));
  });
}

/** A process's VmHWM (peak) or VmRSS (current) in MB, from /proc/<pid>/status. */
export function statusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

/** User + system CPU time of a process in milliseconds (/proc/<pid>/stat fields 14 and 15, clock ticks of 10 ms). */
export function cpuMs(pid: number | undefined): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/** The same for one thread of a process (/proc/<pid>/task/<tid>/stat). */
export function threadCpuMs(pid: number, tid: number): number {
  return statCpuMs(`/proc/${pid}/task/${tid}/stat`);
}

function statCpuMs(path: string): number {
  const stat = readFileSync(path, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** SIGTERM every child and wait until each has exited. */
export async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
}
