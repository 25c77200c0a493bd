import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import type { AnsibleEvent } from './ansible-event.ts';
import type { PlaybookCommand } from './build-command.ts';
import { childEnv } from '../child-env.ts';
import { killProcessGroup, killProcessesMentioning } from './kill-process-group.ts';
import { parseEventLine } from './parse-event-line.ts';
import { describeFailedHosts, summarizeRun, type HostSummary } from './summarize-run.ts';
import { summarizeTimings, type RunTiming } from './summarize-timings.ts';

/** How a run ended, in ansible-runner's vocabulary. */
export type RunOutcome = 'successful' | 'failed' | 'timeout' | 'canceled';

/** Hooks and limits of one run. */
export interface RunOptions {
  /** Called with every stdout (and stderr) line, in order. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Called with every event of the callback, in order. */
  onEvent?: (event: AnsibleEvent) => void;
  /** Called once the process started, with its pid (= its process group id). */
  onSpawn?: (pgid: number) => void;
  /** Aborting cancels the run: the whole process group gets SIGTERM, then SIGKILL. */
  signal?: AbortSignal;
  /** Whole-run limit in ms; 0 or undefined for none. */
  timeoutMs?: number;
  /** Limit in ms without any output line or event; 0 or undefined for none. */
  idleTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL. Default 5000 ms. */
  killGraceMs?: number;
  /**
   * Back-pressure from whatever stores the lines: undefined to go on, or a promise during which stdout,
   * stderr and fd 3 are not read (ansible-playbook blocks on its pipes), so memory stays bounded when the
   * log store is slower than the play.
   */
  waitForRoom?: () => Promise<void> | undefined;
  /** Processes mentioning this string (the run dir) are killed when the run ends: ssh masters. */
  reapMarker?: string;
  /** The reason recorded when `timeoutMs` ran out. Default `ran longer than N s`. */
  timeoutReason?: string;
  /** Rewrites a host's first error for a person (e.g. ssh's host key banner), or undefined to keep it. */
  explainHostError?: (host: string, error: NonNullable<HostSummary['firstError']>) => string | undefined;
}

/** The inspectable record of a run. */
export interface RunResult {
  outcome: RunOutcome;
  /** Exit code of ansible-playbook; undefined when it was killed by a signal. */
  rc: number | undefined;
  /** Why the run did not succeed, for a person. */
  reason?: string;
  /** The exact command line. */
  argv: string[];
  startedAt: string;
  endedAt: string;
  hosts: Record<string, HostSummary>;
  /** Where the run's time went: per task and per host. */
  timings: RunTiming;
  /** Lines on fd 3 that were not events (bugs in the plugin), first ten. */
  badEventLines: string[];
  /** What the play recorded for Outpost with set_stats (the recap's `stats`: keys `outpost_*`). */
  stats?: Record<string, unknown>;
}

/**
 * Runs ansible-playbook: its own process group, events on fd 3, stdout line by line, job and idle
 * timeouts, cancel. A failed playbook is a result with `outcome: 'failed'`, never a rejection.
 */
