import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('gives working defaults when nothing is set', () => {
    const config = loadConfig({}, '/srv/outpost');
    expect(config.varDir).toBe('/srv/outpost/var');
    expect(config.httpPort).toBe(8740);
    expect(config.redisUrl).toBeUndefined();
    expect(config.workerConcurrency).toBe(4);
    expect(config.ansibleStrategy).toEqual({ name: 'linear' });
    expect(config.agent.freshSeconds).toBe(60);
    expect(config.runsKeepDays).toBe(14);
    expect(config.runsKeepCount).toBe(1000);
  });

  it("runs plays with ansible-mitogen's strategy when asked and installed, and says what to install otherwise", () => {
    const mitogen = existsSync(
      '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy/mitogen_linear.py',
    );
    const attempt = () => loadConfig({ OUTPOST_ANSIBLE_STRATEGY: 'mitogen_linear' });
    if (mitogen)
      expect(attempt().ansibleStrategy).toEqual({
        name: 'mitogen_linear',
        pluginDir: '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy',
      });
    else expect(attempt).toThrow(/OUTPOST_ANSIBLE_STRATEGY: "mitogen_linear" needs ansible-mitogen/);
    expect(() => loadConfig({ OUTPOST_ANSIBLE_STRATEGY: 'fast' })).toThrow(
      /OUTPOST_ANSIBLE_STRATEGY: expected one of linear, free, mitogen_linear, mitogen_free, got "fast"/,
    );
    expect(() => loadConfig({ OUTPOST_AGENT_FRESH_SECONDS: '2' })).toThrow(/OUTPOST_AGENT_FRESH_SECONDS/);
  });

  it('reads how long and how many run dirs are kept', () => {
    const config = loadConfig({ OUTPOST_RUNS_KEEP_DAYS: '3', OUTPOST_RUNS_KEEP_COUNT: '50' });
    expect([config.runsKeepDays, config.runsKeepCount]).toEqual([3, 50]);
    expect(() => loadConfig({ OUTPOST_RUNS_KEEP_DAYS: '0' })).toThrow(/OUTPOST_RUNS_KEEP_DAYS: .*"0"/);
    expect(() => loadConfig({ OUTPOST_RUNS_KEEP_COUNT: 'all' })).toThrow(/OUTPOST_RUNS_KEEP_COUNT: .*"all"/);
  });

  it('names the variable and quotes the bad value', () => {
    expect(() => loadConfig({ OUTPOST_HTTP_PORT: '80a' })).toThrow(/OUTPOST_HTTP_PORT: .*"80a"/);
    expect(() => loadConfig({ OUTPOST_REDIS_URL: 'http://x' })).toThrow(/OUTPOST_REDIS_URL: .*"http:"/);
    expect(() => loadConfig({ OUTPOST_LOG_LEVEL: 'loud' })).toThrow(/OUTPOST_LOG_LEVEL: .*"loud"/);
  });

  it('reaches Redis through Sentinel: the master name and every sentinel, validated naming the variable', () => {
    const config = loadConfig({
      OUTPOST_REDIS_SENTINELS: '127.0.0.1:26379, sentinel-b.example:26380,[::1]:26381',
      OUTPOST_REDIS_SENTINEL_MASTER: 'outpost',
    });
    expect(config.redisSentinel).toEqual({
      master: 'outpost',
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: 'sentinel-b.example', port: 26380 },
        { host: '::1', port: 26381 },
      ],
    });
    expect(config.redisUrl).toBeUndefined();
    const sentinels = (list: string, master = 'outpost') =>
      loadConfig({ OUTPOST_REDIS_SENTINELS: list, OUTPOST_REDIS_SENTINEL_MASTER: master });
    expect(() => sentinels('127.0.0.1:26379,127.0.0.1')).toThrow(
      /^OUTPOST_REDIS_SENTINELS: expected host:port \(port 1 to 65535\) for each sentinel, got "127\.0\.0\.1"$/,
    );
    expect(() => sentinels('127.0.0.1:70000')).toThrow(/OUTPOST_REDIS_SENTINELS: .*got "127\.0\.0\.1:70000"/);
    expect(() => sentinels('h;id:1')).toThrow(/OUTPOST_REDIS_SENTINELS: .*got "h;id:1"/);
    expect(() => sentinels('127.0.0.1:26379', 'my master')).toThrow(
      /^OUTPOST_REDIS_SENTINEL_MASTER: expected .*, got "my master"$/,
    );
    expect(() => loadConfig({ OUTPOST_REDIS_SENTINELS: '127.0.0.1:26379' })).toThrow(
      /^OUTPOST_REDIS_SENTINEL_MASTER: required with OUTPOST_REDIS_SENTINELS/,
    );
    expect(() => loadConfig({ OUTPOST_REDIS_SENTINEL_MASTER: 'outpost' })).toThrow(
      /^OUTPOST_REDIS_SENTINELS: required with OUTPOST_REDIS_SENTINEL_MASTER/,
    );
    expect(() =>
      loadConfig({
        OUTPOST_REDIS_URL: 'redis://127.0.0.1:6379',
        OUTPOST_REDIS_SENTINELS: '127.0.0.1:26379',
        OUTPOST_REDIS_SENTINEL_MASTER: 'outpost',
      }),
    ).toThrow(/^OUTPOST_REDIS_SENTINELS: set either OUTPOST_REDIS_URL or the sentinels, not both$/);
  });

  it('reaches a Redis Cluster by its nodes, only with a hash-tagged prefix and neither a URL nor Sentinel', () => {
    const cluster = (nodes: string, more: Record<string, string> = {}) =>
      loadConfig({ OUTPOST_REDIS_CLUSTER_NODES: nodes, OUTPOST_REDIS_PREFIX: '{outpost}:', ...more });
    expect(cluster('127.0.0.1:7000, redis-b.example:7001,[::1]:7002').redisCluster).toEqual({
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: 'redis-b.example', port: 7001 },
        { host: '::1', port: 7002 },
      ],
    });
    expect(loadConfig({}).redisCluster).toBeUndefined();
    expect(() => cluster('127.0.0.1:7000,127.0.0.1')).toThrow(
      /^OUTPOST_REDIS_CLUSTER_NODES: expected host:port \(port 1 to 65535\) for each node, got "127\.0\.0\.1"$/,
    );
    expect(() => cluster('127.0.0.1:0')).toThrow(/^OUTPOST_REDIS_CLUSTER_NODES: .*got "127\.0\.0\.1:0"$/);
    expect(() => cluster('h;id:1')).toThrow(/^OUTPOST_REDIS_CLUSTER_NODES: .*got "h;id:1"$/);
    expect(() => loadConfig({ OUTPOST_REDIS_CLUSTER_NODES: '127.0.0.1:7000' })).toThrow(
      /^OUTPOST_REDIS_PREFIX: with OUTPOST_REDIS_CLUSTER_NODES the prefix must start with a hash tag, e.g. "\{outpost\}:", so every key shares one slot; got "outpost:"$/,
    );
    expect(() =>
      loadConfig({ OUTPOST_REDIS_CLUSTER_NODES: '127.0.0.1:7000', OUTPOST_REDIS_PREFIX: 'op:' }),
    ).toThrow(/^OUTPOST_REDIS_PREFIX: .*got "op:"$/);
    expect(() => cluster('127.0.0.1:7000', { OUTPOST_REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(
      /^OUTPOST_REDIS_CLUSTER_NODES: set either OUTPOST_REDIS_URL or the cluster nodes, not both$/,
    );
    expect(() =>
      cluster('127.0.0.1:7000', {
        OUTPOST_REDIS_SENTINELS: '127.0.0.1:26379',
        OUTPOST_REDIS_SENTINEL_MASTER: 'outpost',
      }),
    ).toThrow(
      /^OUTPOST_REDIS_CLUSTER_NODES: set either OUTPOST_REDIS_SENTINELS or the cluster nodes, not both$/,
    );
  });

  it('takes a key prefix with a Redis Cluster hash tag, and nothing else in braces', () => {
    expect(loadConfig({ OUTPOST_REDIS_PREFIX: '{outpost}:' }).redisPrefix).toBe('{outpost}:');
    expect(loadConfig({ OUTPOST_REDIS_PREFIX: 'op:' }).redisPrefix).toBe('op:');
    for (const bad of ['op:{x}', '{}:', '{Out}:', 'a b'])
      expect(() => loadConfig({ OUTPOST_REDIS_PREFIX: bad }), bad).toThrow(
        new RegExp(
          `OUTPOST_REDIS_PREFIX: .*got ${JSON.stringify(JSON.stringify(bad)).slice(1, -1).replace(/[{}]/g, '\\$&')}`,
        ),
      );
  });

  it('never echoes a malformed secret', () => {
    const attempt = () => loadConfig({ OUTPOST_API_TOKEN: 'short secret!' });
    expect(attempt).toThrow(/OUTPOST_API_TOKEN/);
    expect(attempt).not.toThrow(/short secret/);
  });

  it('accepts a 32-byte master key as hex and refuses other sizes', () => {
    expect(loadConfig({ OUTPOST_MASTER_KEY: 'ab'.repeat(32) }).masterKey?.length).toBe(32);
    expect(() => loadConfig({ OUTPOST_MASTER_KEY: 'abcd' })).toThrow(/OUTPOST_MASTER_KEY: expected 32 bytes/);
  });
});

