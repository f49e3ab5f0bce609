/** Rendering helpers for the governance tests (their tools are required through ../helpers/tools.ts). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
