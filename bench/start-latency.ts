// Bench 1, start latency: POST /v1/jobs -> ansible-playbook spawned -> first event at an SSE client, over
// N jobs of a trivial local playbook run one at a time on a real `outpost serve` (real Redis, real
// ansible-playbook). Spawn and first-fd-3 times come from bench/support/spawn-probe.js preloaded into the
// service. Outpost's part = (POST -> spawn) + (first fd-3 bytes -> event at the SSE client); Ansible's own
// start-up (spawn -> first fd-3 bytes) is reported separately.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRedis } from '../test/support/redis.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { startService, submitJob } from './support/outpost-service.ts';
import { printTable, readFlags, writeResult } from './support/report.ts';
import { followSse } from './support/sse-client.ts';
import { nowMs, round, summarize, type Summary } from './support/stats.ts';

const flags = readFlags({ jobs: 200, warmup: 3, playbook: 'test/fixtures/playbooks/ping.yml' });
const machine = machineInfo();
console.log(
  `start latency: ${flags.jobs} jobs of ${flags.playbook} on localhost; ${describeMachine(machine)}`,
);

interface Probe {
  job: string;
  spawnCallAt: number;
  spawnAt: number;
  fd3At?: number;
  exitAt?: number;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-start-'));
const redis = await startRedis();
const probeFile = path.join(dir, 'probe.jsonl');
const service = await startService({ redisUrl: redis.url, varDir: path.join(dir, 'var'), probeFile });
const samples: {
  job: string;
  postAt: number;
  acceptedAt: number;
  runningAt: number;
  firstEventAt: number;
  endAt: number;
}[] = [];
try {
  for (let i = 0; i < flags.warmup + flags.jobs; i++) {
    const postAt = nowMs();
    const job = await submitJob(service.url, {
      kind: 'run-playbook',
      playbook: flags.playbook,
      hosts: ['localhost'],
    });
    const acceptedAt = nowMs();
    let firstEventAt = 0;
    let runningAt = 0;
    const follower = followSse(service.url, job, {
      keepData: ['status'],
      onBlock: (block, at) => {
        if (block.type === 'event' && firstEventAt === 0) firstEventAt = at;
        // The worker's `running` entry carries the time it was appended (ms precision): queue pickup.
        if (block.type === 'status' && runningAt === 0 && block.data) {
          const entry = JSON.parse(block.data) as { time: string };
          runningAt = Date.parse(entry.time);
        }
      },
    });
    const seen = await follower.done;
    if (seen.error || !seen.byType.end)
      throw new Error(`job ${job}: stream ended without an end entry (${seen.error ?? ''})`);
    if (i >= flags.warmup)
      samples.push({ job, postAt, acceptedAt, runningAt, firstEventAt, endAt: seen.lastAt ?? 0 });
    if ((i + 1) % 25 === 0) console.log(`  ${i + 1}/${flags.warmup + flags.jobs} jobs`);
  }
} finally {
  await service.stop();
  await redis.stop();
}

const probes = new Map<string, Probe>();
for (const line of (await readFile(probeFile, 'utf8')).split('\n')) {
  if (!line) continue;
  const record = JSON.parse(line) as Probe;
  probes.set(record.job, { ...probes.get(record.job), ...record });
}
await rm(dir, { recursive: true, force: true });

const rows = samples.map((s) => {
  const probe = probes.get(s.job);
  if (!probe?.fd3At) throw new Error(`no spawn probe for job ${s.job}`);
  return {
    postToAccepted: s.acceptedAt - s.postAt,
    postToRunning: s.runningAt - s.postAt,
    runningToSpawn: probe.spawnAt - s.runningAt,
    postToSpawn: probe.spawnAt - s.postAt,
    spawnToFirstFd3: probe.fd3At - probe.spawnAt,
    fd3ToSseClient: s.firstEventAt - probe.fd3At,
    postToFirstEvent: s.firstEventAt - s.postAt,
    outpostPart: probe.spawnAt - s.postAt + (s.firstEventAt - probe.fd3At),
    wholeJob: s.endAt - s.postAt,
  };
});
const metrics = Object.keys(rows[0] ?? {}) as (keyof (typeof rows)[number])[];
const summaries: Record<string, Summary> = {};
for (const metric of metrics) summaries[metric] = summarize(rows.map((r) => r[metric]));

printTable(
  `start latency over ${rows.length} jobs (ms)`,
  metrics.map((metric) => {
    const s = summaries[metric] as Summary;
    return {
      metric,
      min: round(s.min),
      p50: round(s.p50),
      p90: round(s.p90),
      p99: round(s.p99),
      max: round(s.max),
      mean: round(s.mean),
    };
  }),
);
const outpost = summaries.outpostPart as Summary;
const ansible = summaries.spawnToFirstFd3 as Summary;
const verdict = {
  outpostP50Ms: round(outpost.p50),
  outpostP99Ms: round(outpost.p99),
  targetP50Ms: 20,
  targetP99Ms: 100,
  meetsTarget: outpost.p50 <= 20 && outpost.p99 <= 100,
  ansibleStartP50Ms: round(ansible.p50),
  outpostShareOfFirstEventP50: round(outpost.p50 / (summaries.postToFirstEvent as Summary).p50),
};
printTable('verdict', [verdict]);
await writeResult('start-latency', machine, { flags, summaries, verdict, samples: rows });
