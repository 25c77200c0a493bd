import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRegistryTunnels } from '../../../src/app/start-tunnels.ts';
import type { AgentSettings } from '../../../src/config.ts';
import type { AgentDeps } from '../../../src/jobs/agent/agent-deps.ts';
import { claimUplink } from '../../../src/jobs/agent/uplink-claims.ts';
import { memoizeByProject } from '../../../src/registry/memoize-by-project.ts';
import { RegistryChanges } from '../../../src/registry/registry-changes.ts';
import { Registry } from '../../../src/registry/registry.ts';
import { KeyStore } from '../../../src/secrets/key-store.ts';
import { freePort } from '../../support/free-port.ts';
import { recordCommands } from '../../support/record-commands.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(100))
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
}

describe('the tunnels role reads the registry only when it changed', () => {
  let server: TestRedis;
  let redis: Redis;
  let registry: Registry;
  let keys: KeyStore;
  let prefix: string;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    prefix = `t${randomBytes(4).toString('hex')}:`;
    keys = new KeyStore(redis, randomBytes(32), prefix);
    registry = new Registry(redis, prefix, { keys });
    for (const project of ['blue', 'green']) {
      await registry.createProject({ id: project });
      await registry.createProxy({
        id: `${project}-edge`,
        project,
        publicAddress: '127.0.0.1',
        sshPort: await freePort(), // nothing listens: the node's connection is refused, on loopback
        vpcAddress: '198.51.100.1',
        networks: ['198.51.100.0/24'],
      });
      for (let i = 0; i < 20; i++)
        await registry.createHost({ id: `${project}-vm${i}`, project, address: `198.51.100.${10 + i}` });
    }
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('loads a project again after its own writes only', async () => {
    const changes = new RegistryChanges(redis, prefix, { freshMs: 0 });
    const loads: string[] = [];
    const hosts = memoizeByProject(changes, async (project) => {
      loads.push(project);
      return { value: (await registry.listHosts({ project })).length };
    });
    expect([await hosts('blue'), await hosts('green'), await hosts('blue')]).toEqual([20, 20, 20]);
    expect(loads).toEqual(['blue', 'green']);
    await registry.updateHost('green-vm0', { sshPort: 2222 });
    expect([await hosts('blue'), await hosts('green')]).toEqual([20, 20]);
    expect(loads).toEqual(['blue', 'green', 'green']);
    await registry.deleteHost('blue-vm19');
    expect(await hosts('blue')).toBe(19);
    await registry.createHost({ id: 'blue-vm19', project: 'blue', address: '198.51.100.29' });
    expect(await hosts('blue')).toBe(20);
    expect(loads).toEqual(['blue', 'green', 'green', 'blue', 'blue']);
  });

  it('costs Redis one GET of the registry version while nothing changes; a claim starts a node, its expiry stops it', async () => {
    const agent = {
      registry,
      redis,
      keyPrefix: prefix,
      influxUrl: 'http://127.0.0.1:8086',
      settings: { uplinkPort: 18086 } as AgentSettings,
    } as AgentDeps;
    const tunnels = runRegistryTunnels({ agent, keys, logger: silent });
    try {
      await tunnels.refresh();
      const recorder = await recordCommands(redis);
      await sleep(3000);
      const idle = await recorder.stop();
      expect(idle.length).toBeGreaterThan(0);
      expect(idle.filter(([name, key]) => name !== 'get' || key !== `${prefix}registry-version`)).toEqual([]);
      expect(tunnels.projects()).toEqual([]);

      // A deploy claims green's uplink for 3 s: green's node starts; when the claim runs out, it stops.
      await claimUplink(redis, prefix, { id: 'green-edge', project: 'green' }, 'job-1', 3000);
      await waitFor('a node for green', () => tunnels.projects().includes('green'));
      expect(tunnels.projects()).toEqual(['green']);
      await waitFor('green node stopped after the claim ran out', () => tunnels.projects().length === 0);
    } finally {
      await tunnels.stop();
    }
  });
});

const silent = { debug() {}, info() {}, warn() {}, error() {} };
