/**
 * Fuzz test of core/xml.ts: a bounded, seeded set of generated, broken, random-fragment and
 * random-byte inputs, with default and tiny limits. Every input must either parse into a tree that
 * respects the limits and whose offsets point at its own tags, or be refused with a MiisError;
 * nothing else may escape. The test ending at all is the no-hang check (no timing is asserted;
 * `npm run bench:xml -- --fuzz N` runs a longer loop and reports the slowest inputs).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAULTS, MiisError } from '../../core/errors.js';
import { parseXml } from '../../core/xml.js';
import { fuzzCase, invariantViolation } from '../helpers/xml-gen.js';

const INPUTS = 3_000;

describe('core/xml.ts under fuzzing', () => {
  it(`${INPUTS} seeded inputs: a valid tree within the limits, or a MiisError`, () => {
    const outcomes = new Map<string, number>();
    for (let seed = 1; seed <= INPUTS; seed += 1) {
      const c = fuzzCase(seed);
      let outcome: string;
      try {
        const doc = parseXml(c.bytes, c.limits);
        const problem = invariantViolation(doc, c.limits);
        assert.equal(problem, undefined, `seed ${seed} (${c.kind}): ${problem} in ${JSON.stringify(doc.text.slice(0, 300))}`);
        outcome = `accepted ${c.kind}`;
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        assert.ok(err instanceof MiisError, `seed ${seed} (${c.kind}): ${String((err as Error).stack ?? err)}`);
        assert.ok(err.code.startsWith('Client.') && err.code in FAULTS, `seed ${seed}: ${err.code}`);
        outcome = err.code;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // the inputs reach every refusal the reader has, and acceptance of generated and broken documents
    const seen = [...outcomes.keys()];
    for (const expected of [
      'Client.InvalidXml', 'Client.DtdNotAllowed', 'Client.EntityNotAllowed', 'Client.MessageTooLarge', 'Client.XmlTooDeep',
      'Client.XmlTooManyAttributes', 'Client.XmlTooManyNamespaceDeclarations', 'Client.XmlTooManyNamespaceDeclarationsInDocument',
      'Client.XmlNameTooLong', 'Client.XmlAttributeValueTooLong', 'Client.XmlTextTooLong',
      'accepted generated', 'accepted mutated',
    ]) {
      assert.ok(seen.includes(expected), `${expected} never reached: ${JSON.stringify([...outcomes])}`);
    }
  });
});
