/** An ISO time as `2026-11-26 03:40:12Z` (UTC, to the second); `-` when there is none. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** A duration as `850 ms`, `12.3 s`, `4m 05s` or `2h 03m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** The time between two ISO times, formatted; undefined when either is missing. */
export function between(from: string | undefined, to: string | undefined): string | undefined {
  if (!from || !to) return undefined;
  return formatDuration(Date.parse(to) - Date.parse(from));
}
