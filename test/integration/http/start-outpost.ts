import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FINAL_STATUSES } from '../../../src/queue/job-record.ts';
import { freePort } from '../../support/free-port.ts';
import { keepEvidence } from '../../support/test-evidence.ts';

/** One `outpost serve` process a test started, with its API address when it runs the api role. */
export interface OutpostProcess {
  child: ChildProcess;
  url: string;
  token: string;
  logFile: string;
  /** SIGTERM, then SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** kill -9, as a crash would; its var dir goes to the evidence when a surviving node on it stops. */
  crash(): Promise<void>;
}

export const TEST_TOKEN = 'test-token-0123456789abcdefghijklmnop';
const ROOT = path.resolve(import.meta.dirname, '../../..');

/** Starts `node bin/outpost.js serve --role ...` on `redisUrl`, local runs allowed, short heartbeats. */
export async function startOutpost(options: {
  redisUrl: string;
  varDir: string;
  roles: ('api' | 'worker' | 'tunnels')[];
  name: string;
  env?: Record<string, string>;
}): Promise<OutpostProcess> {
  const port = await freePort();
  const logFile = path.join(options.varDir, `${options.name}.log`);
  const { openSync, closeSync, mkdirSync } = await import('node:fs');
  mkdirSync(options.varDir, { recursive: true });
  const log = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/outpost.js'), 'serve', '--role', ...options.roles],
    {
      cwd: ROOT,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        OUTPOST_REDIS_URL: options.redisUrl,
        OUTPOST_VAR_DIR: options.varDir,
        OUTPOST_HTTP_PORT: String(port),
        OUTPOST_API_TOKEN: TEST_TOKEN,
        OUTPOST_ALLOW_LOCAL_RUNS: '1',
        OUTPOST_WORKER_HEARTBEAT_MS: '1500',
        OUTPOST_KILL_GRACE_MS: '2000',
        // Shorter than stop()'s SIGKILL deadline, so a stop with a job running stays a graceful one.
        OUTPOST_SHUTDOWN_GRACE_SECONDS: '5',
        OUTPOST_SSE_HEARTBEAT_MS: '1000',
        OUTPOST_LOG_LEVEL: 'info',
        ...options.env,
      },
    },
  );
  closeSync(log);
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = options.roles.includes('api') ? '"api listening"' : '"worker started"';
  const deadline = Date.now() + 30_000;
  while (!(await readFile(logFile, 'utf8')).includes(ready)) {
    if (child.exitCode !== null) throw new Error(`outpost serve exited early; see ${logFile}`);
    if (Date.now() > deadline) throw new Error(`outpost serve not ready in 30 s; see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const stopWith = async (signal: NodeJS.Signals, keep = true): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    if (keep) await keepEvidence(options.varDir, `outpost-${options.name}`); // logs and run dirs, for the secrets scan
  };
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    token: TEST_TOKEN,
    logFile,
    stop: () => stopWith('SIGTERM'),
    // Not kept at the crash: a run cut short holds its secrets until recovery (by a node that stops later) removes them.
    crash: () => stopWith('SIGKILL', false),
  };
}

/** Runs the `outpost` CLI against the service at `url` with the test token; never throws for an exit code. */
export async function outpostCli(
  url: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(ROOT, 'bin/outpost.js'), ...args],
      { cwd: ROOT, env: { ...process.env, OUTPOST_URL: url, OUTPOST_API_TOKEN: TEST_TOKEN, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A JSON request to the API with the test token. */
export async function api<T = Record<string, unknown>>(
  base: string,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; type: string }> {
  const response = await fetch(new URL(url, base), {
    method,
    headers: {
      authorization: `Bearer ${TEST_TOKEN}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    body: (/application\/(problem\+)?json/.test(type) ? JSON.parse(text) : text) as T,
    type,
  };
}

