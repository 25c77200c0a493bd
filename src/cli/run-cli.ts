import { Command } from 'commander';
import type { Config } from '../config.ts';
import { ApiClient } from './api-client.ts';
import { deployCommand } from './deploy-command.ts';
import { jobCommand } from './job-commands.ts';
import { inventoryCommand, type InventoryCommandDeps } from './inventory-command.ts';
import { loginCommands } from './login-commands.ts';
import { addRekeyCommands } from './rekey-command.ts';
import { addRotateKeyCommand } from './rotate-key-command.ts';
import { registryCommands } from './registry-commands.ts';
import { resolveClientSettings } from './resolve-client-settings.ts';
import { serveCommand, type ServeOptions } from './serve-command.ts';

/** What the CLI gets from main.ts. */
export interface CliContext {
  /** Starts the service (the composition root lives in main.ts). */
  serve: (options: ServeOptions) => Promise<void>;
  env: Record<string, string | undefined>;
  /** Opens the live registry for `outpost inventory` (a direct Redis client, not the API). */
  openRegistry?: InventoryCommandDeps['open'];
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
  const entities = registryCommands(client);
  addRekeyCommands(entities, client);
  addRotateKeyCommand(entities, client, setExit);
  for (const command of entities) program.addCommand(command);
  if (context.openRegistry)
    program.addCommand(inventoryCommand({ open: context.openRegistry, rootDir: config.rootDir }));
  program.addCommand(jobCommand(client, setExit));
  program.addCommand(deployCommand(client, setExit));
  for (const command of loginCommands(client, setExit, context.env)) program.addCommand(command);
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
