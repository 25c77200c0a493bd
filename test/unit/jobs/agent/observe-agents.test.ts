import { describe, expect, it } from 'vitest';
import { observeAgents, stateOf } from '../../../../src/jobs/agent/observe-agents.ts';
import type { Heartbeat } from '../../../../src/metrics/metrics-backend.ts';

describe('stateOf', () => {
  it('calls an agent reporting only by points of the wanted configuration', () => {
    expect(stateOf({ time: 't', config: 'abc' }, 'abc')).toBe('reporting');
    expect(stateOf({ time: 't', config: 'old' }, 'abc')).toBe('reporting-old-config');
    expect(stateOf({ time: 't' }, 'abc')).toBe('reporting-old-config');
    expect(stateOf({ time: 't', config: 'abc' }, undefined)).toBe('reporting-old-config');
    expect(stateOf(undefined, 'abc')).toBe('not-reporting');
  });
});

describe('observeAgents', () => {
  /** A metrics store whose answers change with each call. */
  function store(answers: Map<string, Heartbeat>[]) {
    let calls = 0;
    return {
      get calls() {
        return calls;
      },
      heartbeats: () => Promise.resolve(answers[Math.min(calls++, answers.length - 1)] ?? new Map()),
    };
  }

  it('waits for a silent host until the window ends, and stops asking once every host was seen', async () => {
    const later = store([new Map<string, Heartbeat>(), new Map([['vm1', { time: 't1', config: 'a' }]])]);
    const seen = await observeAgents(later, ['vm1'], {
      since: new Date(0),
      waitUntil: Date.now() + 5000,
      intervalMs: 10,
    });
    expect(seen.get('vm1')).toEqual({ time: 't1', config: 'a' });
    expect(later.calls).toBe(2);

    const silent = store([new Map<string, Heartbeat>()]);
    const begun = Date.now();
    expect(
      (await observeAgents(silent, ['vm2'], { since: new Date(0), waitUntil: begun + 100, intervalMs: 10 }))
        .size,
    ).toBe(0);
    expect(Date.now() - begun).toBeGreaterThanOrEqual(100);
  });

  it('asks once without a window (a canceled deploy), and takes an InfluxDB that fails as no answer', async () => {
    const once = store([new Map<string, Heartbeat>()]);
    expect((await observeAgents(once, ['vm1'], { since: new Date(0) })).size).toBe(0);
    expect(once.calls).toBe(1);
    const failing = { heartbeats: () => Promise.reject(new Error('down')) };
    expect((await observeAgents(failing, ['vm1'], { since: new Date(0) })).size).toBe(0);
  });
});
