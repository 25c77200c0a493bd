import type { AnsibleEvent } from './ansible-event.ts';

/** One task of a run: how long the play spent in it, and how long its hosts took. */
export interface TaskTiming {
  play: string;
  task: string;
  action: string;
  /** From the task's start to the next task's start (or the end of the run): what the play waited. */
  wallMs: number;
  /** Hosts that returned a result. */
  hosts: number;
  /** Sum, and the longest, of the hosts' own durations (`duration_ms` of each result). */
  totalMs: number;
  maxMs: number;
  /** The host of `maxMs`. */
  slowestHost?: string;
  handler?: boolean;
}

/** One host's time in a run. */
export interface HostTiming {
  tasks: number;
  /** Sum of the host's task durations. */
  totalMs: number;
  slowestTask?: string;
  slowestMs?: number;
}

/** One ansible-playbook run: its playbook, its whole time, and Ansible's start-up before the first task. */
export interface RunTiming {
  playbook: string;
  wallMs: number;
  startupMs: number;
  tasks: TaskTiming[];
  hosts: Record<string, HostTiming>;
}

/**
 * Per-task and per-host timings of one run from its events: the callback stamps every event and each
 * host result carries its own duration. `startedAt`/`endedAt` are the process's own times.
 */
export function summarizeTimings(
  events: readonly AnsibleEvent[],
  run: { playbook: string; startedAt: string; endedAt: string },
): RunTiming {
  const started = Date.parse(run.startedAt);
  const ended = Date.parse(run.endedAt);
  const tasks: TaskTiming[] = [];
  const byId = new Map<string, { timing: TaskTiming; startedAt: number }>();
  const hosts: Record<string, HostTiming> = {};
  let open: { timing: TaskTiming; startedAt: number } | undefined;
  let firstEventAt: number | undefined;
  const close = (at: number): void => {
    if (open) open.timing.wallMs = Math.max(0, at - open.startedAt);
    open = undefined;
  };
  for (const event of events) {
    const at = Date.parse(event.time);
    firstEventAt ??= at;
    if (event.event === 'task_start') {
      close(at);
      const timing: TaskTiming = {
        play: event.play,
        task: event.task,
        action: event.action,
        wallMs: 0,
        hosts: 0,
        totalMs: 0,
        maxMs: 0,
        ...(event.is_handler ? { handler: true } : {}),
      };
      open = { timing, startedAt: at };
      byId.set(event.task_id, open);
      tasks.push(timing);
    } else if (event.event === 'host_result') {
      const entry = byId.get(event.task_id);
      if (entry) {
        const timing = entry.timing;
        timing.hosts += 1;
        timing.totalMs += event.duration_ms;
        if (event.duration_ms >= timing.maxMs) {
          timing.maxMs = event.duration_ms;
          timing.slowestHost = event.host;
        }
      }
      const host = (hosts[event.host] ??= { tasks: 0, totalMs: 0 });
      host.tasks += 1;
      host.totalMs += event.duration_ms;
      if (event.duration_ms >= (host.slowestMs ?? -1)) {
        host.slowestMs = event.duration_ms;
        host.slowestTask = event.task;
      }
    } else if (event.event === 'recap' || event.event === 'playbook_end') {
      close(at);
    }
  }
  close(Number.isNaN(ended) ? (firstEventAt ?? 0) : ended);
  return {
    playbook: run.playbook,
    wallMs: Math.max(0, ended - started),
    startupMs:
      firstEventAt === undefined ? Math.max(0, ended - started) : Math.max(0, firstEventAt - started),
    tasks,
    hosts,
  };
}
