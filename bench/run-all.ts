// `npm run bench`: every bench in turn, each in its own process, with settings that keep the whole run
// near 15 minutes on a 2-core machine. Bigger runs: call a bench alone with its flags, e.g.
// `npx tsx bench/fleet-scaling.ts --sizes 5,10,20,40` (see BENCHMARKS.md).
import { execa } from 'execa';
import path from 'node:path';
import { BENCH_DIR } from './support/report.ts';

const benches: [string, string[]][] = [
  ['cli-startup.ts', []],
  ['start-latency.ts', ['--jobs', '200']],
  ['event-pipeline.ts', []],
  ['memory.ts', []],
  ['tunnels.ts', []],
  ['overhead.ts', ['--vms', '4', '--rounds', '2']],
  ['fleet-scaling.ts', ['--sizes', '5,10']],
  ['enroll-probe.ts', ['--sizes', '1,10', '--vpcs', '2']],
  ['console.ts', []],
  ['registry.ts', []],
  ['redis-failover.ts', ['--rounds', '1']],
];
const only = process.argv.slice(2);
let failed = 0;
for (const [file, args] of benches) {
  if (only.length && !only.some((name) => file.startsWith(name))) continue;
  console.log(`\n=== ${file} ${args.join(' ')}`);
  const started = performance.now();
  const result = await execa('npx', ['tsx', path.join(BENCH_DIR, file), ...args], {
    stdio: 'inherit',
    reject: false,
  });
  console.log(
    `=== ${file}: exit ${result.exitCode ?? 'signal'} in ${Math.round((performance.now() - started) / 1000)} s`,
  );
  if (result.exitCode !== 0) failed += 1;
}
process.exitCode = failed ? 1 : 0;
