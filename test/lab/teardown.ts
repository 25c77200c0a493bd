import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { execa } from 'execa';
import { slotPrefixes } from './plan.ts';

/**
 * Removes everything a lab in `slot` made, whether or not this process made it: the processes in its
 * namespaces (killing a VM's PID 1 ends its pid namespace, and with it its private mounts), the
 * namespaces, the host-side links, and its directory. Safe to run when nothing is there.
 */
export async function teardownSlot(slot: number, dir: string): Promise<void> {
  const prefix = slotPrefixes(slot);
  const namespaces = (await listNetns()).filter((name) => name.startsWith(prefix.netns));
  const pids = new Set<number>();
  for (const netns of namespaces) {
    const { stdout } = await execa('ip', ['netns', 'pids', netns], { reject: false });
    for (const pid of stdout.split('\n').filter(Boolean)) pids.add(Number(pid));
  }
  for (const pid of pids) killQuietly(pid);
  await waitGone(pids, 10_000);
  for (const netns of namespaces) await execa('ip', ['netns', 'del', netns], { reject: false });
  const { stdout: links } = await execa('ip', ['-o', 'link', 'show'], { reject: false });
  for (const name of hostLinks(links, prefix.link))
    await execa('ip', ['link', 'del', name], { reject: false });
  await rm(dir, { recursive: true, force: true });
}

/** Names of root-namespace links starting with `prefix` in `ip -o link show` output (veth names lose their `@peer`). */
export function hostLinks(ipOutput: string, prefix: string): string[] {
  const names = ipOutput.split('\n').map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1]);
  // Bridges last is not needed: deleting a bridge detaches its ports, and deleting a veth end removes its peer.
  return names.filter((name): name is string => name !== undefined && name.startsWith(prefix));
}

export async function listNetns(): Promise<string[]> {
  const { stdout } = await execa('ip', ['netns', 'list'], { reject: false });
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function waitGone(pids: Set<number>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const pid of pids) {
    while (isAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`lab teardown: process ${pid} did not exit after SIGKILL`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purposes: it holds no namespace, mount or socket.
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
