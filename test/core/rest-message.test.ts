import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MiisError } from '../../core/errors.js';
import {
  decodeRestRequest, decodeRestResponse, encodeRestRequest, encodeRestResponse, parseRestTarget, readRestErrorBody, readRestRequest,
  restErrorBody, restErrorStatus, restRequestHash,
} from '../../core/rest-message.js';
import { MiisError as Err } from '../../core/errors.js';

const H = { 'x-road-client': 'PE/GOB/20511268401/JUNTOS', 'x-miis-convenio': 'CONV-1', 'x-miis-finalidad': 'FOCALIZACION', 'content-type': 'application/json' };
const code = (c: string) => (e: MiisError): boolean => e.code === c;

describe('REST message protocol r1 (pure)', () => {
  it('reads the request line and headers; the id is generated when absent', () => {
    let n = 0;
    const head = readRestRequest('POST', '/r1/PE/GOB/20295613620/RUPN/personas/consulta?x=1&y=%20', H, () => `id-${(n += 1)}`);
    assert.equal(head.service.serviceCode, 'personas');
    assert.deepEqual([head.path, head.query, head.id, head.requestId, head.convenio, head.finalidad], ['/consulta', 'x=1&y=%20', 'id-1', 'id-2', 'CONV-1', 'FOCALIZACION']);
    assert.equal(readRestRequest('GET', '/r1/PE/GOB/20295613620/RUPN/personas', { ...H, 'x-road-id': 'mine' }).id, 'mine');
  });

  it('refuses what the protocol does not allow', () => {
    assert.throws(() => readRestRequest('GET', '/r1/PE/GOB/1/RUPN/s', {}), code('Client.MissingHeaderField'));
    assert.throws(() => readRestRequest('GET', '/r1/PE/GOB/1/RUPN/s', { ...H, 'x-road-client': 'PE/GOB' }), code('Client.InvalidClientIdentifier'));
    assert.throws(() => readRestRequest('GET', '/r1/PE/GOB/1/RUPN/s', { ...H, 'x-road-userid': 'a\u0085b' }), code('Client.ControlCharacter'));
    assert.throws(() => readRestRequest('GET', '/r1/PE/GOB/1/RUPN/s', { ...H, 'x-road-id': 'x'.repeat(2000) }), code('Client.InvalidHeaderField'));
    assert.throws(() => readRestRequest('GET', '/r1/PE/GOB/1/RUPN/s', { ...H, 'x-road-request-hash': 'h' }), code('Client.ForbiddenHeader'));
    assert.throws(() => parseRestTarget('/r1/PE/GOB/1/RUPN/s%20x'), code('Client.InvalidServiceIdentifier'));
    assert.throws(() => parseRestTarget(`/r1/PE/GOB/1/RUPN/s/${'a'.repeat(2000)}`), code('Client.InvalidRestRequest'));
    assert.throws(() => parseRestTarget('/r1/PE/GOB/1/RUPN/s/%zz'), code('Client.InvalidRestRequest'));
    assert.throws(() => parseRestTarget('/r1/PE/GOB/1/RUPN/s/.'), code('Client.InvalidRestRequest'));
  });

  it('canonical form: round trip, any change of head or body refused', () => {
    const head = readRestRequest('POST', '/r1/PE/GOB/20295613620/RUPN/personas/consulta', H);
    const body = Buffer.from('{"dnis":["12345678"]}');
    const raw = encodeRestRequest(head, body);
    const back = decodeRestRequest(raw, 'Server.ServerProxy.InvalidMessage');
    assert.deepEqual(back.head, { ...head, userId: undefined, issue: undefined, accept: undefined });
    assert.ok(back.body.equals(body));
    const bad = [
      Buffer.concat([raw, Buffer.from('x')]),
      Buffer.from(raw.toString('utf8').replace('method: POST\n', 'method: POST \n')),
      Buffer.from(raw.toString('utf8').replace('client: ', 'client:  ')),
      Buffer.from(raw.toString('utf8').replace(/convenio: CONV-1\n(finalidad: FOCALIZACION\n)/, '$1convenio: CONV-1\n')),
    ];
    for (const b of bad) assert.throws(() => decodeRestRequest(b, 'Server.ServerProxy.InvalidMessage'), code('Server.ServerProxy.InvalidMessage'));
    const resp = encodeRestResponse({ status: 404, client: head.client, service: head.service, id: head.id, requestId: head.requestId, requestHash: restRequestHash(raw) }, Buffer.alloc(0));
    assert.equal(decodeRestResponse(resp, 'Server.ClientProxy.InvalidResponse').head.status, 404);
  });

  it('errors: X-Road REST body and status', () => {
    const e = new Err('Server.ServerProxy.AccessDenied', 'PE/GOB/1/X');
    const parsed = readRestErrorBody(restErrorBody(e));
    assert.deepEqual(parsed, { type: 'Server.ServerProxy.AccessDenied', message: e.message, detail: e.faultId });
    assert.deepEqual([restErrorStatus('Client.MissingHeaderField'), restErrorStatus('Client.MessageTooLarge'), restErrorStatus('Server.ClientProxy.UnknownService')], [400, 413, 500]);
    assert.equal(readRestErrorBody(Buffer.from('{"type":"<x>","message":"","detail":""}')), undefined);
  });
});
