import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { killProcessesMentioning } from '../../ansible/kill-process-group.ts';
import type { HostSummary } from '../../ansible/summarize-run.ts';
import type { Host, HostAgent } from '../../domain/host.ts';
import { AppError } from '../../errors.ts';
import { waitForFirstMetrics } from '../../metrics/wait-for-first-metrics.ts';
import { releaseControlSockets } from '../../ssh/release-control-dir.ts';
import { resolveJobHosts } from '../runtime/create-registry-inventory.ts';
import { DEFAULT_TIMEOUT_SECONDS } from '../runtime/default-timeouts.ts';
import type { JobDeps } from '../runtime/job-deps.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import { listLimitedHosts } from '../runtime/list-limited-hosts.ts';
import { runAnsibleJob } from '../runtime/run-ansible-job.ts';
import { writeAgentHostVars } from './agent-vars.ts';
import { checkFastPath, type FastPathMiss } from './check-fast-path.ts';
import { observeAgents, stateOf, type ObservedState } from './observe-agents.ts';
import { createAgentPlanner, type WantedAgent } from './plan-agents.ts';
import { probeAgents } from './probe-agents.ts';
import { requireAgentDeps } from './require-agent-deps.ts';
import { claimUplink, releaseUplinkClaims } from './uplink-claims.ts';
import { uplinkForwardOf } from './uplink-forward.ts';
import { waitForUplink } from './wait-for-uplink.ts';

/** What a deploy did on one host. */
export type DeployStep = 'unchanged (fast path)' | 'applied' | 'failed' | 'not deployed' | 'canceled';

/** A host's agent after a deploy, as recorded in the registry and in the job's result. */
export interface AgentVerdict {
  /** What the host's points show: this deploy's configuration, an older one, or none. */
  state: ObservedState;
  /** What this deploy did there. */
  deploy: DeployStep;
  /** Why the host went through the play (what the fast path found). */
  playedBecause?: string;
  uplink?: 'direct' | 'proxy';
  /** The output URL written into the host's Telegraf configuration. */
  url?: string;
  /** The configuration id this deploy wanted (tag `outpost_config`). */
  config?: string;
  /** The configuration id the host's newest point carries, when one was seen. */
  seenConfig?: string;
  /** Time of the host's first point of this configuration since the play began (applied). */
  firstPointAt?: string;
  /** Time of the host's newest point (fast path, or an agent a failed deploy left running). */
  lastPointAt?: string;
  /** What went wrong, or what was checked. */
  reason?: string;
}

/**
 * `deploy-agent`: one SSH command per host first (the fast path: the stamp of the last play, the
 * configuration's checksum, Telegraf's version and service, and whether the VM reaches InfluxDB
 * directly), one InfluxDB query for each host's newest point; hosts already right and reporting are done
 * without Ansible. The others get their uplink (direct, or the remote forward on their proxy, held by the
 * tunnel nodes), their configuration id, and playbooks/deploy-agent.yml limited to them; then the proof:
 * a point carrying this configuration id since the play began. A host whose play did not finish is
 * never proven by the points of the agent it already ran.
 */
