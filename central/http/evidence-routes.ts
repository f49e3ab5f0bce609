/**
 * Central's evidence endpoints, plugged into the HTTP server as extra routes:
 *   POST /tsa    RFC 3161 time-stamp request → response (application/timestamp-reply)
 *   POST /ocsp   RFC 6960 OCSP request → response (application/ocsp-response)
 *   GET  /tsa.pem the TSA certificate
 */
import type { CaMaterial } from '../../core/pki.js';
import type { TsaMaterial } from '../../core/tsp.js';
import { answerOcspRequest, OCSP_CONTENT_TYPE } from '../pki/ocsp-responder.js';
import type { RegistryStore } from '../registry/store.js';
import type { ExtraRoute } from './server.js';
import { reply } from '../../runtime/http-reply.js';
import { answerTimeStampRequest, TSA_CONTENT_TYPE } from '../pki/tsa.js';

const MAX_BODY = 16 * 1024;

const send = (res: Parameters<ExtraRoute['handle']>[1], contentType: string, body: Buffer): void => reply(res, 200, contentType, body, { 'cache-control': 'no-store' });

export function createEvidenceRoutes(opts: { store: RegistryStore; ca: () => CaMaterial; tsa: TsaMaterial; clock: () => Date }): Record<string, ExtraRoute> {
  return {
    '/tsa': { methods: ['POST'], maxBodyBytes: MAX_BODY, handle: (_req, res, body) => send(res, TSA_CONTENT_TYPE, answerTimeStampRequest(body, opts.tsa, opts.clock())) },
    '/ocsp': { methods: ['POST'], maxBodyBytes: MAX_BODY, handle: (_req, res, body) => send(res, OCSP_CONTENT_TYPE, answerOcspRequest(body, opts.store, opts.ca(), opts.clock())) },
    '/tsa.pem': { methods: ['GET'], maxBodyBytes: 0, handle: (_req, res) => send(res, 'application/x-pem-file', Buffer.from(opts.tsa.certPem)) },
  };
}
