// Bench 2, event pipeline: events/s from the callback's fd through parsing, the Redis Stream and out to
// 50 concurrent SSE clients of a real `outpost serve`.
//  - micro: parseEventLine alone, and LogStore appends alone (pipelined like the worker's LogWriter).
//  - synthetic: bench/support/fake-ansible/ansible-playbook (first in the service's PATH) writes
//    schema-valid events on fd 3 at full speed, run by the real runner; rate = events / (first fd-3 bytes
//    -> last SSE client got the end entry).
//  - latency: the same source paced at --rate events/s; each event carries its write time `t`; every
//    client measures receive time - t.
//  - real play: test/fixtures/playbooks/chatty.yml with real ansible-playbook; latency from the plugin's
//    `time` (ms precision).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { parseEventLine } from '../src/ansible/parse-event-line.ts';
import { createLogWriter } from '../src/logs/log-writer.ts';
import { LogStore } from '../src/logs/log-store.ts';
import { startRedis, type TestRedis } from '../test/support/redis.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import {
  cpuSeconds,
  startService,
  submitJob,
  waitForEnd,
  type BenchService,
} from './support/outpost-service.ts';
import { printTable, readFlags, writeResult } from './support/report.ts';
import { followSse, type FollowResult } from './support/sse-client.ts';
import { nowMs, round, summarize } from './support/stats.ts';

const flags = readFlags({
  clients: 50,
  events: 100_000,
  rate: 1000,
  rateSeconds: 10,
  microEvents: 100_000,
  repeat: 2,
});
const machine = machineInfo();
console.log(`event pipeline: ${flags.clients} SSE clients; ${describeMachine(machine)}`);

const sampleLine = JSON.stringify({
  v: 1,
  counter: 1,
  time: new Date().toISOString(),
  event: 'host_result',
  host: 'localhost',
  task: 'Synthetic task',
  task_id: 'bench-0001',
  action: 'ansible.builtin.debug',
  status: 'ok',
  duration_ms: 1,
  t: nowMs(),
});

function micro(redis: TestRedis): Promise<Record<string, number>> {
  return (async () => {
    const n = flags.microEvents;
    let start = nowMs();
    for (let i = 0; i < n; i++) if (!parseEventLine(sampleLine).ok) throw new Error('sample line refused');
    const parsePerSecond = n / ((nowMs() - start) / 1000);
    const client = new Redis(redis.url);
    const store = new LogStore(client, { prefix: 'bench-micro:' });
    const writer = createLogWriter(store, 'job-micro');
    start = nowMs();
    for (let i = 0; i < n; i++) writer.write('event', sampleLine);
    await writer.flush();
    const appendPerSecond = n / ((nowMs() - start) / 1000);
    await store.remove('job-micro');
    await client.quit();
    return { parsePerSecond, appendPerSecond };
  })();
}

async function redisInfo(url: string): Promise<string> {
  const client = new Redis(url);
  try {
    return await client.info();
  } finally {
    await client.quit();
  }
}

interface Probe {
  job: string;
  spawnAt: number;
  fd3At?: number;
  exitAt?: number;
}

async function probes(file: string): Promise<Map<string, Probe>> {
  const map = new Map<string, Probe>();
  for (const line of (await readFile(file, 'utf8').catch(() => '')).split('\n')) {
    if (!line) continue;
    const record = JSON.parse(line) as Probe;
    map.set(record.job, { ...map.get(record.job), ...record });
  }
  return map;
}

