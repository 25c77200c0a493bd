import path from 'node:path';
import type { HostSummary } from '../../ansible/summarize-run.ts';
import type { Host } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { ValidationError, quote } from '../../errors.ts';
import { hostAlias, proxyAlias } from '../../inventory/aliases.ts';
import { classifySshFailure } from '../../ssh/classify-ssh-failure.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import type { JobDeps } from '../runtime/job-deps.ts';
import { requireLoginDeps, type LoginDeps } from './login-deps.ts';
import { mapLimit } from '../runtime/map-limit.ts';
import { runSsh } from '../../ssh/run-ssh.ts';
import { runTargetedPlaybook } from '../runtime/run-targeted-playbook.ts';
import { preparedInventory } from '../runtime/prepared-inventory.ts';
import { withScratchInventory } from '../runtime/with-scratch-inventory.ts';

/** One target's line of a rotate-key job's result. */
export type RotatedLine = HostSummary & {
  /** Which project key(s) cloudroot accepts on the target when the job ends, as far as the job knows. */
  keys: 'new' | 'current' | 'current+next' | 'unknown';
  /** Whether the current (old) project key still logs in: true on every target when the job failed before promoting. */
  currentKeyWorks: boolean;
  /** What happened on this target. */
  detail: string;
};

/** One step of a rotation: what it does, and why the job ends after it (undefined: go on). */
interface RotationStep {
  title: string;
  run(): Promise<{ why: string; outcome?: JobOutcome } | undefined>;
}

/** The targets of a rotation: the project's proxies with a pinned host key, its enrolled hosts. */
interface RotationTargets {
  project: string;
  proxies: Proxy[];
  allProxies: Proxy[];
  hosts: Host[];
}

/**
 * `rotate-key`: replaces a project's key on every enrolled proxy and host of the project.
 * 1. a next key is made (or the pending one reused: a retry) and authorized beside the current key,
 *    logging in with the current key; 2. cloudroot must log in with the next key everywhere (hosts
 *    through their proxies); 3. the old key is revoked, logging in with the next key (keys someone
 *    else added stay); 4. the next key is promoted, so inventories and the tunnel keeper use it.
 * Any failure before 4 leaves the current key working on every target (a failed revocation is rolled
 * back), and says so per target. Retry: submit rotate-key again (the pending next key is reused).
 * Abandon: a rotate-key job with `options.abandon: true` revokes the pending key everywhere and forgets it.
 */
export async function rotateKeyJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  const login = requireLoginDeps(deps, 'rotate-key');
  const targets = await resolveRotationTargets(login, run);
  return withRotationLock(login, run, targets.project, () => rotate(login, run, targets));
}

/** How long a rotation lease lasts without renewal: a worker killed mid-rotation blocks the next one this long. */
const ROTATION_LOCK_MS = 60_000;

/**
 * Runs `body` holding the project's rotation lease (renewed every ttl/3): two rotations of one project
 * at once would authorize, revoke and promote each other's keys. A job that finds the lease taken fails
 * at once, naming the job that holds it.
 */
async function withRotationLock(
  deps: LoginDeps,
  run: JobRun,
  project: string,
  body: () => Promise<JobOutcome>,
): Promise<JobOutcome> {
  const owner = run.job.id;
  const lock = await deps.keys.lockRotation(project, owner, ROTATION_LOCK_MS);
  if (!lock.locked) {
    return {
      status: 'failed',
      reason: `project ${quote(project)} is being rotated by job ${quote(lock.holder)}; nothing was changed: submit rotate-key again when that job has ended (the rotation of a worker that died holds the project for up to ${ROTATION_LOCK_MS / 1000} s)`,
      result: {},
    };
  }
  const renew = setInterval(() => {
    deps.keys.renewRotationLock(project, owner, ROTATION_LOCK_MS).then(
      (held) => {
        if (!held) run.log.write('stdout', `outpost: rotate-key ${project}: the rotation lease was lost`);
      },
      () => undefined, // Redis unreachable: the next tick tries again; the lease outlives two misses.
    );
  }, ROTATION_LOCK_MS / 3);
  try {
    return await body();
  } finally {
    clearInterval(renew);
    await deps.keys.unlockRotation(project, owner).catch(() => undefined);
  }
}

