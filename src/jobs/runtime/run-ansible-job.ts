import { mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { strategyEnv } from '../../ansible/ansible-strategy.ts';
import { buildCommand } from '../../ansible/build-command.ts';
import { releaseControlSockets } from '../../ssh/release-control-dir.ts';
import type { AnsibleEvent } from '../../ansible/ansible-event.ts';
import { killProcessesMentioning } from '../../ansible/kill-process-group.ts';
import type { RunResult } from '../../ansible/run-playbook.ts';
import { describeFailedHosts, type HostSummary } from '../../ansible/summarize-run.ts';
import { explainReservedExtraVar } from '../../domain/reserved-extra-var.ts';
import { ValidationError } from '../../errors.ts';
import type { JobRecord } from '../../queue/job-record.ts';
import { classifySshFailure } from '../../ssh/classify-ssh-failure.ts';
import { explainSshFailure } from '../../ssh/explain-ssh-failure.ts';
import { explainRunDirError } from './explain-run-dir-error.ts';
import { DEFAULT_IDLE_TIMEOUT_SECONDS } from './default-timeouts.ts';
import { jobTimeLimit } from './job-time-limit.ts';
import type { JobDeps, PreparedInventory } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { writeLocalInventory } from './write-local-inventory.ts';
import { diagnoseUnreachable } from './diagnose-unreachable.ts';

/** What a kind adds to the common run: its playbook and its extra vars. */
export interface AnsibleJobPlan {
  /** Absolute playbook path. */
  playbook: string;
  /** Extra vars without secrets; they win over the job's own `options.extraVars`, which may not name them. */
  extraVars?: Record<string, unknown>;
  /** Extra vars holding secrets (credentials): written to a 0600 file removed when the run ends. */
  secretVars?: Record<string, unknown>;
}

/**
 * The common path of every kind: private run dir, inventory, extra vars, ansible-playbook with events
 * into the log, within the job's time limit; hosts lost on the way run once more (Outpost's own kinds;
 * `options.retryUnreachable` says otherwise); ssh's host key banners explained; secrets removed at the end.
 */
export async function runAnsibleJob(deps: JobDeps, run: JobRun, plan: AnsibleJobPlan): Promise<JobOutcome> {
  const { job } = run;
  const options = job.options ?? {};
  const dir = path.join(deps.runsDir, job.id);
  const secretFiles: string[] = [];
  const controlDirs: string[] = [];
  const extraVars = await mergeExtraVars(deps.rootDir, job, plan);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const prepared = await prepareInventory(deps, dir, run);
    secretFiles.push(...prepared.secretFiles);
    controlDirs.push(...(prepared.controlDirs ?? []));
    const extraVarsFile = path.join(dir, 'extra-vars.json');
    await writeFile(extraVarsFile, JSON.stringify(extraVars), { mode: 0o600 });
    const extraVarsFiles = [extraVarsFile];
    if (plan.secretVars) {
      const secretFile = path.join(dir, 'secret-vars.json');
      await writeFile(secretFile, JSON.stringify(plan.secretVars), { mode: 0o600 });
      secretFiles.push(secretFile);
      extraVarsFiles.push(secretFile);
    }

    const timeLimit = run.timeLimit ?? jobTimeLimit(job, 1);
    const deadline = run.deadline ?? Date.now() + timeLimit.seconds * 1000;
    // Outpost's own plays are idempotent: a host lost on the way (a proxy restarting) gets one more run.
    const retries = options.retryUnreachable ?? (job.kind === 'run-playbook' ? 0 : 1);
    let limit = options.limit;
    let hosts: Record<string, HostSummary> = {};
    let result: RunResult | undefined;
    let stats: Record<string, unknown> | undefined;
    // Hosts whose key changed or is unknown: ssh would refuse them again, so they get no retry.
    const keyProblems = new Set<string>();
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      if (attempt > 0) {
        run.log.write(
          'stdout',
          `outpost: retrying unreachable hosts ${limit ?? ''} (attempt ${attempt + 1})`,
        );
        await sleep((options.retryDelaySeconds ?? 5) * 1000, run.signal);
        if (run.signal.aborted) break;
      }
      const command = buildCommand({
        rootDir: deps.rootDir,
        playbook: plan.playbook,
        inventory: prepared.inventory,
        extraVarsFiles,
        ...(limit !== undefined ? { limit } : {}),
        ...(options.tags ? { tags: options.tags } : {}),
        ...(options.skipTags ? { skipTags: options.skipTags } : {}),
        ...(options.check ? { check: true } : {}),
        ...(options.diff ? { diff: true } : {}),
        ...(options.verbosity !== undefined ? { verbosity: options.verbosity } : {}),
        ...(options.forks !== undefined ? { forks: options.forks } : {}),
      });
      command.env.ANSIBLE_SSH_CONTROL_PATH_DIR = path.join(dir, 'cp');
      command.env.ANSIBLE_LOCAL_TEMP = path.join(dir, 'tmp');
      if (deps.ansibleStrategy) Object.assign(command.env, strategyEnv(deps.ansibleStrategy));
      const argv = [command.file, ...command.args];
      await run.record({ command: argv });
      await writeFile(path.join(dir, 'command.json'), JSON.stringify(argv));
      const progress = trackProgress();
      result = await deps.runPlaybook(command, {
        signal: run.signal,
        timeoutMs: Math.max(1, deadline - Date.now()),
        timeoutReason: `the job's time limit of ${timeLimit.seconds} s ran out (${timeLimit.why})`,
        explainHostError: (host, error) => {
          const explained = error.status === 'unreachable' ? explainSshFailure(error.msg, host) : undefined;
          if (explained) keyProblems.add(host);
          return explained?.message;
        },
        idleTimeoutMs: (options.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000,
        killGraceMs: deps.killGraceMs ?? 5000,
        reapMarker: dir,
        onLine: (line) => run.log.write('stdout', line),
        onEvent: (event) => {
          progress.see(event);
          run.log.write('event', JSON.stringify(event));
        },
        onSpawn: (pgid) => void run.record({ pgid }).catch(() => undefined),
        waitForRoom: () => run.log.ready?.(),
      });
      if (result.outcome === 'timeout' || result.outcome === 'canceled')
        progress.markStopped(result.hosts, result.reason ?? result.outcome);
      const unexplained = Object.entries(result.hosts).some(
        ([host, h]) => h.firstError?.status === 'unreachable' && !keyProblems.has(host),
      );
      if (prepared.sshConfig && unexplained && !run.signal.aborted) {
        for (const host of await diagnoseUnreachable(
          prepared.sshConfig,
          result.hosts,
          keyProblems,
          run.signal,
        ))
          keyProblems.add(host);
        // The diagnosis may have opened ssh masters of its own: nothing of the run outlives it.
        await killProcessesMentioning(dir);
      }
      hosts = { ...hosts, ...result.hosts };
      run.timings?.runs.push(result.timings);
      stats = mergeStats(stats, result.stats);
      await writeFile(path.join(dir, 'result.json'), JSON.stringify(result, null, 2));
      // Only a host lost on the way: a refused key or a changed host key would be refused again.
      const unreachable = Object.entries(result.hosts)
        .filter(
          ([host, h]) => h.unreachable > 0 && !keyProblems.has(host) && isTransient(h.firstError?.msg ?? ''),
        )
        .map(([host]) => host);
      if (result.outcome !== 'failed' || unreachable.length === 0 || run.signal.aborted) break;
      if (Date.now() >= deadline) break;
      limit = unreachable.join(',');
    }
    if (!result) throw new Error('no run took place');
    // Every host's own words (explained, retried), and a retry that worked hides no host failed earlier.
    const failedHosts =
      result.outcome === 'successful' || result.outcome === 'failed' ? describeFailedHosts(hosts) : '';
    const reason = failedHosts || result.reason;
    return {
      status: failedHosts ? 'failed' : result.outcome,
      ...(reason ? { reason } : {}),
      result: hosts,
      command: result.argv,
      ...(result.rc !== undefined ? { rc: result.rc } : {}),
      ...(stats ? { stats } : {}),
    };
  } catch (error) {
    throw explainRunDirError(error, dir);
  } finally {
    await Promise.all(secretFiles.map((file) => rm(file, { force: true })));
    await Promise.all(controlDirs.map((dir) => releaseControlSockets(dir)));
  }
}

