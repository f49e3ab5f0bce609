/**
 * Ports for sandboxes, benchmarks and tests (scripts/sandbox/net.ts): below Linux's ephemeral range,
 * free when handed out, and never the same port twice in one process, even when asked for at once
 * (an instance asks for five ports with Promise.all before anything listens).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freeBasePort, freePort } from '../../scripts/sandbox/net.js';

describe('puertos propios para sandbox, benchmarks y pruebas', () => {
  it('muchos a la vez: todos distintos, bajo el rango efímero, y los rangos de base no se solapan con ellos', async () => {
    const single = await Promise.all(Array.from({ length: 300 }, () => freePort()));
    assert.equal(new Set(single).size, single.length);
    for (const p of single) assert.ok(p >= 21_000 && p < 32_768, String(p));
    const bases = await Promise.all(Array.from({ length: 8 }, () => freeBasePort(37)));
    const ranged = bases.flatMap((b) => Array.from({ length: 37 }, (_, i) => b + i));
    assert.equal(new Set([...ranged, ...single]).size, ranged.length + single.length);
    for (const p of ranged) assert.ok(p >= 21_000 && p < 32_768, String(p));
  });
});
