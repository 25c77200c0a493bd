import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTunnelStatus } from '../../../src/tunnels/read-tunnel-status.ts';
import type { WantedTunnels } from '../../../src/tunnels/run-tunnel-node.ts';
import { tunnelKeys } from '../../../src/tunnels/tunnel-lease.ts';
import { up, type Lab, type LabVm } from '../../lab/lab.ts';
import { startInflux, type TestInflux } from '../../support/influx.ts';
import { recordCommands } from '../../support/record-commands.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import {
  addCloudroot,
  httpStatusFromVm,
  makeKeypair,
  prepareProxySshd,
  timeUntil,
  tunnelProxyOf,
} from './prepare-tunnel-lab.ts';

const slot = Number(process.env.OUTPOST_LAB_SLOT ?? 0);
const LEASE_TTL_MS = 10_000;
const PREFIX = 'outpost-test:';
const UPLINK_PORT = 18086;
const keys = tunnelKeys(PREFIX);

let lab: Lab;
let influx: TestInflux;
let redisServer: TestRedis;
let redis: Redis;
let dir: string;
let wanted: WantedTunnels[];
let impostor: WantedTunnels;
let keyFile: string;
const nodes = new Map<string, { child: ChildProcess; output: string[] }>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-tunnel-node-'));
  const pair = await makeKeypair(dir);
  keyFile = pair.keyFile;
  [lab, influx, redisServer] = await Promise.all([
    up({ slot, vpcs: 2, vmsPerVpc: 1 }),
    startInflux(),
    startRedis(),
  ]);
  redis = new Redis(redisServer.url);
  await Promise.all(
    lab.proxies().map((p) => addCloudroot(lab, p, pair.publicKey).then(() => prepareProxySshd(lab, p))),
  );
  const [first, second] = lab.proxies() as [LabVm, LabVm];
  // An impostor: the first proxy's address with another VM's key pinned. Must be refused, once.
  impostor = {
    proxy: { ...tunnelProxyOf(first), id: 'impostor', hostKey: second.hostKey },
    local: [{ targetHost: '198.51.100.2', targetPort: 22 }],
  };
  wanted = lab.proxies().map((p) => ({
    proxy: tunnelProxyOf(p),
    remote: [
      {
        targetHost: '127.0.0.1',
        targetPort: influx.port,
        bindPort: UPLINK_PORT,
        probe: { kind: 'http', path: '/ping' },
      },
    ],
    local: [
      { targetHost: lab.targets(p.vpc)[0]?.vpcAddress as string, targetPort: 22, probe: { kind: 'banner' } },
    ],
  }));
});

