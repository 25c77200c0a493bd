import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { runPlaybook } from '../../../src/ansible/run-playbook.ts';

describe('runPlaybook back-pressure from the log writer', () => {
  it('stops reading stdout while the store has no room, then reads every line in order', async () => {
    const lines: string[] = [];
    let atPause = -1;
    let resumed = false;
    const result = await runPlaybook(
      {
        file: '/bin/sh',
        args: ['-c', 'seq 1 200000'],
        cwd: os.tmpdir(),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      },
      {
        onLine: (line) => lines.push(line),
        waitForRoom: () => {
          if (atPause >= 0 || lines.length < 1000) return undefined;
          atPause = lines.length;
          return new Promise<void>((resolve) =>
            setTimeout(() => {
              // While paused, at most the rest of the chunk already read arrived (64 KiB of short lines).
              expect(lines.length - atPause).toBeLessThan(20_000);
              resumed = true;
              resolve();
            }, 500),
          );
        },
      },
    );
    expect(result.outcome).toBe('successful');
    expect(resumed).toBe(true);
    expect(lines.length).toBe(200_000);
    expect(lines.every((line, i) => line === String(i + 1))).toBe(true);
  });
});
