import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { HostSummary } from '../../ansible/summarize-run.ts';
import type { Host, HostLogin, HostProbe, Reach } from '../../domain/host.ts';
import type { LocalForward } from '../../inventory/resolve-routes.ts';
import { writeInventory } from '../../inventory/write-inventory.ts';
import { TunnelKeeper } from '../../tunnels/index.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import type { LoginDeps } from './login-deps.ts';
import { pinRecordedKeys } from './pin-recorded-keys.ts';
import { runTargetedPlaybook } from '../runtime/run-targeted-playbook.ts';
import { parsePlayFacts, type HostFacts } from './parse-play-facts.ts';
import { tryReachWays, WAYS, type HostWays, type TryReachInput } from './try-reach-ways.ts';
import { preparedInventory } from '../runtime/prepared-inventory.ts';

/** One host's line of a probe's job result: the play's counts plus what the probe found. */
export type ProbedHost = HostSummary & { probe: HostProbe; facts?: Host['facts']; login: HostLogin };

/** How a successful probe records the login, and what it may skip. */
export interface ProbeHostsOptions {
  /** The way cloudroot was set up (`script` by default). */
  enrolledBy?: 'password' | 'key' | 'script';
  /**
   * Facts a play of this job already read as root (enroll.yml): then no probe play runs, and the tries
   * prove passwordless sudo themselves (`sudo -n true` through each way).
   */
  facts?: Map<string, HostFacts>;
  /** Direct ways' banner checks the job started earlier (checkBanners). */
  banners?: TryReachInput['banners'];
}

/**
 * The probe of `hosts` (one project): tries each way as cloudroot with the project key, pins host keys
 * seen at first contact, runs playbooks/probe.yml through the way that worked (become root, facts) unless
 * the job has the facts already, and records reach, probe, facts and login on every host.
 */
export async function probeHosts(
  deps: LoginDeps,
  run: JobRun,
  hosts: Host[],
  options: ProbeHostsOptions = {},
): Promise<{ status: JobOutcome['status']; reason?: string; result: Record<string, ProbedHost> }> {
  const { registry, keys } = deps;
  const project = hosts[0]?.project;
  if (!project) return { status: 'successful', result: {} };
  const dir = path.join(deps.runsDir, run.job.id);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const projectKey = await keys.projectPrivateKey(project);
  const opened: Array<[string, string]> = [];
  // Without a keeper of this node's, the job holds its own for the forward way, closed at the end.
  const own = deps.tunnels
    ? undefined
    : new TunnelKeeper({ privateKey: projectKey, healthCheckIntervalMs: 0, ensureWaitMs: 8000 });
  try {
    const connectTimeoutSeconds = run.job.options?.connectTimeoutSeconds;
    const tries = await tryReachWays({
      dir: path.join(dir, 'ways'),
      project,
      hosts,
      proxies: await registry.listProxies({ project }),
      projectKey,
      tunnels: deps.tunnels ?? own,
      signal: run.signal,
      opened,
      ...(connectTimeoutSeconds !== undefined ? { connectTimeoutSeconds } : {}),
      ...(options.facts ? { check: 'become' as const } : {}),
      ...(options.banners ? { banners: options.banners } : {}),
    });
    for (const host of hosts) {
      for (const way of WAYS) {
        const found = tries.get(host.id)?.ways[way];
        if (found)
          run.log.write(
            'stdout',
            `outpost: probe ${host.id} ${way}: ${found.ok ? 'ok' : `${found.reason ?? 'error'} — ${found.detail ?? ''}`}`,
          );
      }
      await pinRecordedKeys(registry, tries.get(host.id)?.recorded ?? new Map<string, string>(), run.log);
    }

    const reachable = hosts.filter((host) => tries.get(host.id)?.reach);
    let play: JobOutcome | undefined;
    if (reachable.length > 0 && !options.facts) {
      const forwards = new Map<string, LocalForward>();
      for (const host of reachable) {
        const forward = tries.get(host.id)?.forward;
        if (forward && tries.get(host.id)?.reach === 'forward') forwards.set(host.id, forward);
      }
      const fresh = await Promise.all(reachable.map((host) => registry.getHost(host.id)));
      play = await runTargetedPlaybook(deps, run, {
        playbook: 'probe.yml',
        targets: reachable.map((host) => host.id),
        // Discovery always: the probe is what records the interpreter later runs are pinned to.
        extraVars: { ansible_python_interpreter: 'auto_silent' },
        prepareInventory: async (runDir) => {
          const written = await writeInventory({
            dir: runDir,
            project,
            hosts: fresh.map((host) => ({ ...host, reach: tries.get(host.id)?.reach as Reach })),
            proxies: await registry.listProxies({ project }),
            keys: { project: projectKey },
            forwards,
          });
          return preparedInventory(written, [written.projectKey]);
        },
      });
    }

    const at = new Date().toISOString();
    const found = options.facts ?? parsePlayFacts(play?.stats);
    const result: Record<string, ProbedHost> = {};
    for (const host of hosts) {
      const tried = tries.get(host.id);
      const summary = options.facts
        ? triedSummary(tried)
        : (play?.result?.[host.id] ?? unreachableSummary(tried?.ways));
      const ok = Boolean(tried?.reach) && summary.failed === 0 && summary.unreachable === 0;
      const current = await registry.getHost(host.id);
      const probe: HostProbe = {
        at,
        ways: tried?.ways ?? {},
        ...(tried?.reach ? { reach: tried.reach } : {}),
        ...(current.hostKey ? { hostKey: current.hostKey } : {}),
      };
      const facts = ok ? found.get(host.id) : undefined;
      const login = nextLogin(current.login, ok, tried?.ways, at, options);
      const updated = await registry.updateHost(host.id, {
        probe,
        login,
        ...(tried?.reach ? { reach: tried.reach } : {}),
        ...(facts ? { facts } : {}),
      });
      result[host.id] = {
        ...summary,
        probe,
        login: updated.login,
        ...(updated.facts ? { facts: updated.facts } : {}),
      };
    }
    const failed = hosts.filter((host) => {
      const line = result[host.id];
      return !line?.probe.reach || (line.failed ?? 0) > 0 || (line.unreachable ?? 0) > 0;
    });
    if (play && play.status !== 'successful' && play.status !== 'failed') {
      return { status: play.status, ...(play.reason ? { reason: play.reason } : {}), result };
    }
    if (failed.length === 0) return { status: 'successful', result };
    return {
      status: 'failed',
      reason: `cloudroot could not log in to ${failed.map((host) => host.id).join(', ')} (see each host's probe)`,
      result,
    };
  } finally {
    for (const [proxyId, forwardId] of opened)
      await deps.tunnels?.release(proxyId, forwardId).catch(() => undefined);
    await own?.close().catch(() => undefined);
  }
}

