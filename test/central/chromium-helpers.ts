/** Chromium and poppler for the governance tests: present, or (outside CI only) the test is skipped. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { findChromium } from '../../central/chromium.js';

/** Path of chromium, or undefined (then the caller skips; in CI a missing browser is a failure). */
export function chromiumOrSkip(): string | undefined {
  const bin = findChromium();
  if (bin === undefined && process.env.CI === 'true') throw new Error('falta chromium en CI: agregue el paquete «chromium» a .ci/run');
  return bin;
}

export function hasPdftoppm(): boolean {
  const ok = existsSync('/usr/bin/pdftoppm');
  if (!ok && process.env.CI === 'true') throw new Error('falta pdftoppm en CI: agregue el paquete «poppler-utils» a .ci/run');
  return ok;
}

/** Render page 1 of a PDF to PNG (pdftoppm) and return the PNG path. */
export function pdfToPng(pdf: string, outPrefix: string, dpi = 60): string {
  execFileSync('/usr/bin/pdftoppm', ['-png', '-r', String(dpi), '-f', '1', '-l', '1', '-singlefile', pdf, outPrefix]);
  return `${outPrefix}.png`;
}

/** Width and height from a PNG's IHDR. */
export function pngSize(path: string): { width: number; height: number; bytes: number } {
  const b = readFileSync(path);
  if (b.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error(`${path} no es PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20), bytes: b.length };
}
