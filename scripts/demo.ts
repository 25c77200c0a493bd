/**
 * `npm run demo`: the whole mission on a lab built on this machine, printed step by step with the
 * CLI commands an operator would type, then everything torn down. Exits non-zero if any step fails.
 * `npm run demo -- --keep` leaves the lab and Outpost running and prints how to open the web console.
 */
import { defaultSlot } from '../test/lab/lab.ts';
import { latestMetrics, runMissionSteps, startMission, type Narrator, type StopMission } from './mission.ts';

const tty = process.stdout.isTTY;
const paint = (code: string, text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
let stepNumber = 0;
const narrator: Narrator = {
  step: (title) => console.log(`\n${paint('1;36', `[${elapsed()}] ${++stepNumber}. ${title}`)}`),
  command: (line) => console.log(paint('1', `$ ${line}`)),
  output: (text) => console.log(text.replace(/^/gm, '  ')),
};

// Ctrl-C or SIGTERM half-way tears everything down as the end does, then exits 128 + signal number.
let stopEarly: StopMission | undefined;
let tearingDown = false;
for (const [signal, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
] as const) {
  // `on`, not `once`: `timeout` and npm both pass a SIGTERM on, and a second one must not cut the teardown short.
  process.on(signal, () => {
    if (tearingDown) return;
    tearingDown = true;
    console.error(paint('1;31', `\n${signal}: tearing everything down (Outpost, the lab)`));
    void (stopEarly?.() ?? Promise.resolve()).finally(() => process.exit(128 + number));
  });
}

const keep = process.argv.slice(2).includes('--keep');
const mission = await startMission({ slot: defaultSlot(), narrator, onStop: (stop) => (stopEarly = stop) });
let failed = false;
try {
  await runMissionSteps(mission, narrator);
  narrator.step('Latest metrics of every host, read back from InfluxDB');
  const metrics = await latestMetrics(mission.influxUrl);
  console.log(
    `  ${'host'.padEnd(11)} ${'network'.padEnd(17)} ${'load1'.padStart(6)} ${'cpus'.padStart(5)} ${'mem used'.padStart(9)}  time`,
  );
  for (const host of mission.hostIds()) {
    const m = metrics[host];
    if (m === undefined) {
      console.log(`  ${host.padEnd(11)} no metrics`);
      failed = true;
      continue;
    }
    const mem = typeof m.mem_used_percent === 'number' ? `${m.mem_used_percent.toFixed(1)}%` : '-';
    console.log(
      `  ${host.padEnd(11)} ${(typeof m.network === 'string' ? m.network : '-').padEnd(17)} ${String(m.load1).padStart(6)} ${String(m.n_cpus).padStart(5)} ${mem.padStart(9)}  ${String(m.time)}`,
    );
  }
} catch (error) {
  failed = true;
  console.error(paint('1;31', `\ndemo failed: ${(error as Error).message}`));
}
if (keep) {
  narrator.step('Everything stays up: open the web console');
  console.log(`  Console: ${paint('1', mission.url)}`);
  console.log(`  Sign in with the API token: ${paint('1', mission.token)}`);
  console.log(`  Lab slot ${mission.lab.slot}; work files (serve.log) in ${mission.work}`);
  console.log('  Press Ctrl+C to tear everything down (Outpost, its Redis and InfluxDB, the lab).');
  // Held open until Ctrl+C (or SIGTERM), whatever else the event loop still has to do.
  const alive = setInterval(() => undefined, 60_000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  clearInterval(alive);
}
narrator.step('Tear everything down: Outpost, its embedded Redis and InfluxDB, the lab');
await mission.stop();
console.log(`\n${failed ? paint('1;31', 'FAILED') : paint('1;32', 'done')} in ${elapsed()}`);
process.exitCode = failed ? 1 : 0;
