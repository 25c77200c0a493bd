import type { ServeOptions } from './cli/serve-command.ts';
import { loadClientConfig, loadConfig } from './config.ts';
import { AppError } from './errors.ts';

/**
 * `outpost serve`: the whole service in this process until SIGINT or SIGTERM. A failed start has
 * already stopped what it started; the caller prints the reason and exits non-zero.
 */
async function serve(options: ServeOptions): Promise<void> {
  const config = loadConfig();
  const { createServices } = await import('./app/create-services.ts');
  const services = createServices(config, { roles: options.roles, announceToken });
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await services.start();
  const signal = await signalled;
  services.logger.info({ signal }, 'shutting down');
  // A second signal cuts the running jobs' grace period short; a third gets Node's default (exit now).
  const impatient = (): void => {
    services.logger.info('second signal: stopping running jobs now');
    services.endGrace();
  };
  process.once('SIGINT', impatient);
  process.once('SIGTERM', impatient);
  await services.stop();
  // A handle still open now is a leak: say which, and do not let it keep a stopped service alive.
  setTimeout(() => {
    services.logger.warn({ handles: process.getActiveResourcesInfo() }, 'still running after stop; exiting');
    process.exit(process.exitCode ?? 0);
  }, 3000).unref();
}

/** A generated token is shown once, on a terminal only: never in a log that stderr is redirected to. */
function announceToken(token: string, file: string): void {
  process.stderr.write(
    process.stderr.isTTY
      ? `outpost: generated an API token (kept in ${file}): ${token}\n`
      : `outpost: generated an API token, kept in ${file} (shown only on a terminal)\n`,
  );
}

/** The one reader of the environment: the server's config for `serve`, the client's for every other command. */
async function main(argv: string[]): Promise<number> {
  const { runCli } = await import('./cli/run-cli.ts');
  return runCli(argv, { serve, client: () => loadClientConfig(), env: process.env });
}

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
