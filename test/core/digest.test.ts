import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { ONE_SHOT_DIGESTS, createDigests, sha256, sha256Base64, sha256Hex, sha512Base64, type Digests } from '../../core/digest.js';

const binary = Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 37 + 11) & 0xff));
const INPUTS: readonly [string, Uint8Array | string][] = [
  ['empty string', ''],
  ['empty buffer', Buffer.alloc(0)],
  ['ASCII', 'miis-log/1\nPE/GOB/20511268401/JUNTOS\n'],
  ['non-ASCII (UTF-8, astral)', 'Ñuñoa · áéíóú · €  😀 \u0000 end'],
  ['binary Buffer', binary],
  ['Uint8Array view into a larger buffer', new Uint8Array(binary.buffer, binary.byteOffset + 7, 900)],
];

const reference = (alg: string, d: Uint8Array | string) => createHash(alg).update(d).digest();

function checkAgainstCreateHash(name: string, d: Digests): void {
  describe(name, () => {
    for (const [label, input] of INPUTS) {
      it(`matches createHash on ${label}`, () => {
        const s256 = reference('sha256', input);
        const out = d.sha256(input);
        assert.ok(Buffer.isBuffer(out));
        assert.deepEqual(out, s256);
        assert.equal(d.sha256Hex(input), s256.toString('hex'));
        assert.equal(d.sha256Base64(input), s256.toString('base64'));
        assert.equal(d.sha512Base64(input), reference('sha512', input).toString('base64'));
      });
    }
  });
}

describe('core/digest', () => {
  checkAgainstCreateHash('exported functions', { sha256, sha256Hex, sha256Base64, sha512Base64 });
  checkAgainstCreateHash('fallback (no crypto.hash)', createDigests(undefined));

  it('uses crypto.hash when this Node has it', () => {
    assert.equal(ONE_SHOT_DIGESTS, typeof (crypto as { hash?: unknown }).hash === 'function');
  });

  it('the fallback path does not call the one-shot function, the fast path does', () => {
    const calls: string[] = [];
    const spy = (alg: string, data: Uint8Array | string, enc: 'hex' | 'base64' | 'buffer'): string | Buffer => {
      calls.push(`${alg}/${enc}`);
      const h = createHash(alg).update(data).digest();
      return enc === 'buffer' ? h : h.toString(enc);
    };
    const fast = createDigests(spy);
    fast.sha256('a');
    fast.sha256Hex('a');
    fast.sha256Base64('a');
    fast.sha512Base64('a');
    assert.deepEqual(calls, ['sha256/buffer', 'sha256/hex', 'sha256/base64', 'sha512/base64']);
    const slow = createDigests(undefined);
    slow.sha256Hex('a');
    assert.equal(calls.length, 4);
  });
});
