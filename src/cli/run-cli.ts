import { Command } from 'commander';
import type { Config } from '../config.ts';

/** Parses the `outpost` command line and runs the chosen command; resolves to the exit code. */
export async function runCli(argv: string[], _config: Config): Promise<number> {
  const program = new Command('outpost')
    .description('Telegraf on every VM of every cloud, through SSH proxy nodes, proven in InfluxDB')
    .exitOverride();
  await program.parseAsync(argv, { from: 'user' });
  return 0;
}
