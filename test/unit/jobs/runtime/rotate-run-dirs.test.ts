import { mkdir, mkdtemp, readdir, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inventoryPaths } from '../../../../src/inventory/inventory-paths.ts';
import { rotateRunDirs } from '../../../../src/jobs/runtime/rotate-run-dirs.ts';

const DAY = 24 * 3600 * 1000;

describe('rotateRunDirs', () => {
  let runsDir: string;
  beforeEach(async () => {
    runsDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-runs-rotation-'));
  });
  afterEach(async () => {
    await rm(runsDir, { recursive: true, force: true });
  });

  /** A run dir last written `daysAgo` days ago, with `files` in it. */
  async function run(id: string, daysAgo: number, files = ['result.json']): Promise<string> {
    const dir = path.join(runsDir, id);
    await mkdir(dir, { mode: 0o700 });
    for (const file of files) await writeFile(path.join(dir, file), '# written by the run\n');
    const at = new Date(Date.now() - daysAgo * DAY);
    await utimes(dir, at, at);
    return dir;
  }

  it('removes run dirs older than the age limit and the oldest beyond the count, never an active one', async () => {
    await run('job-newest', 0.1);
    await run('job-new', 1);
    await run('job-over-count', 2);
    await run('job-old', 20);
    await run('job-old-but-running', 30);
    await writeFile(path.join(runsDir, 'notes.txt'), 'not a run dir');
    await symlink('/etc', path.join(runsDir, 'job-link'));

    const removed = await rotateRunDirs(runsDir, { maxAgeDays: 14, maxCount: 2 }, (id) =>
      Promise.resolve(id === 'job-old-but-running'),
    );

    expect(removed.sort()).toEqual(['job-old', 'job-over-count']);
    expect((await readdir(runsDir)).sort()).toEqual([
      'job-link',
      'job-new',
      'job-newest',
      'job-old-but-running',
      'notes.txt',
    ]);
  });

  it('releases the control-socket dir a long run dir kept under the temp dir', async () => {
    const dir = await run('job-with-a-name-long-enough-for-sockets-in-tmp', 30, ['hosts.yml', 'ssh_config']);
    const controlDir = inventoryPaths(dir).controlDir;
    expect(controlDir.startsWith(`${os.tmpdir()}/outpost-cp-`)).toBe(true);
    await mkdir(controlDir, { mode: 0o700 });

    expect(
      await rotateRunDirs(runsDir, { maxAgeDays: 14, maxCount: 100 }, () => Promise.resolve(false)),
    ).toEqual(['job-with-a-name-long-enough-for-sockets-in-tmp']);
    await expect(stat(controlDir)).rejects.toThrow(/ENOENT/);
    await expect(stat(dir)).rejects.toThrow(/ENOENT/);
  });

  it('does nothing when the runs dir does not exist yet', async () => {
    expect(
      await rotateRunDirs(path.join(runsDir, 'none'), { maxAgeDays: 1, maxCount: 1 }, () =>
        Promise.resolve(false),
      ),
    ).toEqual([]);
  });
});
