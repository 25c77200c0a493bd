// Bench 6, memory of the service process (VmRSS / VmHWM of `outpost serve`, sampled every 200 ms):
//  A. 50 concurrent jobs (worker concurrency 50) and 200 SSE log followers (4 per job). The jobs run the
//     synthetic source (bench/support/fake-ansible: events at --job-rate/s for --job-seconds), so the
//     service is measured, not 50 Ansible processes on a 2-core machine.
//  B. One job whose log grows to --log-mib MiB of stdout lines (4 KiB each, written at full speed through
//     the real runner), followed live by --log-followers SSE clients and one /log text tail: RSS at start,
//     peak and end shows whether following a big log stays flat. Redis memory is reported too; the
//     private Redis and its data are removed at the end.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startRedis } from '../test/support/redis.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import {
  BENCH_TOKEN,
  startService,
  submitJob,
  waitForEnd,
  type BenchService,
} from './support/outpost-service.ts';
import { printTable, readFlags, writeResult } from './support/report.ts';
import { followSse } from './support/sse-client.ts';
import { nowMs, round } from './support/stats.ts';

const flags = readFlags({
  jobs: 50,
  followers: 200,
  jobRate: 100,
  jobSeconds: 20,
  logMib: 1024,
  lineBytes: 4096,
  logFollowers: 2,
  /** Part B runs twice: Node's default heap, then this V8 old-space limit (0: skip), to tell garbage from retained memory. */
  serviceHeapMib: 256,
});
const machine = machineInfo();
console.log(`memory: ${describeMachine(machine)}`);

/** Samples the service's RSS every 200 ms until stopped. */
function sampleMemory(service: BenchService): {
  stop(): Promise<{ startMiB: number; peakMiB: number; samples: number[] }>;
} {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push((await service.memory()).rssMiB);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { startMiB: samples[0] ?? 0, peakMiB: samples.reduce((a, b) => Math.max(a, b), 0), samples };
    },
  };
}

