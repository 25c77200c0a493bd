// Runs against FAKE InfluxDB 2.x (test/support/fake-influx-v2.ts): 2.x cannot be installed here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxV2Backend } from '../../../src/metrics/influx-v2-backend.ts';
import { waitForFirstMetrics } from '../../../src/metrics/wait-for-first-metrics.ts';
import { startFakeInfluxV2, type FakeInfluxV2 } from '../../support/fake-influx-v2.ts';

let fake: FakeInfluxV2;
let backend: InfluxV2Backend;
beforeAll(async () => {
  fake = await startFakeInfluxV2({ token: 'test-token-v2', org: 'ops', orgId: 'a1b2' });
  backend = new InfluxV2Backend({ url: fake.url, org: 'ops', bucket: 'telegraf', token: 'test-token-v2' });
});
afterAll(() => fake.close());

describe('InfluxV2Backend (against a fake v2 server)', () => {
  it('creates the bucket in the named organization only when it is missing', async () => {
    await backend.ensureStore();
    await backend.ensureStore();
    const creates = fake.requests.filter((r) => r.method === 'POST' && r.url === '/api/v2/buckets');
    expect(creates).toHaveLength(1);
    expect(JSON.parse(creates[0]!.body)).toMatchObject({ orgID: 'a1b2', name: 'telegraf' });
    expect(fake.requests.every((r) => r.url === '/ping' || r.authorization === 'Token test-token-v2')).toBe(
      true,
    );
  });

  it('turns Flux rows into per-measurement points and passes the host as a Flux string', async () => {
    fake.rows = [
      {
        _time: '2026-11-24T10:00:01Z',
        _value: 0.5,
        _field: 'load1',
        _measurement: 'agent_system',
        host: 'vm-a',
      },
      {
        _time: '2026-11-24T10:00:02Z',
        _value: 2,
        _field: 'n_cpus',
        _measurement: 'agent_system',
        host: 'vm-a',
      },
      {
        _time: '2026-11-24T10:00:01Z',
        _value: 97,
        _field: 'usage_idle',
        _measurement: 'agent_cpu',
        host: 'vm-a',
      },
    ];
    const points = await backend.latestPoints('vm-a") or (true', new Date('2026-11-24T09:00:00Z'));
    expect(points).toEqual([
      {
        measurement: 'agent_system',
        time: '2026-11-24T10:00:02.000Z',
        fields: { load1: 0.5, n_cpus: 2 },
        tags: { host: 'vm-a' },
      },
      {
        measurement: 'agent_cpu',
        time: '2026-11-24T10:00:01.000Z',
        fields: { usage_idle: 97 },
        tags: { host: 'vm-a' },
      },
    ]);
    const query = (JSON.parse(fake.requests.at(-1)!.body) as { query: string }).query;
    expect(query).toContain('r.host == "vm-a\\") or (true"');
  });

  it('reports a host as reporting with its first point time', async () => {
    const verdict = await waitForFirstMetrics(backend, 'vm-a', {
      since: new Date('2026-11-24T09:00:00Z'),
      timeoutMs: 1000,
    });
    expect(verdict).toMatchObject({ state: 'reporting', firstPointAt: '2026-11-24T10:00:01.000Z' });
  });

  it("reads each host's newest heartbeat with its configuration id, and asks first points of one id", async () => {
    fake.rows = [
      {
        _time: '2026-11-24T10:00:01Z',
        _value: 1,
        _field: 'load1',
        _measurement: 'agent_system',
        host: 'vm-a',
        outpost_config: 'aaa',
      },
      {
        _time: '2026-11-24T10:00:03Z',
        _value: 1,
        _field: 'load1',
        _measurement: 'agent_system',
        host: 'vm-a',
        outpost_config: 'bbb',
      },
      {
        _time: '2026-11-24T10:00:02Z',
        _value: 1,
        _field: 'load1',
        _measurement: 'agent_system',
        host: 'vm-b',
      },
    ];
    const beats = await backend.heartbeats(new Date('2026-11-24T09:00:00Z'));
    expect(beats).toEqual(
      new Map([
        ['vm-a', { time: '2026-11-24T10:00:03.000Z', config: 'bbb' }],
        ['vm-b', { time: '2026-11-24T10:00:02.000Z' }],
      ]),
    );
    // One project's hosts in the same single query, the project passed as a Flux string.
    const asked = fake.requests.length;
    await backend.heartbeats(new Date('2026-11-24T09:00:00Z'), 'acme") or (true');
    expect(fake.requests).toHaveLength(asked + 1);
    const byProject = (JSON.parse(fake.requests.at(-1)!.body) as { query: string }).query;
    expect(byProject).toContain('r._measurement == "agent_system" and r.project == "acme\\") or (true"');
    await backend.firstSeen('vm-a', new Date('2026-11-24T09:00:00Z'), 'bbb") or (true');
    const query = (JSON.parse(fake.requests.at(-1)!.body) as { query: string }).query;
    expect(query).toContain('r.outpost_config == "bbb\\") or (true"');
  });

  it('reads chart lines with one Flux query per chart: means per window, rates for counters', async () => {
    fake.rows = [
      {
        _time: '2026-11-24T10:00:00Z',
        _value: 97,
        _field: 'usage_idle',
        _measurement: 'agent_cpu',
        host: 'vm-a',
      },
      {
        _time: '2026-11-24T10:00:10Z',
        _value: 95,
        _field: 'usage_idle',
        _measurement: 'agent_cpu',
        host: 'vm-a',
      },
      {
        _time: '2026-11-24T10:00:00Z',
        _value: 42,
        _field: 'used_percent',
        _measurement: 'agent_mem',
        host: 'vm-a',
      },
    ];
    const before = fake.requests.length;
    const series = await backend.hostSeries('vm-a', { seconds: 3600, stepSeconds: 10 });
    expect(series).toEqual([
      {
        metric: 'cpu',
        name: 'used',
        unit: '%',
        points: [
          [Date.parse('2026-11-24T10:00:00Z'), 3],
          [Date.parse('2026-11-24T10:00:10Z'), 5],
        ],
      },
      { metric: 'mem', name: 'used', unit: '%', points: [[Date.parse('2026-11-24T10:00:00Z'), 42]] },
    ]);
    const queries = fake.requests.slice(before).map((r) => (JSON.parse(r.body) as { query: string }).query);
    expect(queries).toHaveLength(5);
    for (const query of queries) {
      expect(query).toContain('r.host == "vm-a"');
      expect(query).toContain('aggregateWindow(every: 10s, fn: mean, createEmpty: false)');
    }
    const net = queries.find((query) => query.includes('"agent_net"')) ?? '';
    expect(net).toContain('derivative(unit: 1s, nonNegative: true)');
    expect(net).toContain('r["interface"] != "lo"');
  });

  it('says which URL failed when the token is wrong', async () => {
    const wrong = new InfluxV2Backend({ url: fake.url, org: 'ops', bucket: 'telegraf', token: 'nope' });
    await expect(wrong.ensureStore()).rejects.toThrow(
      `InfluxDB at ${fake.url} answered /api/v2/buckets with 401`,
    );
  });
});
