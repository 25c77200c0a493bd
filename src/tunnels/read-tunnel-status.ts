import type { RedisClient } from '../redis-client.ts';
import { tunnelKeys } from './tunnel-lease.ts';
import type { ProxyStatus } from './tunnel-types.ts';

/** A proxy's tunnel status as its holding node last published it. */
export interface PublishedTunnelStatus extends ProxyStatus {
  /** Node holding the proxy's lease. */
  node: string;
  /** When it was published (ISO-8601); it expires after two lease periods without an update. */
  at: string;
}

/** Reads what the node holding `proxyId` last published, from any process on the same Redis; undefined when nobody holds it. */
export async function readTunnelStatus(
  redis: RedisClient,
  keyPrefix: string,
  proxyId: string,
): Promise<PublishedTunnelStatus | undefined> {
  const raw = await redis.get(tunnelKeys(keyPrefix).status(proxyId));
  return raw ? (JSON.parse(raw) as PublishedTunnelStatus) : undefined;
}
