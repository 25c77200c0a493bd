import { Argument, Command, Option } from 'commander';
import { JOB_KINDS, JOB_STATUSES, type JobRecord } from '../queue/job-record.ts';
import type { ApiClient } from './api-client.ts';
import { followJob } from './follow-job.ts';
import { printRows } from './print-rows.ts';

/** Exit code of a job's outcome: 0 successful, 1 failed, 2 timeout, 3 canceled. */
export function exitCodeOf(status: string): number {
  return { successful: 0, failed: 1, timeout: 2, canceled: 3 }[status] ?? 1;
}

/** Prints a job's entries: stdout lines as they are, status changes as `outpost:` lines. */
export async function followAndPrint(client: ApiClient, jobId: string): Promise<number> {
  const status = await followJob(client, jobId, {
    onEntry: (entry) => {
      if (entry.type === 'stdout') process.stdout.write(`${entry.data}\n`);
      if (entry.type === 'status')
        process.stderr.write(`outpost: job ${jobId} ${describeStatus(entry.data)}\n`);
    },
    onReconnect: (seq) => process.stderr.write(`outpost: stream dropped after entry ${seq}; resuming\n`),
  });
  return exitCodeOf(status);
}

function describeStatus(data: string): string {
  const { status, reason } = JSON.parse(data) as { status: string; reason?: string };
  return reason ? `${status}: ${reason}` : status;
}

const list = (value: string): string[] => value.split(',').filter(Boolean);

/** `outpost job submit|list|show|cancel|logs`. */
export function jobCommand(client: () => ApiClient, setExit: (code: number) => void): Command {
  const job = new Command('job').description('submit and watch jobs');
  job
    .command('submit')
    .description('submit a job')
    .addArgument(new Argument('<kind>', 'job kind').choices([...JOB_KINDS]))
    .option('--project <id>', 'project')
    .option('--hosts <ids>', 'host ids, comma separated', list)
    .option('--playbook <path>', 'playbook (run-playbook): under playbooks/ or test/fixtures/playbooks/')
    .option('--limit <pattern>', 'ansible --limit')
    .option('--tags <tags>', 'ansible --tags, comma separated', list)
    .option('--check', 'ansible --check')
    .option('--diff', 'ansible --diff')
    .option('--extra-vars <json>', 'extra vars as a JSON object')
    .option('--timeout <seconds>', 'job timeout', Number)
    .option(
      '--safe-to-rerun',
      'the playbook may run again from the start: a worker that shuts down re-queues the job instead of failing it',
    )
    .option('--idempotency-key <key>', 'the same key returns the same job')
    .option('-f, --follow', 'follow the job to its end')
    .option('--json', 'print the job as JSON')
    .action(async (kind: string, opts: Record<string, unknown>) => {
      const options = {
        ...(opts.limit ? { limit: opts.limit } : {}),
        ...(opts.tags ? { tags: opts.tags } : {}),
        ...(opts.check ? { check: true } : {}),
        ...(opts.diff ? { diff: true } : {}),
        ...(opts.extraVars ? { extraVars: JSON.parse(opts.extraVars as string) as unknown } : {}),
        ...(opts.timeout ? { timeoutSeconds: opts.timeout } : {}),
        ...(opts.safeToRerun ? { safeToRerun: true } : {}),
      };
      const body = {
        kind,
        ...(opts.project ? { project: opts.project } : {}),
        ...(opts.hosts ? { hosts: opts.hosts } : {}),
        ...(opts.playbook ? { playbook: opts.playbook } : {}),
        ...(Object.keys(options).length > 0 ? { options } : {}),
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
      };
      const created = await client().request<JobRecord>('POST', '/v1/jobs', body);
      if (opts.json) process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      else process.stderr.write(`outpost: job ${created.id} ${created.status}\n`);
      if (opts.follow) setExit(await followAndPrint(client(), created.id));
    });
  job
    .command('list')
    .description('list jobs, newest first')
    .addOption(new Option('--status <status>').choices([...JOB_STATUSES]))
    .addOption(new Option('--kind <kind>').choices([...JOB_KINDS]))
    .option('--host <id>', 'jobs of this host')
    .option('--json', 'print JSON')
    .action(async (opts: { status?: string; kind?: string; host?: string; json?: boolean }) => {
      const query = new URLSearchParams();
      for (const key of ['status', 'kind', 'host'] as const) if (opts[key]) query.set(key, opts[key]);
      const jobs = await client().request<JobRecord[]>('GET', `/v1/jobs?${query.toString()}`);
      printRows(
        jobs as unknown as Record<string, unknown>[],
        ['id', 'kind', 'status', 'hosts', 'createdAt', 'reason'],
        Boolean(opts.json),
      );
    });
  job
    .command('show <id>')
    .description('show a job: status, per-host result, timings, command')
    .action(async (id: string) => {
      process.stdout.write(
        `${JSON.stringify(await client().request('GET', `/v1/jobs/${encodeURIComponent(id)}`), null, 2)}\n`,
      );
    });
  job
    .command('cancel <id>')
    .description('cancel a queued or running job')
    .action(async (id: string) => {
      const canceled = await client().request<JobRecord>('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`);
      process.stderr.write(
        `outpost: job ${canceled.id} ${canceled.status}${canceled.cancelRequested ? ' (cancel requested)' : ''}\n`,
      );
    });
  job
    .command('logs <id>')
    .description("print a job's output; -f follows it live and exits with the job's outcome")
    .option('-f, --follow', 'follow until the job ends, resuming after a dropped connection')
    .action(async (id: string, opts: { follow?: boolean }) => {
      if (opts.follow) {
        setExit(await followAndPrint(client(), id));
        return;
      }
      process.stdout.write(await client().request<string>('GET', `/v1/jobs/${encodeURIComponent(id)}/log`));
    });
  return job;
}
