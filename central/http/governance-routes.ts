/**
 * Central's governance routes, added to the HTTP server (server.ts `extraRoutes`):
 *   GET  /portal               public catalogue page (portal.ts)
 *   GET  /portal.json          the same data
 *   POST /solicitudes-acceso   signed access request from a node (access-request-channel.ts)
 *   POST /solicitudes-acceso/respuestas  signed answer of the provider's designated unit, from its node
 *   POST /solicitudes-acceso/consultas   signed listing of a member's requests (as requester or provider)
 *   POST /entregas-lote        signed batch delivery report from a provider node (deliveries.ts)
 */
import type { ServerResponse } from 'node:http';
import { MiisError } from '../../core/errors.js';
import { ACCESS_ANSWER_PATH, ACCESS_LIST_PATH, ACCESS_REQUEST_PATH, MAX_ACCESS_REQUEST_BYTES } from '../../core/access-request-message.js';
import type { RegistryStore } from '../registry/store.js';
import type { ExtraRoute } from './server.js';
import { reply } from '../../runtime/http-reply.js';
import { buildPortalData, renderPortalHtml, PORTAL_CSP } from '../governance/portal.js';
import { accessListRow, receiveSignedAccessAnswer, receiveSignedAccessListQuery, receiveSignedAccessRequest } from '../governance/access-request-channel.js';
import { receiveDeliveryReport } from '../governance/deliveries.js';
import { DELIVERY_REPORT_PATH, MAX_DELIVERY_REPORT_BYTES } from '../../core/delivery-report.js';

const send = (res: ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string> = {}): void =>
  reply(res, status, contentType, text, { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });

const ERROR_NAMES: Record<number, string> = { 400: 'solicitud_no_valida', 403: 'no_autorizado', 404: 'no_encontrado', 409: 'duplicado', 500: 'error_interno' };

/** A POST route taking a signed JSON body from a node; MiisError → JSON { error, mensaje } with its status. */
function signedRoute(okStatus: number, handle: (body: Buffer) => unknown, maxBodyBytes = MAX_ACCESS_REQUEST_BYTES): ExtraRoute {
  return {
    methods: ['POST'],
    maxBodyBytes,
    handle: (_req, res, body) => {
      try {
        const result = handle(body);
        send(res, okStatus, 'application/json; charset=utf-8', JSON.stringify(result));
      } catch (err) {
        if (!(err instanceof MiisError)) throw err;
        const status = err.code === 'Config.InvalidCertificate' ? 403 : err.httpStatus >= 400 && err.httpStatus < 500 ? err.httpStatus : 500;
        send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: ERROR_NAMES[status] ?? 'error', mensaje: err.message }));
      }
    },
  };
}

export function createGovernanceRoutes(opts: { store: RegistryStore; clock: () => Date }): Record<string, ExtraRoute> {
  const { store, clock } = opts;
  return {
    '/portal': {
      methods: ['GET', 'HEAD'],
      handle: (_req, res) => send(res, 200, 'text/html; charset=utf-8', renderPortalHtml(buildPortalData(store, clock())), { 'content-security-policy': PORTAL_CSP }),
    },
    '/portal.json': {
      methods: ['GET', 'HEAD'],
      handle: (_req, res) => send(res, 200, 'application/json; charset=utf-8', JSON.stringify(buildPortalData(store, clock()))),
    },
    [ACCESS_REQUEST_PATH]: signedRoute(201, (body) => {
      const record = receiveSignedAccessRequest(store, body, clock());
      return { id: record.id, estado: record.status, presentada: record.filedAt, vence: record.dueAt };
    }),
    [ACCESS_ANSWER_PATH]: signedRoute(200, (body) => accessListRow(receiveSignedAccessAnswer(store, body, clock()))),
    [ACCESS_LIST_PATH]: signedRoute(200, (body) => ({ solicitudes: receiveSignedAccessListQuery(store, body, clock()) })),
    [DELIVERY_REPORT_PATH]: signedRoute(201, (body) => {
      const r = receiveDeliveryReport(store, body, clock());
      return { lote: r.batchId, trama: r.trama.id };
    }, MAX_DELIVERY_REPORT_BYTES),
  };
}
