import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { scrubRunDir } from './scrub-run-dir.ts';

/** How many run dirs, and for how long, `var/runs` keeps (OUTPOST_RUNS_KEEP_COUNT, OUTPOST_RUNS_KEEP_DAYS). */
export interface RunDirRetention {
  maxAgeDays: number;
  maxCount: number;
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Removes the run dirs of `runsDir` last written more than `maxAgeDays` ago, and the oldest beyond the
 * newest `maxCount`, so `var/runs` does not grow for ever; never one whose job `isActive` says is running.
 * Control-socket dirs a run kept under the system temp dir go with it. Returns the names removed.
 */
export async function rotateRunDirs(
  runsDir: string,
  retention: RunDirRetention,
  isActive: (jobId: string) => Promise<boolean>,
  now = Date.now(),
): Promise<string[]> {
  const entries = await readdir(runsDir, { withFileTypes: true }).catch(() => []);
  const runs = await Promise.all(
    entries
      .filter((entry) => entry.isDirectory())
      .map(async (entry) => ({
        id: entry.name,
        writtenAt: (await stat(path.join(runsDir, entry.name)).catch(() => undefined))?.mtimeMs ?? now,
      })),
  );
  runs.sort((a, b) => b.writtenAt - a.writtenAt);
  const removed: string[] = [];
  for (const [index, run] of runs.entries()) {
    const expired = index >= retention.maxCount || now - run.writtenAt > retention.maxAgeDays * DAY_MS;
    if (!expired || (await isActive(run.id))) continue;
    const dir = path.join(runsDir, run.id);
    await scrubRunDir(dir);
    await rm(dir, { recursive: true, force: true });
    removed.push(run.id);
  }
  return removed;
}
