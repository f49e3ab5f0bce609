/**
 * Differential test of core/xml.ts against an independent parser (saxes, namespace-aware) over a
 * seeded corpus of well-formed and broken documents. Both must agree on accept/reject, except
 * where MIIS refuses by design what XML allows (DTDs, processing instructions, encodings other
 * than UTF-8): there ours must be the one that refuses. For accepted documents, both must give
 * the same element names, namespace URIs, attributes and text; for generated documents, so must
 * the generator's model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SaxesParser } from 'saxes';
import { MiisError } from '../../core/errors.js';
import { parseXml, type XmlElement } from '../../core/xml.js';
import { generateDocument, mutate, rng, shapeOfModel, tokenSoup, type Shape } from '../helpers/xml-gen.js';

const WELL_FORMED = 300;
const BROKEN = 300;
const SOUP = 100;

/** A document for a failure message: JSON-escaped, cut to a readable length. */
function show(xml: string): string {
  const j = JSON.stringify(xml);
  return j.length > 600 ? `${j.slice(0, 600)}… (${xml.length} caracteres)` : j;
}

function shapeOfOurs(el: XmlElement): Shape {
  return {
    name: el.name,
    uri: el.uri,
    local: el.local,
    attributes: Object.entries(el.attributes).map(([n, a]) => [n, a.uri, a.local, a.value] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1)),
    text: el.text,
    children: el.children.map(shapeOfOurs),
  };
}

interface Building {
  readonly name: string;
  readonly uri: string;
  readonly local: string;
  readonly attributes: (readonly [string, string, string, string])[];
  text: string;
  readonly children: Building[];
}

/** saxes' reading of a document: its tree, or the error it stopped at. */
function saxesRead(xml: string): { ok: true; root: Shape } | { ok: false; error: string } {
  const parser = new SaxesParser({ xmlns: true, position: false });
  const stack: Building[] = [];
  let root: Building | undefined;
  parser.on('opentag', (tag) => {
    const el: Building = {
      name: tag.name,
      uri: tag.uri,
      local: tag.local,
      attributes: Object.values(tag.attributes).map((a) => [a.name, a.uri, a.local, a.value] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1)),
      text: '',
      children: [],
    };
    const parent = stack[stack.length - 1];
    if (parent === undefined) root = el;
    else parent.children.push(el);
    stack.push(el);
  });
  parser.on('closetag', () => { stack.pop(); });
  const addText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top !== undefined) top.text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  try {
    parser.write(xml).close();
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  return { ok: true, root: root as Building };
}

function oursRead(bytes: Uint8Array): { ok: true; root: Shape } | { ok: false; error: MiisError } {
  try {
    return { ok: true, root: shapeOfOurs(parseXml(bytes).root) };
  } catch (err) {
    if (!(err instanceof MiisError)) throw err;
    return { ok: false, error: err };
  }
}

/** Refusals that are MIIS policy, not XML well-formedness. */
function refusedByDesign(err: MiisError): boolean {
  return err.code === 'Client.DtdNotAllowed' || /instrucción de procesamiento|codificación «[^»]*» no admitida/.test(err.detail);
}

function compare(label: string, xml: string): 'accepted' | 'rejected' | 'refused by design' {
  const bytes = new TextEncoder().encode(xml);
  const theirs = saxesRead(new TextDecoder().decode(bytes));
  const ours = oursRead(bytes);
  if (ours.ok && theirs.ok) {
    assert.deepEqual(ours.root, theirs.root, `${label}: trees differ for ${show(xml)}`);
    return 'accepted';
  }
  if (!ours.ok && !theirs.ok) return 'rejected';
  if (!ours.ok && refusedByDesign(ours.error)) return 'refused by design';
  assert.fail(`${label}: ${ours.ok ? 'we accept' : `we refuse (${ours.error.code}: ${ours.error.detail})`}, saxes ${theirs.ok ? 'accepts' : `refuses (${theirs.error})`}: ${show(xml)}`);
}

describe('core/xml.ts and saxes agree', () => {
  it(`on ${WELL_FORMED} generated well-formed documents, and both match the generator's model`, () => {
    for (let seed = 1; seed <= WELL_FORMED; seed += 1) {
      const doc = generateDocument(rng(seed));
      assert.equal(compare(`seed ${seed}`, doc.xml), 'accepted', `seed ${seed}: ${show(doc.xml)}`);
      assert.deepEqual(shapeOfOurs(parseXml(new TextEncoder().encode(doc.xml)).root), shapeOfModel(doc.root), `seed ${seed}: model`);
    }
  });

  it(`on ${BROKEN} broken variants of generated documents`, () => {
    const outcomes = new Map<string, number>();
    for (let seed = 1; seed <= BROKEN; seed += 1) {
      const r = rng(10_000 + seed);
      const xml = mutate(r, generateDocument(r).xml);
      const outcome = compare(`mutated seed ${seed}`, xml);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // the corpus really exercises refusal: most variants are broken
    assert.ok((outcomes.get('rejected') ?? 0) > BROKEN / 2, JSON.stringify([...outcomes]));
  });

  it(`on ${SOUP} strings of random XML fragments`, () => {
    const outcomes = new Map<string, number>();
    for (let seed = 1; seed <= SOUP; seed += 1) {
      const outcome = compare(`soup seed ${seed}`, tokenSoup(rng(20_000 + seed)));
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    assert.ok((outcomes.get('rejected') ?? 0) > 0, JSON.stringify([...outcomes]));
  });

  it('on documents MIIS refuses by design: ours refuses, saxes accepts', () => {
    for (const xml of ['<!DOCTYPE r><r/>', '<?pi x?><r/>', '<r><?pi x?></r>', '<?xml version="1.0" encoding="ISO-8859-1"?><r/>']) {
      assert.equal(compare('by design', xml), 'refused by design', xml);
      assert.equal(saxesRead(xml).ok, true, xml);
    }
  });
});
