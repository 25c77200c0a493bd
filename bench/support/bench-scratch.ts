import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** A bench's scratch directory and the teardown of everything it started. */
export interface BenchScratch {
  /** The directory: `<tmpdir>/bench-<name>-XXXXXX`, never `outpost-*` (the secrets scan reads those). */
  dir: string;
  /** Adds a step to the teardown; steps run newest first. */
  defer(step: () => Promise<void>): void;
  /** Runs every step once (later calls get the same promise), then removes the directory. */
  teardown(): Promise<void>;
}

const SIGNALS = [
  ['SIGINT', 2],
  ['SIGTERM', 15],
] as const;

/**
 * Makes a bench's scratch directory and tears it and what the bench started down at its end, on
 * SIGINT/SIGTERM (then exits 128 + signal), and — the directory at least — on any other exit. A bench
 * that copies the repository keeps the copy here: a copy left under /tmp/outpost-* failed the secrets
 * scan (its sources hold PEM header strings).
 */
export async function createBenchScratch(name: string): Promise<BenchScratch> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `bench-${name}-`));
  const steps: (() => Promise<void>)[] = [];
  let running: Promise<void> | undefined;
  const teardown = (): Promise<void> => {
    running ??= (async () => {
      for (const step of steps.reverse()) await step().catch((error: unknown) => console.error(error));
      await rm(dir, { recursive: true, force: true });
    })();
    return running;
  };
  // An exception or process.exit elsewhere: the copy goes at least.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const [signal, number] of SIGNALS)
    // `on`, not `once`: npm and `timeout` pass a SIGTERM on, and a second one must not cut the teardown short.
    process.on(signal, () => {
      if (running) return;
      console.error(`\n${signal}: tearing the bench down (its lab, services, ${dir})`);
      void teardown().finally(() => process.exit(128 + number));
    });
  return { dir, defer: (step) => void steps.push(step), teardown };
}
