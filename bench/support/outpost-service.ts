import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FINAL_STATUSES } from '../../src/queue/job-record.ts';
import { freePort } from '../../test/support/free-port.ts';
import { ROOT } from './report.ts';

export const BENCH_TOKEN = 'bench-token-0123456789abcdefghijklmnop';

/** An `outpost serve` process a bench started (api + worker), with its pid for memory readings. */
export interface BenchService {
  child: ChildProcess;
  pid: number;
  url: string;
  logFile: string;
  /** VmRSS and VmHWM of the service process, in MiB. */
  memory(): Promise<{ rssMiB: number; hwmMiB: number }>;
  stop(): Promise<void>;
}

/** Options of {@link startService}. */
export interface ServiceOptions {
  redisUrl: string;
  varDir: string;
  /** Extra environment of the service. */
  env?: Record<string, string>;
  /** File the spawn probe (bench/support/spawn-probe.js) appends spawn and first-fd-3 times to. */
  probeFile?: string;
  /** Put bench/support/fake-ansible first in PATH: the synthetic event source instead of Ansible. */
  fakeAnsible?: boolean;
  /** Extra node options of the service process, e.g. `--max-old-space-size=256`. */
  nodeArgs?: string[];
  /** Checkout whose `bin/outpost.js` runs (its playbooks and roles too). Default this repository. */
  root?: string;
  /** `--role` values of `outpost serve`. Default: every role. */
  roles?: ('api' | 'worker' | 'tunnels')[];
}

/** Starts `node bin/outpost.js serve` (every role unless `roles`, local runs allowed) and waits for the API. */
export async function startService(options: ServiceOptions): Promise<BenchService> {
  const port = await freePort();
  mkdirSync(options.varDir, { recursive: true });
  const logFile = path.join(options.varDir, 'outpost.log');
  const log = openSync(logFile, 'a');
  const nodeArgs = [
    ...(options.nodeArgs ?? []),
    ...(options.probeFile ? ['--import', path.join(ROOT, 'bench/support/spawn-probe.js')] : []),
  ];
  const root = options.root ?? ROOT;
  const roles = options.roles ? ['--role', ...options.roles] : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(root, 'bin/outpost.js'), 'serve', ...roles], {
    cwd: root,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      PATH: options.fakeAnsible
        ? `${path.join(ROOT, 'bench/support/fake-ansible')}:${process.env.PATH ?? ''}`
        : (process.env.PATH ?? ''),
      OUTPOST_REDIS_URL: options.redisUrl,
      OUTPOST_VAR_DIR: options.varDir,
      OUTPOST_HTTP_PORT: String(port),
      OUTPOST_API_TOKEN: BENCH_TOKEN,
      OUTPOST_ALLOW_LOCAL_RUNS: '1',
      OUTPOST_LOG_LEVEL: 'warn',
      OUTPOST_MASTER_KEY: '0'.repeat(63) + '1',
      ...(options.probeFile ? { OUTPOST_BENCH_PROBE_FILE: options.probeFile } : {}),
      ...options.env,
    },
  });
  closeSync(log);
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`outpost serve exited early; see ${logFile}`);
    const ok = await fetch(`${url}/healthz`)
      .then((r) => r.status < 500)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`outpost serve not ready in 60 s; see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const pid = child.pid ?? 0;
  return {
    child,
    pid,
    url,
    logFile,
    memory: () => readMemory(pid),
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** VmRSS and VmHWM of a process from /proc/<pid>/status, in MiB. */
export async function readMemory(pid: number): Promise<{ rssMiB: number; hwmMiB: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
}

/** A JSON request to the service with the bench token. */
export async function api<T = Record<string, unknown>>(
  base: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(url, base), {
    method,
    headers: {
      authorization: `Bearer ${BENCH_TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body: parsed as T };
}

/** Submits a job and returns its id; throws with the problem details when refused. */
export async function submitJob(base: string, spec: Record<string, unknown>): Promise<string> {
  const { status, body } = await api<{ id?: string }>(base, 'POST', '/v1/jobs', spec);
  if (status !== 202 || !body.id) throw new Error(`POST /v1/jobs -> ${status}: ${JSON.stringify(body)}`);
  return body.id;
}

/**
 * Polls a job until it is final; returns the record. Every 50 ms for the first 10 s, then every 500 ms;
 * a dropped connection (a keep-alive socket the server closed as it was reused) is asked again.
 */
export async function waitForEnd(
  base: string,
  jobId: string,
  timeoutMs = 600_000,
): Promise<Record<string, unknown>> {
  const begun = Date.now();
  const deadline = begun + timeoutMs;
  for (;;) {
    const answer = await api(base, 'GET', `/v1/jobs/${jobId}`).catch((error: unknown) => error as Error);
    if (
      !(answer instanceof Error) &&
      (FINAL_STATUSES as readonly string[]).includes(String(answer.body.status))
    )
      return answer.body;
    if (Date.now() > deadline)
      throw new Error(
        `job ${jobId} ${answer instanceof Error ? `not readable: ${answer.message}` : `still ${String(answer.body.status)}`} after ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, Date.now() - begun < 10_000 ? 50 : 500));
  }
}

/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5); after the comm they are at index 11 and 12.
  return (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
}
