import { readdir, readFile } from 'node:fs/promises';

/** Sends `signal` to the process group `pgid`; false when the group no longer exists. */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Whether any process of the group `pgid` is still alive. */
export function isProcessGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends a process group: SIGTERM, then SIGKILL once `graceMs` has passed with any member left.
 * Resolves when the group is gone (or after the SIGKILL had time to land).
 */
export async function killProcessGroup(pgid: number, graceMs = 5000): Promise<void> {
  if (!signalProcessGroup(pgid, 'SIGTERM')) return;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!isProcessGroupAlive(pgid)) return;
  }
  signalProcessGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 40 && isProcessGroupAlive(pgid); i += 1) await sleep(50);
}

/**
 * Kills every process whose command line mentions `marker` (a run directory): ssh ControlPersist masters
 * daemonize into their own session, out of the run's process group, but their control path names the run.
 * Returns the pids signalled.
 */
export async function killProcessesMentioning(marker: string): Promise<number[]> {
  const killed: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (!cmdline.includes(marker)) continue;
    try {
      process.kill(Number(name), 'SIGKILL');
      killed.push(Number(name));
    } catch {
      // Already gone.
    }
  }
  return killed;
}

/**
 * Whether the process `pid` is an ansible-playbook whose command line mentions `marker` (its job's id,
 * part of every run's paths): a recycled pid is never taken for the run.
 */
export async function isAnsibleProcess(pid: number, marker: string): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return cmdline.includes('ansible-playbook') && cmdline.includes(marker);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
