import { execa } from 'execa';
import { childEnv } from '../child-env.ts';
import { proxyAlias } from '../inventory/aliases.ts';

/**
 * Ends the ssh ControlMaster connections an inventory's ssh_config opened to its proxies
 * (`ssh -O exit`), e.g. when a run is over; resolves how many were running.
 */
export async function stopControlMasters(sshConfig: string, proxyIds: string[]): Promise<number> {
  let stopped = 0;
  for (const id of proxyIds) {
    const result = await execa('ssh', ['-F', sshConfig, '-O', 'exit', proxyAlias(id)], {
      env: childEnv(),
      extendEnv: false,
      reject: false,
      timeout: 10_000,
    });
    if (result.exitCode === 0) stopped++;
  }
  return stopped;
}
