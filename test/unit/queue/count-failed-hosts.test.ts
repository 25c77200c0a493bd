import { describe, expect, it } from 'vitest';
import { countFailedHosts } from '../../../src/queue/count-failed-hosts.ts';

const ok = { ok: 3, changed: 1, failed: 0, skipped: 0, unreachable: 0 };

describe('countFailedHosts', () => {
  it('counts a deploy’s hosts whose agent is not reporting this configuration', () => {
    const result = {
      a: { ...ok, agent: { state: 'reporting', deploy: 'applied' } },
      b: { ...ok, agent: { state: 'reporting', deploy: 'unchanged (fast path)' } },
      c: { ...ok, agent: { state: 'silent', deploy: 'not deployed' } },
    };
    expect(countFailedHosts(['a', 'b', 'c'], { status: 'failed', result })).toBe(1);
  });

  it('counts a play’s failed and unreachable hosts', () => {
    const result = { a: ok, b: { ...ok, failed: 1 }, c: { ...ok, unreachable: 1 } };
    expect(countFailedHosts(['a', 'b', 'c'], { status: 'failed', result })).toBe(2);
  });

  it('counts every host of a slice that failed before any host had a result', () => {
    expect(countFailedHosts(['a', 'b'], { status: 'failed', reason: 'no inventory' })).toBe(2);
    expect(countFailedHosts(['a', 'b'], { status: 'successful', result: { a: ok, b: ok } })).toBe(0);
  });
});
