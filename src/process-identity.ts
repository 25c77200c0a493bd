import { readFile, readlink } from 'node:fs/promises';

/**
 * Who a process is, beyond its pid (which Linux hands out again): the boot it runs in, its start time
 * in clock ticks since that boot, its executable and its command line. Two records with the same boot,
 * pid and start time are the same process.
 */
export interface ProcessIdentity {
  /** /proc/sys/kernel/random/boot_id of the machine's current boot. */
  boot: string;
  pid: number;
  /** Field 22 of /proc/PID/stat. */
  startTicks: number;
  /** /proc/PID/exe, without the " (deleted)" an upgraded binary shows. */
  exe: string;
  cmdline: string[];
}

/** The identity of the running process `pid`; undefined when it is gone or a zombie. */
export async function readProcessIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    const [boot, exe, cmdline] = await Promise.all([
      readBootId(),
      readlink(`/proc/${pid}/exe`),
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
    ]);
    return {
      boot,
      pid,
      startTicks: Number(fields[19]),
      exe: exe.replace(/ \(deleted\)$/, ''),
      cmdline: cmdline.split('\0').filter(Boolean),
    };
  } catch {
    return undefined;
  }
}

/** Whether `recorded` still runs: same boot, pid, start time, executable and command line. */
export async function isRunning(recorded: ProcessIdentity): Promise<boolean> {
  const now = await readProcessIdentity(recorded.pid);
  return (
    now !== undefined &&
    now.boot === recorded.boot &&
    now.startTicks === recorded.startTicks &&
    now.exe === recorded.exe &&
    now.cmdline.join('\0') === recorded.cmdline.join('\0')
  );
}

/** Whether `recorded` was taken in this boot of this machine, so /proc can tell whether it still runs. */
export async function isOfThisBoot(recorded: Pick<ProcessIdentity, 'boot'>): Promise<boolean> {
  return recorded.boot === (await readBootId().catch(() => ''));
}

/**
 * Stops the process `recorded` (not necessarily a child of ours): SIGTERM, then SIGKILL after
 * `graceMs`; resolves once it is gone. Does nothing when its pid is now someone else's.
 */
export async function stopProcess(recorded: ProcessIdentity, graceMs = 10_000): Promise<void> {
  if (!(await isRunning(recorded))) return;
  signal(recorded.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (await isRunning(recorded)) {
    if (Date.now() > deadline) {
      signal(recorded.pid, 'SIGKILL');
      for (let i = 0; i < 100 && (await isRunning(recorded)); i += 1) await sleep(50);
      return;
    }
    await sleep(50);
  }
}

/** Parses a recorded identity (a pid file, a heartbeat); undefined when it is not one. */
export function parseProcessIdentity(value: unknown): ProcessIdentity | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { boot, pid, startTicks, exe, cmdline } = value as Record<string, unknown>;
  if (typeof boot !== 'string' || typeof exe !== 'string') return undefined;
  if (!Number.isSafeInteger(pid) || !Number.isSafeInteger(startTicks)) return undefined;
  if (!Array.isArray(cmdline) || !cmdline.every((arg) => typeof arg === 'string')) return undefined;
  return { boot, pid: pid as number, startTicks: startTicks as number, exe, cmdline };
}

let bootId: Promise<string> | undefined;

function readBootId(): Promise<string> {
  bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((text) => text.trim());
  return bootId;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