/** Follows `/v1/jobs/<id>/log?follow=true` (plain text) to its end; resolves the bytes read. */
function tailLog(base: string, jobId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const req = http.get(
      `${base}/v1/jobs/${jobId}/log?follow=true`,
      { headers: { authorization: `Bearer ${BENCH_TOKEN}` }, agent: false },
      (res) => {
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => resolve(bytes));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

async function redisMemory(url: string): Promise<{ usedMiB: number; peakMiB: number }> {
  const client = new Redis(url);
  try {
    const info = await client.info('memory');
    const bytes = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    return { usedMiB: bytes('used_memory') / 2 ** 20, peakMiB: bytes('used_memory_peak') / 2 ** 20 };
  } finally {
    await client.quit();
  }
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-memory-'));
const results: Record<string, unknown> = {};
const rows: Record<string, string | number>[] = [];

// A. concurrent jobs and followers.
{
  const redis = await startRedis();
  const service = await startService({
    redisUrl: redis.url,
    varDir: path.join(dir, 'var-a'),
    fakeAnsible: true,
    env: { OUTPOST_WORKER_CONCURRENCY: String(flags.jobs) },
  });
  try {
    await settle(1000);
    const idle = await service.memory();
    const sampler = sampleMemory(service);
    const jobs: string[] = [];
    for (let i = 0; i < flags.jobs; i++) {
      jobs.push(
        await submitJob(service.url, {
          kind: 'run-playbook',
          playbook: 'test/fixtures/playbooks/ping.yml',
          hosts: ['localhost'],
          options: {
            extraVars: {
              bench_mode: 'events',
              bench_events: flags.jobRate * flags.jobSeconds,
              bench_rate: flags.jobRate,
              bench_start_delay_ms: 1000,
            },
          },
        }),
      );
    }
    const followers = Array.from({ length: flags.followers }, (_, i) =>
      followSse(service.url, jobs[i % jobs.length] ?? ''),
    );
    const seen = await Promise.all(followers.map((f) => f.done));
    const records = await Promise.all(jobs.map((job) => waitForEnd(service.url, job)));
    const memory = await sampler.stop();
    await settle(3000);
    const end = await service.memory();
    const delivered = seen.reduce((sum, s) => sum + (s.byType.event ?? 0), 0);
    const result = {
      idleMiB: idle.rssMiB,
      startMiB: memory.startMiB,
      peakMiB: memory.peakMiB,
      endMiB: end.rssMiB,
      hwmMiB: end.hwmMiB,
      successful: records.filter((r) => r.status === 'successful').length,
      followersToEnd: seen.filter((s) => s.byType.end).length,
      eventsDelivered: delivered,
    };
    results.concurrent = { ...result, samples: memory.samples };
    rows.push({
      case: `${flags.jobs} jobs + ${flags.followers} followers`,
      idleMiB: round(idle.rssMiB),
      peakMiB: round(memory.peakMiB),
      endMiB: round(end.rssMiB),
      hwmMiB: round(end.hwmMiB),
      note: `${result.successful}/${flags.jobs} jobs ok, ${result.followersToEnd}/${flags.followers} followers to end, ${delivered} events delivered`,
    });
  } finally {
    await service.stop();
    await redis.stop();
  }
}

// B. one big log followed live, with Node's default heap and with a capped one.
results.bigLog = [];
for (const heapMib of [0, flags.serviceHeapMib].filter((v, i) => i === 0 || v > 0)) {
  const redis = await startRedis();
  const probeFile = path.join(dir, `probe-${heapMib}.jsonl`);
  const service = await startService({
    redisUrl: redis.url,
    varDir: path.join(dir, `var-b-${heapMib}`),
    fakeAnsible: true,
    probeFile,
    ...(heapMib > 0 ? { nodeArgs: [`--max-old-space-size=${heapMib}`] } : {}),
  });
  try {
    await settle(1000);
    const idle = await service.memory();
    const sampler = sampleMemory(service);
    const started = nowMs();
    const job = await submitJob(service.url, {
      kind: 'run-playbook',
      playbook: 'test/fixtures/playbooks/ping.yml',
      hosts: ['localhost'],
      options: {
        idleTimeoutSeconds: 600,
        timeoutSeconds: 3600,
        extraVars: {
          bench_mode: 'stdout',
          bench_line_bytes: flags.lineBytes,
          bench_total_bytes: flags.logMib * 2 ** 20,
          bench_rate: 0,
          bench_start_delay_ms: 1000,
        },
      },
    });
    const followers = Array.from({ length: flags.logFollowers }, () => followSse(service.url, job));
    const tail = tailLog(service.url, job);
    const [seen, tailBytes] = await Promise.all([Promise.all(followers.map((f) => f.done)), tail]);
    const record = await waitForEnd(service.url, job, 3_600_000);
    const seconds = (nowMs() - started) / 1000;
    // When the source (the stand-in ansible-playbook) exited, against when the service stored its last line.
    const probe = (await readFile(probeFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { job: string; spawnAt: number; exitAt?: number })
      .find((p) => p.job === job && p.exitAt !== undefined);
    const sourceSeconds = probe?.exitAt ? (probe.exitAt - probe.spawnAt) / 1000 : Number.NaN;
    const memory = await sampler.stop();
    await settle(3000);
    const end = await service.memory();
    const redisMem = await redisMemory(redis.url);
    const lines = Math.ceil((flags.logMib * 2 ** 20) / flags.lineBytes);
    const result = {
      status: record.status,
      lines,
      seconds,
      sourceSeconds,
      idleMiB: idle.rssMiB,
      startMiB: memory.startMiB,
      peakMiB: memory.peakMiB,
      endMiB: end.rssMiB,
      hwmMiB: end.hwmMiB,
      sseLinesPerFollower: seen.map((s) => s.byType.stdout ?? 0),
      tailMiB: tailBytes / 2 ** 20,
      redisUsedMiB: redisMem.usedMiB,
      redisPeakMiB: redisMem.peakMiB,
    };
    (results.bigLog as unknown[]).push({ heapLimitMib: heapMib, ...result, samples: memory.samples });
    rows.push({
      case: `follow a ${flags.logMib} MiB log (${flags.logFollowers} SSE + 1 tail), heap ${heapMib > 0 ? `${heapMib} MiB` : 'default'}`,
      idleMiB: round(idle.rssMiB),
      peakMiB: round(memory.peakMiB),
      endMiB: round(end.rssMiB),
      hwmMiB: round(end.hwmMiB),
      note: `${String(record.status)} in ${round(seconds)} s (source done after ${round(sourceSeconds)} s); SSE got ${result.sseLinesPerFollower.join('/')} of ${lines} lines, tail ${round(result.tailMiB)} MiB; redis peak ${round(redisMem.peakMiB)} MiB`,
    });
  } finally {
    await service.stop();
    await redis.stop();
  }
}
await rm(dir, { recursive: true, force: true });

printTable('service RSS (MiB)', rows);
await writeResult('memory', machine, { flags, ...results });
