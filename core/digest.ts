/**
 * One-shot digests for the per-exchange paths (message log chain, detached signatures, request
 * hashes). `crypto.hash` (Node ≥ 20.12 / 21.7) hashes a whole input in one native call, about
 * half the cost of `createHash().update().digest()` on a 1.5 KB message and a third on a short
 * string (docs/performance-log.md, "One-shot digests (stop 18)"). On an older Node 20 the same
 * functions fall back to createHash; the output is byte for byte the same either way (strings are
 * hashed as UTF-8, as `update(string)` does). Incremental hashing over chunks keeps createHash.
 */
import * as crypto from 'node:crypto';

export type DigestInput = Uint8Array | string;

type OneShot = (algorithm: string, data: DigestInput, outputEncoding: 'hex' | 'base64' | 'buffer') => string | Buffer;

export interface Digests {
  sha256(data: DigestInput): Buffer;
  sha256Hex(data: DigestInput): string;
  sha256Base64(data: DigestInput): string;
  sha512Base64(data: DigestInput): string;
}

/** The digest functions over a one-shot hash, or over createHash when `oneShot` is undefined. */
export function createDigests(oneShot: OneShot | undefined): Digests {
  if (oneShot === undefined) {
    return {
      sha256: (d) => crypto.createHash('sha256').update(d).digest(),
      sha256Hex: (d) => crypto.createHash('sha256').update(d).digest('hex'),
      sha256Base64: (d) => crypto.createHash('sha256').update(d).digest('base64'),
      sha512Base64: (d) => crypto.createHash('sha512').update(d).digest('base64'),
    };
  }
  return {
    sha256: (d) => oneShot('sha256', d, 'buffer') as Buffer,
    sha256Hex: (d) => oneShot('sha256', d, 'hex') as string,
    sha256Base64: (d) => oneShot('sha256', d, 'base64') as string,
    sha512Base64: (d) => oneShot('sha512', d, 'base64') as string,
  };
}

const nodeHash = (crypto as { hash?: unknown }).hash;

/** True when this Node has `crypto.hash` (the fast path); false on Node 20 before 20.12. */
export const ONE_SHOT_DIGESTS = typeof nodeHash === 'function';

const digests = createDigests(ONE_SHOT_DIGESTS ? (nodeHash as OneShot) : undefined);

/** SHA-256 of the bytes (strings as UTF-8). */
export const sha256 = digests.sha256;
/** SHA-256, lowercase hex. */
export const sha256Hex = digests.sha256Hex;
/** SHA-256, base64. */
export const sha256Base64 = digests.sha256Base64;
/** SHA-512, base64. */
export const sha512Base64 = digests.sha512Base64;
