import { getEventListeners } from 'node:events';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlaybook } from '../../../../src/ansible/run-playbook.ts';
import { ValidationError } from '../../../../src/errors.ts';
import type { JobDeps } from '../../../../src/jobs/runtime/job-deps.ts';
import type { JobRun } from '../../../../src/jobs/runtime/job-run.ts';
import { runAnsibleJob } from '../../../../src/jobs/runtime/run-ansible-job.ts';
import type { LogWriter } from '../../../../src/logs/log-writer.ts';
import type { JobRecord } from '../../../../src/queue/job-record.ts';
import { freePort } from '../../../support/free-port.ts';

const ROOT = path.resolve(import.meta.dirname, '../../../..');

describe('runAnsibleJob with real ansible-playbook', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'outpost-run-job-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('leaves no abort listener on the job signal after retrying an unreachable host', async () => {
    // A closed loopback port: ssh is refused at once, so the host is unreachable on every attempt.
    const port = await freePort();
    const controller = new AbortController();
    const lines: string[] = [];
    const log: LogWriter = { write: (_type, data) => void lines.push(data), flush: () => Promise.resolve() };
    const outcome = await runAnsibleJob(
      {
        rootDir: ROOT,
        runsDir: path.join(tmp, 'runs'),
        runPlaybook,
        prepareInventory: async (dir) => {
          const inventory = path.join(dir, 'hosts.yml');
          await writeFile(
            inventory,
            `all:\n  hosts:\n    gone:\n      ansible_host: 127.0.0.1\n      ansible_port: ${port}\n` +
              `      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n`,
          );
          return { inventory, secretFiles: [] };
        },
      },
      {
        job: {
          id: 'job-listeners',
          kind: 'run-playbook',
          status: 'running',
          createdAt: new Date().toISOString(),
          playbook: 'test/fixtures/playbooks/ping.yml',
          options: { retryUnreachable: 2, retryDelaySeconds: 0 },
        },
        signal: controller.signal,
        log,
        record: () => Promise.resolve(),
      },
      { playbook: path.join(ROOT, 'test/fixtures/playbooks/ping.yml') },
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.result?.gone?.unreachable).toBeGreaterThan(0);
    expect(lines.filter((line) => line.includes('retrying unreachable hosts'))).toHaveLength(2);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
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
  let runsDir: string;
  let deps: JobDeps;
  beforeAll(async () => {
    runsDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-run-job-'));
    deps = { rootDir: ROOT, runsDir, allowLocal: true, runPlaybook };
  });
  afterAll(async () => {
    await rm(runsDir, { recursive: true, force: true });
  });
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

  it("refuses inventory_hostname before the probe play could write its facts outside Outpost's facts dir", async () => {
    const factsDir = path.join(runsDir, 'facts');
    await mkdir(factsDir);
    const { run, lines } = jobRun({
      id: 'job-magic-var',
      kind: 'probe',
      options: { extraVars: { inventory_hostname: '../escaped' } },
    });
    const error = await refusal(
      runAnsibleJob(deps, run, {
        playbook: path.join(ROOT, 'playbooks/probe.yml'),
        extraVars: { outpost_facts_dir: factsDir },
      }),
    );
    expect(error.field).toBe('options.extraVars.inventory_hostname');
    expect(lines).toEqual([]);
    // Extra vars beat the host's own name: the facts would have gone to <facts>/../escaped.json.
    expect(await readdir(runsDir)).toEqual(['facts']);
    expect(await readdir(factsDir)).toEqual([]);
  });
});
