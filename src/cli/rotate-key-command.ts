import { Command } from 'commander';
import type { JobRecord } from '../queue/job-record.ts';
import type { ApiClient } from './api-client.ts';
import { exitCodeOf, followAndPrint } from './job-commands.ts';

/**
 * Adds `rotate-key <id> [--follow] [--abandon]` to the `project` command: a rotate-key job (a new project key on
 * every enrolled proxy and host, the old one revoked); with --follow, its log until it ends and the
 * per-target result, exiting like `outpost job logs -f`.
 */
export function addRotateKeyCommand(
  commands: Command[],
  client: () => ApiClient,
  setExit: (code: number) => void,
): void {
  commands
    .find((command) => command.name() === 'project')
    ?.addCommand(
      new Command('rotate-key')
        .argument('<id>', 'the project')
        .description(
          'replace the project key on every enrolled proxy and host (the old key is revoked); safe to submit again after a failure',
        )
        .option('-f, --follow', 'show the job log until it ends, then the result per target')
        .option(
          '--abandon',
          'give up a rotation that failed: revoke its pending key everywhere and forget it',
        )
        .action(async (id: string, opts: { follow?: boolean; abandon?: boolean }) => {
          const job = await client().request<JobRecord>('POST', '/v1/jobs', {
            kind: 'rotate-key',
            project: id,
            ...(opts.abandon ? { options: { abandon: true } } : {}),
          });
          process.stderr.write(`outpost: job ${job.id} ${job.status}\n`);
          if (!opts.follow) return;
          const code = await followAndPrint(client(), job.id, job.status);
          const ended = await client().request<JobRecord>('GET', `/v1/jobs/${encodeURIComponent(job.id)}`);
          for (const [target, line] of Object.entries(ended.result ?? {})) {
            const { detail } = line as { detail?: string };
            process.stdout.write(`${target.padEnd(24)} ${detail ?? ''}\n`);
          }
          setExit(code === 0 ? exitCodeOf(ended.status) : code);
        }),
    );
}
