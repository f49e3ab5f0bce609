/** Network helpers shared by tests: freePort lives with the sandbox scripts (npm run demo:ha uses it too). */
import { createServer } from 'node:net';

export { freePort } from '../../scripts/sandbox/net.js';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A base port B such that B … B + span - 1 are free on loopback right now (a whole sandbox is
 * started on consecutive ports from its base), tried at random multiples of 100 from 21,000.
 */
export async function freeBasePort(span: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 21_000 + Math.floor(Math.random() * 400) * 100;
    let ok = true;
    for (let p = base; p < base + span && ok; p += 1) ok = await portIsFree(p);
    if (ok) return base;
  }
  throw new Error('no hay un rango de puertos libre para el sandbox');
}
