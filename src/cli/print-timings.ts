import type { JobRecord } from '../queue/job-record.ts';
import { printRows } from './print-rows.ts';

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * Prints where a job's time went (`outpost job show --timings`): its phases, then per play each task
 * (wall time, hosts, the sum and the longest of their durations, the slowest host) and each host.
 */
export function printTimings(job: JobRecord): void {
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  const total =
    job.startedAt && job.endedAt ? Date.parse(job.endedAt) - Date.parse(job.startedAt) : undefined;
  out(`job ${job.id} (${job.kind}, ${job.status})${total !== undefined ? `: ${seconds(total)}` : ''}`);
  const timings = job.timings;
  if (!timings) {
    out('no timings recorded (the job has not ended, or ended before it ran anything)');
    return;
  }
  if (timings.phases.length > 0)
    out(`phases: ${timings.phases.map((phase) => `${phase.name} ${seconds(phase.ms)}`).join(', ')}`);
  if (timings.runs.length === 0) out('no ansible-playbook run');
  for (const run of timings.runs) {
    out('');
    out(`${run.playbook}: ${seconds(run.wallMs)} (Ansible start-up ${seconds(run.startupMs)})`);
    printRows(
      run.tasks.map((task) => ({
        task: `${task.handler ? '(handler) ' : ''}${task.task}`.slice(0, 60),
        wall: seconds(task.wallMs),
        hosts: task.hosts,
        sum: seconds(task.totalMs),
        max: seconds(task.maxMs),
        slowest: task.slowestHost ?? '-',
      })),
      ['task', 'wall', 'hosts', 'sum', 'max', 'slowest'],
      false,
    );
    out('');
    printRows(
      Object.entries(run.hosts)
        .sort(([, a], [, b]) => b.totalMs - a.totalMs)
        .map(([host, timing]) => ({
          host,
          tasks: timing.tasks,
          sum: seconds(timing.totalMs),
          slowestTask: timing.slowestTask
            ? `${timing.slowestTask.slice(0, 50)} (${seconds(timing.slowestMs ?? 0)})`
            : '-',
        })),
      ['host', 'tasks', 'sum', 'slowestTask'],
      false,
    );
  }
}
