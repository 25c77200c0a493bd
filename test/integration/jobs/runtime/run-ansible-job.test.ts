import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlaybook } from '../../../../src/ansible/run-playbook.ts';
import { ValidationError } from '../../../../src/errors.ts';
import type { JobDeps } from '../../../../src/jobs/runtime/job-deps.ts';
import type { JobRun } from '../../../../src/jobs/runtime/job-run.ts';
import { runAnsibleJob } from '../../../../src/jobs/runtime/run-ansible-job.ts';
import type { JobRecord } from '../../../../src/queue/job-record.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
let runsDir: string;
let deps: JobDeps;

beforeAll(async () => {
  runsDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-run-job-'));
  deps = { rootDir: ROOT, runsDir, allowLocal: true, runPlaybook };
});

afterAll(async () => {
  if (runsDir) await rm(runsDir, { recursive: true, force: true });
});

/** A job run the way the worker makes one, its log kept in memory. */
function jobRun(job: Partial<JobRecord> & Pick<JobRecord, 'id' | 'kind'>): { run: JobRun; lines: string[] } {
  const lines: string[] = [];
  const run: JobRun = {
    job: { status: 'running', createdAt: new Date().toISOString(), hosts: ['localhost'], ...job },
    signal: new AbortController().signal,
    log: { write: (_type, data) => void lines.push(data), flush: () => Promise.resolve() },
    record: () => Promise.resolve(),
  };
  return { run, lines };
}

async function refusal(promise: Promise<unknown>): Promise<ValidationError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error instanceof ValidationError) return error;
  throw new Error(`expected a ValidationError, got ${String(error)}`);
}

describe('a job record whose extra vars name what Outpost sets (submitted around the API)', () => {
  it('is refused before any run, naming the variable, for a role variable and for a variable of the plan', async () => {
    const playbook = path.join(ROOT, 'test/fixtures/playbooks/ping.yml');
    const role = jobRun({
      id: 'job-role-var',
      kind: 'deploy-agent',
      options: { extraVars: { telegraf_influxdb_urls: ['http://203.0.113.66:8086'] } },
    });
    const byRole = await refusal(
      runAnsibleJob(deps, role.run, { playbook, extraVars: { telegraf_output: 'influxdb' } }),
    );
    expect(byRole.field).toBe('options.extraVars.telegraf_influxdb_urls');

    const planned = jobRun({
      id: 'job-plan-var',
      kind: 'run-playbook',
      playbook: 'test/fixtures/playbooks/ping.yml',
      options: { extraVars: { greeting: 'mine' } },
    });
    const byPlan = await refusal(
      runAnsibleJob(deps, planned.run, { playbook, extraVars: { greeting: 'outpost' } }),
    );
    expect(byPlan.field).toBe('options.extraVars.greeting');
    expect(byPlan.message).toMatch(/set by Outpost for this run/);
    // Nothing ran: no ansible-playbook line in the logs, no run dir left.
    expect([...role.lines, ...planned.lines]).toEqual([]);
    expect(await readdir(runsDir)).toEqual([]);
  });
});
