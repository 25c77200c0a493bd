import path from 'node:path';
import type { HostSummary } from '../../ansible/summarize-run.ts';
import type { Host, HostAgent } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import { waitForFirstMetrics } from '../../metrics/wait-for-first-metrics.ts';
import { commonAgentVars, writeAgentHostVars } from './agent-vars.ts';
import { checkUplinks } from './check-uplinks.ts';
import { resolveJobHosts } from '../runtime/create-registry-inventory.ts';
import { DEFAULT_TIMEOUT_SECONDS } from '../runtime/default-timeouts.ts';
import type { JobDeps } from '../runtime/job-deps.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import { requireAgentDeps } from './require-agent-deps.ts';
import { runAnsibleJob } from '../runtime/run-ansible-job.ts';
import { claimUplink, releaseUplinkClaims } from './uplink-claims.ts';
import { uplinkForwardOf } from './uplink-forward.ts';
import { waitForUplink } from './wait-for-uplink.ts';

/** A host's agent after a deploy, as recorded in the registry and in the job's result. */
export interface AgentVerdict {
  state: 'reporting' | 'not-reporting';
  uplink?: 'direct' | 'proxy';
  /** The output URL written into the host's Telegraf configuration. */
  url?: string;
  /** Time of the host's first point since the deploy began (reporting). */
  firstPointAt?: string;
  /** What was checked (not-reporting). */
  reason?: string;
}

/** A host the play will configure: where its Telegraf writes. */
interface Planned {
  host: Host;
  uplink: 'direct' | 'proxy';
  url: string;
  proxy?: Proxy;
}

/**
 * `deploy-agent`: for each host pick the uplink (direct when the VM reaches InfluxDB, else the remote
 * forward on its proxy, held by the tunnel nodes), write its Telegraf output URL, run
 * playbooks/deploy-agent.yml, then prove it: wait (bounded) for the host's first metrics in InfluxDB and
 * record `reporting` with the time of the first point, or `not-reporting` with what was checked.
 */
