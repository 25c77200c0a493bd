/**
 * `npm run demo` stopped half-way (Ctrl-C, or `timeout` sending SIGTERM to its process group) tears its
 * lab and Outpost down as its end does (issue 15 #16): no namespace or process of the slot is left.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultSlot, down, slotDir } from './lab.ts';
import { slotPrefixes } from './plan.ts';
import { listNetns } from './teardown.ts';

const slot = defaultSlot();
const ROOT = path.resolve(import.meta.dirname, '../..');

afterAll(async () => {
  await down(slot);
});

/** Pids of `pid` and all its descendants, from /proc. */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(name)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const all: number[] = [];
  const visit = (at: number): void => {
    all.push(at);
    for (const child of children.get(at) ?? []) visit(child);
  };
  visit(pid);
  return all;
}

function readEnviron(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
}

function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('npm run demo, stopped half-way', () => {
  it('tears its lab and Outpost down on SIGTERM once the lab is up, and exits 143', async () => {
    // Its own process group, signalled as a whole as `timeout` does.
    const demo = spawn('scripts/demo', [], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, OUTPOST_LAB_SLOT: String(slot) },
    });
    let output = '';
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 180_000;
      // Step 3 starts once the lab is up and Outpost (serve, its Redis and InfluxDB) answers.
      while (!output.includes('3. Register the project')) {
        if (demo.exitCode !== null || Date.now() > deadline)
          throw new Error(`demo did not get there:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const prefix = slotPrefixes(slot).netns;
      // The demo's lab: 2 VPCs of a proxy and 2 VMs, the RedHat-family simulation vpc1-rh1, direct1.
      expect((await listNetns()).filter((name) => name.startsWith(prefix)).length).toBe(8);
      const vmPids = (
        JSON.parse(readFileSync(path.join(slotDir(slot), 'state.json'), 'utf8')) as { vms: { pid: number }[] }
      ).vms.map((vm) => vm.pid);
      const started = processTree(demo.pid ?? 0);
      // node (demo.ts), outpost serve, its redis-server and influxd at least.
      expect(started.length).toBeGreaterThanOrEqual(4);
      // The mission's work dir (the serve's var dir is inside it): the teardown removes it too.
      const work = started
        .map((pid) => /OUTPOST_VAR_DIR=([^\0]+)\/var\0/.exec(readEnviron(pid))?.[1])
        .find(Boolean);
      expect(work).toMatch(/outpost-mission-/);

      process.kill(-(demo.pid ?? 0), 'SIGTERM');
      expect(await exited).toBe(143);
      expect(output).toContain('SIGTERM: tearing everything down');
      expect((await listNetns()).filter((name) => name.startsWith(prefix))).toEqual([]);
      expect([...vmPids, ...started].filter(isRunning)).toEqual([]);
      expect(existsSync(work ?? '')).toBe(false);
    } finally {
      if (demo.exitCode === null) process.kill(-(demo.pid ?? 0), 'SIGKILL');
    }
  }, 300_000);
});
