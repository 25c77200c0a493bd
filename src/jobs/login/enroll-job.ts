import type { HostSummary } from '../../ansible/summarize-run.ts';
import type { Host, HostLogin, HostProbe } from '../../domain/host.ts';
import { oneLine } from '../../ssh/classify-ssh-failure.ts';
import { enrollTargets, takeCredentials } from './enroll-targets.ts';
import type { JobDeps } from '../runtime/job-deps.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import { requireLoginDeps } from './login-deps.ts';
import { probeHosts } from './probe-hosts.ts';
import { reachOf } from '../../domain/reach-of.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import { checkBanners } from './try-reach-ways.ts';
import { resolveLoginTargets } from './resolve-login-targets.ts';
import { verifyProxyLogins, type ProxyLoginCheck } from './verify-proxy-logins.ts';

/** One target's line of an enroll job's result. */
export type EnrolledLine = HostSummary & {
  pinned?: 'recorded' | 'unchanged' | 'changed';
  /** Hosts: the login state recorded. */
  login?: HostLogin;
  /** Hosts: the probe that proved the login. */
  probe?: HostProbe;
  facts?: Host['facts'];
  /** Proxies: cloudroot logs in with the project key and `sudo -n true` works. */
  verified?: ProxyLoginCheck;
};

/**
 * `enroll`: creates cloudroot (key-only, passwordless sudo, the admin and project keys) on the job's
 * hosts — and proxies named in `hosts` — with the credentials given once (`credentials.user`, default
 * root, and a `password` or a `privateKey`; with a key, the password is only sudo's). Records per host
 * login `enrolled` (way password|key) or `failed` with the first error (a host enrolled before stays
 * enrolled), then proves the login: cloudroot with the project key and `sudo -n true` through every way
 * (hosts, with the facts the play read) or `sudo -n true` (proxies). A play stopped by the job's time
 * limit or a cancel records per host the task it had reached.
 */
export async function enrollJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  const login = requireLoginDeps(deps, 'enroll');
  const credentials = takeCredentials(run);
  const targets = await resolveLoginTargets(login.registry, run.job, 'hosts');
  // The direct ways' banner checks need no login: they run while the enrollment plays.
  const connectTimeoutSeconds = run.job.options?.connectTimeoutSeconds;
  const banners = checkBanners(targets.hosts, {
    signal: run.signal,
    ...(connectTimeoutSeconds !== undefined ? { connectTimeoutSeconds } : {}),
  });
  const enrollment = await enrollTargets(login, run, targets, credentials);

  const result: Record<string, EnrolledLine> = { ...enrollment.lines };
  const at = new Date().toISOString();
  const failedLogin = (reason: string): HostLogin => ({ state: 'failed', at, reason: reason.slice(0, 500) });
  for (const host of targets.hosts) {
    if (enrollment.enrolled.has(host.id)) continue;
    const line = enrollment.lines[host.id];
    const reason = line?.firstError?.msg ?? enrollment.outcome.reason ?? 'enrollment failed';
    // A host enrolled before keeps its working login: this run's failure is in its result line.
    const kept = host.login.state === 'enrolled' ? host.login : undefined;
    const updated =
      kept ?? (await login.registry.updateHost(host.id, { login: failedLogin(oneLine(reason)) })).login;
    result[host.id] = { ...emptyLine(), ...line, login: updated };
  }
  // Stopped (time limit, cancel): the play ended on no host, so nothing more is proven or recorded.
  if (enrollment.outcome.status === 'canceled' || enrollment.outcome.status === 'timeout') {
    return { ...enrollment.outcome, result };
  }
  const enrolledHosts = targets.hosts.filter((host) => enrollment.enrolled.has(host.id));
  // A failed early check says nothing of a host the play reached directly: its sshd may have come back for
  // a retry. Only a host behind a proxy keeps it (its direct way may well be closed).
  const proxies = await login.registry.listProxies({ project: targets.project });
  for (const host of enrolledHosts) {
    const early = await banners.get(host.id);
    if (early && !early.ok && reachOf(host, selectProxy(host, proxies)) === 'direct') banners.delete(host.id);
  }
  // The play read the facts as root already: the probe only proves cloudroot's key and sudo, way by way.
  const probed = await probeHosts(
    login,
    run,
    await Promise.all(enrolledHosts.map((h) => login.registry.getHost(h.id))),
    { enrolledBy: enrollment.way, facts: enrollment.facts, banners },
  );
  for (const host of enrolledHosts) {
    const check = probed.result[host.id];
    let hostLogin = check?.login;
    // Proven only by this job's own check: a login kept from before does not hide that it failed now.
    const proven = check?.probe.reach !== undefined && check.failed === 0 && check.unreachable === 0;
    if (check && !proven) {
      const why = check.firstError?.msg ?? 'cloudroot could not log in afterwards';
      hostLogin = (
        await login.registry.updateHost(host.id, { login: failedLogin(oneLine(`enrolled, but ${why}`)) })
      ).login;
    }
    result[host.id] = {
      ...emptyLine(),
      ...enrollment.lines[host.id],
      ...(hostLogin ? { login: hostLogin } : {}),
      ...(check ? { probe: check.probe, ...(check.facts ? { facts: check.facts } : {}) } : {}),
    };
  }
  const enrolledProxies = targets.proxies.filter((proxy) => enrollment.enrolled.has(proxy.id));
  const verified = await verifyProxyLogins(login, run, targets.project, enrolledProxies);
  for (const proxy of enrolledProxies) {
    const check = verified[proxy.id];
    result[proxy.id] = {
      ...emptyLine(),
      ...enrollment.lines[proxy.id],
      ...(check ? { verified: check } : {}),
    };
  }

  // A host counts only when this run's play worked on it and the check after it: a login kept from
  // before does not make a failed enrollment a success.
  const bad = Object.keys(result).filter((id) => {
    const line = result[id];
    return targets.hosts.some((h) => h.id === id)
      ? !enrollment.enrolled.has(id) || line?.login?.state !== 'enrolled'
      : line?.verified?.ok !== true;
  });
  return {
    status: bad.length === 0 ? 'successful' : 'failed',
    ...(bad.length > 0 ? { reason: notEnrolled(bad, result) } : {}),
    result,
    ...(enrollment.outcome.command ? { command: enrollment.outcome.command } : {}),
    ...(enrollment.outcome.rc !== undefined ? { rc: enrollment.outcome.rc } : {}),
  };
}

/** The job's reason: each target that is not enrolled, with why (its first error, or the check after). */
function notEnrolled(ids: string[], result: Record<string, EnrolledLine>): string {
  const why = (id: string): string => {
    const line = result[id];
    return line?.firstError?.msg ?? line?.verified?.detail ?? line?.login?.reason ?? 'see its result';
  };
  return `not enrolled: ${ids.map((id) => `${id} (${oneLine(why(id))})`).join('; ')}`.slice(0, 2000);
}

function emptyLine(): HostSummary {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
}
