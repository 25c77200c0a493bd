import { mkdir, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildCommand } from '../../ansible/build-command.ts';
import { releaseControlSockets } from '../../ssh/release-control-dir.ts';
import type { RunResult } from '../../ansible/run-playbook.ts';
import type { HostSummary } from '../../ansible/summarize-run.ts';
import { explainReservedExtraVar } from '../../domain/reserved-extra-var.ts';
import { ValidationError } from '../../errors.ts';
import type { JobRecord } from '../../queue/job-record.ts';
import { explainRunDirError } from './explain-run-dir-error.ts';
import { DEFAULT_IDLE_TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS } from './default-timeouts.ts';
import type { JobDeps, PreparedInventory } from './job-deps.ts';
import type { JobOutcome, JobRun } from './job-run.ts';
import { writeLocalInventory } from './write-local-inventory.ts';

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
 * into the log, retries of unreachable hosts by the job's policy, secrets removed at the end.
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

    const deadline = Date.now() + (options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS[job.kind]) * 1000;
    let limit = options.limit;
    let hosts: Record<string, HostSummary> = {};
    let result: RunResult | undefined;
    for (let attempt = 0; attempt <= (options.retryUnreachable ?? 0); attempt += 1) {
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
      const argv = [command.file, ...command.args];
      await run.record({ command: argv });
      await writeFile(path.join(dir, 'command.json'), JSON.stringify(argv));
      result = await deps.runPlaybook(command, {
        signal: run.signal,
        timeoutMs: Math.max(1, deadline - Date.now()),
        idleTimeoutMs: (options.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000,
        killGraceMs: deps.killGraceMs ?? 5000,
        reapMarker: dir,
        onLine: (line) => run.log.write('stdout', line),
        onEvent: (event) => run.log.write('event', JSON.stringify(event)),
        onSpawn: (pgid) => void run.record({ pgid }).catch(() => undefined),
        waitForRoom: () => run.log.ready?.(),
      });
      hosts = { ...hosts, ...result.hosts };
      await writeFile(path.join(dir, 'result.json'), JSON.stringify(result, null, 2));
      const unreachable = Object.entries(result.hosts)
        .filter(([, h]) => h.unreachable > 0)
        .map(([host]) => host);
      if (result.outcome !== 'failed' || unreachable.length === 0 || run.signal.aborted) break;
      if (Date.now() >= deadline) break;
      limit = unreachable.join(',');
    }
    if (!result) throw new Error('no run took place');
    return {
      status: result.outcome,
      ...(result.reason ? { reason: result.reason } : {}),
      result: hosts,
      command: result.argv,
      ...(result.rc !== undefined ? { rc: result.rc } : {}),
    };
  } catch (error) {
    throw explainRunDirError(error, dir);
  } finally {
    await Promise.all(secretFiles.map((file) => rm(file, { force: true })));
    await Promise.all(controlDirs.map((dir) => releaseControlSockets(dir)));
  }
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
