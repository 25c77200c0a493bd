import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/free-port.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(ROOT, 'bin/outpost.js');

interface Exited {
  code: number | null;
  output: string;
}

/** `outpost serve` as an operator starts it; `until` is a log line to wait for, then `then` runs. */
async function serve(
  env: Record<string, string>,
  options: { until?: string; then?: (pid: number, output: () => string) => Promise<void> } = {},
): Promise<Exited> {
  const child = spawn(process.execPath, [BIN, 'serve', '--role', 'api'], {
    cwd: ROOT,
    env: { ...process.env, OUTPOST_API_TOKEN: '', OUTPOST_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    if (options.until) {
      const deadline = Date.now() + 30_000;
      while (!output.includes(options.until)) {
        if (child.exitCode !== null) throw new Error(`serve exited early:\n${output}`);
        if (Date.now() > deadline) throw new Error(`serve not ready:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await options.then?.(child.pid ?? 0, () => output);
    }
    return { code: await exited, output };
  } finally {
    child.kill('SIGKILL');
  }
}

/** Pids of processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(text)) found.push(Number(name));
  }
  return found;
}

describe('outpost serve as a process', () => {
  let redis: TestRedis;
  let tmp: string;
  beforeAll(async () => {
    redis = await startRedis();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'outpost-serve-'));
  });
  afterAll(async () => {
    await redis.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('exits non-zero with the reason when it cannot start, leaving no redis-server or influxd behind', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const varDir = path.join(tmp, 'var-fail');
    try {
      const run = await serve({
        OUTPOST_VAR_DIR: varDir,
        OUTPOST_HTTP_PORT: String(port),
        OUTPOST_INFLUX_PORT: String(await freePort()),
        OUTPOST_INFLUX_RPC_PORT: String(await freePort()),
      });
      expect(run.code).toBe(1);
      expect(run.output).toContain(`outpost: cannot listen on 127.0.0.1:${port}: the address is in use`);
      expect(run.output).toContain('"embedded redis-server"');
      expect(await processesMentioning(varDir)).toEqual([]);
    } finally {
      taken.close();
    }
  });

  it('keeps a generated token out of the log, exits at once on SIGTERM with a follower, and refuses a readable token file', async () => {
    const varDir = path.join(tmp, 'var-token');
    const port = await freePort();
    const env = {
      OUTPOST_VAR_DIR: varDir,
      OUTPOST_HTTP_PORT: String(port),
      OUTPOST_REDIS_URL: redis.url,
      OUTPOST_INFLUX_URL: 'http://127.0.0.1:9',
      OUTPOST_ALLOW_LOCAL_RUNS: '1',
    };
    let token = '';
    let streamed: Promise<string> | undefined;
    const run = await serve(env, {
      until: '"api listening"',
      then: async (pid) => {
        token = (await readFile(path.join(varDir, 'api.token'), 'utf8')).trim();
        const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
        // The api role alone: the job stays queued and its follower stays attached until the stop.
        const submitted = await fetch(`http://127.0.0.1:${port}/v1/jobs`, {
          method: 'POST',
          headers,
          body: JSON.stringify({
            kind: 'run-playbook',
            hosts: ['localhost'],
            playbook: 'test/fixtures/playbooks/ping.yml',
          }),
        });
        expect(submitted.status).toBe(202);
        const { id } = (await submitted.json()) as { id: string };
        const follower = await fetch(`http://127.0.0.1:${port}/v1/jobs/${id}/events`, { headers });
        streamed = follower.text();
        process.kill(pid, 'SIGTERM');
      },
    });
    expect(run.code).toBe(0);
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(run.output).toContain(`generated an API token, kept in ${varDir}/api.token`);
    expect(run.output).not.toContain(token);
    // The follower's response ends cleanly (no reset) when serve stops; it resumes by Last-Event-ID later.
    expect(await streamed).toContain(': outpost log stream');
    expect(run.output).toContain('"msg":"stopped"');
    expect(run.output).not.toContain('still running after stop');
    expect((await import('node:fs')).statSync(path.join(varDir, 'api.token')).mode & 0o777).toBe(0o600);

    await chmod(path.join(varDir, 'api.token'), 0o644);
    const refused = await serve(env);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`outpost: ${varDir}/api.token: mode is 644`);
    expect(refused.output).not.toContain(token);
  });

  it('shows a generated token once on a terminal', async () => {
    const varDir = path.join(tmp, 'var-tty');
    const port = await freePort();
    // `script` gives serve a terminal; serve is stopped once the token file exists.
    const command =
      `${process.execPath} ${BIN} serve --role api & pid=$!; ` +
      `while [ ! -s ${varDir}/api.token ]; do sleep 0.1; done; sleep 0.5; kill -TERM $pid; wait $pid`;
    const run = await new Promise<string>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        cwd: ROOT,
        env: {
          ...process.env,
          OUTPOST_API_TOKEN: '',
          OUTPOST_VAR_DIR: varDir,
          OUTPOST_HTTP_PORT: String(port),
          OUTPOST_REDIS_URL: redis.url,
          OUTPOST_INFLUX_URL: 'http://127.0.0.1:9',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', () => resolve(out));
    });
    const token = (await readFile(path.join(varDir, 'api.token'), 'utf8')).trim();
    expect(run.split(token).length - 1).toBe(1);
  });
});
