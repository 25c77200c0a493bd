import type { RedisClient } from '../../redis-client.ts';
import type { Host } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { hostAlias } from '../../inventory/aliases.ts';
import type { MetricsBackend } from '../../metrics/metrics-backend.ts';
import { awaitSshBanner } from '../../ssh/await-ssh-banner.ts';
import { classifySshFailure } from '../../ssh/classify-ssh-failure.ts';
import { runSsh } from '../../ssh/run-ssh.ts';
import { readTunnelStatus } from '../../tunnels/read-tunnel-status.ts';
import type { SilenceChecks, VmCheck } from './diagnose-silence.ts';

/** What the live checks of a silent host need. */
export interface LiveCheckDeps {
  metrics: Pick<MetricsBackend, 'ping'>;
  /** Redis where tunnel nodes publish each proxy's tunnel status. */
  redis: RedisClient;
  keyPrefix: string;
  /** ssh_config of a scratch inventory holding the project's hosts and proxies (keys and pinned host keys). */
  sshConfig: string;
  proxyOf: (host: Host) => Proxy | undefined;
  /** Seconds one check may wait for a TCP connection. Default 5. */
  connectTimeoutSeconds?: number;
}

// sudo: the service's status may need root; `service` is the init script where systemd does not run.
const AGENT_RUNNING =
  "sudo -n sh -c 'if (systemctl is-active --quiet telegraf || service telegraf status) >/dev/null 2>&1 </dev/null; then echo running; else echo stopped; fi'";

/**
 * The checks of {@link SilenceChecks} against the real parts: InfluxDB's /ping, the tunnel status a
 * tunnel node published, the proxy's SSH banner, one SSH command on the VM. Each answer is kept for the
 * watch run (a proxy is checked once however many hosts it carries).
 */
export function createSilenceChecks(deps: LiveCheckDeps): SilenceChecks {
  const connectSeconds = deps.connectTimeoutSeconds ?? 5;
  const once = <K, V>(work: (key: K) => Promise<V>): ((key: K) => Promise<V>) => {
    const answers = new Map<K, Promise<V>>();
    return (key) => {
      let answer = answers.get(key);
      if (!answer) answers.set(key, (answer = work(key)));
      return answer;
    };
  };
  const influx = once(() =>
    deps.metrics.ping().then(
      () => undefined,
      (error: Error) => error.message,
    ),
  );
  return {
    influxDown: () => influx(undefined),
    tunnelDown: once(async (proxy: Proxy) => {
      const status = await readTunnelStatus(deps.redis, deps.keyPrefix, proxy.id);
      if (!status) return 'no tunnel node holds it';
      const why = status.lastError ? `: ${status.lastError}` : '';
      if (status.state !== 'ready') return `its connection is ${status.state}${why}`;
      const down = status.forwards.find(
        (forward) => forward.id.startsWith('remote:') && forward.state !== 'up',
      );
      return down ? `forward ${down.id} is ${down.state}${why}` : undefined;
    }),
    proxyUnreachable: once(async (proxy: Proxy) => {
      const banner = await awaitSshBanner(proxy.publicAddress, proxy.sshPort, {
        timeoutMs: connectSeconds * 1000,
      });
      return banner.ok ? undefined : banner.detail;
    }),
    checkVm: once(async (host: Host): Promise<VmCheck> => {
      const ssh = await runSsh(deps.sshConfig, hostAlias(host.id), AGENT_RUNNING, {
        connectTimeoutSeconds: connectSeconds,
        timeoutMs: 30_000,
      });
      if (ssh.exitCode === 255)
        return { reachable: false, detail: classifySshFailure(ssh.stderr, deps.proxyOf(host)).detail };
      // Any other answer came from the VM; only a clear `stopped` says the agent is not running.
      return { reachable: true, running: ssh.stdout.trim() !== 'stopped' };
    }),
  };
}
