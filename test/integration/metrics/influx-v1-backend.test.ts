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
    // A time whose milliseconds end in zero, which InfluxDB writes as '….35Z': answered as toISOString writes it.
    const now = Math.floor(Date.now() / 1000) * 1000 - 650;
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

  it('answers the earliest first point across measurements, whatever digits InfluxDB writes', async () => {
    // .350 is written '….35Z' and .351 '….351Z'; as text the later one sorts first.
    const base = Math.floor(Date.now() / 1000) * 1000 - 2000;
    await write([
      `agent_system,host=vm-g load1=1 ${(base + 350) * 1e6}`,
      `agent_cpu,host=vm-g usage_idle=1 ${(base + 351) * 1e6}`,
    ]);
    expect(await backend.firstSeen('vm-g', new Date(base - 60_000))).toBe(new Date(base + 350).toISOString());
    const points = await backend.latestPoints('vm-g', new Date(base - 60_000));
    expect(points.map((p) => p.time).sort()).toEqual([
      new Date(base + 350).toISOString(),
      new Date(base + 351).toISOString(),
    ]);
  });

  it("reads one project's heartbeats in one query: only hosts whose points carry its project tag", async () => {
    const now = Date.now();
    await write([
      `agent_system,host=vm-e,project=p1 load1=1 ${(now - 2000) * 1e6}`,
      `agent_system,host=vm-f,project=p2 load1=1 ${(now - 1000) * 1e6}`,
    ]);
    const p1 = await backend.heartbeats(new Date(now - 60_000), 'p1');
    expect([...p1.keys()].sort()).toEqual(['vm-a', 'vm-e']);
    // InfluxDB drops trailing zeros of the fraction (…58.21Z): compare instants.
    expect(Date.parse(p1.get('vm-e')?.time ?? '')).toBe(now - 2000);
    expect([...(await backend.heartbeats(new Date(now - 60_000), 'p2')).keys()]).toEqual(['vm-f']);
    expect((await backend.heartbeats(new Date(now - 60_000), `p1' OR 'x' = 'x`)).size).toBe(0);
  });

  it('reads the chart lines of a host, averaged per step, CPU as used %, network as bytes/s', async () => {
    const now = Date.now();
    const at = (secondsAgo: number) => (now - secondsAgo * 1000) * 1e6;
    const lines: string[] = [];
    for (let i = 0; i < 6; i++) {
      const ago = 100 - i * 10;
      lines.push(
        `agent_cpu,host=vm-c,cpu=cpu-total usage_idle=${80 - i} ${at(ago)}`,
        `agent_cpu,host=vm-c,cpu=cpu0 usage_idle=1 ${at(ago)}`,
        `agent_mem,host=vm-c used_percent=${40 + i} ${at(ago)}`,
        `agent_system,host=vm-c load1=0.5,load5=0.4,load15=0.3 ${at(ago)}`,
        `agent_disk,host=vm-c,path=/ used_percent=61 ${at(ago)}`,
        `agent_disk,host=vm-c,path=/var used_percent=12 ${at(ago)}`,
        `agent_net,host=vm-c,interface=eth0 bytes_recv=${1000 * i}i,bytes_sent=${500 * i}i ${at(ago)}`,
        `agent_net,host=vm-c,interface=lo bytes_recv=${9e6 * i}i,bytes_sent=1i ${at(ago)}`,
      );
    }
    expect((await write(lines)).status).toBe(204);
    const series = await backend.hostSeries('vm-c', { seconds: 900, stepSeconds: 10 });
    const line = (metric: string, name: string) => series.find((s) => s.metric === metric && s.name === name);
    expect(line('cpu', 'used')?.points.map(([, v]) => v)).toEqual([20, 21, 22, 23, 24, 25]);
    expect(line('cpu', 'used')?.unit).toBe('%');
    expect(line('mem', 'used')?.points).toHaveLength(6);
    expect(series.filter((s) => s.metric === 'load').map((s) => s.name)).toEqual([
      'load1',
      'load5',
      'load15',
    ]);
    expect(
      series
        .filter((s) => s.metric === 'disk')
        .map((s) => s.name)
        .sort(),
    ).toEqual(['/', '/var']);
    // Counters become per-second rates (1000 bytes per 10 s); the loopback interface is left out.
    expect(line('net', 'eth0 in')?.points.map(([, v]) => v)).toEqual([100, 100, 100, 100, 100]);
    expect(line('net', 'eth0 out')?.unit).toBe('B/s');
    expect(series.some((s) => s.name.startsWith('lo '))).toBe(false);
    // Points are [epoch ms, value], oldest first, within the window.
    const times = line('mem', 'used')?.points.map(([t]) => t) ?? [];
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.abs((times[0] ?? 0) - (now - 100_000))).toBeLessThan(10_001);
    expect(await backend.hostSeries(`vm-c' OR host = 'vm-a`, { seconds: 900, stepSeconds: 10 })).toEqual([]);
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
