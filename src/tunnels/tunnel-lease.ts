/** Redis key names of the tunnel keeper, under the service's key prefix (e.g. `outpost:`). */
export function tunnelKeys(prefix: string) {
  return {
    /** Lease of one proxy's tunnels (see src/lease.ts); value = holding node id. */
    lease: (proxyId: string) => `${prefix}tunnels:lease:${proxyId}`,
    /** Last published status of one proxy's tunnels (JSON), written by its holder. */
    status: (proxyId: string) => `${prefix}tunnels:status:${proxyId}`,
    /** Heartbeat of one tunnel node. */
    node: (nodeId: string) => `${prefix}tunnels:node:${nodeId}`,
  };
}
