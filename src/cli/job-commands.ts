import { Argument, Command, Option } from 'commander';
import { JOB_KINDS, JOB_STATUSES, type JobRecord } from '../queue/job-record.ts';
import type { ApiClient } from './api-client.ts';
import { printJob } from './describe-job.ts';
import { followJob } from './follow-job.ts';
import { between, formatTime } from './format-time.ts';
import { parseWholeNumber } from './parse-whole-number.ts';
import { printRows } from './print-rows.ts';
import { printTimings } from './print-timings.ts';

/** Exit code of a job's outcome: 0 successful, 1 failed, 2 timeout, 3 canceled. */
export function exitCodeOf(status: string): number {
  return { successful: 0, failed: 1, timeout: 2, canceled: 3 }[status] ?? 1;
}

/**
 * Prints a job's entries: stdout lines as they are, status changes as `outpost:` lines. `announced` is
 * the status the caller already printed (submit's `queued`): it is not printed a second time.
 */
export async function followAndPrint(client: ApiClient, jobId: string, announced?: string): Promise<number> {
  let last = announced;
  const status = await followJob(client, jobId, {
    onEntry: (entry) => {
      if (entry.type === 'stdout')
        process.stdout.write(`${entry.slice ? `[${entry.slice}] ` : ''}${entry.data}\n`);
      if (entry.type !== 'status') return;
      const said = describeStatus(entry.data);
      if (said !== last) process.stderr.write(`outpost: job ${jobId} ${said}\n`);
      last = said;
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

/** The hosts of a job for a table cell: up to three names, then how many more. */
function summarizeHosts(job: JobRecord): string {
  if (job.slices && !job.hosts) return `${job.sliceHosts ?? '?'} host(s) in ${job.slices.length} slice(s)`;
  const hosts = job.hosts ?? Object.keys(job.result ?? {});
  if (hosts.length === 0) return job.selector ? JSON.stringify(job.selector) : '(project)';
  return hosts.length <= 3 ? hosts.join(',') : `${hosts.slice(0, 3).join(',')} +${hosts.length - 3}`;
}

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
    .option('--full', 'deploy-agent: run the play on every host, even those the fast path finds right')
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
        ...(opts.full ? { full: true } : {}),
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
      if (opts.follow)
        setExit(await followAndPrint(client(), created.id, opts.json ? undefined : created.status));
    });
  job
    .command('list')
    .description('list jobs, newest first')
    .option('--project <id>', 'jobs of this project')
    .addOption(new Option('--status <status>', 'jobs in this status').choices([...JOB_STATUSES]))
    .addOption(new Option('--kind <kind>', 'jobs of this kind').choices([...JOB_KINDS]))
    .option('--host <id>', 'jobs of this host')
    .option('--parent <id>', 'the slices of this sliced job, in slice order')
    .option('--limit <n>', 'at most this many (default 100)', parseWholeNumber)
    .option('--json', 'print JSON')
    .action(
      async (opts: {
        project?: string;
        status?: string;
        kind?: string;
        host?: string;
        parent?: string;
        limit?: number;
        json?: boolean;
      }) => {
        const query = new URLSearchParams();
        for (const key of ['project', 'status', 'kind', 'host', 'parent'] as const)
          if (opts[key]) query.set(key, opts[key]);
        if (opts.limit !== undefined) query.set('limit', String(opts.limit));
        const jobs = await client().request<JobRecord[]>('GET', `/v1/jobs?${query.toString()}`);
        if (opts.json) {
          printRows(jobs as unknown as Record<string, unknown>[], [], true);
          return;
        }
        printRows(
          jobs.map((one) => ({
            id: one.id,
            slice: one.slice?.label,
            kind: one.kind,
            project: one.project,
            status: one.status,
            hosts: summarizeHosts(one),
            created: formatTime(one.createdAt),
            ended: formatTime(one.endedAt),
            duration: between(
              one.startedAt,
              one.endedAt ?? (one.status === 'running' ? new Date().toISOString() : undefined),
            ),
            reason: one.reason,
          })),
          [
            'id',
            ...(opts.parent ? ['slice'] : []),
            ...['kind', 'project', 'status', 'hosts', 'created', 'ended', 'duration', 'reason'],
          ],
          false,
          { reason: 80 },
        );
      },
    );
  job
    .command('show <id>')
    .description('show a job: status, times, reason, command, and per host its counts and outcome')
    .option('--timings', 'where the time went: phases, each task of each play, each host')
    .option('--json', 'print the job as JSON')
    .action(async (id: string, opts: { timings?: boolean; json?: boolean }) => {
      const found = await client().request<JobRecord>('GET', `/v1/jobs/${encodeURIComponent(id)}`);
      if (opts.json) process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
      else if (opts.timings) printTimings(found);
      else printJob(found);
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
