import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { ownChild } from '../../src/embedded/own-child.ts';

/** A server process a test started: stopped with SIGTERM (then SIGKILL) and never outliving the test process. */
export interface ServiceProcess {
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startProcess(command: string, args: string[], logFile: string): ServiceProcess {
  const log = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  return { child, stop: ownChild(child, { graceMs: 5_000 }) };
}

/** Polls `probe` until it resolves true; fails with the service's name and log file when it does not in time. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  child: ChildProcess,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} was not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
