/**
 * Headless Chromium (Debian package `chromium`) for printing documents to PDF (central's actas,
 * the node's data-subject report) and for the portal's browser tests. Every run gets a fresh
 * empty profile and the flags that keep it offline.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MiisError } from '../core/errors.js';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'] as const;

export function findChromium(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const fromEnv = env.MIIS_CHROMIUM;
  if (fromEnv !== undefined && existsSync(fromEnv)) return fromEnv;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', '--mute-audio',
] as const;

/** Run chromium with the offline flags, a fresh profile and `args`; resolves with stdout. */
export function runChromium(args: readonly string[], opts: { timeoutMs?: number; chromium?: string } = {}): Promise<string> {
  const bin = opts.chromium ?? findChromium();
  if (bin === undefined) throw new MiisError('Config.NotFound', 'el navegador chromium (instale el paquete Debian «chromium» o indique MIIS_CHROMIUM)');
  const profile = mkdtempSync(join(tmpdir(), 'miis-chromium-'));
  return new Promise<string>((resolve, reject) => {
    execFile(bin, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err !== null) reject(new MiisError('Config.InvalidInput', `chromium falló: ${err.message.slice(0, 300)} ${String(stderr).slice(0, 300)}`, { cause: err }));
      else resolve(String(stdout));
    });
  });
}

/** Print HTML to a PDF file with headless Chromium (A4, no header/footer); returns the absolute path. */
export async function printHtmlToPdf(html: string, pdfPath: string, opts: { chromium?: string } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'miis-pdf-'));
  try {
    const htmlPath = join(dir, 'document.html');
    writeFileSync(htmlPath, html, 'utf8');
    const out = resolve(pdfPath);
    await runChromium(['--no-pdf-header-footer', `--print-to-pdf=${out}`, pathToFileURL(htmlPath).href], opts.chromium === undefined ? {} : { chromium: opts.chromium });
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
