import type { HostSummary } from '../../ansible/summarize-run.ts';
import { explainSshFailure } from '../../ssh/explain-ssh-failure.ts';
import { runSsh } from '../../ssh/run-ssh.ts';
import { mapLimit } from './map-limit.ts';

/**
 * Ansible's word for a host it could not reach sometimes lacks ssh's own (a pipelined module hit the pipe
 * ssh had closed: "Data could not be sent to remote host ... Broken pipe"), so a changed or unknown host
 * key would go unexplained. One `ssh true` per such host, through the run's own ssh_config, hears ssh say
 * why; a host key problem then replaces the message. Resolves the hosts whose message it replaced.
 */
export async function diagnoseUnreachable(
  sshConfig: string,
  hosts: Record<string, HostSummary>,
  known: ReadonlySet<string>,
  signal?: AbortSignal,
): Promise<string[]> {
  const unexplained = Object.entries(hosts).filter(
    ([host, summary]) => summary.firstError?.status === 'unreachable' && !known.has(host),
  );
  const explained: string[] = [];
  await mapLimit(unexplained, 8, async ([host, summary]) => {
    const ssh = await runSsh(sshConfig, host, 'true', {
      connectTimeoutSeconds: 10,
      timeoutMs: 20_000,
      ...(signal ? { signal } : {}),
    });
    const error = ssh.exitCode === 255 ? explainSshFailure(ssh.stderr, host) : undefined;
    if (!error || !summary.firstError) return;
    summary.firstError.msg = error.message;
    explained.push(host);
  });
  return explained;
}