export async function deployAgentJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  const agent = requireAgentDeps(deps);
  const { job } = run;
  const { settings } = agent;
  const say = (line: string): void => run.log.write('stdout', `outpost: ${line}`);
  const { project, hosts } = await resolveJobHosts(agent.registry, job);
  const proxies = await agent.registry.listProxies({ project });
  await agent.metrics.ensureStore();

  const { checks, outcome: checkOutcome } = await checkUplinks(deps, run, settings.influxAgentUrl);
  if (checkOutcome.status === 'canceled' || checkOutcome.status === 'timeout') return checkOutcome;
  const verdicts = new Map<string, AgentVerdict>();
  const planned: Planned[] = [];
  for (const host of hosts) {
    const check = checks.get(host.id);
    if (!check) continue; // Not selected by the job's limit.
    const proxy = selectProxy(host, proxies);
    const through = proxy ? ` through proxy ${proxy.id}` : '';
    if (check.kind === 'unreachable') {
      verdicts.set(host.id, {
        state: 'not-reporting',
        // Keep an uplink decided earlier (its forward stays wanted); decide none for a host never reached.
        ...(host.agent.uplink ? { uplink: host.agent.uplink } : {}),
        reason: `not deployed: ${host.id} is unreachable${through}: ${check.detail}`,
      });
    } else if (check.kind === 'direct' && settings.influxAgentUrl) {
      planned.push({ host, uplink: 'direct', url: settings.influxAgentUrl });
    } else if (proxy) {
      const forward = uplinkForwardOf(proxy, agent.influxUrl, settings.uplinkPort);
      planned.push({ host, uplink: 'proxy', url: forward.agentUrl, proxy });
    } else {
      verdicts.set(host.id, {
        state: 'not-reporting',
        reason: `not deployed: ${check.kind === 'indirect' ? check.detail : 'no direct uplink'}; no proxy serves ${host.address}, so it has no uplink either`,
      });
    }
  }

  // Uplinks: claim each needed proxy's forward for the tunnel nodes, and wait until one holds it up.
  const needed = [...new Map(planned.flatMap((p) => (p.proxy ? [[p.proxy.id, p.proxy]] : []))).values()];
  // The claim lasts as long as the job may (its limit grows with its hosts).
  const claimMs =
    run.deadline !== undefined
      ? Math.max(1000, run.deadline - Date.now())
      : (job.options?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS['deploy-agent']) * 1000;
  try {
    for (const proxy of needed) await claimUplink(agent.redis, agent.keyPrefix, proxy.id, job.id, claimMs);
    const down = new Map<string, string>();
    await Promise.all(
      needed.map(async (proxy) => {
        const forward = uplinkForwardOf(proxy, agent.influxUrl, settings.uplinkPort);
        say(`waiting for the uplink of proxy ${proxy.id}: ${forward.agentUrl} -> ${agent.influxUrl}`);
        const verdict = await waitForUplink(agent.redis, agent.keyPrefix, proxy, forward, {
          timeoutMs: settings.uplinkWaitSeconds * 1000,
          signal: run.signal,
        });
        if (verdict.up) say(`uplink of proxy ${proxy.id} is up`);
        else {
          say(verdict.reason);
          down.set(proxy.id, verdict.reason);
        }
      }),
    );
    const deployable = planned.filter((p) => {
      const reason = p.proxy && down.get(p.proxy.id);
      if (reason)
        verdicts.set(p.host.id, {
          state: 'not-reporting',
          uplink: 'proxy',
          reason: `not deployed: ${reason}`,
        });
      return !reason;
    });

    // The play, on the hosts with a working uplink, each with its own output URL.
    let playOutcome: JobOutcome | undefined;
    const since = new Date();
    if (deployable.length > 0) {
      const runDir = path.join(deps.runsDir, job.id);
      const common = commonAgentVars(agent);
      const output = agent.influx.version === 2 ? 'influxdb_v2' : 'influxdb';
      for (const p of deployable) await writeAgentHostVars(runDir, p.host, p.url, output);
      for (const p of deployable) say(`${p.host.id}: uplink ${p.uplink}, Telegraf writes to ${p.url}`);
      playOutcome = await runAnsibleJob(
        deps,
        {
          ...run,
          job: { ...job, options: { ...job.options, limit: deployable.map((p) => p.host.id).join(',') } },
        },
        {
          playbook: path.join(deps.rootDir, 'playbooks', 'deploy-agent.yml'),
          extraVars: common.vars,
          ...(Object.keys(common.secretVars).length > 0 ? { secretVars: common.secretVars } : {}),
        },
      );
    }

    // The proof: first metrics of every host the play configured.
    await Promise.all(
      deployable.map(async (p) => {
        const summary = playOutcome?.result?.[p.host.id];
        const base = { uplink: p.uplink, url: p.url } as const;
        if (!summary || summary.failed > 0 || summary.unreachable > 0) {
          const error = summary?.firstError;
          verdicts.set(p.host.id, {
            state: 'not-reporting',
            ...base,
            reason: `deploy ${error ? `${error.status} at "${error.task}": ${error.msg.trim()}` : 'did not run on this host'}${p.proxy ? ` (uplink through proxy ${p.proxy.id})` : ''}`,
          });
          return;
        }
        const verdict = await waitForFirstMetrics(agent.metrics, p.host.id, {
          since,
          timeoutMs: settings.verifySeconds * 1000,
          intervalMs: 1000,
          signal: run.signal,
        });
        verdicts.set(
          p.host.id,
          verdict.state === 'reporting'
            ? { state: 'reporting', ...base, firstPointAt: iso(verdict.firstPointAt) }
            : {
                state: 'not-reporting',
                ...base,
                reason: `${verdict.reason}; Telegraf writes to ${p.url}${p.proxy ? ` through the uplink of proxy ${p.proxy.id}` : ' (direct uplink)'}`,
              },
        );
      }),
    );

    // Record what was proven, before the claims go: the registry then keeps the uplinks wanted.
    for (const [id, verdict] of verdicts) {
      say(
        `${id}: ${verdict.state}${verdict.firstPointAt ? ` (first point ${verdict.firstPointAt})` : ''}${verdict.reason ? `: ${verdict.reason}` : ''}`,
      );
      await agent.registry.updateHost(id, { agent: toHostAgent(verdict) });
    }
    return outcomeOf(verdicts, playOutcome, checkOutcome);
  } finally {
    await releaseUplinkClaims(
      agent.redis,
      agent.keyPrefix,
      needed.map((p) => p.id),
      job.id,
    ).catch(() => undefined);
  }
}

function toHostAgent(verdict: AgentVerdict): HostAgent {
  return {
    state: verdict.state,
    ...(verdict.uplink ? { uplink: verdict.uplink } : {}),
    ...(verdict.firstPointAt ? { lastSeen: verdict.firstPointAt } : {}),
    ...(verdict.reason ? { reason: verdict.reason.slice(0, 500) } : {}),
  };
}

/** The job's outcome: successful only when every host reports; per host the play's counts and the verdict. */
function outcomeOf(
  verdicts: Map<string, AgentVerdict>,
  play: JobOutcome | undefined,
  check: JobOutcome,
): JobOutcome {
  const result: Record<string, HostSummary & { agent: AgentVerdict }> = {};
  for (const [id, verdict] of verdicts) {
    const summary = play?.result?.[id] ??
      check.result?.[id] ?? { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
    result[id] = { ...summary, agent: verdict };
  }
  const silent = [...verdicts].filter(([, v]) => v.state !== 'reporting').map(([id]) => id);
  const base = {
    result,
    ...(play?.command ? { command: play.command } : {}),
    ...(play?.rc !== undefined ? { rc: play.rc } : {}),
  };
  if (play && (play.status === 'canceled' || play.status === 'timeout'))
    return { ...base, status: play.status, ...(play.reason ? { reason: play.reason } : {}) };
  if (verdicts.size === 0) return { ...base, status: 'failed', reason: 'no host was selected by the job' };
  if (silent.length === 0) return { ...base, status: 'successful' };
  return {
    ...base,
    status: 'failed',
    reason:
      `not reporting: ${silent.map((id) => `${id} (${verdicts.get(id)?.reason ?? ''})`).join('; ')}`.slice(
        0,
        2000,
      ),
  };
}

/** InfluxDB times carry nanoseconds; the registry keeps milliseconds. */
function iso(time: string): string {
  const parsed = new Date(time);
  return Number.isNaN(parsed.getTime()) ? time : parsed.toISOString();
}
