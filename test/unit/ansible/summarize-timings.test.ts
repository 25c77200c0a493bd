import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnsibleEvent } from '../../../src/ansible/ansible-event.ts';
import { parseEventLine } from '../../../src/ansible/parse-event-line.ts';
import { summarizeTimings } from '../../../src/ansible/summarize-timings.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../../fixtures/events/deploy-agent.jsonl');

describe('summarizeTimings', () => {
  it("times each task by the play's wall clock and by its hosts' own durations, and each host", async () => {
    const events = (await readFile(FIXTURE, 'utf8'))
      .trim()
      .split('\n')
      .map(parseEventLine)
      .flatMap((parsed): AnsibleEvent[] => (parsed.ok ? [parsed.event] : []));
    const first = Date.parse(events[0]?.time ?? '');
    const last = Date.parse(events.at(-1)?.time ?? '');
    const timing = summarizeTimings(events, {
      playbook: 'deploy-agent.yml',
      startedAt: new Date(first - 1500).toISOString(),
      endedAt: new Date(last + 100).toISOString(),
    });
    expect(timing.startupMs).toBe(1500);
    expect(timing.wallMs).toBe(last - first + 1600);
    const facts = timing.tasks[0];
    // Gathering Facts: task_start 48.947, next task 51.618; vm1 took 2651 ms, vm2 2558 ms.
    expect(facts).toMatchObject({
      task: 'Gathering Facts',
      wallMs: 2671,
      hosts: 2,
      totalMs: 5209,
      maxMs: 2651,
      slowestHost: 'vpc1-vm1',
    });
    const walls = timing.tasks.reduce((sum, task) => sum + task.wallMs, 0);
    expect(walls).toBeLessThanOrEqual(timing.wallMs - timing.startupMs);
    expect(Object.keys(timing.hosts).sort()).toEqual(['vpc1-vm1', 'vpc1-vm2']);
    const vm1 = timing.hosts['vpc1-vm1'];
    expect(vm1?.tasks).toBe(timing.tasks.filter((t) => t.hosts > 0).length);
    expect(vm1?.slowestMs).toBeGreaterThanOrEqual(2651);
  });
});
