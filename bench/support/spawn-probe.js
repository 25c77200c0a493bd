// Preloaded into `outpost serve` by the benches (node --import): for every ansible-playbook the service
// spawns, appends one JSON line with the job id, the spawn time and the time of the first bytes on fd 3
// (the callback's first event) to the file named by OUTPOST_BENCH_PROBE_FILE. Times are epoch ms with
// sub-ms precision (performance.timeOrigin + performance.now()), comparable across processes.
import childProcess from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const file = process.env.OUTPOST_BENCH_PROBE_FILE;
const now = () => performance.timeOrigin + performance.now();

if (file) {
  const original = childProcess.spawn;
  childProcess.spawn = function spawn(command, args, ...rest) {
    const before = now();
    const child = original.call(this, command, args, ...rest);
    const spawnAt = now();
    if (typeof command === 'string' && path.basename(command) === 'ansible-playbook' && Array.isArray(args)) {
      const vars = args.find((arg) => typeof arg === 'string' && arg.endsWith('/extra-vars.json'));
      const job = vars ? path.basename(path.dirname(vars)) : 'unknown';
      const fd3 = child.stdio?.[3];
      const record = { job, pid: child.pid, spawnCallAt: before, spawnAt };
      if (fd3) {
        fd3.once('data', () => {
          appendFileSync(file, `${JSON.stringify({ ...record, fd3At: now() })}\n`);
        });
      }
      child.once('exit', () => appendFileSync(file, `${JSON.stringify({ ...record, exitAt: now() })}\n`));
    }
    return child;
  };
  syncBuiltinESMExports();
}
