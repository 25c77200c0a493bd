import path from 'node:path';
import type { Proxy } from '../../domain/proxy.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import { readTunnelStatus } from '../../tunnels/index.ts';
import { resolveJobHosts } from '../runtime/create-registry-inventory.ts';
import type { JobDeps } from '../runtime/job-deps.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import { listWantedUplinks } from './list-wanted-uplinks.ts';
import { requireAgentDeps } from './require-agent-deps.ts';
import { runAnsibleJob } from '../runtime/run-ansible-job.ts';
import { uplinkForwardOf } from './uplink-forward.ts';

/** How long remove-agent waits to see an uplink no host needs any more released by its tunnel node. */
const RELEASE_WAIT_MS = 15_000;

/**
 * `remove-agent`: stops and removes Telegraf (playbooks/remove-agent.yml), records agent `removed` on
 * each host it was removed from, and sees the uplink forwards no monitored host needs any more released.
 */
export async function removeAgentJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  const agent = requireAgentDeps(deps);
  const say = (line: string): void => run.log.write('stdout', `outpost: ${line}`);
  const { project, hosts } = await resolveJobHosts(agent.registry, run.job);
  const proxies = await agent.registry.listProxies({ project });
  const outcome = await runAnsibleJob(deps, run, {
    playbook: path.join(deps.rootDir, 'playbooks', 'remove-agent.yml'),
  });
  const touched = new Map<string, Proxy>();
  for (const host of hosts) {
    const summary = outcome.result?.[host.id];
    if (!summary || summary.failed > 0 || summary.unreachable > 0) continue;
    await agent.registry.updateHost(host.id, { agent: { state: 'removed' } });
    say(`${host.id}: agent removed`);
    const proxy = host.agent.uplink === 'proxy' ? selectProxy(host, proxies) : undefined;
    if (proxy) touched.set(proxy.id, proxy);
  }

  // Uplinks still wanted stay; the others are dropped by the tunnel node on its next pass.
  const wanted = new Set((await listWantedUplinks(agent, project)).map((w) => w.proxy.id));
  for (const proxy of touched.values()) {
    if (wanted.has(proxy.id)) {
      say(`uplink of proxy ${proxy.id} stays: other monitored hosts write through it`);
      continue;
    }
    const forward = uplinkForwardOf(proxy, agent.influxUrl, agent.settings.uplinkPort);
    const deadline = Date.now() + RELEASE_WAIT_MS;
    let released = false;
    while (!released && Date.now() < deadline && !run.signal.aborted) {
      const status = await readTunnelStatus(agent.redis, agent.keyPrefix, proxy.id).catch(() => undefined);
      released = !status?.forwards.some((f) => f.id === forward.id);
      if (!released) await new Promise((resolve) => setTimeout(resolve, 300));
    }
    say(
      released
        ? `uplink of proxy ${proxy.id} released (${forward.bindAddress}:${forward.bindPort})`
        : `uplink of proxy ${proxy.id} is no longer wanted but still listed after ${RELEASE_WAIT_MS / 1000} s`,
    );
  }
  return outcome;
}
