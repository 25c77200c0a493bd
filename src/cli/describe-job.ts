import type { JobRecord } from '../queue/job-record.ts';
import { describeOutcome, type ResultLine } from './describe-outcome.ts';
import { between, formatTime } from './format-time.ts';
import { printFields } from './print-fields.ts';
import { printRows } from './print-rows.ts';

/**
 * `outpost job show`: the status and times, why it did not succeed, its slices (or its parent), the
 * command, then one row per host with its counts and outcome (the agent's verdict, the login, or the
 * first error).
 */
export function printJob(job: JobRecord): void {
  const hosts = job.hosts ?? [];
  printFields(`${job.id}  ${job.kind}  ${job.status}${job.cancelRequested ? ' (cancel requested)' : ''}`, [
    ['project', job.project],
    ['hosts', hosts.length > 0 ? hosts.join(', ') : undefined],
    ['selector', job.selector ? JSON.stringify(job.selector) : undefined],
    ['playbook', job.playbook],
    ['submitted by', job.submittedBy ? `${job.submittedBy.name} (${job.submittedBy.tokenId})` : undefined],
    ['created', formatTime(job.createdAt)],
    [
      'started',
      job.startedAt
        ? `${formatTime(job.startedAt)}  (queued ${between(job.createdAt, job.startedAt) ?? '?'})`
        : undefined,
    ],
    [
      'ended',
      job.endedAt
        ? `${formatTime(job.endedAt)}  (ran ${between(job.startedAt ?? job.createdAt, job.endedAt) ?? '?'})`
        : undefined,
    ],
    ['reason', job.reason],
    [
      'slices',
      job.slices
        ? `${job.slices.length} for ${job.sliceHosts ?? '?'} host(s): ${job.slices.join(', ')} (outpost job list --parent ${job.id})`
        : undefined,
    ],
    [
      'slice of',
      job.parent ? `${job.parent} (${job.slice?.label ?? '?'}, batch ${job.slice?.batch ?? '?'})` : undefined,
    ],
    ['retried', job.retries ? `${job.retries} time(s) after its worker died` : undefined],
    ['command', job.command?.join(' ')],
    ['exit code', job.rc === undefined ? undefined : String(job.rc)],
  ]);
  const result = Object.entries(job.result ?? {});
  if (result.length === 0) return;
  process.stdout.write('\n');
  printRows(
    result.map(([host, raw]) => {
      const line = raw as ResultLine;
      return {
        host,
        ok: line.ok,
        changed: line.changed,
        failed: line.failed,
        unreachable: line.unreachable,
        outcome: describeOutcome(line),
      };
    }),
    ['host', 'ok', 'changed', 'failed', 'unreachable', 'outcome'],
    false,
    { outcome: 160 },
  );
}
