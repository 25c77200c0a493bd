import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { killProcessesMentioning } from '../../ansible/kill-process-group.ts';
import type { Host } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { parseTelegrafVersion } from '../../domain/telegraf-version.ts';
import { AppError } from '../../errors.ts';
import { releaseControlSockets } from '../../ssh/release-control-dir.ts';
import { resolveJobHosts } from '../runtime/create-registry-inventory.ts';
import { DEFAULT_TIMEOUT_SECONDS } from '../runtime/default-timeouts.ts';
import type { JobDeps } from '../runtime/job-deps.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import { listLimitedHosts } from '../runtime/list-limited-hosts.ts';
import { runAnsibleJob } from '../runtime/run-ansible-job.ts';
import { deployOutcome, isoTime, toHostAgent, whereOf, type AgentVerdict } from './agent-verdict.ts';
import { writeAgentHostVars } from './agent-vars.ts';
import { checkFastPath, type FastPathMiss } from './check-fast-path.ts';
import { holdUplinks } from './hold-uplinks.ts';
import { createAgentPlanner, type WantedAgent } from './plan-agents.ts';
import { probeAgents } from './probe-agents.ts';
import { proveAgents, type UnfinishedHost } from './prove-agents.ts';
import { requireAgentDeps } from './require-agent-deps.ts';
import { releaseUplinkClaims } from './uplink-claims.ts';

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
  const claimed: string[] = [];
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
      ...(options.telegrafVersion ? { telegrafVersion: options.telegrafVersion } : {}),
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
        ...whereOf(right.wanted),
        seenConfig: right.wanted.configId,
        lastPointAt: isoTime(right.lastPointAt),
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
    const needed = new Map<string, Proxy>();
    for (const { wanted } of fast.needsPlay.values())
      if (wanted.proxy) needed.set(wanted.proxy.id, wanted.proxy);
    const down = await timed('uplinks', () =>
      holdUplinks(agent, {
        jobId: job.id,
        proxies: [...needed.values()],
        // The claim lasts as long as the job may (its limit grows with its hosts).
        claimMs:
          run.deadline !== undefined
            ? Math.max(1000, run.deadline - Date.now())
            : (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS['deploy-agent']) * 1000,
        claimed,
        signal: run.signal,
        say,
      }),
    );
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
    const unfinished = new Map<string, UnfinishedHost>();
    for (const [id, reason] of blocked) {
      const host = jobHosts.find((h) => h.id === id);
      unfinished.set(id, {
        ...wantedOf(host),
        step: run.signal.aborted ? 'canceled' : 'not deployed',
        reason,
        ...(host?.agent.uplink ? { previousUplink: host.agent.uplink } : {}),
      });
    }
    if (play)
      say(
        `proof: waiting up to ${settings.verifySeconds} s for a point of its configuration from each of the ${deployable.length} host(s) played`,
      );
    const proven = await timed('proof', () =>
      proveAgents(agent.metrics, {
        played: deployable.map(({ wanted, reason }) => ({ wanted, because: reason })),
        play,
        playStart,
        unfinished,
        startedAt,
        settings,
        signal: run.signal,
      }),
    );
    for (const [id, verdict] of proven) verdicts.set(id, verdict);
    // Telegraf's version: as the play left it, else as the probe found it, else as last recorded.
    const played = (play?.stats?.outpost_telegraf_versions ?? {}) as Record<string, unknown>;
    for (const [id, verdict] of verdicts) {
      const version =
        parseTelegrafVersion(typeof played[id] === 'string' ? played[id] : undefined) ??
        parseTelegrafVersion(fast.versions.get(id)) ??
        jobHosts.find((host) => host.id === id)?.agent.version;
      if (version) verdict.version = version;
    }

    // Record what was proven, before the claims go: the registry then keeps the uplinks wanted.
    for (const [id, verdict] of verdicts) {
      say(
        `${id}: ${verdict.state}${verdict.firstPointAt ? ` (first point ${verdict.firstPointAt})` : ''}${verdict.reason ? `: ${verdict.reason}` : ''}`,
      );
      await agent.registry.updateHost(id, { agent: toHostAgent(verdict) });
    }
    return deployOutcome(verdicts, play);

    /** The wanted agent of a host the play never saw: from its last known uplink, to judge its points. */
    function wantedOf(host: Host | undefined): { wanted?: WantedAgent } {
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
    await releaseUplinkClaims(agent.redis, agent.keyPrefix, project, claimed, job.id).catch(() => undefined);
    await Promise.all(prepared.secretFiles.map((file) => rm(file, { force: true })));
    // The probe's connections outlive it by ControlPersist: nothing of the job may.
    await killProcessesMentioning(runDir);
    await Promise.all((prepared.controlDirs ?? []).map((dir) => releaseControlSockets(dir)));
  }
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
