import type { Host, SilentCause } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';

/** What one SSH command to a silent host found: it did not answer (why), or whether its agent runs. */
export type VmCheck = { reachable: false; detail: string } | { reachable: true; running: boolean };

/**
 * The checks behind a silent host, each resolving to why it failed (undefined: it passed). A watch run
 * shares one set across its hosts, so a proxy or InfluxDB is checked once however many hosts it carries.
 */
export interface SilenceChecks {
  /** InfluxDB itself: does it answer /ping? */
  influxDown(): Promise<string | undefined>;
  /** The uplink (remote forward) a tunnel node holds on the proxy. */
  tunnelDown(proxy: Proxy): Promise<string | undefined>;
  /** The proxy's sshd, from the control plane. */
  proxyUnreachable(proxy: Proxy): Promise<string | undefined>;
  /** One SSH command to the VM: does it answer, and does its agent run? */
  checkVm(host: Host): Promise<VmCheck>;
}

/** Why a host is silent: a code and one line for a person (and a webhook), naming the part that failed. */
export interface SilentDiagnosis {
  cause: SilentCause;
  reason: string;
}

/**
 * The most likely reason a host's points stopped, checked in this order, the first that fails wins:
 * InfluxDB down, the proxy's uplink tunnel down (uplink through a proxy only), the proxy unreachable,
 * the VM unreachable, the agent not running; else unknown (the VM answers and its agent runs).
 * `lastSeen` (the newest point, when any) goes into the unknown case's words.
 */
export async function diagnoseSilence(
  host: Host,
  proxy: Proxy | undefined,
  checks: SilenceChecks,
  lastSeen?: string,
): Promise<SilentDiagnosis> {
  const influx = await checks.influxDown();
  if (influx !== undefined) return { cause: 'influx-down', reason: `InfluxDB down: ${influx}` };
  if (proxy && host.agent.uplink === 'proxy') {
    const tunnel = await checks.tunnelDown(proxy);
    if (tunnel !== undefined)
      return { cause: 'tunnel-down', reason: `uplink tunnel of proxy ${proxy.id} down: ${tunnel}` };
  }
  if (proxy) {
    const unreachable = await checks.proxyUnreachable(proxy);
    if (unreachable !== undefined)
      return { cause: 'proxy-unreachable', reason: `proxy ${proxy.id} unreachable: ${unreachable}` };
  }
  const vm = await checks.checkVm(host);
  if (!vm.reachable) return { cause: 'vm-unreachable', reason: `VM unreachable: ${vm.detail}` };
  if (!vm.running)
    return { cause: 'agent-not-running', reason: 'agent not running: the telegraf service is stopped' };
  return {
    cause: 'unknown',
    reason: `unknown: the VM answers and the telegraf service runs, but no point${lastSeen ? ` since ${lastSeen}` : ''}`,
  };
}