/** Entries of an SSE response, parsed, until the stream ends or `stopAfter` entries were read. */
export async function readSse(
  base: string,
  jobId: string,
  options: { lastEventId?: number; stopAfter?: number } = {},
): Promise<{ seq: number; type: string; data: string }[]> {
  const controller = new AbortController();
  const response = await fetch(new URL(`/v1/jobs/${jobId}/events`, base), {
    headers: {
      authorization: `Bearer ${TEST_TOKEN}`,
      ...(options.lastEventId !== undefined ? { 'last-event-id': String(options.lastEventId) } : {}),
    },
    signal: controller.signal,
  });
  const entries: { seq: number; type: string; data: string }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block
          .split('\n')
          .find((line) => line.startsWith('data: '))
          ?.slice(6);
        if (!data) continue;
        const entry = JSON.parse(data) as { seq: number; type: string; data: string };
        const id = block.split('\n').find((line) => line.startsWith('id: '));
        if (id !== `id: ${entry.seq}`)
          throw new Error(`SSE id line ${id ?? 'missing'} does not match seq ${entry.seq}`);
        entries.push(entry);
        if (options.stopAfter !== undefined && entries.length >= options.stopAfter) {
          controller.abort();
          return entries;
        }
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return entries;
}

/** Submits a job through the API with the test token; expects 202 and resolves to the job's id. */
export async function submitJob(base: string, body: Record<string, unknown>): Promise<string> {
  const submitted = await api<{ id: string }>(base, 'POST', '/v1/jobs', body);
  if (submitted.status !== 202)
    throw new Error(`job not accepted: ${submitted.status} ${JSON.stringify(submitted.body)}`);
  return submitted.body.id;
}

/** Polls a job until its status is one of `statuses`. */
export async function waitForStatus(
  base: string,
  jobId: string,
  statuses: string[],
  timeoutMs = 60_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(base, 'GET', `/v1/jobs/${jobId}`);
    if (statuses.includes(String(body.status))) return body;
    if (Date.now() > deadline)
      throw new Error(`job ${jobId} still ${String(body.status)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls a job until it has ended (successful, failed, timeout or canceled). */
export function waitForEnd(
  base: string,
  jobId: string,
  timeoutMs?: number,
): Promise<Record<string, unknown>> {
  return waitForStatus(base, jobId, [...FINAL_STATUSES], timeoutMs);
}

/**
 * Pids of the slow.yml fixture's `sleep SECONDS`, by its whole command line: on this shared machine
 * "sleep 4" would also find another test's or another person's "sleep 45". Use a duration no other
 * test file uses (they run at the same time).
 */
export async function fixtureSleeps(seconds: number): Promise<number[]> {
  const pids = await processesMentioning(`sleep ${seconds}`);
  const exact = await Promise.all(
    pids.map(
      async (pid) =>
        (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) === `sleep\0${seconds}\0`,
    ),
  );
  return pids.filter((_, i) => exact[i]);
}

/** Pids of processes whose command line contains `marker`. */
export async function processesMentioning(marker: string): Promise<number[]> {
  const { readdir } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (cmdline.includes(marker)) pids.push(Number(name));
  }
  return pids;
}

/**
 * `outpost serve --role tunnels` on `redisUrl` with the var dir and settings (`env`: InfluxDB, uplink port)
 * of the other nodes; resolves once it holds uplink forwards. The caller stops it (SIGTERM).
 */
export async function startTunnelsNode(options: {
  redisUrl: string;
  varDir: string;
  env: Record<string, string>;
}): Promise<ChildProcess> {
  const { openSync, closeSync } = await import('node:fs');
  const logFile = path.join(options.varDir, 'tunnels.log');
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/outpost.js'), 'serve', '--role', 'tunnels'], {
    cwd: ROOT,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      ...options.env,
      OUTPOST_REDIS_URL: options.redisUrl,
      OUTPOST_VAR_DIR: options.varDir,
      OUTPOST_API_TOKEN: TEST_TOKEN,
    },
  });
  closeSync(log);
  const deadline = Date.now() + 30_000;
  while (!(await readFile(logFile, 'utf8')).includes('holding uplink forwards')) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`tunnels node not ready: ${await readFile(logFile, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return child;
}
