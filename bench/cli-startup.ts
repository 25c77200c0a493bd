// CLI start-up and serve stop: wall time of `outpost --help` and `outpost host list` (a client command
// against a running API) over N runs each, interleaved with `node -e 0` in the same rounds so load hits
// all alike; then how long `outpost serve` takes from SIGTERM to exit, idle and with a log follower.
// Goal: `outpost --help` p50 <= 120 ms.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startRedis } from '../test/support/redis.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { BENCH_TOKEN, startService, submitJob } from './support/outpost-service.ts';
import { ROOT, printTable, readFlags, writeResult } from './support/report.ts';
import { round, summarize, type Summary } from './support/stats.ts';

// --also PATH: another checkout's bin/outpost.js, timed in the same rounds (e.g. the version before a change).
const flags = readFlags({ runs: 20, stops: 5, also: '' });
const machine = machineInfo();
console.log(`cli start-up: ${flags.runs} runs each, interleaved; ${describeMachine(machine)}`);

const BIN = path.join(ROOT, 'bin/outpost.js');
const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-cli-'));
const redis = await startRedis();

/** Milliseconds from spawn to exit of one command; fails the bench when the command fails. */
function time(args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - started;
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}: ${String(run.stderr)}`);
  return ms;
}

try {
  const service = await startService({ redisUrl: redis.url, varDir: path.join(dir, 'var'), roles: ['api'] });
  const clientEnv = { ...process.env, OUTPOST_URL: service.url, OUTPOST_API_TOKEN: BENCH_TOKEN };
  const commands: [string, string[], NodeJS.ProcessEnv?][] = [
    ['node -e 0', ['-e', '0']],
    ['outpost --help', [BIN, '--help']],
    ['outpost host list', [BIN, 'host', 'list'], clientEnv],
    ...(flags.also ? [[`--also: outpost --help`, [flags.also, '--help']] as [string, string[]]] : []),
  ];
  const samples = new Map<string, number[]>(commands.map(([name]) => [name, []]));
  for (const [, args, env] of commands) time(args, env); // warm the file cache
  for (let round = 0; round < flags.runs; round += 1) {
    for (const [name, args, env] of commands) samples.get(name)?.push(time(args, env));
  }
  await service.stop();

  // SIGTERM -> exit of `outpost serve --role api`: idle, and with a follower on a queued job's log.
  const stops: Record<string, number[]> = { idle: [], 'with a follower': [] };
  for (let i = 0; i < flags.stops; i += 1) {
    for (const kind of Object.keys(stops)) {
      const serve = await startService({
        redisUrl: redis.url,
        varDir: path.join(dir, `var-${kind}-${i}`),
        roles: ['api'],
      });
      let follower: Promise<string> | undefined;
      if (kind === 'with a follower') {
        const id = await submitJob(serve.url, {
          kind: 'run-playbook',
          hosts: ['localhost'],
          playbook: 'test/fixtures/playbooks/ping.yml',
        });
        const response = await fetch(`${serve.url}/v1/jobs/${id}/events`, {
          headers: { authorization: `Bearer ${BENCH_TOKEN}` },
        });
        follower = response.text();
      }
      const started = performance.now();
      await serve.stop();
      stops[kind]?.push(performance.now() - started);
      await follower;
    }
  }

  const baseline = summarize(samples.get('node -e 0') ?? []);
  const row = (name: string, s: Summary, base?: Summary) => ({
    what: name,
    n: s.n,
    'p50 ms': round(s.p50),
    'p90 ms': round(s.p90),
    'min ms': round(s.min),
    ...(base ? { 'p50 - node ms': round(s.p50 - base.p50), 'x node': round(s.p50 / base.p50) } : {}),
  });
  const startRows = [...samples].map(([name, values]) => row(name, summarize(values), baseline));
  const stopRows = Object.entries(stops).map(([name, values]) =>
    row(`serve stop, ${name}`, summarize(values)),
  );
  printTable('start-up (spawn to exit)', startRows);
  printTable('outpost serve --role api: SIGTERM to exit', stopRows);
  const help = summarize(samples.get('outpost --help') ?? []);
  console.log(
    `\ngoal: outpost --help p50 <= 120 ms: ${round(help.p50)} ms, ${help.p50 <= 120 ? 'met' : 'NOT met'}`,
  );
  await writeResult('cli-startup', machine, { startRows, stopRows });
} finally {
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
}