async function rotate(login: LoginDeps, run: JobRun, targets: RotationTargets): Promise<JobOutcome> {
  const { project } = targets;
  const ids = [...targets.proxies.map((p) => p.id), ...targets.hosts.map((h) => h.id)];
  const say = (text: string): void => run.log.write('stdout', `outpost: rotate-key ${project}: ${text}`);
  const admin = await login.keys.ensureAdminKey();
  if (run.job.options?.abandon) return abandonRotation(login, run, targets, admin);
  const { current, next } = await login.keys.beginRotation(project);
  const lines: Record<string, RotatedLine> = {};
  const mark = (id: string, line: Partial<RotatedLine>): void => {
    lines[id] = { ...emptyLine(), ...lines[id], ...line };
  };
  for (const id of ids) mark(id, { keys: 'current', currentKeyWorks: true, detail: 'not reached yet' });
  const notFinished = (why: string, outcome?: JobOutcome): JobOutcome => ({
    status:
      outcome && outcome.status !== 'successful' && outcome.status !== 'failed' ? outcome.status : 'failed',
    reason: `${why}; the key was not rotated: the current project key still logs in ${
      Object.values(lines).every((line) => line.currentKeyWorks)
        ? 'on every target'
        : 'where currentKeyWorks is true'
    }. Submit rotate-key again to retry (the pending next key is reused), or with options.abandon to give up`,
    result: lines,
    ...(outcome?.command ? { command: outcome.command } : {}),
  });

  let revoked: JobOutcome | undefined;
  // The four steps, run in order by one loop; a step that returns a reason ends the job there.
  const steps: RotationStep[] = [
    {
      title: `authorizing the next key beside the current one on ${ids.join(', ')}`,
      run: async () => {
        const added = await runCloudroot(login, run, targets, 'add', {
          loginKey: await login.keys.projectPrivateKey(project),
          authorized: [admin, current, next],
          revoked: [],
        });
        const notAdded = failedTargets(added, ids);
        for (const id of ids) {
          const failed = notAdded.get(id);
          mark(id, {
            ...added.result?.[id],
            keys: failed ? 'current' : 'current+next',
            detail: failed
              ? `next key not authorized: ${failed}`
              : 'next key authorized beside the current one',
          });
        }
        if (notAdded.size > 0)
          return { why: `next key not authorized on ${[...notAdded.keys()].join(', ')}`, outcome: added };
        return undefined;
      },
    },
    {
      title: 'checking that cloudroot logs in with the next key everywhere',
      run: async () => {
        const refused = await checkLogins(
          login,
          run,
          targets,
          await login.keys.nextProjectPrivateKey(project),
        );
        for (const [id, why] of refused) mark(id, { detail: `next key authorized but refused: ${why}` });
        if (refused.size > 0)
          return { why: `the next key does not log in on ${[...refused.keys()].join(', ')}` };
        return undefined;
      },
    },
    {
      title: 'revoking the old key, logging in with the next key',
      run: async () => {
        const nextKey = await login.keys.nextProjectPrivateKey(project);
        revoked = await runCloudroot(login, run, targets, 'revoke', {
          loginKey: nextKey,
          authorized: [admin, next],
          revoked: [current],
        });
        const notRevoked = failedTargets(revoked, ids);
        if (notRevoked.size === 0) return undefined;
        say(
          `revocation failed on ${[...notRevoked.keys()].join(', ')}: authorizing the current key again everywhere`,
        );
        const restored = await runCloudroot(login, run, targets, 'restore', {
          loginKey: nextKey,
          authorized: [admin, current, next],
          revoked: [],
        });
        const notRestored = failedTargets(restored, ids);
        for (const id of ids) {
          const why = notRevoked.get(id);
          const lost = notRestored.get(id);
          mark(id, {
            ...revoked.result?.[id],
            keys: lost ? 'unknown' : 'current+next',
            currentKeyWorks: !lost,
            detail: lost
              ? `old key maybe revoked and not restored (${lost}): the next key logs in here; retry the rotation`
              : why
                ? `old key not revoked (${why}); current and next keys accepted`
                : 'old key revoked, then authorized again (rolled back); current and next keys accepted',
          });
        }
        return { why: `old key not revoked on ${[...notRevoked.keys()].join(', ')}`, outcome: revoked };
      },
    },
    {
      title: 'promoting the next key',
      run: async () => {
        await login.registry.promoteProjectKey(project, await login.keys.promotion(project));
        for (const id of ids) {
          mark(id, {
            ...revoked?.result?.[id],
            keys: 'new',
            currentKeyWorks: false,
            detail: 'rotated: the new key logs in, the old key is revoked',
          });
        }
        return undefined;
      },
    },
  ];
  for (const [index, step] of steps.entries()) {
    say(`step ${index + 1}/${steps.length}: ${step.title}`);
    const stopped = await step.run();
    if (stopped) return notFinished(stopped.why, stopped.outcome);
  }
  say('done: inventories and the tunnel keeper use the new key from now on');
  return { status: 'successful', result: lines, ...(revoked?.command ? { command: revoked.command } : {}) };
}

