import { Command } from 'commander';
import type { AnsibleEvent } from '../ansible/ansible-event.ts';
import type { JobRecord } from '../queue/job-record.ts';
import type { ApiClient } from './api-client.ts';
import { exitCodeOf } from './job-commands.ts';
import { followJob } from './follow-job.ts';
import { withLimits } from './login-commands.ts';

/** `outpost deploy HOSTS... [--project P] [--follow]`: a deploy-agent job, with live per-host progress. */
export function deployCommand(client: () => ApiClient, setExit: (code: number) => void): Command {
  return withLimits(new Command('deploy'), false)
    .description('deploy the Telegraf agent to hosts')
    .argument('<hosts...>', 'host ids')
    .option('--project <id>', 'project of the hosts')
    .option('-f, --follow', 'show progress per host until the job ends')
    .action(async (hosts: string[], opts: { project?: string; follow?: boolean; timeout?: number }) => {
      const job = await client().request<JobRecord>('POST', '/v1/jobs', {
        kind: 'deploy-agent',
        hosts,
        ...(opts.project ? { project: opts.project } : {}),
        ...(opts.timeout !== undefined ? { options: { timeoutSeconds: opts.timeout } } : {}),
      });
      process.stderr.write(`outpost: job ${job.id} ${job.status}\n`);
      if (!opts.follow) return;
      const progress = createProgress(hosts, Boolean(process.stdout.isTTY));
      const status = await followJob(client(), job.id, {
        onEntry: (entry) => {
          if (entry.type === 'event') progress.event(JSON.parse(entry.data) as AnsibleEvent);
        },
        onReconnect: (seq) => process.stderr.write(`outpost: stream dropped after entry ${seq}; resuming\n`),
      });
      progress.done(status);
      setExit(exitCodeOf(status));
    });
}

/** Per-host progress: redrawn in place on a terminal, one plain line per change otherwise. */
function createProgress(hosts: string[], tty: boolean) {
  const state = new Map<string, string>(hosts.map((host) => [host, 'waiting']));
  let drawn = 0;
  const draw = (): void => {
    if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`);
    for (const [host, text] of state) process.stdout.write(`\x1b[2K${host.padEnd(24)} ${text}\n`);
    drawn = state.size;
  };
  const set = (host: string, text: string): void => {
    state.set(host, text);
    if (tty) draw();
    else process.stdout.write(`${host} ${text}\n`);
  };
  if (tty) draw();
  return {
    event(event: AnsibleEvent): void {
      if (event.event === 'host_result') {
        const text =
          event.status === 'failed' || event.status === 'unreachable'
            ? `${event.status}: ${event.task}${event.msg ? ` — ${event.msg}` : ''}`
            : `${event.status}: ${event.task}`;
        set(event.host, text);
      }
      if (event.event === 'recap') {
        for (const [host, c] of Object.entries(event.hosts)) {
          set(host, `done ok=${c.ok} changed=${c.changed} failed=${c.failed} unreachable=${c.unreachable}`);
        }
      }
    },
    done(status: string): void {
      process.stdout.write(`job ${status}\n`);
    },
  };
}
