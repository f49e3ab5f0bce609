/** Network helpers for the sandbox scripts; tests use them too (test/helpers/net.ts). */
import { createServer } from 'node:net';

/** A TCP port free on loopback right now (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
