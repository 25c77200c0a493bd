import { Command } from 'commander';
import type { RekeyResult as Rekeyed } from '../jobs/login/rekey-host-key.ts';
import type { ApiClient } from './api-client.ts';

/**
 * Adds `rekey <name>` to the `host` and `proxy` commands: accepts the new SSH host key of a VM rebuilt on
 * purpose. Reads the key the VM presents now through its reach, prints its fingerprint and pins it
 * (`POST /v1/hosts/:id/rekey`); `--fingerprint` pins only a key with the fingerprint got out of band;
 * `--forget` only unpins, for a VM that cannot be reached now (the next probe records its key).
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
            `accept the new SSH host key of a ${noun} rebuilt on purpose: read it through the ${noun}'s reach, print its fingerprint and pin it`,
          )
          .option(
            '--fingerprint <SHA256:...>',
            'pin only a key with this fingerprint, got out of band (ssh-keygen -lf on the VM); refuse any other',
          )
          .option('--forget', 'only unpin the key; the next probe or enrollment records the one it meets')
          .option('--json', 'print the answer as JSON')
          .action(async (name: string, opts: { fingerprint?: string; forget?: boolean; json?: boolean }) => {
            const answer = await client().request<Rekeyed>(
              'POST',
              `/v1/${plural}/${encodeURIComponent(name)}/rekey`,
              {
                ...(opts.fingerprint ? { fingerprint: opts.fingerprint } : {}),
                ...(opts.forget ? { forget: true } : {}),
              },
            );
            if (opts.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
            else if (opts.forget)
              process.stderr.write(
                `outpost: the host key of ${noun} ${name} is no longer pinned; the next probe${noun === 'proxy' ? ' or prepare-proxy' : ''} records the key it presents\n`,
              );
            else process.stdout.write(`${describe(noun, name, answer, Boolean(opts.fingerprint))}\n`);
          }),
      );
  }
}

function describe(noun: string, name: string, answer: Rekeyed, checked: boolean): string {
  const type = answer.hostKey.split(' ')[0] ?? '';
  const presents = `${noun} ${name} presents ${type} ${answer.fingerprint} (read ${answer.via})`;
  const check = checked ? ', the fingerprint you gave' : '';
  if (!answer.changed) return `${presents}${check}: already the pinned key, nothing changed`;
  return `${presents}${check}: pinned${answer.previous ? `, replacing ${answer.previous}` : ''}`;
}
