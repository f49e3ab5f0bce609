/**
 * Attack suite, family «http-framing»: raw bytes on the IS port that bend HTTP/1.1 itself —
 * request smuggling (Content-Length with Transfer-Encoding), bad lengths, oversized headers,
 * path traversal on /wsdl/, unknown methods, HTTP/1.0, pipelining. Nothing reaches the backend
 * through a framing trick, and the node keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { personaRequest, startInstance } from '../e2e/fixture.js';
import { Target, newId, rawHttp, statusesOf } from './helpers.js';

describe('attack: http-framing', () => {
  let t: Target;
  let host: string;
  before(async () => {
    t = new Target(await startInstance());
    host = new URL(t.inst.juntos.isUrl).host;
  });
  after(async () => t?.inst.close());

  const send = (bytes: string | Buffer): Promise<string> => rawHttp(t.inst.juntos.isUrl, bytes);

  it('Content-Length together with Transfer-Encoding (CL.TE smuggling) → HTTP 400, nothing smuggled to the backend', async () => {
    const smuggled = `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/xml\r\nContent-Length: 5\r\n\r\nhola\n`;
    const out = await t.backendUntouched(() => send(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/xml\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`));
    assert.deepEqual(statusesOf(out), [400]);
    await t.good();
  });

  it('two different Content-Length headers → HTTP 400', async () => {
    const out = await t.backendUntouched(() => send(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/xml\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc`));
    assert.deepEqual(statusesOf(out), [400]);
    await t.good();
  });

  it('a negative and a non-numeric Content-Length → HTTP 400', async () => {
    for (const cl of ['-1', '12abc', '0x10']) {
      const out = await t.backendUntouched(() => send(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/xml\r\nContent-Length: ${cl}\r\n\r\nabc`));
      assert.deepEqual(statusesOf(out), [400], cl);
    }
    await t.good();
  });

  it('an obfuscated Transfer-Encoding («chunked, identity») → HTTP 400 or 501, never processed as SOAP', async () => {
    const out = await t.backendUntouched(() => send(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n`));
    const [status] = statusesOf(out);
    assert.ok(status === 400 || status === 501, out.slice(0, 200));
    await t.good();
  });

  it('headers over 16 KiB → HTTP 431', async () => {
    const out = await t.backendUntouched(() => send(`GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Relleno: ${'a'.repeat(20 * 1024)}\r\n\r\n`));
    assert.deepEqual(statusesOf(out), [431]);
    await t.good();
  });

  it('path traversal on /wsdl/ (plain, percent-encoded, double-encoded, backslashes) → HTTP 404, no file content', async () => {
    for (const path of ['/wsdl/../../../../etc/passwd', '/wsdl/..%2f..%2f..%2fetc%2fpasswd', '/wsdl/%2e%2e/%2e%2e/etc/passwd', '/wsdl/..%252f..%252fetc%252fpasswd', '/wsdl/..\\..\\etc\\passwd', '/wsdl/reniec.wsdl%00.xsd', '/wsdl/.hidden.wsdl']) {
      const out = await send(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      const [status] = statusesOf(out);
      assert.ok(status === 404 || status === 400 || status === 405, `${path}: ${out.slice(0, 200)}`);
      assert.doesNotMatch(out, /root:/, path);
    }
    const ok = await send(`GET /wsdl/reniec.wsdl HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    assert.deepEqual(statusesOf(ok), [200]);
  });

  it('unknown and unsafe methods (PUT, DELETE, TRACE, PROPFIND) → HTTP 405; CONNECT gets no tunnel', async () => {
    for (const method of ['PUT', 'DELETE', 'TRACE', 'PROPFIND']) {
      const out = await t.backendUntouched(() => send(`${method} / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`));
      assert.deepEqual(statusesOf(out), [405], method);
    }
    const tunnel = await send(`CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`);
    assert.ok(!/HTTP\/1\.1 200/.test(tunnel), tunnel.slice(0, 200));
    await t.good();
  });

  it('HTTP/1.0 with a Content-Length is served (and the connection closed)', async () => {
    const body = Buffer.from(personaRequest(t.inst.dni, { id: newId('http10') }));
    const before = t.backendRequests;
    const out = await send(Buffer.concat([Buffer.from(`POST / HTTP/1.0\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n`), body]));
    assert.deepEqual(statusesOf(out), [200]);
    assert.equal(t.backendRequests, before + 1);
  });

  it('two pipelined requests on one connection get two answers, in order', async () => {
    const a = Buffer.from(personaRequest(t.inst.dni, { id: newId('pipe-a') }));
    const bad = 'no es xml';
    const out = await send(Buffer.concat([
      Buffer.from(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/xml\r\nContent-Length: ${a.length}\r\n\r\n`), a,
      Buffer.from(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/xml\r\nContent-Length: ${bad.length}\r\nConnection: close\r\n\r\n${bad}`),
    ]));
    assert.deepEqual(statusesOf(out), [200, 500]);
    assert.match(out, /Client\.InvalidXml/);
    await t.good();
  });

  it('a body shorter than its Content-Length, then silence: no request reaches the backend', async () => {
    await t.backendUntouched(() => send(`POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<a>`));
    await t.good();
  });
});
