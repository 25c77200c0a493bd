/** Facts read at scrape time. */
export interface MetricSources {
  jobsByStatus(): Promise<Record<string, number>>;
  queueDepth(): Promise<number>;
  tunnelsUp?(): Promise<number> | number;
}

const BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * The service's own metrics in the Prometheus text format: jobs by status, queue depth, run durations,
 * entries streamed to clients, tunnels up.
 */
export class ServiceMetrics {
  readonly #sources: MetricSources;
  #entriesStreamed = 0;
  readonly #durations = new Map<string, { buckets: number[]; sum: number; count: number }>();

  constructor(sources: MetricSources) {
    this.#sources = sources;
  }

  /** Counts log entries sent to SSE, NDJSON and tail clients. */
  countStreamed(n = 1): void {
    this.#entriesStreamed += n;
  }

  /** Records how long a job ran, by its final status. */
  observeRun(status: string, seconds: number): void {
    const series = this.#durations.get(status) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) series.buckets[i] = (series.buckets[i] ?? 0) + 1;
    });
    series.sum += seconds;
    series.count += 1;
    this.#durations.set(status, series);
  }

  /** The exposition text. */
  async render(): Promise<string> {
    const lines: string[] = [];
    lines.push('# HELP outpost_jobs Jobs known, by status.', '# TYPE outpost_jobs gauge');
    for (const [status, count] of Object.entries(await this.#sources.jobsByStatus())) {
      lines.push(`outpost_jobs{status="${status}"} ${count}`);
    }
    lines.push('# HELP outpost_queue_depth Jobs waiting for a worker.', '# TYPE outpost_queue_depth gauge');
    lines.push(`outpost_queue_depth ${await this.#sources.queueDepth()}`);
    lines.push('# HELP outpost_job_duration_seconds Run time of jobs, by final status.');
    lines.push('# TYPE outpost_job_duration_seconds histogram');
    for (const [status, series] of this.#durations) {
      BUCKETS.forEach((bound, i) => {
        lines.push(
          `outpost_job_duration_seconds_bucket{status="${status}",le="${bound}"} ${series.buckets[i] ?? 0}`,
        );
      });
      lines.push(`outpost_job_duration_seconds_bucket{status="${status}",le="+Inf"} ${series.count}`);
      lines.push(`outpost_job_duration_seconds_sum{status="${status}"} ${series.sum}`);
      lines.push(`outpost_job_duration_seconds_count{status="${status}"} ${series.count}`);
    }
    lines.push('# HELP outpost_log_entries_streamed_total Log entries sent to clients.');
    lines.push('# TYPE outpost_log_entries_streamed_total counter');
    lines.push(`outpost_log_entries_streamed_total ${this.#entriesStreamed}`);
    lines.push('# HELP outpost_tunnels_up SSH tunnels held by this node.', '# TYPE outpost_tunnels_up gauge');
    lines.push(`outpost_tunnels_up ${(await this.#sources.tunnelsUp?.()) ?? 0}`);
    return `${lines.join('\n')}\n`;
  }
}
