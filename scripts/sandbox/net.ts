/** Network helpers for the sandbox scripts; tests use them too (test/helpers/net.ts). */
import { createServer } from 'node:net';

/** Lowest and highest port we pick ourselves: below Linux's ephemeral range (32,768–60,999, net.ipv4.ip_local_port_range). */
const OWN_PORTS_LOW = 21_000;
const OWN_PORTS_HIGH = 32_700;

/**
 * Ports this process has handed out (never taken back: the caller listens there later): calls made
 * at once (`Promise.all([freePort(), freePort()])`) or before the first server listens would
 * otherwise be able to draw the same free port twice.
 */
const handedOut = new Set<number>();

/**
 * A TCP port free on loopback right now, drawn at random below the ephemeral range: a port the
 * kernel hands out (bind to 0) is one it may hand out again as the local port of an outgoing
 * connection before our server listens there (EADDRINUSE at start, seen in the benchmark).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = OWN_PORTS_LOW + Math.floor(Math.random() * (OWN_PORTS_HIGH - OWN_PORTS_LOW));
    if (await reserve([port])) return port;
  }
  throw new Error(`no hay un puerto libre entre ${OWN_PORTS_LOW} y ${OWN_PORTS_HIGH}`);
}

/**
 * A base port B such that B … B + span - 1 are free on loopback right now (a whole sandbox or
 * benchmark is started on consecutive ports from its base), tried at random multiples of 100
 * below the ephemeral range (see freePort).
 */
export async function freeBasePort(span: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = OWN_PORTS_LOW + Math.floor(Math.random() * Math.floor((OWN_PORTS_HIGH - OWN_PORTS_LOW - span) / 100)) * 100;
    if (await reserve(Array.from({ length: span }, (_, i) => base + i))) return base;
  }
  throw new Error('no hay un rango de puertos libre para el sandbox');
}

/**
 * Take `ports` for the caller when none was handed out before and all are free now. They count as
 * handed out from before the probe, so a call running at the same time skips them.
 */
async function reserve(ports: readonly number[]): Promise<boolean> {
  if (ports.some((p) => handedOut.has(p))) return false;
  for (const p of ports) handedOut.add(p);
  for (const p of ports) {
    if (await portIsFree(p)) continue;
    for (const q of ports) handedOut.delete(q);
    return false;
  }
  return true;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
