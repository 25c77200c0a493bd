import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimEmbeddedServer } from '../../../src/embedded/claim-embedded-server.ts';
import { isRunning, readProcessIdentity, type ProcessIdentity } from '../../../src/process-identity.ts';

// Stand-ins for redis-server and influxd: `sleep` processes, detached as a server left by a dead serve is.
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-claim-'));
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function startSleeper(): Promise<ProcessIdentity> {
  const child = spawn('sleep', ['600'], { stdio: 'ignore', detached: true });
  children.push(child);
  for (let i = 0; i < 100; i += 1) {
    const identity = await readProcessIdentity(child.pid ?? 0);
    // Right after fork the child may still show node's image: wait for the exec.
    if (identity?.cmdline[0] === 'sleep') return identity;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('sleep did not start');
}

async function deadProcess(): Promise<ProcessIdentity> {
  const identity = await startSleeper();
  const child = children.pop() as ChildProcess;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
  return identity;
}

async function writePidFile(file: string, server: ProcessIdentity, owner: ProcessIdentity): Promise<void> {
  await writeFile(file, JSON.stringify({ server, owner }), { mode: 0o600 });
}

/** A start() that records being called and "starts" a sleeper. */
function starter(): { calls: number; start(): Promise<{ pid: number; stop(): Promise<void> }> } {
  const state = {
    calls: 0,
    async start() {
      state.calls += 1;
      const server = await startSleeper();
      const child = children.at(-1) as ChildProcess;
      return {
        pid: server.pid,
        stop: async () => {
          const exited = once(child, 'exit');
          child.kill('SIGTERM');
          await exited;
        },
      };
    },
  };
  return state;
}

describe('process identity', () => {
  it('knows a process again by boot, pid, start time, executable and command line, and not once it is gone', async () => {
    const server = await startSleeper();
    expect(server.exe).toMatch(/sleep$/);
    expect(server.cmdline).toEqual(['sleep', '600']);
    expect(await isRunning(server)).toBe(true);
    // The same pid with another start time is another process (a recycled pid).
    expect(await isRunning({ ...server, startTicks: server.startTicks - 1 })).toBe(false);
    expect(await isRunning(await deadProcess())).toBe(false);
  });
});

describe('claimEmbeddedServer', () => {
  it('starts a server when none was left, records it, and stops it and removes the record at stop', async () => {
    const pidFile = path.join(dir, 'fresh.pid');
    const spec = starter();
    const claimed = await claimEmbeddedServer({
      pidFile,
      answers: () => Promise.resolve(false),
      start: () => spec.start(),
    });
    expect(claimed.origin).toBe('started');
    const record = JSON.parse(await readFile(pidFile, 'utf8')) as {
      server: ProcessIdentity;
      owner: ProcessIdentity;
    };
    expect(record.server.pid).toBe(claimed.pid);
    expect(record.owner.pid).toBe(process.pid);
    expect((await stat(pidFile)).mode & 0o777).toBe(0o600);
    await claimed.stop();
    expect(await isRunning(record.server)).toBe(false);
    await expect(stat(pidFile)).rejects.toThrow();
  });

  it('adopts a server whose owner died, and stops it at its own stop', async () => {
    const pidFile = path.join(dir, 'orphan.pid');
    const orphan = await startSleeper();
    await writePidFile(pidFile, orphan, await deadProcess());
    const spec = starter();
    const claimed = await claimEmbeddedServer({
      pidFile,
      answers: () => Promise.resolve(true),
      start: () => spec.start(),
    });
    expect(claimed).toMatchObject({ origin: 'adopted', pid: orphan.pid });
    expect(spec.calls).toBe(0);
    const record = JSON.parse(await readFile(pidFile, 'utf8')) as { owner: ProcessIdentity };
    expect(record.owner.pid).toBe(process.pid);
    await claimed.stop();
    expect(await isRunning(orphan)).toBe(false);
    await expect(stat(pidFile)).rejects.toThrow();
  });

  it('shares a server whose owner still runs, and leaves it running at stop', async () => {
    const pidFile = path.join(dir, 'shared.pid');
    const server = await startSleeper();
    await writePidFile(pidFile, server, await startSleeper());
    const claimed = await claimEmbeddedServer({
      pidFile,
      answers: () => Promise.resolve(true),
      start: () => starter().start(),
    });
    expect(claimed.origin).toBe('shared');
    await claimed.stop();
    expect(await isRunning(server)).toBe(true);
  });

  it('never signals a pid that is now another process, and replaces one of its own that stopped answering', async () => {
    const pidFile = path.join(dir, 'stale.pid');
    const bystander = await startSleeper();
    await writePidFile(pidFile, { ...bystander, startTicks: bystander.startTicks - 1 }, await deadProcess());
    const fresh = await claimEmbeddedServer({
      pidFile,
      answers: () => Promise.resolve(false),
      start: () => starter().start(),
    });
    expect(fresh.origin).toBe('started');
    expect(await isRunning(bystander)).toBe(true);
    await fresh.stop();

    const hung = await startSleeper();
    await writePidFile(pidFile, hung, await deadProcess());
    const spec = starter();
    const replaced = await claimEmbeddedServer({
      pidFile,
      answers: () => Promise.resolve(false),
      start: () => spec.start(),
    });
    expect(replaced.origin).toBe('started');
    expect(spec.calls).toBe(1);
    expect(await isRunning(hung)).toBe(false);
    await replaced.stop();
  });
});
