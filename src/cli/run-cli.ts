import { Command } from 'commander';
import type { Config } from '../config.ts';
import { ApiClient } from './api-client.ts';
import { deployCommand } from './deploy-command.ts';
import { jobCommand } from './job-commands.ts';
import { registryCommands } from './registry-commands.ts';
import { resolveClientSettings } from './resolve-client-settings.ts';
import { serveCommand, type ServeOptions } from './serve-command.ts';

/** What the CLI gets from main.ts. */
export interface CliContext {
  /** Starts the service (the composition root lives in main.ts). */
  serve: (options: ServeOptions) => Promise<void>;
  env: Record<string, string | undefined>;
}

/** Parses the `outpost` command line and runs the chosen command; resolves to the exit code. */
export async function runCli(argv: string[], config: Config, context: CliContext): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  let apiClient: ApiClient | undefined;
  const client = (): ApiClient => (apiClient ??= new ApiClient(resolveClientSettings(context.env, config)));
  const program = new Command('outpost')
    .description('Telegraf on every VM of every cloud, through SSH proxy nodes, proven in InfluxDB')
    .exitOverride();
  program.addCommand(serveCommand(context.serve));
  for (const command of registryCommands(client)) program.addCommand(command);
  program.addCommand(jobCommand(client, setExit));
  program.addCommand(deployCommand(client, setExit));
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    // commander already printed usage errors; --help and --version end with code 0.
    if (
      error instanceof Error &&
      'exitCode' in error &&
      'code' in error &&
      String(error.code).startsWith('commander.')
    ) {
      return Number(error.exitCode);
    }
    throw error;
  }
  return exitCode;
}
