import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { AppError } from '../errors.ts';

// Prints the passphrase from its own environment: never on a command line (`ps`) or on disk.
const ASKPASS = '#!/bin/sh\nprintf \'%s\\n\' "$OUTPOST_KEY_PASSPHRASE"\n';

/**
 * Removes the passphrase of the private key in `file` (a 0600 copy in a run's private keys dir) with
 * `ssh-keygen -p`, so a batch-mode ssh can use it. The passphrase reaches ssh-keygen through
 * SSH_ASKPASS; the helper script sits beside the key and holds no secret.
 */
export async function unlockKeyFile(file: string, passphrase: string): Promise<void> {
  const askpass = path.join(path.dirname(file), 'askpass');
  await writeFile(askpass, ASKPASS, { mode: 0o700 });
  const result = await execa('ssh-keygen', ['-q', '-p', '-N', '', '-f', file], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      OUTPOST_KEY_PASSPHRASE: passphrase,
      SSH_ASKPASS: askpass,
      SSH_ASKPASS_REQUIRE: 'force',
      DISPLAY: 'none',
    },
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    timeout: 30_000,
  });
  if (result.exitCode !== 0)
    throw new AppError(
      'key_unlock_failed',
      'credentials.passphrase: does not unlock credentials.privateKey',
      {
        status: 400,
      },
    );
}
