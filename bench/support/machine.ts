import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The machine a bench ran on, recorded with every result. */
export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  memTotalGiB: number;
  freeG: string;
  node: string;
  ansible: string;
  /** `uptime` load averages (1, 5, 15 min) when the bench started. */
  loadAtStart: number[];
  /** `uptime` load averages when the bench ended; filled by {@link finishMachineInfo}. */
  loadAtEnd?: number[];
  gitCommit: string;
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** Reads nproc, CPU model, memory, Node and Ansible versions, load and the git commit. */
export function machineInfo(): MachineInfo {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  return {
    date: new Date().toISOString(),
    nproc: Number(run('nproc', [])) || os.availableParallelism(),
    cpuModel: model,
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    freeG: run('free', ['-g']),
    node: process.version,
    ansible: run('ansible-playbook', ['--version']).split('\n')[0] ?? 'unknown',
    loadAtStart: os.loadavg().map((v) => Math.round(v * 100) / 100),
    gitCommit: run('git', ['rev-parse', '--short', 'HEAD']),
  };
}

/** Adds the load at the end of the run. */
export function finishMachineInfo(info: MachineInfo): MachineInfo {
  return { ...info, loadAtEnd: os.loadavg().map((v) => Math.round(v * 100) / 100) };
}

/** One line describing the machine and its load, for the top of a bench's output. */
export function describeMachine(info: MachineInfo): string {
  return `${info.nproc} cpu (${info.cpuModel}), ${info.memTotalGiB} GiB, node ${info.node}, ${info.ansible}, load ${info.loadAtStart.join(' ')}`;
}
