/**
 * The `proxy` adapter: forward the request bytes to the entity's own SOAP backend and read its
 * answer. Optional TLS to the backend (trusting a given CA), a response-size limit, and distinct
 * faults: unreachable → ServiceFailed, silent → ServiceTimeout, not SOAP → InvalidServiceResponse.
 * A SOAP Fault the backend answers is passed through (signed by the node like any response).
 */
import { readFileSync } from 'node:fs';
import { MiisError } from '../../core/errors.js';
import { readSoapMessage, type SoapMessage } from '../../core/soap.js';
import type { ProxySettings } from './settings.js';
import { createBackendClient, type BackendClient } from '../outbound/http-pools.js';
import type { LocalService } from '../store/local-store.js';

export interface ProxyAdapter {
  call(request: SoapMessage): Promise<SoapMessage>;
  close(): Promise<void>;
}

/** The PEM of the CA a backend's TLS certificate is checked against (proxy and rest adapters); undefined when none is set. */
export function readBackendCa(service: LocalService, caFile: string | undefined): string | undefined {
  if (caFile === undefined) return undefined;
  try {
    return readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new MiisError('Config.InvalidAdapter', `servicio ${service.serviceKey}: no se puede leer el certificado de CA ${caFile}`, { cause: err });
  }
}

export function createProxyAdapter(service: LocalService, settings: ProxySettings | undefined, deps: { backends: BackendClient; maxMessageBytes: number }): ProxyAdapter {
  const caPem = readBackendCa(service, settings?.caFile);
  const maxBytes = Math.min(settings?.maxResponseBytes ?? deps.maxMessageBytes, deps.maxMessageBytes);
  const dedicated = caPem !== undefined || maxBytes !== deps.maxMessageBytes;
  // a backend with its own CA or a lower size limit gets a client (and pool) of its own
  const client = dedicated ? createBackendClient({ maxResponseBytes: maxBytes, caPem, connections: 16 }) : deps.backends;
  return {
    async call(request) {
      const reply = await client.post(service.backendUrl, request.raw, { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' }, service.timeoutMs);
      if (reply.contentType?.includes('xml') !== true) {
        throw new MiisError('Server.ServerProxy.InvalidServiceResponse', `HTTP ${reply.status} con tipo de contenido «${(reply.contentType ?? '').slice(0, 60)}»`);
      }
      try {
        return readSoapMessage(reply.body, 'response', { maxBytes, maxDepth: 32, maxElements: 50_000 });
      } catch (err) {
        throw new MiisError('Server.ServerProxy.InvalidServiceResponse', (err as Error).message, { cause: err });
      }
    },
    async close() {
      if (dedicated) await client.close();
    },
  };
}
