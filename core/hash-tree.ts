/**
 * A hash tree (Merkle tree) over lowercase-hex SHA-256 leaves, designed so that a third party can
 * recompute it with `printf` and `sha256sum` alone:
 *
 *   node(L, R) = sha256( "miis-tree/1\n" + L + "\n" + R )      (L, R as 64 lowercase hex chars)
 *
 * Levels are built left to right; an odd last node is promoted to the next level unchanged.
 * A single leaf is its own root. An inclusion proof lists, from the leaf up, each sibling and
 * whether it sits left ('L') or right ('R') of the running hash.
 */
import { sha256Hex } from './digest.js';

export interface ProofStep {
  readonly side: 'L' | 'R';
  readonly hash: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function hashTreeNode(left: string, right: string): string {
  return sha256Hex(`miis-tree/1\n${left}\n${right}`);
}

function nextLevel(level: readonly string[]): string[] {
  const up: string[] = [];
  for (let i = 0; i < level.length; i += 2) up.push(i + 1 < level.length ? hashTreeNode(level[i]!, level[i + 1]!) : level[i]!);
  return up;
}

export function hashTreeRoot(leaves: readonly string[]): string {
  if (leaves.length === 0) throw new Error('hash tree without leaves');
  let level = [...leaves];
  while (level.length > 1) level = nextLevel(level);
  return level[0]!;
}

export function inclusionProof(leaves: readonly string[], index: number): ProofStep[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) throw new Error('leaf index out of range');
  const proof: ProofStep[] = [];
  let level = [...leaves];
  let i = index;
  while (level.length > 1) {
    const sibling = i % 2 === 0 ? i + 1 : i - 1;
    if (sibling < level.length) proof.push({ side: i % 2 === 0 ? 'R' : 'L', hash: level[sibling]! });
    level = nextLevel(level);
    i = Math.floor(i / 2);
  }
  return proof;
}

export function rootFromProof(leaf: string, proof: readonly ProofStep[]): string {
  let h = leaf;
  for (const step of proof) {
    if (!HEX64.test(step.hash)) throw new Error('proof step is not a SHA-256 hex value');
    h = step.side === 'L' ? hashTreeNode(step.hash, h) : hashTreeNode(h, step.hash);
  }
  return h;
}
