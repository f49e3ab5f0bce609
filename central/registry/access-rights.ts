/**
 * Access rights granted centrally (directive 7.2.3): every access request answered favourably
 * gives its client the right to use the requested service, or every service linked to the
 * requested component. Published in the global configuration (`accessRights`); provider nodes
 * add them to their local ACL. Reads the governance tables only (no imports of the workflows,
 * so that registry/store.ts can call it for its snapshot).
 */
import type { GlobalConfAccessRight } from '../../core/global-conf-model.js';
import type { RegistryStore } from './store.js';

/** `INSTANCE/CLASS/CODE/SUBSYSTEM/SERVICE[/VERSION]` → the same without version. */
export function serviceWithoutVersion(serviceId: string): string {
  return serviceId.split('/').slice(0, 5).join('/');
}

export function listGrantedAccessRights(store: Pick<RegistryStore, 'db'>): GlobalConfAccessRight[] {
  const rows = store.db
    .prepare(
      `SELECT DISTINCT r.client_id AS client, COALESCE(r.service_id, cs.service_id) AS service
         FROM gov_access_requests r LEFT JOIN gov_component_services cs ON cs.component_code = r.component_code
        WHERE r.status = 'otorgada' AND COALESCE(r.service_id, cs.service_id) IS NOT NULL`,
    )
    .all() as { client: string; service: string }[];
  const unique = new Map<string, GlobalConfAccessRight>();
  for (const r of rows) {
    const right = { service: serviceWithoutVersion(r.service), client: r.client };
    unique.set(`${right.service} ${right.client}`, right);
  }
  return [...unique.values()].sort((a, b) => (a.service === b.service ? (a.client < b.client ? -1 : 1) : a.service < b.service ? -1 : 1));
}
