// Bench 11, registry at fleet size (no VMs): a registry seeded with --sizes hosts, --per-project hosts
// per project (default 100 and 10,000 hosts, 50 per project: 2 and 200 projects), one proxy per project.
//  - listing one project's hosts (Registry.listHosts({ project }): its index, then its values, each
//    validated), --lists times, against the previous code's way measured in the same run: every host's
//    value read and filtered (SMEMBERS of all hosts, MGET of all, the same validation of the kept ones).
//  - a tunnel node's Redis load while nothing changes: the tunnels role's wiring (runRegistryTunnels:
//    one GET of the registry version per check) vs the previous wiring in the same run (every project's
//    hosts, proxies and claims re-read at each scan, here on the indexed registry, which only lowers it),
//    over --idle-seconds, counted by the server itself (INFO commandstats calls and usec after CONFIG
//    RESETSTAT; the bench's own INFO/CONFIG left out).
// Targets (issue 16): one project's list <= 10 ms at 10,000 hosts; idle commands/s the same within noise at
// 100 and 10,000 hosts.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { runRegistryTunnels } from '../src/app/start-tunnels.ts';
import type { AgentSettings } from '../src/config.ts';
import type { Host } from '../src/domain/host.ts';
import type { AgentDeps } from '../src/jobs/agent/agent-deps.ts';
import { listWantedUplinks } from '../src/jobs/agent/list-wanted-uplinks.ts';
import { mapLimit } from '../src/jobs/runtime/map-limit.ts';
import { readEntity } from '../src/registry/read-entity.ts';
import { Registry } from '../src/registry/registry.ts';
import { KeyStore } from '../src/secrets/key-store.ts';
import { runProjectTunnels, type ProjectTunnels } from '../src/tunnels/run-project-tunnels.ts';
import { silentLogger } from '../src/tunnels/tunnel-types.ts';
import { startRedis } from '../test/support/redis.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { printTable, readFlags, writeResult } from './support/report.ts';
import { round, summarize, type Summary } from './support/stats.ts';

const flags = readFlags({ sizes: '100,10000', perProject: 50, lists: 200, idleSeconds: 10 });
const sizes = flags.sizes.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < flags.perProject || n > 100_000))
  throw new Error(`--sizes: expected ${flags.perProject}..100000 hosts each, got ${flags.sizes}`);
const machine = machineInfo();
console.log(
  `registry: ${sizes.join(', ')} hosts, ${flags.perProject} per project; ${describeMachine(machine)}`,
);

const PREFIX = 'outpost:';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Projects p000.., each with one proxy and `perProject` hosts (agent none: no tunnel is wanted). */
async function seed(registry: Registry, hosts: number): Promise<string[]> {
  const projects = Array.from(
    { length: hosts / flags.perProject },
    (_, i) => `p${String(i).padStart(4, '0')}`,
  );
  await mapLimit([...projects.entries()], 20, async ([i, project]) => {
    await registry.createProject({ id: project });
    await registry.createProxy({
      id: `${project}-edge`,
      project,
      publicAddress: '203.0.113.10',
      vpcAddress: '198.51.100.1',
      networks: ['198.51.100.0/24'],
    });
    for (let h = 0; h < flags.perProject; h++) {
      await registry.createHost({
        id: `h${String(i * flags.perProject + h).padStart(6, '0')}`,
        project,
        address: `198.51.100.${10 + (h % 200)}`,
        network: '198.51.100.0/24',
      });
    }
  });
  return projects;
}

/** The previous registry's read of one project's hosts: every host's value, filtered, then validated. */
async function listByScan(redis: Redis, project: string): Promise<Host[]> {
  const ids = (await redis.smembers(`${PREFIX}hosts`)).sort();
  const texts = await redis.mget(ids.map((id) => `${PREFIX}host:${id}`));
  return texts.flatMap((text, i) =>
    text !== null && (JSON.parse(text) as { project?: string }).project === project
      ? [readEntity<Host>('host', ids[i] ?? '', text)]
      : [],
  );
}

async function time(n: number, work: () => Promise<unknown>): Promise<Summary> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await work();
    ms.push(performance.now() - start);
  }
  return summarize(ms);
}

