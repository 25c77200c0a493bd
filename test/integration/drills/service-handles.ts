import { execFile } from 'node:child_process';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What a service process holds open: files (paths), socket count, and its TCP listeners. */
export interface ServiceHandles {
  files: string[];
  sockets: number;
  listeners: string[];
  /** Pids of its child processes and theirs. */
  children: number[];
}

/** Reads /proc/<pid>/fd and `ss -tlnp` for one process, to compare before and after a drill. */
export async function serviceHandles(pid: number): Promise<ServiceHandles> {
  const targets = await Promise.all(
    (await readdir(`/proc/${pid}/fd`)).map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')),
  );
  const { stdout } = await run('ss', ['-tlnpH']);
  const listeners = stdout
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => line.trim().split(/\s+/)[3] ?? '')
    .sort();
  return {
    files: targets.filter((t) => t.startsWith('/')).sort(),
    sockets: targets.filter((t) => t.startsWith('socket:')).length,
    listeners,
    children: await descendants(pid),
  };
}

/** Pids of the children (and their children) of `pid`, from /proc. */
export async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!parents.has(ppid)) parents.set(ppid, []);
    parents.get(ppid)?.push(Number(name));
  }
  const found: number[] = [];
  const walk = (p: number): void => {
    for (const child of parents.get(p) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}
