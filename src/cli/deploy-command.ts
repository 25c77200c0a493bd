import { Command, InvalidArgumentError } from 'commander';
import type { AnsibleEvent } from '../ansible/ansible-event.ts';
import { FAILURE_BUDGET_PATTERN } from '../domain/failure-budget.ts';
import type { Proxy } from '../domain/proxy.ts';
import { parseSerial, type SerialStep } from '../domain/serial-batches.ts';
import { TELEGRAF_VERSION_PATTERN, TELEGRAF_VERSION_RULE } from '../domain/telegraf-version.ts';
import { ValidationError } from '../errors.ts';
import type { JobRecord } from '../queue/job-record.ts';
import type { ApiClient } from './api-client.ts';
import { followJob } from './follow-job.ts';
import { exitCodeOf } from './job-commands.ts';
import { parseWholeNumber } from './parse-whole-number.ts';
import { withLimits } from './login-commands.ts';
import { proxyOf, type HostView } from './registry-views.ts';

interface DeployOptions {
  project?: string;
  follow?: boolean;
  full?: boolean;
  verbose?: boolean;
  json?: boolean;
  timeout?: number;
  sliceSize?: number;
  maxFailures?: number | string;
  serial?: SerialStep[];
  telegrafVersion?: string;
}

/**
 * `outpost deploy [HOSTS...] [--project P] [--full] [--telegraf-version V] [--slice-size N] [--max-failures N|P%]
 * [--serial STEPS] [--follow [--verbose]] [--json]`: a deploy-agent job; with --follow, live progress per host
 * until it ends, then each host's verdict, exiting with the outcome.
 */
export function deployCommand(client: () => ApiClient, setExit: (code: number) => void): Command {
  return withLimits(new Command('deploy'), false)
    .description('deploy the Telegraf agent to hosts (every host of --project when none is named)')
    .argument('[hosts...]', 'host ids')
    .option('--project <id>', 'project of the hosts')
    .option('-f, --follow', 'show progress per host until the job ends, then each host’s verdict')
    .option('-v, --verbose', 'with --follow: the task stream too')
    .option('--json', 'print the job as JSON (the ended job with --follow)')
    .option('--full', 'run the play on every host, even those already right (skips the fast path)')
    .option(
      '--telegraf-version <version>',
      'install this Telegraf version: upgrade or downgrade',
      (value: string) => {
        if (!TELEGRAF_VERSION_PATTERN.test(value))
          throw new InvalidArgumentError(`${TELEGRAF_VERSION_RULE}, got ${JSON.stringify(value)}`);
        return value;
      },
    )
    .option(
      '--slice-size <n>',
      'hosts per slice (a big deploy runs as slices on any worker; default 50)',
      parseWholeNumber,
    )
    .option(
      '--max-failures <n|p%>',
      'failed hosts (a count or a percentage) past which no further slice starts',
      (value: string) => {
        if (!FAILURE_BUDGET_PATTERN.test(value))
          throw new InvalidArgumentError(
            `expected a count of hosts or a percentage such as 10%, got ${JSON.stringify(value)}`,
          );
        return value.endsWith('%') ? value : Number(value);
      },
    )
    .option(
      '--serial <steps>',
      'rolling batches, e.g. 5%,25%,100%: a batch starts once the previous one ended within --max-failures',
      (value: string) => {
        try {
          return parseSerial(value);
        } catch (error) {
          throw new InvalidArgumentError((error as Error).message);
        }
      },
    )
    .action(async (names: string[], opts: DeployOptions) => {
      if (names.length === 0 && !opts.project)
        throw new ValidationError(
          'hosts',
          'name the hosts to deploy to, or give --project for all of its hosts',
        );
      const options = {
        ...(opts.full ? { full: true } : {}),
        ...(opts.timeout !== undefined ? { timeoutSeconds: opts.timeout } : {}),
        ...(opts.telegrafVersion !== undefined ? { telegrafVersion: opts.telegrafVersion } : {}),
        ...(opts.sliceSize !== undefined ? { sliceSize: opts.sliceSize } : {}),
        ...(opts.maxFailures !== undefined ? { maxFailures: opts.maxFailures } : {}),
        ...(opts.serial !== undefined ? { serial: opts.serial } : {}),
      };
      const job = await client().request<JobRecord>('POST', '/v1/jobs', {
        kind: 'deploy-agent',
        ...(names.length > 0 ? { hosts: names } : {}),
        ...(opts.project ? { project: opts.project } : {}),
        ...(Object.keys(options).length > 0 ? { options } : {}),
      });
      process.stderr.write(`outpost: job ${job.id} ${job.status}\n`);
      if (!opts.follow) {
        if (opts.json) process.stdout.write(`${JSON.stringify(job, null, 2)}\n`);
        return;
      }
      const project = job.project ?? opts.project;
      const query = project ? `?project=${encodeURIComponent(project)}` : '';
      const [hosts, proxies] = await Promise.all([
        client().request<HostView[]>('GET', `/v1/hosts${query}`),
        client().request<Proxy[]>('GET', `/v1/proxies${query}`),
      ]);
      const targets = names.length > 0 ? names : hosts.map((host) => host.id);
      // Loaded when used: log-update and its terminal libraries are a third of --help's start-up.
      const { createDeployProgress } = await import('./deploy-progress.ts');
      const progress = opts.json
        ? undefined
        : createDeployProgress({
            hosts: targets,
            proxyOf: new Map(
              hosts.flatMap((host) => {
                const via = proxyOf(host, proxies).text;
                return targets.includes(host.id) && via !== '-' ? [[host.id, via] as const] : [];
              }),
            ),
            tty: Boolean(process.stdout.isTTY),
            verbose: Boolean(opts.verbose),
            stream: process.stdout,
          });
      const status = await followJob(client(), job.id, {
        onEntry: (entry) => {
          if (entry.type === 'event') progress?.event(JSON.parse(entry.data) as AnsibleEvent);
          if (entry.type === 'stdout') progress?.stdout(entry.data);
        },
        onReconnect: (seq) => process.stderr.write(`outpost: stream dropped after entry ${seq}; resuming\n`),
      });
      const ended = await client().request<JobRecord>('GET', `/v1/jobs/${encodeURIComponent(job.id)}`);
      if (opts.json) process.stdout.write(`${JSON.stringify(ended, null, 2)}\n`);
      else progress?.done(ended);
      setExit(exitCodeOf(status));
    });
}