/** Runs one job with `clients` followers; returns what they saw and the latencies they measured. */
async function runWithClients(
  service: BenchService,
  spec: Record<string, unknown>,
  latency: 'none' | 't' | 'time',
  clients = flags.clients,
): Promise<{
  job: string;
  seen: FollowResult[];
  latencies: number[];
  coldLatencies: number[];
  submittedAt: number;
  allStreamingAfterMs: number;
}> {
  const submittedAt = nowMs();
  const job = await submitJob(service.url, spec);
  // Latencies of events written once every client was streaming (its first entry arrived), and of the
  // others (written while clients were still connecting: catch-up from the stream's history).
  const latencies: number[] = [];
  const coldLatencies: number[] = [];
  let streaming = 0;
  let allStreamingAt = Number.POSITIVE_INFINITY;
  const followers = Array.from({ length: clients }, () => {
    let first = true;
    return followSse(service.url, job, {
      keepData: latency === 'none' ? [] : ['event'],
      onBlock: (block, at) => {
        if (first) {
          first = false;
          streaming += 1;
          if (streaming === clients) allStreamingAt = at;
        }
        if (!block.data) return;
        let writtenAt = Number.NaN;
        if (latency === 't') writtenAt = Number(/\\"t\\":([0-9.]+)/.exec(block.data)?.[1]);
        else writtenAt = Date.parse(/\\"time\\": ?\\"([^\\]+)\\"/.exec(block.data)?.[1] ?? '');
        if (Number.isNaN(writtenAt)) return;
        const now = latency === 't' ? at : Date.now();
        (writtenAt >= allStreamingAt ? latencies : coldLatencies).push(now - writtenAt);
      },
    });
  });
  const seen = await Promise.all(followers.map((f) => f.done));
  const record = await waitForEnd(service.url, job);
  if (record.status !== 'successful')
    throw new Error(`job ${job} ended ${String(record.status)}: ${String(record.reason)}`);
  const broken = seen.filter((s) => s.error || !s.byType.end);
  if (broken.length)
    throw new Error(`${broken.length} SSE clients did not get to the end: ${broken[0]?.error ?? ''}`);
  return {
    job,
    seen,
    latencies,
    coldLatencies,
    submittedAt,
    allStreamingAfterMs: allStreamingAt - submittedAt,
  };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-events-'));
const redis = await startRedis();
const results: Record<string, unknown> = {};
try {
  const m = await micro(redis);
  results.micro = m;
  printTable('micro (in this process)', [
    { stage: 'parseEventLine (JSON.parse + zod)', eventsPerSecond: Math.round(m.parsePerSecond ?? 0) },
    {
      stage: 'LogStore.append via LogWriter (Redis EVAL, pipelined)',
      eventsPerSecond: Math.round(m.appendPerSecond ?? 0),
    },
  ]);

  const probeFile = path.join(dir, 'probe.jsonl');
  const service = await startService({
    redisUrl: redis.url,
    varDir: path.join(dir, 'var'),
    probeFile,
    fakeAnsible: true,
  });
  try {
    const synthetic: Record<string, number>[] = [];
    const redisPid = Number(/process_id:(\d+)/.exec(await redisInfo(redis.url))?.[1] ?? 0);
    // Alternating: 1 client (the ingest baseline), then all clients, `repeat` times.
    for (let r = 0; r < flags.repeat * 2; r++) {
      const clients = r % 2 === 0 ? 1 : flags.clients;
      const cpuBefore = [
        await cpuSeconds(service.pid),
        await cpuSeconds(redisPid),
        process.cpuUsage(),
      ] as const;
      const run = await runWithClients(
        service,
        {
          kind: 'run-playbook',
          playbook: 'test/fixtures/playbooks/ping.yml',
          hosts: ['localhost'],
          options: {
            extraVars: {
              bench_mode: 'events',
              bench_events: flags.events,
              bench_rate: 0,
              bench_start_delay_ms: 2000,
            },
          },
        },
        'none',
        clients,
      );
      const benchCpu = process.cpuUsage(cpuBefore[2]);
      const probe = (await probes(probeFile)).get(run.job);
      if (!probe?.fd3At || !probe.exitAt) throw new Error(`no probe for ${run.job}`);
      const events = flags.events + 2;
      const lastClient = run.seen.reduce((max, s) => Math.max(max, s.lastAt ?? 0), 0);
      const delivered = run.seen.reduce((sum, s) => sum + (s.byType.event ?? 0), 0);
      const seconds = (lastClient - probe.fd3At) / 1000;
      synthetic.push({
        clients,
        events,
        sourceSeconds: (probe.exitAt - probe.fd3At) / 1000,
        endToEndSeconds: seconds,
        eventsPerSecond: events / seconds,
        clientDeliveriesPerSecond: delivered / seconds,
        serviceCpuSeconds: (await cpuSeconds(service.pid)) - cpuBefore[0],
        redisCpuSeconds: (await cpuSeconds(redisPid)) - cpuBefore[1],
        benchClientsCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6,
      });
    }
    results.synthetic = synthetic;
    printTable(
      `synthetic source at full speed, ${flags.events} events, ${flags.clients} SSE clients`,
      synthetic.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)]))),
    );

    const paced = await runWithClients(
      service,
      {
        kind: 'run-playbook',
        playbook: 'test/fixtures/playbooks/ping.yml',
        hosts: ['localhost'],
        options: {
          extraVars: {
            bench_mode: 'events',
            bench_events: flags.rate * flags.rateSeconds,
            bench_rate: flags.rate,
          },
        },
      },
      't',
    );
    const lat = summarize(paced.latencies);
    results.paced = { rate: flags.rate, seconds: flags.rateSeconds, latencyMs: lat };
    printTable(`event -> SSE client latency at ${flags.rate} events/s, ${flags.clients} clients (ms)`, [
      {
        samples: lat.n,
        min: round(lat.min),
        p50: round(lat.p50),
        p90: round(lat.p90),
        p99: round(lat.p99),
        max: round(lat.max),
      },
    ]);
  } finally {
    await service.stop();
  }

  const real = await startService({ redisUrl: redis.url, varDir: path.join(dir, 'var-real'), probeFile });
  try {
    const run = await runWithClients(
      real,
      { kind: 'run-playbook', playbook: 'test/fixtures/playbooks/chatty.yml', hosts: ['localhost'] },
      'time',
    );
    const probe = (await probes(probeFile)).get(run.job);
    const events = run.seen[0]?.byType.event ?? 0;
    const lat = summarize([...run.latencies, ...run.coldLatencies]);
    const warm = summarize(run.latencies);
    const ansibleSeconds = probe?.fd3At && probe.exitAt ? (probe.exitAt - probe.fd3At) / 1000 : Number.NaN;
    results.realPlay = {
      events,
      ansibleSeconds,
      eventsPerSecondFromAnsible: events / ansibleSeconds,
      latencyMs: lat,
    };
    printTable(`real play chatty.yml (ansible-playbook), ${flags.clients} clients`, [
      {
        events,
        ansibleSeconds: round(ansibleSeconds),
        eventsPerSecondFromAnsible: round(events / ansibleSeconds),
        latencyP50Ms: round(lat.p50),
        latencyP99Ms: round(lat.p99),
        latencyMaxMs: round(lat.max),
        warmSamples: warm.n,
        warmLatencyP99Ms: round(warm.p99),
        allStreamingAfterMs: round(run.allStreamingAfterMs),
      },
    ]);
  } finally {
    await real.stop();
  }
} catch (error) {
  console.error(`failed; service logs kept under ${dir}`);
  throw error;
} finally {
  await redis.stop();
}
await rm(dir, { recursive: true, force: true });

// The target is about the full fan-out: only the runs with every client connected count.
const synthetic = (results.synthetic as Record<string, number>[])
  .filter((s) => s.clients === flags.clients)
  .map((s) => s.eventsPerSecond ?? 0);
const paced = results.paced as { latencyMs: { p99: number } };
const verdict = {
  bestEventsPerSecond: Math.round(Math.max(...synthetic)),
  worstEventsPerSecond: Math.round(Math.min(...synthetic)),
  targetEventsPerSecond: 20_000,
  latencyP99Ms: round(paced.latencyMs.p99),
  targetLatencyP99Ms: 50,
  meetsTarget: Math.min(...synthetic) >= 20_000 && paced.latencyMs.p99 <= 50,
};
printTable('verdict', [verdict]);
await writeResult('event-pipeline', machine, { flags, ...results, verdict });
