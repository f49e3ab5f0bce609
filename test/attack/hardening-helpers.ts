/**
 * Shared bits of the hardening scenarios (issue 9): TLS identities of the fixture's nodes, a fresh
 * message id, and the "the node still serves a normal request" check every scenario ends with.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeDir } from '../../scripts/sandbox/provision.js';
import { faultCodeOf, personaRequest, postSoap, type Instance, type MtlsIdentity } from '../e2e/fixture.js';

let seq = 0;
export const newId = (tag: string): string => `hard-${tag}-${process.pid}-${Date.now()}-${(seq += 1)}`;

export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** Juntos's node TLS identity (its registered auth certificate and key). */
export function juntosTls(inst: Instance): MtlsIdentity {
  const dir = nodeDir(inst.plan, 'juntos');
  return {
    keyPem: readFileSync(join(dir, 'keys', 'auth-key.pem'), 'utf8'),
    certPem: readFileSync(join(dir, 'auth.pem'), 'utf8'),
    caPems: inst.juntos.ctx.conf.latest()?.conf.trustedCas ?? [],
  };
}

/** A normal exchange through Juntos to RENIEC succeeds and reaches the backend once. */
export async function expectGood(inst: Instance): Promise<void> {
  const before = inst.backend.requests;
  const res = await postSoap(inst.juntos.isUrl, personaRequest(inst.dni, { id: newId('good') }));
  assert.equal(res.status, 200, res.text);
  assert.equal(faultCodeOf(res.text), undefined, res.text);
  assert.equal(inst.backend.requests, before + 1);
}