/** The result line of a host whose tries were the whole proof (no play): reached and become root, or why not. */
function triedSummary(tried: HostWays | undefined): HostSummary {
  if (!tried?.reach) return unreachableSummary(tried?.ways);
  if (tried.become && !tried.become.ok) {
    return {
      ok: 1,
      changed: 0,
      failed: 1,
      skipped: 0,
      unreachable: 0,
      firstError: {
        task: 'Become root as cloudroot (sudo -n true)',
        status: 'failed',
        msg: tried.become.detail ?? 'sudo -n true failed',
      },
    };
  }
  return { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
}

/** The job result line of a host no way reached: one unreachable, with the reasons of each way. */
function unreachableSummary(ways: HostProbe['ways'] | undefined): HostSummary {
  const msg = WAYS.flatMap((way) => {
    const found = ways?.[way];
    return found && !found.ok ? [`${way}: ${found.detail ?? found.reason ?? 'failed'}`] : [];
  }).join('; ');
  return {
    ok: 0,
    changed: 0,
    failed: 0,
    skipped: 0,
    unreachable: 1,
    firstError: { task: 'Reach the host as cloudroot', status: 'unreachable', msg: msg.slice(0, 2000) },
  };
}

/**
 * A working probe proves the login: a host not enrolled by Outpost was set up out of band, which is
 * the enrollment script (or what `enrolledBy` says). Only a refused key makes a login `failed`.
 */
function nextLogin(
  current: HostLogin,
  ok: boolean,
  ways: HostProbe['ways'] | undefined,
  at: string,
  options: ProbeHostsOptions,
): HostLogin {
  if (ok) {
    if (options.enrolledBy) return { state: 'enrolled', way: options.enrolledBy, at };
    if (current.state === 'enrolled') return current;
    return { state: 'enrolled', way: 'script', at };
  }
  const refused = WAYS.map((way) => ways?.[way]).find((found) => found?.reason === 'auth-failed');
  if (refused) {
    return {
      state: 'failed',
      at,
      reason: (refused.detail ?? 'cloudroot cannot log in with the project key').slice(0, 500),
    };
  }
  return current;
}
