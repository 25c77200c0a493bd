import { Command } from 'commander';
import type { ClientConfig } from '../config.ts';
import { ApiClient } from './api-client.ts';
import { auditCommand } from './audit-command.ts';
import { deployCommand } from './deploy-command.ts';
import { jobCommand } from './job-commands.ts';
import { inventoryCommand } from './inventory-command.ts';
import { loginCommands } from './login-commands.ts';
import { addRekeyCommands } from './rekey-command.ts';
import { addRotateKeyCommand } from './rotate-key-command.ts';
import { registryCommands } from './registry-commands.ts';
import { serveCommand, type ServeOptions } from './serve-command.ts';
import { tokenCommand } from './token-commands.ts';

/** What the CLI gets from main.ts. */
export interface CliContext {
  /** Runs the service in this process (main.ts loads the server's config and modules only then). */
  serve: (options: ServeOptions) => Promise<void>;
  /** Where the API is and its token; read only when a client command runs. */
  client: () => ClientConfig;
  env: Record<string, string | undefined>;
}

/** Parses the `outpost` command line and runs the chosen command; resolves to the exit code. */
export async function runCli(argv: string[], context: CliContext): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  let apiClient: ApiClient | undefined;
  const client = (): ApiClient => {
    if (apiClient) return apiClient;
    const { url, token } = context.client();
    return (apiClient = new ApiClient({ url, token: token() }));
  };
  const program = new Command('outpost')
    .description('Telegraf on every VM of every cloud, through SSH proxy nodes, proven in InfluxDB')
    .exitOverride();
  program.addCommand(serveCommand(context.serve));
  const entities = registryCommands(client);
  addRekeyCommands(entities, client);
  addRotateKeyCommand(entities, client, setExit);
  for (const command of entities) program.addCommand(command);
  program.addCommand(inventoryCommand(client));
  program.addCommand(jobCommand(client, setExit));
  program.addCommand(deployCommand(client, setExit));
  for (const command of loginCommands(client, setExit, context.env)) program.addCommand(command);
  program.addCommand(tokenCommand(client));
  program.addCommand(auditCommand(client));
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
