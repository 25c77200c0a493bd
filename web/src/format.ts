/** How long ago `iso` was, in words a person scans quickly ("12 s ago", "3 h ago"); "never" when unset. */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return 'never';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86_400)} d ago`;
}

/** A duration in seconds as `1 h 02 min`, `3 min 05 s` or `12.3 s`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const h = Math.floor(seconds / 3600);
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${String(s).padStart(2, '0')} s`;
}

/** How long a job ran (`formatDuration`), or `fallback` while it has not both started and ended. */
export function formatRun(job: { startedAt?: string; endedAt?: string }, fallback = ''): string {
  return job.startedAt && job.endedAt
    ? formatDuration((Date.parse(job.endedAt) - Date.parse(job.startedAt)) / 1000)
    : fallback;
}

/** Bytes per second in B/s, KiB/s, MiB/s. */
export function formatRate(value: number): string {
  if (value < 1024) return `${value.toFixed(0)} B/s`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KiB/s`;
  return `${(value / 1024 / 1024).toFixed(1)} MiB/s`;
}

/** A local date and time, short. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}
