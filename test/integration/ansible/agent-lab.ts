import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import type { Lab, LabVm } from '../../lab/lab.ts';
import type { TestInflux } from '../../support/influx.ts';
import type { AnsibleLabFiles } from './ansible-lab.ts';

/** An uplink held by {@link openUplink}. */
export interface Uplink {
  close(): Promise<void>;
}

/**
 * Holds `-R <proxy vpc address>:<port>:<target>` open as cloudroot, like the tunnel keeper, and resolves
 * once sshd listens on the proxy.
 */
export async function openUplink(
  lab: Lab,
  files: AnsibleLabFiles,
  proxy: LabVm,
  port: number,
  target: string,
): Promise<Uplink> {
  const forward: ResultPromise = execa(
    'ssh',
    [
      '-N',
      '-F',
      path.join(files.dir, 'ssh_config'),
      '-o',
      'ExitOnForwardFailure=yes',
      '-o',
      'ControlPath=none',
      '-R',
      `${proxy.vpcAddress ?? ''}:${port}:${target}`,
      proxy.name,
    ],
    { reject: false },
  );
  const close = async () => {
    forward.kill();
    await forward;
  };
  for (let i = 0; i < 50; i++) {
    const listening = await lab.exec(proxy, `ss -Htln 'sport = :${port}'`);
    // Never return the execa promise itself: it is a thenable.
    if (listening.stdout.trim() !== '') return { close };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await close();
  throw new Error(`uplink forward on ${proxy.name} did not come up`);
}

/** GET <url>/ping from inside a VM; the HTTP status, or 0 when nothing answers. */
export async function pingFrom(lab: Lab, vm: LabVm, url: string): Promise<number> {
  const script = `import urllib.request as u\ntry:\n  print(u.urlopen('${url}/ping', timeout=3).status)\nexcept Exception as e:\n  print(getattr(e, 'code', 0))`;
  return Number((await lab.sh(vm, 'python3 -', { input: script })).trim());
}

/** `host|project|network` of every series of `measurement` written in the last minutes. */
export async function listHostsReporting(influx: TestInflux, measurement: string): Promise<string[]> {
  const rows = await influx.query(
    `SELECT count(*) FROM ${measurement} WHERE time > now() - 5m GROUP BY host, project, network`,
  );
  return rows.map((row) => `${String(row.host)}|${String(row.project)}|${String(row.network)}`).sort();
}

/**
 * Waits until `agent_cpu`, `agent_system` and `agent_mem` each have series from `count` hosts, and
 * returns their `host|project|network` lists in that order.
 */
export async function waitForReporting(influx: TestInflux, count: number): Promise<string[][]> {
  const lists: string[][] = [];
  for (const measurement of ['agent_cpu', 'agent_system', 'agent_mem']) {
    lists.push(
      await waitFor(`${measurement} from ${count} hosts`, async () => {
        const hosts = await listHostsReporting(influx, measurement);
        return hosts.length === count ? hosts : undefined;
      }),
    );
  }
  return lists;
}

/** What of the agent is left on a VM after removal: files, a process, the user; empty when nothing is. */
export async function listAgentLeftovers(lab: Lab, vm: LabVm): Promise<string> {
  const command =
    'ls -d /etc/telegraf /var/cache/outpost/telegraf /etc/init.d/telegraf; pgrep -x telegraf; getent passwd telegraf';
  return (await lab.exec(vm, command)).stdout;
}

/** Resolves once `host` wrote an `agent_cpu` point stamped after `since` (ms). */
export async function waitForFreshPoint(influx: TestInflux, host: string, since: number): Promise<number> {
  return waitFor(`fresh agent_cpu from ${host}`, async () => {
    const rows = await influx.query(`SELECT last(usage_idle) FROM agent_cpu WHERE host = '${host}'`);
    const stamp = rows[0]?.time;
    const time = typeof stamp === 'string' ? Date.parse(stamp) : 0;
    return time > since ? time : undefined;
  });
}

/** Polls `probe` every half second until it returns a value. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
