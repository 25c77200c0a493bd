import type { Host } from '../../../src/domain/host.ts';
import type { Proxy } from '../../../src/domain/proxy.ts';

export const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDFZLf2ESsXUCAdO2LfCt4MjqgEHqJnW775BrT4CH96B';

export function proxy(id: string, network: string, extra: Partial<Proxy> = {}): Proxy {
  return {
    id,
    project: 'acme',
    publicAddress: '203.0.113.10',
    sshPort: 22,
    vpcAddress: '198.51.100.1',
    networks: [network],
    user: 'cloudroot',
    ...extra,
  };
}

export function host(id: string, address: string, extra: Partial<Host> = {}): Host {
  return {
    id,
    project: 'acme',
    address,
    sshPort: 22,
    login: { state: 'enrolled' },
    agent: { state: 'none' },
    ...extra,
  };
}
