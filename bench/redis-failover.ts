// Bench 12, what a Redis failover loses (issue 16 #5): Debian's redis-sentinel (three sentinels, a master
// with AOF and min-replicas-to-write 1, a replica with AOF, all on loopback), --writers job logs appended
// entry by entry through LogStore on Outpost's own Sentinel connection options, as fast as they go. After
// --before seconds the master is killed -9; writing goes on through the failover for --after seconds. Then
// every append that had resolved (acknowledged) is looked up on the new master: lost = acknowledged but
// missing or different. Baseline in the same run: the append rate before the kill; the stall is the longest
// single append across the failover. --rounds fresh setups.
import { Redis } from 'ioredis';
import { sentinelOptions } from '../src/app/sentinel-options.ts';
import { LogStore } from '../src/logs/log-store.ts';
import { readStoredLog, SENTINEL_MASTER, startSentinelRedis } from '../test/support/redis-sentinel.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { printTable, readFlags, writeResult } from './support/report.ts';
import { round } from './support/stats.ts';

const flags = readFlags({ writers: 8, before: 3, after: 8, rounds: 3 });
const machine = machineInfo();
console.log(`redis failover: ${flags.writers} writers, ${flags.rounds} rounds; ${describeMachine(machine)}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const rows: Record<string, number | string>[] = [];
for (let round_ = 1; round_ <= flags.rounds; round_++) {
  const redis = await startSentinelRedis();
  const connection = new Redis(
    sentinelOptions({
      master: SENTINEL_MASTER,
      sentinels: redis.sentinels.split(',').map((entry) => {
        const [host = '', port = ''] = entry.split(':');
        return { host, port: Number(port) };
      }),
    }),
  );
  connection.on('error', () => {});
  try {
    const logs = new LogStore(connection);
    let stop = false;
    let killedAt = Number.POSITIVE_INFINITY;
    const acked: { job: string; seq: number; data: string; at: number }[] = [];
    let stall = 0;
    const writers = Array.from({ length: flags.writers }, async (_, w) => {
      const job = `bench-${round_}-${w}`;
      for (let n = 0; !stop; n++) {
        const data = `writer ${w} line ${n}`;
        const start = performance.now();
        const seq = await logs.append(job, 'stdout', data);
        const ms = performance.now() - start;
        stall = Math.max(stall, ms);
        acked.push({ job, seq, data, at: Date.now() });
      }
    });
    await sleep(flags.before * 1000);
    const beforeKill = acked.length;
    killedAt = Date.now();
    const oldPort = await redis.killMaster();
    const newPort = await redis.waitForFailover(oldPort, 60_000);
    const failoverMs = Date.now() - killedAt;
    await sleep(Math.max(0, flags.after * 1000 - failoverMs));
    stop = true;
    await Promise.all(writers);
    const stored = new Map<string, Map<number, string>>();
    for (let w = 0; w < flags.writers; w++) {
      const job = `bench-${round_}-${w}`;
      stored.set(job, await readStoredLog(connection, job));
    }
    const lost = acked.filter((entry) => stored.get(entry.job)?.get(entry.seq) !== `stdout ${entry.data}`);
    const lostBefore = lost.filter((entry) => entry.at <= killedAt).length;
    const storedCount = [...stored.values()].reduce((sum, log) => sum + log.size, 0);
    rows.push({
      round: round_,
      'appends/s before': round(beforeKill / flags.before),
      'acked before kill': beforeKill,
      'acked in all': acked.length,
      'lost (acked, missing)': lost.length,
      'of them before kill': lostBefore,
      'stored not acked': storedCount - (acked.length - lost.length),
      'failover ms': failoverMs,
      'longest append ms': round(stall),
      'new master': newPort === oldPort ? 'same!' : 'replica',
    });
  } finally {
    connection.disconnect();
    await redis.stop();
  }
}
printTable('Entries a failover loses (kill -9 of the master while job logs are written)', rows);
await writeResult('redis-failover', machine, { flags, rows });
