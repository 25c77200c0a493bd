import type { AnsibleEvent, HostCounts } from './ansible-event.ts';

/** The result of one host in a run. */
export interface HostSummary {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  /** The first error of the host (failed or unreachable, not ignored): task and message. */
  firstError?: { task: string; status: 'failed' | 'unreachable'; msg: string };
  /** Of a run stopped before its end (time limit, cancel): the last task the host had finished. */
  reached?: string;
}

/**
 * Builds the per-host summary of a run from its events: counts from the recap when there is one,
 * otherwise counted from the host results seen, plus the first error of each host.
 */
export function summarizeRun(events: readonly AnsibleEvent[]): Record<string, HostSummary> {
  const hosts: Record<string, HostSummary> = {};
  const get = (host: string): HostSummary =>
    (hosts[host] ??= { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 });
  let recap: Record<string, HostCounts> | undefined;
  for (const event of events) {
    if (event.event === 'play_start') event.hosts.forEach(get);
    if (event.event === 'recap') recap = event.hosts;
    if (event.event !== 'host_result') continue;
    const summary = get(event.host);
    summary[event.status === 'changed' ? 'changed' : event.status] += 1;
    if (event.status === 'changed') summary.ok += 1;
    const status = event.status;
    const isError = status === 'unreachable' || (status === 'failed' && event.ignore_errors !== true);
    if (isError && !summary.firstError) {
      summary.firstError = { task: event.task, status, msg: event.msg ?? '' };
    }
  }
  for (const [host, counts] of Object.entries(recap ?? {})) {
    const { firstError } = get(host);
    hosts[host] = {
      ok: counts.ok,
      changed: counts.changed,
      failed: counts.failed,
      skipped: counts.skipped,
      unreachable: counts.unreachable,
      ...(firstError ? { firstError } : {}),
    };
  }
  return hosts;
}

/** The failed and unreachable hosts of a run in one line each: `host: status at "task": message`, joined by `; `. */
export function describeFailedHosts(hosts: Record<string, HostSummary>): string {
  return Object.entries(hosts)
    .filter(([, h]) => h.failed > 0 || h.unreachable > 0)
    .map(
      ([host, h]) =>
        `${host}: ${h.firstError ? `${h.firstError.status} at ${JSON.stringify(h.firstError.task)}: ${h.firstError.msg}` : 'failed'}`,
    )
    .join('; ');
}
