import { describe, expect, it } from 'vitest';
import type { Host, HostAgent } from '../../../../src/domain/host.ts';
import type { Proxy } from '../../../../src/domain/proxy.ts';
import type { OpenAlerts } from '../../../../src/jobs/agent/create-open-alerts.ts';
import type { SilenceChecks } from '../../../../src/jobs/agent/diagnose-silence.ts';
import { watchAgents, type WatchDeps } from '../../../../src/jobs/agent/watch-agents.ts';
import type { Heartbeat } from '../../../../src/metrics/metrics-backend.ts';

const NOW = Date.parse('2026-11-26T10:00:00.000Z');
const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();
const proxy = { id: 'edge', project: 'acme', networks: ['198.51.100.0/26'] } as Proxy;

function host(id: string, agent: HostAgent, project = 'acme'): Host {
  return {
    id,
    project,
    address: '198.51.100.2',
    sshPort: 22,
    network: '198.51.100.0/26',
    login: { state: 'enrolled' },
    agent,
  };
}

/** A registry, a metrics store and alerts in memory; the checks say the agent is stopped. */
function fleet(hosts: Host[], beats: Map<string, Heartbeat> | Error) {
  const stored = new Map(hosts.map((h) => [h.id, h]));
  const queries: { project?: string }[] = [];
  const open = new Map<string, string>();
  const updates: string[] = [];
  const alerts: OpenAlerts = {
    list: () => Promise.resolve(new Map(open)),
    open: (_project, id, since) => (open.set(id, since), Promise.resolve()),
    close: (_project, ids) => (ids.forEach((id) => open.delete(id)), Promise.resolve()),
  };
  const checks: SilenceChecks = {
    influxDown: () => Promise.resolve(undefined),
    tunnelDown: () => Promise.resolve(undefined),
    proxyUnreachable: () => Promise.resolve(undefined),
    checkVm: () => Promise.resolve({ reachable: true, running: false }),
  };
  const deps: WatchDeps = {
    registry: {
      listProjects: () => Promise.resolve([{ id: 'acme' }, { id: 'empty' }] as never),
      listHosts: (filter) =>
        Promise.resolve([...stored.values()].filter((h) => h.project === filter?.project)),
      listProxies: () => Promise.resolve([proxy]),
      getHost: (id) => Promise.resolve(stored.get(id) as Host),
      updateHost: (id, patch) => {
        updates.push(id);
        const next = { ...(stored.get(id) as Host), ...(patch as Partial<Host>) };
        stored.set(id, next);
        return Promise.resolve(next);
      },
    },
    metrics: {
      heartbeats: (_since, project) => {
        queries.push({ project });
        return beats instanceof Error ? Promise.reject(beats) : Promise.resolve(beats);
      },
    },
    withChecks: (_project, _hosts, _proxies, work) => work(checks),
    alerts,
    silentAfterMs: 60_000,
    now: () => NOW,
  };
  return { deps, stored, queries, open, updates };
}