/**
 * `options.abandon`: takes the pending next key off every target (logging in with the current key,
 * which a failed rotation left working) and forgets it. Without a pending rotation, does nothing.
 */
async function abandonRotation(
  deps: LoginDeps,
  run: JobRun,
  targets: RotationTargets,
  admin: string,
): Promise<JobOutcome> {
  const { project } = targets;
  if (!(await deps.keys.rotationPending(project))) {
    run.log.write('stdout', `outpost: rotate-key ${project}: no rotation pending, nothing to abandon`);
    return { status: 'successful', result: {} };
  }
  const { current, next } = await deps.keys.beginRotation(project);
  run.log.write('stdout', `outpost: rotate-key ${project}: abandoning: revoking the pending next key`);
  const outcome = await runCloudroot(deps, run, targets, 'abandon', {
    loginKey: await deps.keys.projectPrivateKey(project),
    authorized: [admin, current],
    revoked: [next],
  });
  const ids = [...targets.proxies.map((p) => p.id), ...targets.hosts.map((h) => h.id)];
  const failed = failedTargets(outcome, ids);
  const result: Record<string, RotatedLine> = {};
  for (const id of ids) {
    const why = failed.get(id);
    result[id] = {
      ...emptyLine(),
      ...outcome.result?.[id],
      keys: why ? 'unknown' : 'current',
      currentKeyWorks: !why,
      detail: why
        ? `pending key not revoked: ${why}`
        : 'rotation abandoned: the current key logs in, the pending key is revoked',
    };
  }
  if (failed.size > 0) {
    return {
      status: outcome.status === 'successful' ? 'failed' : outcome.status,
      reason: `pending key not revoked on ${[...failed.keys()].join(', ')}; it stays pending: submit the abandon again once they are reachable`,
      result,
    };
  }
  await deps.keys.abandonRotation(project);
  return { status: 'successful', result, ...(outcome.command ? { command: outcome.command } : {}) };
}

/** The project's proxies with a pinned host key and its enrolled hosts; a job names its project only. */
async function resolveRotationTargets(deps: LoginDeps, run: JobRun): Promise<RotationTargets> {
  const { job } = run;
  if (!job.project) throw new ValidationError('project', 'a rotate-key job needs a project');
  if (job.hosts || job.selector)
    throw new ValidationError('hosts', 'a rotate-key job is for a whole project: give no hosts or selector');
  const project = (await deps.registry.getProject(job.project)).id;
  const allProxies = await deps.registry.listProxies({ project });
  const proxies = allProxies.filter((proxy) => proxy.hostKey !== undefined);
  const hosts = (await deps.registry.listHosts({ project })).filter(
    (host) => host.login?.state === 'enrolled',
  );
  if (proxies.length + hosts.length === 0)
    throw new ValidationError('project', `project ${quote(project)} has no enrolled proxy or host`);
  return { project, proxies, allProxies, hosts };
}

