import { loadConfig } from './config.ts';
import { AppError } from './errors.ts';

/** Composition root: reads configuration, then hands the command line to the CLI. */
async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const { runCli } = await import('./cli/run-cli.ts');
  return runCli(argv, config);
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