describe('watchAgents', () => {
  it('asks InfluxDB once per project with watched hosts, and turns a host without a fresh point silent', async () => {
    const { deps, stored, queries, open } = fleet(
      [
        host('fresh', { state: 'reporting', uplink: 'proxy', config: 'c1' }),
        host('quiet', { state: 'reporting', uplink: 'proxy', config: 'c1', lastSeen: ago(600) }),
        host('never', { state: 'none' }),
        host('gone', { state: 'not-reporting' }),
      ],
      new Map([
        ['fresh', { time: ago(10), config: 'c1' }],
        ['quiet', { time: ago(90), config: 'c1' }],
      ]),
    );
    const found = await watchAgents(deps);
    expect(queries).toEqual([{ project: 'acme' }]);
    expect([...found.keys()]).toEqual(['acme']);
    expect(found.get('acme')).toEqual([
      {
        host: 'quiet',
        project: 'acme',
        proxy: 'edge',
        from: 'reporting',
        to: 'silent',
        at: ago(0),
        lastSeen: ago(90),
        cause: 'agent-not-running',
        reason: 'agent not running: the telegraf service is stopped',
      },
    ]);
    expect(stored.get('quiet')?.agent).toEqual({
      state: 'silent',
      uplink: 'proxy',
      config: 'c1',
      lastSeen: ago(90),
      since: ago(0),
      cause: 'agent-not-running',
      reason: 'agent not running: the telegraf service is stopped',
    });
    expect(stored.get('fresh')?.agent.state).toBe('reporting');
    expect(open).toEqual(new Map([['quiet', ago(0)]]));

    // The next run: nothing changed, nothing recorded or sent again.
    expect(await watchAgents(deps)).toEqual(new Map());
  });

  it('turns a silent host with a fresh point back to reporting (old config when its points carry another)', async () => {
    const silent: HostAgent = {
      state: 'silent',
      config: 'c1',
      since: ago(300),
      cause: 'unknown',
      reason: 'unknown',
    };
    const { deps, stored, open } = fleet(
      [host('same', silent), host('other', silent), host('still', silent)],
      new Map([
        ['same', { time: ago(5), config: 'c1' }],
        ['other', { time: ago(5), config: 'c0' }],
        ['still', { time: ago(200), config: 'c1' }],
      ]),
    );
    open.set('same', ago(300));
    const found = (await watchAgents(deps)).get('acme') ?? [];
    expect(found.map((t) => [t.host, t.from, t.to, t.silentSince])).toEqual([
      ['same', 'silent', 'reporting', ago(300)],
      ['other', 'silent', 'reporting-old-config', ago(300)],
    ]);
    expect(stored.get('same')?.agent).toEqual({
      state: 'reporting',
      config: 'c1',
      since: ago(0),
      lastSeen: ago(5),
    });
    expect(stored.get('still')?.agent.state).toBe('silent');
    expect(open.has('same')).toBe(false);
  });

  it('resolves the alert of a host a deploy brought back, without writing the host', async () => {
    const { deps, open, updates } = fleet(
      [host('healed', { state: 'reporting', config: 'c2' })],
      new Map([['healed', { time: ago(3), config: 'c2' }]]),
    );
    open.set('healed', ago(400));
    const found = (await watchAgents(deps)).get('acme') ?? [];
    expect(found).toMatchObject([{ host: 'healed', from: 'silent', to: 'reporting', silentSince: ago(400) }]);
    expect(updates).toEqual([]);
    expect(open.size).toBe(0);
  });

  it('calls every watched host silent because of InfluxDB when its query fails, without an SSH check', async () => {
    const { deps, stored } = fleet(
      [host('a', { state: 'reporting' }), host('b', { state: 'reporting-old-config' })],
      new Error('InfluxDB at http://127.0.0.1:8086 did not answer: fetch failed'),
    );
    deps.withChecks = () => Promise.reject(new Error('no check may run'));
    const found = (await watchAgents(deps)).get('acme') ?? [];
    expect(found.map((t) => [t.host, t.cause])).toEqual([
      ['a', 'influx-down'],
      ['b', 'influx-down'],
    ]);
    expect(stored.get('a')?.agent.reason).toBe(
      'InfluxDB down: InfluxDB at http://127.0.0.1:8086 did not answer: fetch failed',
    );
  });

  it('leaves a host whose agent changed while the run looked (a deploy ended meanwhile)', async () => {
    const { deps, stored, updates } = fleet(
      [host('racing', { state: 'reporting', config: 'c1' })],
      new Map(),
    );
    const list = deps.registry.listHosts;
    deps.registry.listHosts = async (filter) => {
      const hosts = await list(filter);
      stored.set('racing', host('racing', { state: 'reporting', config: 'c2' }));
      return hosts;
    };
    expect(await watchAgents(deps)).toEqual(new Map());
    expect(updates).toEqual([]);
  });
});