export async function runPlaybook(command: PlaybookCommand, options: RunOptions = {}): Promise<RunResult> {
  const startedAt = new Date().toISOString();
  const events: AnsibleEvent[] = [];
  const badEventLines: string[] = [];
  const stderrTail: string[] = [];
  let ended: { outcome: 'timeout' | 'canceled'; reason: string } | undefined;

  const subprocess = execa(command.file, command.args, {
    cwd: command.cwd,
    env: childEnv(command.env),
    extendEnv: false,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
    reject: false,
    buffer: false,
    stripFinalNewline: false,
  });
  const pgid = subprocess.pid;
  const stop = (outcome: 'timeout' | 'canceled', reason: string): void => {
    if (ended || pgid === undefined) return;
    ended = { outcome, reason };
    void killProcessGroup(pgid, options.killGraceMs ?? 5000);
  };

  let idleTimer: NodeJS.Timeout | undefined;
  const idleMs = options.idleTimeoutMs ?? 0;
  const touch = (): void => {
    if (idleMs <= 0) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => stop('timeout', `no output for ${Math.round(idleMs / 1000)} s`), idleMs);
  };
  const jobTimer =
    (options.timeoutMs ?? 0) > 0
      ? setTimeout(
          () =>
            stop(
              'timeout',
              options.timeoutReason ?? `ran longer than ${Math.round((options.timeoutMs ?? 0) / 1000)} s`,
            ),
          options.timeoutMs,
        )
      : undefined;
  const onAbort = (): void => stop('canceled', 'canceled on request');
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (pgid !== undefined) options.onSpawn?.(pgid);
  touch();

  const readers = [
    readLines(subprocess.stdout, options.waitForRoom, (line) => {
      touch();
      options.onLine?.(line, 'stdout');
    }),
    readLines(subprocess.stderr, options.waitForRoom, (line) => {
      touch();
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      options.onLine?.(line, 'stderr');
    }),
    readLines(subprocess.stdio[3], options.waitForRoom, (line) => {
      touch();
      if (line.trim() === '') return;
      const parsed = parseEventLine(line);
      if (!parsed.ok) {
        if (badEventLines.length < 10) badEventLines.push(parsed.error);
        return;
      }
      events.push(parsed.event);
      options.onEvent?.(parsed.event);
    }),
  ];

  let exit: Awaited<typeof subprocess>;
  try {
    exit = await subprocess;
    await Promise.all(readers);
  } finally {
    // However the run ends, no timer or abort listener of it stays behind on the job's signal.
    clearTimeout(idleTimer);
    clearTimeout(jobTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  // Whatever the outcome, nothing of the run may outlive it: its group, then daemonized ssh masters.
  // What is left of the group are ssh helpers (ProxyJump's `ssh -W` takes 2 s to obey SIGTERM): no grace.
  if (pgid !== undefined) await killProcessGroup(pgid, 0);
  if (options.reapMarker) await killProcessesMentioning(options.reapMarker);

  const rc = typeof exit.exitCode === 'number' ? exit.exitCode : undefined;
  const hosts = summarizeRun(events);
  const endedAt = new Date().toISOString();
  const playbook = path.basename(command.args.at(-1) ?? '');
  for (const [host, summary] of Object.entries(hosts)) {
    const explained = summary.firstError && options.explainHostError?.(host, summary.firstError);
    if (explained && summary.firstError) summary.firstError.msg = explained;
  }
  const recap = events.findLast((event) => event.event === 'recap');
  const stats = recap && isRecord(recap.stats) ? recap.stats : undefined;
  const base = {
    rc,
    ...(stats ? { stats } : {}),
    argv: [command.file, ...command.args],
    startedAt,
    endedAt,
    hosts,
    timings: summarizeTimings(events, { playbook, startedAt, endedAt }),
  };
  if (ended) return { ...base, outcome: ended.outcome, reason: ended.reason, badEventLines };
  if (rc === 0) return { ...base, outcome: 'successful', badEventLines };
  return {
    ...base,
    outcome: 'failed',
    reason: failureReason(rc, exit.signal, hosts, stderrTail),
    badEventLines,
  };
}

function failureReason(
  rc: number | undefined,
  signal: string | undefined,
  hosts: Record<string, HostSummary>,
  stderrTail: string[],
): string {
  const failedHosts = describeFailedHosts(hosts);
  if (failedHosts) return failedHosts;
  const error = stderrTail.find((line) => line.startsWith('ERROR!')) ?? stderrTail.at(-1);
  const exit = rc !== undefined ? `exit code ${rc}` : `killed by ${signal ?? 'a signal'}`;
  return error ? `ansible-playbook ${exit}: ${error}` : `ansible-playbook ${exit}`;
}

/**
 * Calls `onLine` per line; while `waitForRoom` returns a promise the stream is paused (the lines of the
 * chunk already read still arrive), then resumed. Resolves when the stream ended or failed.
 */
async function readLines(
  stream: Readable | null | undefined,
  waitForRoom: (() => Promise<void> | undefined) | undefined,
  onLine: (line: string) => void,
): Promise<void> {
  if (!stream) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let waiting = false;
  lines.on('line', (line: string) => {
    onLine(line);
    if (waiting || !waitForRoom) return;
    const wait = waitForRoom();
    if (!wait) return;
    waiting = true;
    lines.pause();
    void wait.finally(() => {
      waiting = false;
      lines.resume();
    });
  });
  await new Promise<void>((resolve) => {
    lines.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