export async function deployAgentJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  const agent = requireAgentDeps(deps);
  const { job } = run;
  const options = job.options ?? {};
  const { settings } = agent;
  const startedAt = Date.now();
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const begun = Date.now();
    try {
      return await work();
    } finally {
      run.timings?.phases.push({ name, ms: Date.now() - begun });
    }
  };
  const say = (line: string): void => run.log.write('stdout', `outpost: ${line}`);
  const { project, hosts: jobHosts } = await resolveJobHosts(agent.registry, job);
  const proxies = await agent.registry.listProxies({ project });
  await agent.metrics.ensureStore();
  if (!deps.prepareInventory) throw new Error('no inventory writer is configured on this worker');
  const runDir = path.join(deps.runsDir, job.id);
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  // Ansible's control-path dir: the probe's connections wait there for the play.
  await mkdir(path.join(runDir, 'cp'), { recursive: true, mode: 0o700 });
  const prepared = await deps.prepareInventory(runDir, job);
  const verdicts = new Map<string, AgentVerdict>();
  let claimed: string[] = [];
  try {
    const hosts = options.limit
      ? await selectLimited(deps.rootDir, prepared.inventory, options.limit, jobHosts)
      : jobHosts;
    const planner = await createAgentPlanner({
      agent,
      rootDir: deps.rootDir,
      proxies,
      extraVars: options.extraVars ?? {},
      secretKey: deps.keys?.derivedKey('agent-config-id') ?? Buffer.from('outpost-agent-config-id'),
    });
    // The fast path only proves a plain deploy; check mode and tags ask for the play's own answer.
    const full = options.full === true || options.check === true || !!options.tags || !!options.skipTags;
    say(
      `probing ${hosts.length} host(s): deploy stamp, configuration, service${settings.influxAgentUrl ? `, and /ping of ${settings.influxAgentUrl}` : ''}`,
    );
    const fast = await timed('probe', () =>
      checkFastPath(
        {
          probe: (targets) =>
            probeAgents({
              sshConfig: prepared.sshConfig ?? path.join(path.dirname(prepared.inventory), 'ssh_config'),
              controlDir: path.join(runDir, 'cp'),
              hosts: targets,
              proxyOf: (host) => planner.proxyOf(host),
              agentUrl: settings.influxAgentUrl,
              concurrency: options.forks ?? 25,
              retries: options.retryUnreachable ?? 0,
              retryDelayMs: (options.retryDelaySeconds ?? 5) * 1000,
              signal: run.signal,
            }),
          planner,
          metrics: agent.metrics,
          freshMs: settings.freshSeconds * 1000,
        },
        hosts,
        { full },
      ),
    );
    // The play writes its own keys; the probe's connections stay open for it.
    await Promise.all(prepared.secretFiles.map((file) => rm(file, { force: true })));

    for (const [id, right] of fast.right) {
      say(
        `${id}: unchanged (fast path): configuration ${right.wanted.configId}, newest point ${right.lastPointAt}`,
      );
      verdicts.set(id, {
        state: 'reporting',
        deploy: 'unchanged (fast path)',
        ...where(right.wanted),
        seenConfig: right.wanted.configId,
        lastPointAt: iso(right.lastPointAt),
      });
    }
    for (const [id, miss] of fast.needsPlay) say(`${id}: through the play: ${miss.reason}`);
    const blocked = new Map<string, string>();
    for (const [id, block] of fast.blocked) {
      // A probe cut short by a cancel says nothing about the host.
      const reason = run.signal.aborted
        ? 'not deployed: the deploy was canceled before it reached this host'
        : `not deployed: ${block.reason}`;
      say(`${id}: ${reason}`);
      blocked.set(id, reason);
    }

    // Uplinks: claim each needed proxy's forward for the tunnel nodes, and wait until one holds it up.
    const needed = [
      ...new Map(
        [...fast.needsPlay.values()].flatMap((m) =>
          m.wanted.proxy ? [[m.wanted.proxy.id, m.wanted.proxy]] : [],
        ),
      ).values(),
    ];
    const claimMs = (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS['deploy-agent']) * 1000;
    const down = await timed('uplinks', async () => {
      const reasons = new Map<string, string>();
      for (const proxy of needed) {
        await claimUplink(agent.redis, agent.keyPrefix, proxy.id, job.id, claimMs);
        claimed.push(proxy.id);
      }
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
            reasons.set(proxy.id, verdict.reason);
          }
        }),
      );
      return reasons;
    });
    const deployable: FastPathMiss[] = [];
    for (const [id, miss] of fast.needsPlay) {
      const reason = miss.wanted.proxy && down.get(miss.wanted.proxy.id);
      if (reason) blocked.set(id, `not deployed: ${reason}`);
      else deployable.push(miss);
    }

    // The play, on the hosts that need it and have a working uplink, each with its own output URL.
    let play: JobOutcome | undefined;
    const playStart = new Date();
    if (deployable.length > 0) {
      for (const { wanted, restart } of deployable) {
        await writeAgentHostVars(runDir, wanted.host.id, {
          ...wanted.vars,
          telegraf_config_id: wanted.configId,
          ...(restart ? { telegraf_restart: true } : {}),
        });
        say(
          `${wanted.host.id}: uplink ${wanted.uplink}, Telegraf writes to ${wanted.url}, configuration ${wanted.configId}`,
        );
      }
      const { common } = planner;
      play = await timed('play', () =>
        runAnsibleJob(
          deps,
          {
            ...run,
            job: {
              ...job,
              options: { ...options, limit: deployable.map((m) => m.wanted.host.id).join(',') },
            },
          },
          {
            playbook: path.join(deps.rootDir, 'playbooks', 'deploy-agent.yml'),
            extraVars: common.vars,
            ...(Object.keys(common.secretVars).length > 0 ? { secretVars: common.secretVars } : {}),
          },
        ),
      );
    } else say('no host needs the play');

    // The proof: a point of this configuration from each host the play finished on; for every other
    // host, what its points show of the agent it still runs.
    await timed('proof', async () => {
      const finished = play !== undefined && (play.status === 'successful' || play.status === 'failed');
      const others = new Map<string, { wanted?: WantedAgent; step: DeployStep; reason: string }>();
      for (const [id, reason] of blocked)
        others.set(id, { ...wantedOf(id), step: run.signal.aborted ? 'canceled' : 'not deployed', reason });
      const proven = deployable.map(async ({ wanted, reason: because }) => {
        const id = wanted.host.id;
        const summary = play?.result?.[id];
        if (!finished || !summary || summary.failed > 0 || summary.unreachable > 0) {
          const error = summary?.firstError;
          const step: DeployStep =
            play?.status === 'canceled' || play?.status === 'timeout' ? 'canceled' : 'failed';
          const what =
            step === 'canceled'
              ? `deploy ${play?.status === 'timeout' ? 'timed out' : 'canceled'} before it finished here`
              : `deploy ${error ? `${error.status} at "${error.task}": ${error.msg.trim()}` : 'did not run on this host'}`;
          others.set(id, {
            wanted,
            step,
            reason: `${what}${wanted.proxy ? ` (uplink through proxy ${wanted.proxy.id})` : ''}`,
          });
          return;
        }
        const verdict = await waitForFirstMetrics(agent.metrics, id, {
          since: playStart,
          config: wanted.configId,
          timeoutMs: settings.verifySeconds * 1000,
          intervalMs: 1000,
          signal: run.signal,
        });
        if (verdict.state === 'reporting') {
          verdicts.set(id, {
            state: 'reporting',
            deploy: 'applied',
            playedBecause: because,
            ...where(wanted),
            seenConfig: wanted.configId,
            firstPointAt: iso(verdict.firstPointAt),
          });
          return;
        }
        const beat = (await observeAgents(agent.metrics, [id], { since: playStart })).get(id);
        verdicts.set(id, {
          state:
            stateOf(beat, wanted.configId) === 'reporting-old-config'
              ? 'reporting-old-config'
              : 'not-reporting',
          deploy: 'applied',
          playedBecause: because,
          ...where(wanted),
          ...(beat?.config ? { seenConfig: beat.config } : {}),
          ...(beat ? { lastPointAt: iso(beat.time) } : {}),
          reason: `${verdict.reason}${beat ? `; its points still carry configuration ${beat.config ?? '(none)'}` : ''}; Telegraf writes to ${wanted.url}${wanted.proxy ? ` through the uplink of proxy ${wanted.proxy.id}` : ' (direct uplink)'}`,
        });
      });
      await Promise.all(proven);
      // Canceled: what the points showed just before. Otherwise a host is silent only after a whole
      // window without a point, so a failed deploy never calls a live agent dead.
      const aborted = run.signal.aborted;
      const freshMs = settings.freshSeconds * 1000;
      const beats = await observeAgents(agent.metrics, [...others.keys()], {
        since: new Date(aborted ? startedAt - freshMs : startedAt),
        waitUntil: aborted ? 0 : startedAt + freshMs,
        signal: run.signal,
      });
      for (const [id, other] of others) {
        const beat = beats.get(id);
        const state = stateOf(beat, other.wanted?.configId);
        const seen =
          state === 'reporting'
            ? `; the agent still reports with the wanted configuration ${other.wanted?.configId ?? ''}`
            : state === 'reporting-old-config'
              ? `; the agent still reports, with configuration ${beat?.config ?? '(none)'}${other.wanted ? ` (wanted ${other.wanted.configId})` : ''}`
              : '';
        const host = jobHosts.find((h) => h.id === id);
        verdicts.set(id, {
          state,
          deploy: other.step,
          ...(other.step !== 'not deployed' && other.wanted ? where(other.wanted) : previousUplink(host)),
          ...(other.wanted ? { config: other.wanted.configId } : {}),
          ...(beat?.config ? { seenConfig: beat.config } : {}),
          ...(beat ? { lastPointAt: iso(beat.time) } : {}),
          reason: `${other.reason}${seen}`,
        });
      }
    });

    // Record what was proven, before the claims go: the registry then keeps the uplinks wanted.
    for (const [id, verdict] of verdicts) {
      say(
        `${id}: ${verdict.state}${verdict.firstPointAt ? ` (first point ${verdict.firstPointAt})` : ''}${verdict.reason ? `: ${verdict.reason}` : ''}`,
      );
      await agent.registry.updateHost(id, { agent: toHostAgent(verdict) });
    }
    return outcomeOf(verdicts, play);

    /** The wanted agent of a host the play never saw: from its last known uplink, to judge its points. */
    function wantedOf(id: string): { wanted?: WantedAgent } {
      const host = jobHosts.find((h) => h.id === id);
      if (!host?.agent.uplink) return {};
      const wanted = planner.plan(host, {
        reachable: true,
        files: {},
        running: false,
        direct: host.agent.uplink === 'direct',
      });
      return 'configId' in wanted ? { wanted } : {};
    }
  } finally {
    await releaseUplinkClaims(agent.redis, agent.keyPrefix, claimed, job.id).catch(() => undefined);
    claimed = [];
    await Promise.all(prepared.secretFiles.map((file) => rm(file, { force: true })));
    // The probe's connections outlive it by ControlPersist: nothing of the job may.
    await killProcessesMentioning(runDir);
    await Promise.all((prepared.controlDirs ?? []).map((dir) => releaseControlSockets(dir)));
  }
}

