import { Command } from 'commander';
import type { ApiClient } from './api-client.ts';

/**
 * Adds `rekey <name>` to the `host` and `proxy` commands: unpins the SSH host key of a VM rebuilt on
 * purpose (`POST /v1/hosts/:id/rekey`, `/v1/proxies/:id/rekey`); the next probe records the new key.
 */
export function addRekeyCommands(commands: Command[], client: () => ApiClient): void {
  for (const [noun, plural] of [
    ['host', 'hosts'],
    ['proxy', 'proxies'],
  ] as const) {
    commands
      .find((command) => command.name() === noun)
      ?.addCommand(
        new Command('rekey')
          .argument('<name>', `the ${noun}`)
          .description(
            `forget the pinned SSH host key of a ${noun} rebuilt on purpose; the next probe records the new one`,
          )
          .option('--json', 'print the updated record as JSON')
          .action(async (name: string, opts: { json?: boolean }) => {
            const updated = await client().request(
              'POST',
              `/v1/${plural}/${encodeURIComponent(name)}/rekey`,
              {},
            );
            if (opts.json) process.stdout.write(`${JSON.stringify(updated, null, 2)}\n`);
            else
              process.stderr.write(
                `outpost: the host key of ${noun} ${name} is no longer pinned; the next probe${noun === 'proxy' ? ' or prepare-proxy' : ''} records the key it presents\n`,
              );
          }),
      );
  }
}
