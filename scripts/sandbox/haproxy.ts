/**
 * HAProxy configuration for a member's node instances on loopback: deploy/haproxy/haproxy.cfg's
 * node-to-node part (TCP pass-through, mutual TLS ends at the nodes), each instance health-checked
 * through its IS port (GET /health). Used by npm run demo:ha and test/e2e/haproxy.test.ts.
 */

export interface HaproxyBackend { readonly name: string; readonly proxyPort: number; readonly isPort: number }

export interface HaproxyTuning {
  readonly maxconn: number;
  /** timeout client and timeout server, in seconds. */
  readonly timeoutSeconds: number;
  /** default-server health checks: interval in ms, failures to mark DOWN, successes to mark UP. */
  readonly check: { readonly interMs: number; readonly fall: number; readonly rise: number };
}

/** The haproxy.cfg text: frontend on 127.0.0.1:`front`, one server line per instance. */
export function haproxyConfig(front: number, nodes: readonly HaproxyBackend[], tuning: HaproxyTuning): string {
  return `global
    maxconn ${tuning.maxconn}
defaults
    timeout connect 2s
    timeout client ${tuning.timeoutSeconds}s
    timeout server ${tuning.timeoutSeconds}s
    timeout check 1s
    retries 2
    option redispatch
    default-server inter ${tuning.check.interMs}ms fall ${tuning.check.fall} rise ${tuning.check.rise}
frontend miis_node_to_node
    mode tcp
    bind 127.0.0.1:${front}
    default_backend miis_nodes_tls
backend miis_nodes_tls
    mode tcp
    balance leastconn
    option httpchk
    http-check send meth GET uri /health
    http-check expect status 200
${nodes.map((n) => `    server ${n.name} 127.0.0.1:${n.proxyPort} check port ${n.isPort}`).join('\n')}
`;
}