/** Commands (and server CPU, usec) the server ran per second over `seconds`, the bench's own left out. */
async function idleLoad(
  redis: Redis,
  seconds: number,
): Promise<{ calls: number; usec: number; top: string }> {
  await redis.config('RESETSTAT');
  await sleep(seconds * 1000);
  const info = await redis.info('commandstats');
  let calls = 0;
  let usec = 0;
  const byName: [string, number][] = [];
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/gm)) {
    const [, name = '', n = '0', u = '0'] = match;
    if (name === 'info' || name.startsWith('config')) continue;
    calls += Number(n);
    usec += Number(u);
    byName.push([name, Number(n)]);
  }
  byName.sort((a, b) => b[1] - a[1]);
  return {
    calls: calls / seconds,
    usec: usec / seconds,
    top: byName
      .slice(0, 3)
      .map(([name, n]) => `${name} ${round(n / seconds)}`)
      .join(', '),
  };
}

const listRows: Record<string, number | string>[] = [];
const idleRows: Record<string, number | string>[] = [];
const results: unknown[] = [];
for (const size of sizes) {
  const server = await startRedis();
  const redis = new Redis(server.url);
  try {
    const keys = new KeyStore(redis, randomBytes(32), PREFIX);
    const registry = new Registry(redis, PREFIX, { keys });
    const seedStart = performance.now();
    const projects = await seed(registry, size);
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const middle = projects[Math.floor(projects.length / 2)] ?? '';
    if ((await registry.listHosts({ project: middle })).length !== flags.perProject)
      throw new Error(`project ${middle}: expected ${flags.perProject} hosts`);
    if ((await listByScan(redis, middle)).length !== flags.perProject)
      throw new Error(`project ${middle} by scan: expected ${flags.perProject} hosts`);
    const indexed = await time(flags.lists, () => registry.listHosts({ project: middle }));
    const scanned = await time(Math.max(5, Math.round(flags.lists / 10)), () => listByScan(redis, middle));
    listRows.push({
      hosts: size,
      projects: projects.length,
      'seed s': round(seedSeconds),
      'index p50 ms': round(indexed.p50),
      'index p90 ms': round(indexed.p90),
      'scan p50 ms (before)': round(scanned.p50),
      'scan/index': round(scanned.p50 / indexed.p50),
    });

    const agent = {
      registry,
      redis,
      keyPrefix: PREFIX,
      influxUrl: 'http://127.0.0.1:8086',
      settings: { uplinkPort: 18086 } as AgentSettings,
    } as AgentDeps;
    const wirings: [string, () => ProjectTunnels][] = [
      ['versioned (now)', () => runRegistryTunnels({ agent, keys, logger: silentLogger })],
      [
        'rescan (before)',
        () =>
          runProjectTunnels({
            redis,
            keyPrefix: PREFIX,
            listProjects: async () => (await registry.listProjects()).map((p) => p.id),
            listWanted: (project) => listWantedUplinks(agent, project),
            privateKey: (project) => keys.projectPrivateKey(project),
          }),
      ],
    ];
    const idle: Record<string, unknown> = {};
    for (const [wiring, start] of wirings) {
      const tunnels = start();
      await tunnels.refresh();
      await sleep(2000);
      const load = await idleLoad(redis, flags.idleSeconds);
      await tunnels.stop();
      idle[wiring] = load;
      idleRows.push({
        hosts: size,
        wiring,
        'cmds/s': round(load.calls),
        'redis cpu ms/s': round(load.usec / 1000),
        'top cmds/s': load.top,
      });
    }
    results.push({ size, projects: projects.length, seedSeconds, indexed, scanned, idle });
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

// Ratios against the smallest size measured in this run, per wiring.
for (const row of idleRows) {
  const base = idleRows.find((r) => r.wiring === row.wiring && r.hosts === sizes[0]);
  row[`vs ${sizes[0]} hosts`] = round(Number(row['cmds/s']) / Number(base?.['cmds/s']));
}
printTable("Listing one project's hosts (target <= 10 ms at 10,000 hosts)", listRows);
printTable(
  `Tunnel node's Redis load while nothing changes, over ${flags.idleSeconds} s (target: the same at every size)`,
  idleRows,
);
await writeResult('registry', machine, { flags, results });
