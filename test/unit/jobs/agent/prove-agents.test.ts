import { describe, expect, it } from 'vitest';
import { deployOutcome, toHostAgent } from '../../../../src/jobs/agent/agent-verdict.ts';
import type { WantedAgent } from '../../../../src/jobs/agent/plan-agents.ts';
import { proveAgents } from '../../../../src/jobs/agent/prove-agents.ts';
import type { Heartbeat, MetricsBackend } from '../../../../src/metrics/metrics-backend.ts';

// A stand-in metrics store answering from fixed points (the real InfluxDB path is in the lab tests).
function store(beats: Record<string, Heartbeat>, first: Record<string, string> = {}): MetricsBackend {
  return {
    kind: 'influxdb',
    url: 'http://influx.test',
    ping: () => Promise.resolve(),
    ensureStore: () => Promise.resolve(),
    firstSeen: (host, _since, config) =>
      Promise.resolve(first[host] !== undefined && beats[host]?.config === config ? first[host] : undefined),
    latestPoints: () => Promise.resolve([]),
    lastSeenByHost: () => Promise.resolve(new Map()),
    heartbeats: () => Promise.resolve(new Map(Object.entries(beats))),
    hostSeries: () => Promise.resolve([]),
  };
}

const wanted = (id: string, configId: string) =>
  ({
    host: { id },
    uplink: 'proxy',
    url: 'http://192.0.2.1:18086',
    configId,
    vars: {},
  }) as unknown as WantedAgent;
const settings = { verifySeconds: 1, freshSeconds: 30 };

describe('proveAgents', () => {
  it('never proves a canceled play by the old agent: it reports, with its old configuration', async () => {
    const aborted = new AbortController();
    aborted.abort();
    const verdicts = await proveAgents(store({ vm1: { time: '2026-01-01T00:00:05.000Z', config: 'old' } }), {
      played: [{ wanted: wanted('vm1', 'new'), because: 'the configuration changed' }],
      play: {
        status: 'canceled',
        result: { vm1: { ok: 2, changed: 0, failed: 0, skipped: 0, unreachable: 0 } },
      },
      playStart: new Date(),
      unfinished: new Map(),
      startedAt: Date.now(),
      settings,
      signal: aborted.signal,
    });
    expect(verdicts.get('vm1')).toMatchObject({
      state: 'reporting-old-config',
      deploy: 'canceled',
      config: 'new',
      seenConfig: 'old',
      reason: expect.stringContaining('canceled before it finished here') as string,
    });
  });

  it('proves a finished play by a point of its configuration, and says what a silent host showed', async () => {
    const verdicts = await proveAgents(
      store({ vm1: { time: '2026-01-01T00:00:05.000Z', config: 'new' } }, { vm1: '2026-01-01T00:00:04Z' }),
      {
        played: [
          { wanted: wanted('vm1', 'new'), because: 'no deploy stamp' },
          { wanted: wanted('vm2', 'new2'), because: 'no deploy stamp' },
        ],
        play: {
          status: 'successful',
          result: {
            vm1: { ok: 9, changed: 3, failed: 0, skipped: 0, unreachable: 0 },
            vm2: { ok: 9, changed: 3, failed: 0, skipped: 0, unreachable: 0 },
          },
        },
        playStart: new Date(),
        unfinished: new Map([['vm3', { step: 'not deployed', reason: 'not deployed: vm3 is unreachable' }]]),
        startedAt: Date.now() - 60_000,
        settings,
        signal: new AbortController().signal,
      },
    );
    expect(verdicts.get('vm1')).toMatchObject({
      state: 'reporting',
      deploy: 'applied',
      firstPointAt: '2026-01-01T00:00:04.000Z',
    });
    expect(verdicts.get('vm2')).toMatchObject({ state: 'not-reporting', deploy: 'applied' });
    expect(verdicts.get('vm2')?.reason).toContain('outpost_config="new2"');
    expect(verdicts.get('vm3')).toMatchObject({ state: 'not-reporting', deploy: 'not deployed' });
    expect(deployOutcome(verdicts, undefined)).toMatchObject({ status: 'failed' });
    expect(deployOutcome(new Map([['vm1', verdicts.get('vm1')!]]), undefined)).toMatchObject({
      status: 'successful',
    });
  });
});

describe('toHostAgent', () => {
  it("keeps an agent's configuration id only when it is one of Outpost's", () => {
    expect(toHostAgent({ state: 'reporting', deploy: 'applied', seenConfig: '0123abcd' })).toMatchObject({
      config: '0123abcd',
    });
    expect(
      toHostAgent({ state: 'reporting-old-config', deploy: 'failed', seenConfig: 'x"; rm' }),
    ).not.toHaveProperty('config');
  });
});
