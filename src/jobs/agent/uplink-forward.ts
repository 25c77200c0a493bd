import type { Proxy } from '../../domain/proxy.ts';
import { remoteForwardId } from '../../tunnels/forward-id.ts';
import type { RemoteForwardSpec } from '../../tunnels/index.ts';

/** The remote forward that carries a VPC's agents to InfluxDB, on one proxy. */
export interface UplinkForward extends RemoteForwardSpec {
  bindAddress: string;
  bindPort: number;
  /** Its id in the tunnel status (`remote:<vpcAddress>:<port>`). */
  id: string;
  /** The URL Telegraf on a VM behind the proxy writes to. */
  agentUrl: string;
}

/**
 * The uplink of `proxy`: `vpcAddress:port` on the proxy, carried back to InfluxDB at `influxUrl` (as
 * this machine reaches it). The port is fixed so an agent's configuration survives a takeover by
 * another tunnel node.
 */
export function uplinkForwardOf(
  proxy: Pick<Proxy, 'vpcAddress'>,
  influxUrl: string,
  port: number,
): UplinkForward {
  const url = new URL(influxUrl);
  const targetHost = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const targetPort = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const spec = {
    bindAddress: proxy.vpcAddress,
    bindPort: port,
    targetHost,
    targetPort,
    probe: { kind: 'http', path: '/ping' } as const,
  };
  const base = url.pathname.replace(/\/+$/, '');
  return {
    ...spec,
    id: remoteForwardId(proxy.vpcAddress, spec),
    agentUrl: `${url.protocol}//${proxy.vpcAddress}:${port}${base}`,
  };
}