describe('loadConfig: InfluxDB and agents', () => {
  it('defaults to InfluxDB v1 database telegraf, an embedded influxd on loopback, and no direct uplink', () => {
    const config = loadConfig({}, '/srv/outpost');
    expect(config.influx).toEqual({ version: 1, database: 'telegraf' });
    expect(config.agent).toMatchObject({
      influxAgentUrl: undefined,
      influxBind: '127.0.0.1',
      influxPort: 8086,
      uplinkPort: 18086,
      telegrafInstallMethod: 'repo',
    });
  });

  it('lets VMs use the embedded influxd when it binds an address they reach, never a loopback one', () => {
    expect(
      loadConfig({ OUTPOST_INFLUX_BIND: '192.0.2.1', OUTPOST_INFLUX_PORT: '9086' }).agent.influxAgentUrl,
    ).toBe('http://192.0.2.1:9086');
    expect(loadConfig({ OUTPOST_INFLUX_URL: 'http://127.0.0.1:8086' }).agent.influxAgentUrl).toBeUndefined();
    expect(
      loadConfig({
        OUTPOST_INFLUX_URL: 'http://127.0.0.1:8086',
        OUTPOST_INFLUX_AGENT_URL: 'http://192.0.2.1:8086/',
      }).agent.influxAgentUrl,
    ).toBe('http://192.0.2.1:8086');
  });

  it('reads InfluxDB v2 when org, bucket and token are given, and wants all three', () => {
    const v2 = loadConfig({
      OUTPOST_INFLUX_ORG: 'ops',
      OUTPOST_INFLUX_BUCKET: 'agents',
      OUTPOST_INFLUX_TOKEN: 'tok-123',
    });
    expect(v2.influx).toEqual({ version: 2, org: 'ops', bucket: 'agents', token: 'tok-123' });
    expect(() => loadConfig({ OUTPOST_INFLUX_ORG: 'ops' })).toThrow(/OUTPOST_INFLUX_BUCKET: .*unset/);
  });

  it('refuses bad values, naming the variable and quoting the value (never a secret)', () => {
    expect(() => loadConfig({ OUTPOST_INFLUX_DATABASE: 'db; DROP' })).toThrow(
      /OUTPOST_INFLUX_DATABASE: .*"db; DROP"/,
    );
    expect(() => loadConfig({ OUTPOST_INFLUX_AGENT_URL: 'http://u:p@192.0.2.1' })).toThrow(
      /OUTPOST_INFLUX_AGENT_URL/,
    );
    expect(() => loadConfig({ OUTPOST_INFLUX_BIND: 'everywhere' })).toThrow(
      /OUTPOST_INFLUX_BIND: .*"everywhere"/,
    );
    expect(() => loadConfig({ OUTPOST_UPLINK_PORT: '70000' })).toThrow(/OUTPOST_UPLINK_PORT/);
    const token = () =>
      loadConfig({ OUTPOST_INFLUX_ORG: 'o', OUTPOST_INFLUX_BUCKET: 'b', OUTPOST_INFLUX_TOKEN: 'bad token!' });
    expect(token).toThrow(/OUTPOST_INFLUX_TOKEN/);
    expect(token).not.toThrow(/bad token/);
  });

  it('validates the Telegraf package source the deploys use', () => {
    expect(() => loadConfig({ OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline' })).toThrow(
      /OUTPOST_TELEGRAF_PACKAGE_DIR: required/,
    );
    expect(() =>
      loadConfig({ OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline', OUTPOST_TELEGRAF_PACKAGE_DIR: 'pkgs/../x y' }),
    ).toThrow(/OUTPOST_TELEGRAF_PACKAGE_DIR: .*"pkgs\/\.\.\/x y"/);
    expect(() => loadConfig({ OUTPOST_TELEGRAF_INSTALL_METHOD: 'apt' })).toThrow(/"apt"/);
    expect(
      loadConfig({ OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline', OUTPOST_TELEGRAF_PACKAGE_DIR: '/srv/pkgs' })
        .agent,
    ).toMatchObject({ telegrafInstallMethod: 'offline', telegrafPackageDir: '/srv/pkgs' });
  });
});

describe('loadConfig: the agent watch', () => {
  it('watches every 60 s by default, silent after one interval, no webhook, no heal', () => {
    expect(loadConfig({}).watch).toEqual({
      intervalSeconds: 60,
      silentSeconds: 60,
      webhookUrl: undefined,
      healProjects: [],
      healSeconds: 3600,
    });
    expect(
      loadConfig({
        OUTPOST_WATCH_INTERVAL_SECONDS: '5',
        OUTPOST_WATCH_HEAL: 'acme, web-2',
        OUTPOST_WATCH_HEAL_SECONDS: '600',
      }).watch,
    ).toMatchObject({
      intervalSeconds: 5,
      silentSeconds: 5,
      healProjects: ['acme', 'web-2'],
      healSeconds: 600,
    });
    expect(loadConfig({ OUTPOST_WATCH_HEAL: '*' }).watch.healProjects).toBe('*');
    expect(loadConfig({ OUTPOST_WATCH_INTERVAL_SECONDS: '0' }).watch.intervalSeconds).toBe(0);
  });

  it('takes an http(s) webhook URL, and never quotes one it refuses (it may hold a token)', () => {
    const url = 'https://hooks.example.org/services/T000/B000/XXXXSECRET';
    expect(loadConfig({ OUTPOST_WATCH_WEBHOOK_URL: url }).watch.webhookUrl).toBe(url);
    for (const bad of [
      'ftp://hooks.example.org/XXXXSECRET',
      'hooks.example.org/XXXXSECRET',
      'http://a b/XXXXSECRET',
    ]) {
      const load = () => loadConfig({ OUTPOST_WATCH_WEBHOOK_URL: bad });
      expect(load).toThrow(/OUTPOST_WATCH_WEBHOOK_URL: expected an http\(s\) URL/);
      expect(load).not.toThrow(/XXXXSECRET/);
    }
    expect(() => loadConfig({ OUTPOST_WATCH_HEAL: 'acme,Bad Name' })).toThrow(
      /OUTPOST_WATCH_HEAL: .*"Bad Name"/,
    );
    expect(() => loadConfig({ OUTPOST_WATCH_INTERVAL_SECONDS: '-1' })).toThrow(
      /OUTPOST_WATCH_INTERVAL_SECONDS/,
    );
  });
});
