import { describe, expect, it } from 'vitest';
import { createDeployProgress } from '../../../src/cli/deploy-progress.ts';
import type { JobRecord } from '../../../src/queue/job-record.ts';

/** The progress of a deploy to vm-a and vm-b printed as plain lines (not a terminal). */
function plainProgress(): { lines: string[]; progress: ReturnType<typeof createDeployProgress> } {
  const lines: string[] = [];
  const stream = {
    columns: 200,
    write: (text: string) => lines.push(...text.split('\n').filter(Boolean)),
  } as unknown as NodeJS.WriteStream;
  const progress = createDeployProgress({
    hosts: ['vm-a', 'vm-b'],
    proxyOf: new Map(),
    tty: false,
    verbose: false,
    stream,
  });
  return { lines, progress };
}

describe('createDeployProgress', () => {
  it('shows a host done by the fast path as such, and why another goes through the play', () => {
    const { lines, progress } = plainProgress();
    progress.stdout('outpost: probing 2 host(s): deploy stamp, configuration, service');
    progress.stdout(
      'outpost: vm-a: unchanged (fast path): configuration 0123abcd, newest point 2026-11-26T07:00:00Z',
    );
    progress.stdout('outpost: vm-b: through the play: telegraf.conf was edited since the last deploy');
    progress.done({
      id: 'job-1',
      status: 'successful',
      result: {
        'vm-a': {
          agent: {
            state: 'reporting',
            deploy: 'unchanged (fast path)',
            uplink: 'direct',
            lastPointAt: '2026-11-26T07:00:00.000Z',
          },
        },
        'vm-b': {
          agent: {
            state: 'reporting',
            deploy: 'applied',
            uplink: 'direct',
            firstPointAt: '2026-11-26T07:01:00.000Z',
          },
        },
      },
    } as unknown as JobRecord);
    expect(lines).toEqual([
      'vm-a  unchanged (fast path): reporting',
      'vm-b  queued for the play: telegraf.conf was edited since the last deploy',
      'vm-a  unchanged (fast path), reporting, newest point 2026-11-26 07:00:00Z, uplink direct',
      'vm-b  reporting, first point 2026-11-26 07:01:00Z, uplink direct',
      'job job-1 successful',
    ]);
  });

  it('says a canceled deploy left the old agent reporting (old config), not that the host reports', () => {
    const { lines, progress } = plainProgress();
    progress.done({
      id: 'job-2',
      status: 'canceled',
      reason: 'canceled by a user',
      result: {
        'vm-a': {
          agent: {
            state: 'reporting-old-config',
            deploy: 'canceled',
            reason:
              'the deploy was canceled before it finished here; the agent still sends its old configuration',
          },
        },
      },
    } as unknown as JobRecord);
    expect(lines[0]).toBe(
      'vm-a  reporting (old config): the deploy was canceled before it finished here; the agent still sends its old configuration',
    );
    expect(lines[1]).toBe('vm-b  no verdict: the deploy did not get to it');
    expect(lines.at(-1)).toBe('job job-2 canceled: canceled by a user');
  });
});
