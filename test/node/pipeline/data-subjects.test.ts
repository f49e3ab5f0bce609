import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_REST_JSON_FOR_SUBJECTS, restDataSubjectDnis } from '../../../node/pipeline/data-subjects.js';

const call = (over: { path?: string; query?: string; contentType?: string; body?: string | Buffer }) => ({
  path: over.path ?? '', query: over.query ?? '', contentType: over.contentType,
  body: Buffer.isBuffer(over.body) ? over.body : Buffer.from(over.body ?? '', 'utf8'),
});

describe('restDataSubjectDnis: the data subjects of a REST call', () => {
  it('reads eight-digit path segments', () => {
    assert.deepEqual(restDataSubjectDnis(call({ path: '/personas/10117410' })), ['10117410']);
    assert.deepEqual(restDataSubjectDnis(call({ path: '/hogares/123456789/miembros' })), []);
  });

  it('reads DNI-named query parameters only, canonical (check character dropped when it matches)', () => {
    assert.deepEqual(restDataSubjectDnis(call({ query: 'dni=10117410&codigo=40337956' })), ['10117410']);
    assert.deepEqual(restDataSubjectDnis(call({ query: 'numeroDocumento=40337956-1' })).length, 1);
    assert.deepEqual(restDataSubjectDnis(call({ query: 'dni=abc' })), []);
  });

  it('reads DNI-named keys of a JSON body at any depth, arrays included, distinct', () => {
    const body = JSON.stringify({ dnis: ['x'], consulta: { dni: '10117410', otros: [{ nuDni: 40337956 }, { dni: ['10117410', '12345678'] }] } });
    assert.deepEqual(restDataSubjectDnis(call({ contentType: 'application/json; charset=utf-8', body })).sort(), ['10117410', '12345678', '40337956']);
  });

  it('skips bodies that are not JSON, do not parse, or exceed the size read', () => {
    assert.deepEqual(restDataSubjectDnis(call({ contentType: 'text/plain', body: '{"dni":"10117410"}' })), []);
    assert.deepEqual(restDataSubjectDnis(call({ contentType: 'application/json', body: '{"dni":' })), []);
    const big = JSON.stringify({ dni: '10117410', pad: 'x'.repeat(MAX_REST_JSON_FOR_SUBJECTS) });
    assert.deepEqual(restDataSubjectDnis(call({ contentType: 'application/json', body: big })), []);
  });

  it('does not follow JSON nested deeper than 16 levels', () => {
    let deep: unknown = { dni: '10117410' };
    for (let i = 0; i < 20; i += 1) deep = { n: deep };
    assert.deepEqual(restDataSubjectDnis(call({ contentType: 'application/json', body: JSON.stringify(deep) })), []);
    let shallow: unknown = { dni: '10117410' };
    for (let i = 0; i < 5; i += 1) shallow = { n: shallow };
    assert.deepEqual(restDataSubjectDnis(call({ contentType: 'application/problem+json', body: JSON.stringify(shallow) })), ['10117410']);
  });
});