/**
 * Runs playbooks/enroll.yml as cloudroot (become through its sudo) on every target with the given
 * keys; one play for proxies and hosts, as the login key works on the proxies during the whole play.
 * Ends the run's control masters afterwards, so no later step reuses a login made with another key.
 */
async function runCloudroot(
  deps: LoginDeps,
  run: JobRun,
  targets: RotationTargets,
  step: string,
  keys: { loginKey: string; authorized: string[]; revoked: string[] },
): Promise<JobOutcome> {
  const ids = [...targets.proxies.map((p) => p.id), ...targets.hosts.map((h) => h.id)];
  const input = {
    dir: path.join(deps.runsDir, run.job.id, step),
    project: targets.project,
    hosts: targets.hosts,
    proxies: targets.allProxies,
    keys: { project: keys.loginKey },
  };
  return withScratchInventory(input, (written) =>
    runTargetedPlaybook(deps, run, {
      playbook: 'enroll.yml',
      targets: ids,
      extraVars: {
        cloudroot_authorized_keys: keys.authorized,
        cloudroot_revoked_keys: keys.revoked,
        cloudroot_bootstrap_python: false,
        outpost_rotation_step: step,
      },
      prepareInventory: () => Promise.resolve(preparedInventory(written, [written.projectKey])),
    }),
  );
}

/** Logs in as cloudroot with `privateKey` to every target (hosts through their proxies); resolves the refusals. */
async function checkLogins(
  deps: LoginDeps,
  run: JobRun,
  targets: RotationTargets,
  privateKey: string,
): Promise<Map<string, string>> {
  const refused = new Map<string, string>();
  const input = {
    dir: path.join(deps.runsDir, run.job.id, 'verify'),
    project: targets.project,
    hosts: targets.hosts,
    proxies: targets.allProxies,
    keys: { project: privateKey },
  };
  await withScratchInventory(input, async (written) => {
    const checks = [
      ...targets.proxies.map((proxy) => ({ id: proxy.id, alias: proxyAlias(proxy.id), proxy })),
      ...targets.hosts.map((host) => ({ id: host.id, alias: hostAlias(host.id), proxy: undefined })),
    ];
    await mapLimit(checks, 8, async ({ id, alias, proxy }) => {
      const ssh = await runSsh(written.sshConfig, alias, 'true', { signal: run.signal });
      if (ssh.exitCode !== 0) refused.set(id, classifySshFailure(ssh.stderr, proxy).detail);
      run.log.write(
        'stdout',
        `outpost: next key on ${id}: ${ssh.exitCode === 0 ? 'logs in' : (refused.get(id) ?? 'refused')}`,
      );
    });
  });
  return refused;
}

/** Targets the play did not go through cleanly, with the first error. */
function failedTargets(outcome: JobOutcome, ids: string[]): Map<string, string> {
  const failed = new Map<string, string>();
  for (const id of ids) {
    const line = outcome.result?.[id];
    if (line && line.failed === 0 && line.unreachable === 0 && line.ok > 0 && outcome.status !== 'canceled')
      continue;
    failed.set(id, (line?.firstError?.msg ?? outcome.reason ?? 'the play did not run').slice(0, 300));
  }
  return failed;
}

function emptyLine(): RotatedLine {
  return {
    ok: 0,
    changed: 0,
    failed: 0,
    skipped: 0,
    unreachable: 0,
    keys: 'current',
    currentKeyWorks: true,
    detail: '',
  };
}
