import type { Role } from './cli/serve-command.ts';
import { loadConfig } from './config.ts';
import { AppError, ConfigError, quote } from './errors.ts';
import type { ServeSettings } from './serve.ts';

type Env = Record<string, string | undefined>;

function readServeSettings(env: Env): ServeSettings {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${quote(raw)}`);
    }
    return Number(raw);
  };
  const prefix = env.OUTPOST_REDIS_PREFIX ?? 'outpost:';
  if (!/^[a-z0-9:_-]{1,40}$/.test(prefix))
    throw new ConfigError('OUTPOST_REDIS_PREFIX', `bad prefix ${quote(prefix)}`);
  return {
    prefix,
    allowLocal: ['1', 'true', 'yes'].includes(env.OUTPOST_ALLOW_LOCAL_RUNS ?? ''),
    heartbeatMs: int('OUTPOST_WORKER_HEARTBEAT_MS', 30_000, 500, 600_000),
    killGraceMs: int('OUTPOST_KILL_GRACE_MS', 5000, 0, 600_000),
    logMaxEntries: int('OUTPOST_LOG_MAX_ENTRIES', 100_000, 100, 100_000_000),
    logRetentionSeconds: int('OUTPOST_LOG_RETENTION_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    sseHeartbeatMs: int('OUTPOST_SSE_HEARTBEAT_MS', 15_000, 100, 600_000),
    sessionTtlSeconds: int('OUTPOST_SESSION_HOURS', 12, 1, 24 * 90) * 3600,
  };
}

/** Composition root: reads configuration, then hands the command line to the CLI. */
async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const { runCli } = await import('./cli/run-cli.ts');
  return runCli(argv, config, {
    serve: async (options) =>
      (await import('./serve.ts')).serve(config, readServeSettings(process.env), options),
    env: process.env,
    openRegistry: async () =>
      (await import('./serve.ts')).openRegistry(config, readServeSettings(process.env)),
  });
}

export type { Role };

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // A known error is a message for the user; anything else is a bug and keeps its stack.
    console.error(error instanceof AppError ? `outpost: ${error.message}` : error);
    process.exitCode = 1;
  },
);
