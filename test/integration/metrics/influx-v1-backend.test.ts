import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxV1Backend } from '../../../src/metrics/influx-v1-backend.ts';
import { waitForFirstMetrics } from '../../../src/metrics/wait-for-first-metrics.ts';
import { startInflux, type TestInflux } from '../../support/influx.ts';

let influx: TestInflux;
let backend: InfluxV1Backend;

beforeAll(async () => {
  influx = await startInflux();
  backend = new InfluxV1Backend({ url: influx.url, database: 'outpost_metrics_test' });
});
afterAll(() => influx?.stop());

function write(lines: string[]) {
  return fetch(`${influx.url}/write?db=outpost_metrics_test`, { method: 'POST', body: lines.join('\n') });
}

describe('InfluxV1Backend against a real influxd', () => {
  it('answers ping and creates its database when missing', async () => {
    await backend.ping();
    await backend.ensureStore();
    await backend.ensureStore(); // idempotent
    const rows = await influx.query('SHOW DATABASES', 'telegraf');
    expect(rows.map((row) => row.name)).toContain('outpost_metrics_test');
  });

  it('reads back the latest point of each agent_ measurement of a host, with its tags', async () => {
    const now = Date.now();
    expect(
      (
        await write([
          `agent_system,host=vm-a,project=p1 load1=0.5 ${(now - 2000) * 1e6}`,
          `agent_system,host=vm-a,project=p1 load1=0.7 ${now * 1e6}`,
          `agent_cpu,host=vm-a,project=p1 usage_idle=90 ${now * 1e6}`,
          `agent_cpu,host=vm-b usage_idle=10 ${now * 1e6}`,
        ])
      ).status,
    ).toBe(204);
    const points = await backend.latestPoints('vm-a', new Date(now - 60_000));
    expect(points.map((p) => p.measurement).sort()).toEqual(['agent_cpu', 'agent_system']);
    const system = points.find((p) => p.measurement === 'agent_system');
    expect(system?.fields.load1).toBe(0.7);
    expect(system?.tags).toMatchObject({ host: 'vm-a', project: 'p1' });
    const first = await backend.firstSeen('vm-a', new Date(now - 60_000));
    expect(Date.parse(first ?? '')).toBe(now - 2000);
    expect(await backend.latestPoints('vm-a', new Date(now + 60_000))).toEqual([]);
  });

  it('knows when every host was last seen', async () => {
    const seen = await backend.lastSeenByHost(new Date(Date.now() - 3_600_000));
    expect([...seen.keys()]).toEqual(['vm-a']);
    // The newest point's own time, not the query's lower bound.
    expect(Date.now() - Date.parse(seen.get('vm-a') ?? '')).toBeLessThan(60_000);
  });

  it("reads each host's newest heartbeat with the configuration id it carries, and filters first points by it", async () => {
    const now = Date.now();
    await write([
      `agent_system,host=vm-c,outpost_config=aaa load1=1 ${(now - 3000) * 1e6}`,
      `agent_system,host=vm-c,outpost_config=bbb load1=2 ${(now - 1000) * 1e6}`,
      `agent_system,host=vm-d load1=3 ${now * 1e6}`,
    ]);
    const beats = await backend.heartbeats(new Date(now - 60_000));
    expect(beats.get('vm-c')).toEqual({ time: new Date(now - 1000).toISOString(), config: 'bbb' });
    // An agent configured without the tag (before Outpost set one) has a heartbeat without a config.
    expect(beats.get('vm-d')).toEqual({ time: new Date(now).toISOString() });
    expect(Date.parse((await backend.firstSeen('vm-c', new Date(now - 60_000), 'bbb')) ?? '')).toBe(
      now - 1000,
    );
    expect(await backend.firstSeen('vm-c', new Date(now - 60_000), 'ccc')).toBeUndefined();
    expect(await backend.firstSeen('vm-c', new Date(now - 60_000), `aaa' OR 'x' = 'x`)).toBeUndefined();
  });

  it('treats a host name as data, never as query syntax', async () => {
    expect(await backend.latestPoints(`vm-a' OR host = 'vm-b`, new Date(0))).toEqual([]);
  });

  it('waits for a host that starts reporting, and gives a reason for one that never does', async () => {
    const since = new Date();
    setTimeout(() => void write([`agent_system,host=late-vm load1=1 ${Date.now() * 1e6}`]), 700);
    const verdict = await waitForFirstMetrics(backend, 'late-vm', {
      since,
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    expect(verdict.state).toBe('reporting');
    const silent = await waitForFirstMetrics(backend, 'silent-vm', {
      since,
      timeoutMs: 600,
      intervalMs: 200,
    });
    expect(silent.state).toBe('not-reporting');
    expect(silent.state === 'not-reporting' && silent.reason).toContain(
      `host="silent-vm" in influxdb at ${influx.url}`,
    );
  });

  it('names the URL when InfluxDB is not there', async () => {
    const gone = new InfluxV1Backend({ url: 'http://127.0.0.1:9', timeoutMs: 1000 });
    await expect(gone.ping()).rejects.toThrow(/InfluxDB at http:\/\/127\.0\.0\.1:9 did not answer/);
  });
});
