import type { Host } from '../domain/host.ts';
import type { Proxy } from '../domain/proxy.ts';
import { selectProxy } from '../domain/select-proxy.ts';
import { fingerprint } from './fingerprint.ts';
import { printFields } from './print-fields.ts';
import { preparedOf, selfTestOf } from './registry-views.ts';

/** `outpost proxy show`: its addresses and networks, whether it is prepared, and the hosts going through it. */
export function printProxy(proxy: Proxy, hosts: Host[], proxies: Proxy[]): void {
  const through = hosts.filter((host) => selectProxy(host, proxies)?.id === proxy.id).map((host) => host.id);
  const prepared = preparedOf(proxy);
  printFields(`proxy ${proxy.id}  (project ${proxy.project})`, [
    ['public', `${proxy.publicAddress} port ${proxy.sshPort}`],
    ['vpc address', proxy.vpcAddress],
    ['networks', proxy.networks.join(', ')],
    ['user', proxy.user],
    ['host key', proxy.hostKey ? `${fingerprint(proxy.hostKey)} (pinned)` : 'not pinned'],
    [
      'prepared',
      prepared === 'yes'
        ? 'yes'
        : `${prepared}: \`outpost prepare-proxy ${proxy.id} --project ${proxy.project}\`${proxy.hostKey ? '' : ' with --user and --password-file or --key-file'} prepares it`,
    ],
    ['self-test', selfTestOf(proxy) ?? 'none recorded'],
    ['hosts', through.length > 0 ? `${through.length}: ${through.join(', ')}` : 'none'],
  ]);
}