/** Where the wanted agent writes: its uplink, URL and configuration id. */
function where(wanted: WantedAgent): Pick<AgentVerdict, 'uplink' | 'url' | 'config'> {
  return { uplink: wanted.uplink, url: wanted.url, config: wanted.configId };
}

/** A host not deployed keeps the uplink decided earlier (its forward stays wanted); none for a host never deployed. */
function previousUplink(host: Host | undefined): Pick<AgentVerdict, 'uplink'> {
  return host?.agent.uplink ? { uplink: host.agent.uplink } : {};
}

/** The job's hosts the limit selects, as Ansible reads the pattern. */
async function selectLimited(
  rootDir: string,
  inventory: string,
  limit: string,
  hosts: Host[],
): Promise<Host[]> {
  const names = new Set(await listLimitedHosts(rootDir, inventory, limit));
  const selected = hosts.filter((host) => names.has(host.id));
  if (selected.length === 0)
    throw new AppError('no_hosts', `--limit ${JSON.stringify(limit)} selects none of the job's hosts`, {
      status: 400,
    });
  return selected;
}

function toHostAgent(verdict: AgentVerdict): HostAgent {
  return {
    state: verdict.state,
    ...(verdict.uplink ? { uplink: verdict.uplink } : {}),
    ...((verdict.firstPointAt ?? verdict.lastPointAt)
      ? { lastSeen: verdict.firstPointAt ?? verdict.lastPointAt }
      : {}),
    // A tag is whatever an agent wrote: only an id of ours is kept.
    ...(verdict.seenConfig && /^[0-9a-f]{1,64}$/.test(verdict.seenConfig)
      ? { config: verdict.seenConfig }
      : {}),
    ...(verdict.reason ? { reason: verdict.reason.slice(0, 500) } : {}),
  };
}

