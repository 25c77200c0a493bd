import type { ChildProcess } from 'node:child_process';

/** Options of {@link ownChild}. */
export interface OwnChildOptions {
  /** Time between SIGTERM and SIGKILL in `stop()`. Default 10 s. */
  graceMs?: number;
}

/**
 * Returns the function that stops a server child process the polite way: SIGTERM (redis flushes its AOF, influxd closes its
 * shards), then SIGKILL after the grace period. Resolves once the child has exited.
 */
export function ownChild(child: ChildProcess, options: OwnChildOptions = {}): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const endWithParent = (): void => void child.kill('SIGTERM');
  // A process that exits without calling stop() (a crash that still runs exit handlers) ends it too.
  process.once('exit', endWithParent);
  return async () => {
    process.removeListener('exit', endWithParent);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? 10_000);
    await exited;
    clearTimeout(timer);
  };
}