/** The stats of every run of a job: a retry's per-host records join the first run's. */
function mergeStats(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (!before || !after) return after ?? before;
  const merged = { ...before };
  for (const [key, value] of Object.entries(after)) {
    const earlier = merged[key];
    merged[key] = isRecord(earlier) && isRecord(value) ? { ...earlier, ...value } : value;
  }
  return merged;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether an unreachable host's error may pass by itself (timeout, refused, no route), unlike a refused login. */
function isTransient(msg: string): boolean {
  const { reason } = classifySshFailure(msg);
  return reason !== 'auth-failed' && reason !== 'host-key-changed';
}

/**
 * Follows a run's events, so that a run stopped before its end (no recap) can say per host what it had
 * reached: its summary then counts the task it was stopped in as failed, with why, and `reached` names
 * the last task it had finished.
 */
function trackProgress() {
  let running: string | undefined;
  let ended = false;
  const finished = new Map<string, string>();
  return {
    see(event: AnsibleEvent): void {
      if (event.event === 'task_start') running = event.task;
      if (event.event === 'host_result') finished.set(event.host, event.task);
      if (event.event === 'recap') ended = true;
    },
    markStopped(hosts: Record<string, HostSummary>, why: string): void {
      if (ended) return;
      for (const [host, summary] of Object.entries(hosts)) {
        const reached = finished.get(host);
        if (reached) summary.reached = reached;
        if (summary.failed > 0 || summary.unreachable > 0) continue;
        summary.failed += 1;
        const at = reached === running || !running ? 'after' : 'at';
        summary.firstError = {
          task: running ?? 'the start of the play',
          status: 'failed',
          msg: `stopped ${at} this task, before the end of the play: ${why}`,
        };
      }
    },
  };
}

async function prepareInventory(deps: JobDeps, dir: string, run: JobRun): Promise<PreparedInventory> {
  const hosts = run.job.hosts ?? [];
  if (hosts.length === 1 && hosts[0] === 'localhost') {
    if (!deps.allowLocal)
      throw new ValidationError('hosts', 'runs on "localhost" are not enabled on this server');
    return writeLocalInventory(dir);
  }
  if (!deps.prepareInventory) throw new Error('no inventory writer is configured on this worker');
  return deps.prepareInventory(dir, run.job);
}

/**
 * The run's extra vars: the job's own under Outpost's, so Outpost's always win. A job's own var that names
 * one of Outpost's (reserved, or set by this plan) is refused: the API refuses it at submit, and a job
 * record that got around the API is refused here before anything runs.
 */
async function mergeExtraVars(
  rootDir: string,
  job: JobRecord,
  plan: AnsibleJobPlan,
): Promise<Record<string, unknown>> {
  const own = job.options?.extraVars ?? {};
  const names = Object.keys(own);
  if (names.length === 0) return { ...plan.extraVars, outpost_job_id: job.id };
  // Outpost's own plays are recognized by where they really are, whatever path led to them.
  const [root, playbook] = await Promise.all([realpath(rootDir), realpath(plan.playbook)]);
  const relative = path.relative(root, playbook).split(path.sep).join('/');
  for (const name of names) {
    const reason =
      explainReservedExtraVar(job.kind, relative, name) ??
      (name in (plan.extraVars ?? {}) || name in (plan.secretVars ?? {})
        ? `reserved: set by Outpost for this run of ${relative}`
        : undefined);
    if (reason) throw new ValidationError(`options.extraVars.${name}`, reason);
  }
  return { ...own, ...plan.extraVars, outpost_job_id: job.id };
}

/** Waits `ms` or until the job is canceled; its abort listener goes with it, so none outlives the run. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