afterAll(async () => {
  for (const { child } of nodes.values())
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  redis?.disconnect();
  await redisServer?.stop();
  await influx?.stop();
  await lab?.down();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function startNode(nodeId: string): void {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(import.meta.dirname, 'tunnel-node-child.ts')],
    {
      env: {
        ...process.env,
        TUNNEL_NODE_CONFIG: JSON.stringify({
          redisUrl: redisServer.url,
          keyPrefix: PREFIX,
          nodeId,
          keyFile,
          leaseTtlMs: LEASE_TTL_MS,
          wanted: [...wanted, impostor],
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  nodes.set(nodeId, { child, output });
}

async function holders(): Promise<(string | null)[]> {
  return Promise.all(lab.proxies().map((p) => redis.get(keys.lease(p.name))));
}

/** The uplink of `proxy`'s VPC works: its VM reaches InfluxDB through the proxy. */
async function uplinkWorks(proxy: LabVm): Promise<boolean> {
  const vm = lab.targets(proxy.vpc)[0] as LabVm;
  return (await httpStatusFromVm(lab, vm, `http://${proxy.vpcAddress}:${UPLINK_PORT}/ping`, 1)) === '204';
}

describe('two tunnel nodes on one Redis', () => {
  it('hold each proxy on exactly one node, and the survivor takes over within the lease time when the holder dies', async () => {
    startNode('node-a');
    startNode('node-b');
    await timeUntil('every proxy held', async () => (await holders()).every((h) => h !== null), 20_000);
    await timeUntil(
      'every uplink works',
      async () => (await Promise.all(lab.proxies().map(uplinkWorks))).every(Boolean),
      20_000,
      500,
    );
    // Exactly one holder per proxy, and the nodes agree on who holds what.
    const before = await holders();
    const published = await Promise.all(
      ['node-a', 'node-b'].map(
        async (n) => JSON.parse((await redis.get(keys.node(n))) ?? '{}') as { held?: string[] },
      ),
    );
    const heldByNodes = published.flatMap((p) => p.held ?? []).sort();
    expect(heldByNodes).toEqual(['impostor', ...lab.proxies().map((p) => p.name)].sort());
    for (const [i, p] of lab.proxies().entries()) {
      // Status is published at the tick (1 s) after it changed: wait for the one after the forwards came up.
      await timeUntil(
        'status published',
        async () => (await readTunnelStatus(redis, PREFIX, p.name))?.state === 'ready',
        3000,
      );
      const status = await readTunnelStatus(redis, PREFIX, p.name);
      expect(status?.node).toBe(before[i]);
      expect(status?.state).toBe('ready');
      expect(status?.forwards.find((f) => f.kind === 'remote')).toMatchObject({
        port: UPLINK_PORT,
        bindAddress: p.vpcAddress,
      });
    }

    // The impostor is held (so no other node loops on it either), shown as failed with the reason, tried once.
    const refused = await readTunnelStatus(redis, PREFIX, 'impostor');
    expect(refused?.state).toBe('failed');
    expect(refused?.lastError).toMatch(
      /proxy "impostor": its SSH host key changed since it was pinned \(pinned SHA256:\S+, presented SHA256:\S+\).*outpost proxy rekey impostor/,
    );
    const mismatchLines = () =>
      [...nodes.values()]
        .flatMap((n) => n.output)
        .join('')
        .split('\n')
        .filter((l) => l.includes('host key mismatch'));
    const seen = mismatchLines().length;
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(seen).toBe(1);
    expect(mismatchLines()).toHaveLength(1);

    // While nothing changes, a status is re-sent only to keep it alive (every ttl/3), not every tick.
    const recorder = await recordCommands(redis);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const sets = (await recorder.stop()).filter(([name]) => name === 'set').map(([, key]) => key ?? '');
    for (const key of [...lab.proxies().map((p) => keys.status(p.name)), keys.status('impostor')])
      expect(sets.filter((k) => k === key).length, key).toBeLessThanOrEqual(2);
    for (const n of ['node-a', 'node-b'])
      expect(sets.filter((k) => k === keys.node(n)).length, n).toBeLessThanOrEqual(2);

    const proxy = lab.proxies()[0] as LabVm;
    const victim = before[0] as string;
    const survivor = victim === 'node-a' ? 'node-b' : 'node-a';
    const killedAt = Date.now();
    nodes.get(victim)?.child.kill('SIGKILL');
    const leaseMs = await timeUntil(
      'survivor holds the lease',
      async () => (await redis.get(keys.lease(proxy.name))) === survivor,
      LEASE_TTL_MS + 3000,
      100,
    );
    const uplinkMs = await timeUntil('uplink works again', () => uplinkWorks(proxy), 10_000, 250);
    console.log(
      `takeover: lease moved ${leaseMs} ms after kill -9 (ttl ${LEASE_TTL_MS} ms); uplink back ${uplinkMs} ms later; total ${Date.now() - killedAt} ms`,
    );
    expect(leaseMs).toBeLessThanOrEqual(LEASE_TTL_MS + 500);
    expect(await holders()).toEqual(lab.proxies().map(() => survivor));
    expect(await redis.get(keys.lease('impostor'))).toBe(survivor);
    expect((await Promise.all(lab.proxies().map(uplinkWorks))).every(Boolean)).toBe(true);

    // Nothing the nodes wrote to Redis carries key material.
    const stored = await Promise.all((await redis.keys(`${PREFIX}*`)).map((k) => redis.get(k)));
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.join('\n')).not.toMatch(/PRIVATE KEY|b3BlbnNzaC1rZXktdjE/);

    // A clean stop releases every lease at once.
    const stopped = new Promise((resolve) => nodes.get(survivor)?.child.once('exit', resolve));
    nodes.get(survivor)?.child.kill('SIGTERM');
    await stopped;
    expect(await holders()).toEqual(lab.proxies().map(() => null));
    const logs = [...nodes.values()].flatMap((n) => n.output).join('');
    expect(logs).toContain('lease acquired');
    expect(logs).not.toContain('PRIVATE KEY');
  });
});
