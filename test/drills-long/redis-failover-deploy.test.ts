import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedInfluxd, type EmbeddedInfluxd } from '../../src/metrics/start-embedded-influxd.ts';
import { readTunnelStatus } from '../../src/tunnels/index.ts';
import {
  api,
  startOutpost,
  submitJob,
  waitForEnd,
  type OutpostProcess,
} from '../integration/http/start-outpost.ts';
import { up, type Lab, type LabVm } from '../lab/lab.ts';
import { freePort } from '../support/free-port.ts';
import {
  readStoredLog,
  startSentinelRedis,
  SENTINEL_MASTER,
  type TestSentinelRedis,
} from '../support/redis-sentinel.ts';
import { buildTelegrafDeb } from '../support/telegraf-deb.ts';
import { enrollLabProject } from '../integration/inventory/enroll-lab-project.ts';

// Redis that survives losing a machine (issue 16 #5), on the lab: Outpost with every role in one process on
// Debian's redis-sentinel (three sentinels, a master and a replica on loopback); the master is killed -9 in
// the middle of a real deploy (one VPC behind a proxy with two VMs, and a direct VM) while a probe job waits
// in the queue. The deploy must finish after the failover with every host reporting, and no entry of its log
// that the master had acknowledged may be missing.
const slot = Number(process.env.OUTPOST_LAB_SLOT ?? 0);
const PROJECT = 'failover';

let lab: Lab;
let redis: TestSentinelRedis;
let reader: Redis;
let outpost: OutpostProcess;
let varDir: string;
let influx: EmbeddedInfluxd | undefined;
let proxy: LabVm;

beforeAll(async () => {
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-drill-failover-'));
  const [labUp, redisUp, deb] = await Promise.all([
    up({ slot, vpcs: 1, vmsPerVpc: 2, directVms: 1 }),
    startSentinelRedis(),
    buildTelegrafDeb({ outDir: path.join(varDir, 'packages') }),
  ]);
  lab = labUp;
  redis = redisUp;
  reader = redis.master();
  proxy = lab.proxies()[0] as LabVm;
  const influxPort = await freePort(lab.controlAddress);
  influx = await startEmbeddedInfluxd({
    dir: path.join(varDir, 'influx'),
    bindAddress: lab.controlAddress,
    port: influxPort,
    rpcPort: await freePort(),
  });
  await fetch(`${influx.url}/query`, {
    method: 'POST',
    body: new URLSearchParams({ q: 'CREATE DATABASE telegraf' }),
  });
  outpost = await startOutpost({
    redisUrl: '',
    varDir,
    roles: ['api', 'worker', 'tunnels'] as ('api' | 'worker')[],
    name: 'failover',
    env: {
      OUTPOST_REDIS_SENTINELS: redis.sentinels,
      OUTPOST_REDIS_SENTINEL_MASTER: SENTINEL_MASTER,
      OUTPOST_WORKER_CONCURRENCY: '1',
      // Production's heartbeat: a failover of a few seconds must not look like a dead worker.
      OUTPOST_WORKER_HEARTBEAT_MS: '30000',
      OUTPOST_INFLUX_URL: `http://${lab.controlAddress}:${influxPort}`,
      OUTPOST_TELEGRAF_INSTALL_METHOD: 'offline',
      OUTPOST_TELEGRAF_PACKAGE_DIR: path.dirname(deb),
      OUTPOST_UPLINK_WAIT_SECONDS: '30',
      OUTPOST_VERIFY_SECONDS: '60',
    },
  });
  await enrollLabProject(outpost.url, lab, PROJECT);
}, 300_000);

afterAll(async () => {
  await outpost?.stop();
  await influx?.stop();
  await redis?.stop();
  await lab?.down();
  if (varDir) await rm(varDir, { recursive: true, force: true });
}, 120_000);

function submit(body: Record<string, unknown>): Promise<string> {
  return submitJob(outpost.url, body);
}

describe('Redis Sentinel failover during a deploy', () => {
  it('kill -9 of the master mid-play: the deploy finishes after the failover, every host reports, the queued probe runs, no log entry is lost', async () => {
    const deploy = await submit({ kind: 'deploy-agent', project: PROJECT });
    const probe = await submit({ kind: 'probe', project: PROJECT });
    let seen = new Map<number, string>();
    for (const deadline = Date.now() + 240_000; ; await new Promise((r) => setTimeout(r, 200))) {
      seen = await readStoredLog(reader, deploy);
      if ([...seen.values()].some((entry) => entry.includes('TASK [telegraf'))) break;
      if (Date.now() > deadline)
        throw new Error(`the deploy's play did not reach the telegraf role in 240 s`);
    }
    const killedAt = Date.now();
    const oldPort = await redis.killMaster();
    const newPort = await redis.waitForFailover(oldPort, 60_000);
    const failoverMs = Date.now() - killedAt;

    const job = await waitForEnd(outpost.url, deploy, 600_000);
    const log = [...(await readStoredLog(reader, deploy)).values()].join('\n');
    expect(job.status, `${String(job.reason)}\n${log.slice(-4000)}`).toBe('successful');
    const { body: hosts } = await api<{ id: string; agent: { state: string } }[]>(
      outpost.url,
      'GET',
      `/v1/hosts?project=${PROJECT}`,
    );
    expect(hosts.map((h) => `${h.id} ${h.agent.state}`).sort()).toEqual(
      [...lab.targets(), ...lab.directs()].map((vm) => `${vm.name} reporting`).sort(),
    );
    const probed = await waitForEnd(outpost.url, probe, 300_000);
    expect(probed.status, JSON.stringify(probed)).toBe('successful');

    const after = await readStoredLog(reader, deploy);
    const lost = [...seen].filter(([seq, entry]) => after.get(seq) !== entry);
    expect(lost).toEqual([]);
    const seqs = [...after.keys()];
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    // The uplink the tunnels role holds is up again on the new master's record.
    const uplink = (await readTunnelStatus(reader, 'outpost:', proxy.name))?.forwards[0]?.state;
    expect(uplink).toBe('up');
    console.log(
      `deploy failover drill: master on port ${oldPort} killed mid-play; sentinels named port ${newPort} after ${failoverMs} ms; ` +
        `deploy ${String(job.status)} ${Math.round((Date.now() - killedAt) / 1000)} s after the kill; ` +
        `${seen.size} log entries acknowledged before the kill, ${lost.length} lost, ${after.size} in the end`,
    );
  }, 900_000);
});
