import { execa } from 'execa';
import { childEnv } from '../child-env.ts';

/** What one ssh command left: exit code (255: ssh itself failed), stdout, stderr. */
export interface SshResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command` on `alias` of a generated ssh_config (`-F`), as its user with its key and pinned host
 * keys. `alias` is a validated host or proxy alias; `command` is a fixed string of the caller's.
 */
export async function runSsh(
  sshConfig: string,
  alias: string,
  command: string,
  options: { connectTimeoutSeconds?: number; timeoutMs?: number; signal?: AbortSignal; input?: string } = {},
): Promise<SshResult> {
  const result = await execa(
    'ssh',
    ['-F', sshConfig, '-o', `ConnectTimeout=${options.connectTimeoutSeconds ?? 8}`, '--', alias, command],
    {
      env: childEnv(),
      extendEnv: false,
      reject: false,
      timeout: options.timeoutMs ?? 30_000,
      ...(options.signal ? { cancelSignal: options.signal } : {}),
      ...(options.input !== undefined ? { input: options.input } : { stdin: 'ignore' }),
    },
  );
  const timedOut = result.timedOut ? 'ssh: the command timed out\n' : '';
  return {
    exitCode: result.exitCode ?? 255,
    stdout: String(result.stdout ?? ''),
    stderr: timedOut + String(result.stderr ?? ''),
  };
}