/** The job's outcome: successful only when every host runs this configuration and reports. */
function outcomeOf(verdicts: Map<string, AgentVerdict>, play: JobOutcome | undefined): JobOutcome {
  const result: Record<string, HostSummary & { agent: AgentVerdict }> = {};
  for (const [id, verdict] of verdicts) {
    const summary = play?.result?.[id] ?? { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
    result[id] = { ...summary, agent: verdict };
  }
  const done = (v: AgentVerdict): boolean =>
    v.state === 'reporting' && (v.deploy === 'applied' || v.deploy === 'unchanged (fast path)');
  const undone = [...verdicts].filter(([, v]) => !done(v)).map(([id]) => id);
  const base = {
    result,
    ...(play?.command ? { command: play.command } : {}),
    ...(play?.rc !== undefined ? { rc: play.rc } : {}),
  };
  if (play && (play.status === 'canceled' || play.status === 'timeout'))
    return { ...base, status: play.status, ...(play.reason ? { reason: play.reason } : {}) };
  if (verdicts.size === 0) return { ...base, status: 'failed', reason: 'no host was selected by the job' };
  if (undone.length === 0) return { ...base, status: 'successful' };
  return {
    ...base,
    status: 'failed',
    reason:
      `not deployed and reporting: ${undone.map((id) => `${id} (${verdicts.get(id)?.reason ?? verdicts.get(id)?.state ?? ''})`).join('; ')}`.slice(
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
