import path from 'node:path';
import type { Proxy } from '../../domain/proxy.ts';
import { classifySshFailure } from '../../ssh/classify-ssh-failure.ts';
import type { JobRun } from '../runtime/job-run.ts';
import type { LoginDeps } from './login-deps.ts';
import { runSsh } from '../../ssh/run-ssh.ts';
import { withScratchInventory } from '../runtime/with-scratch-inventory.ts';

/** Whether cloudroot logs in to a proxy with the project key and sudo needs no password. */
export interface ProxyLoginCheck {
  ok: boolean;
  detail?: string;
}

/** Logs in to each proxy as cloudroot with the project key (pinned host keys) and runs `sudo -n true`. */
export async function verifyProxyLogins(
  deps: LoginDeps,
  run: JobRun,
  project: string,
  proxies: Proxy[],
): Promise<Record<string, ProxyLoginCheck>> {
  const checks: Record<string, ProxyLoginCheck> = {};
  if (proxies.length === 0) return checks;
  const fresh = await Promise.all(proxies.map((proxy) => deps.registry.getProxy(proxy.id)));
  const input = {
    dir: path.join(deps.runsDir, run.job.id, 'verify'),
    project,
    hosts: [],
    proxies: fresh,
    keys: { project: await deps.keys.projectPrivateKey(project) },
  };
  await withScratchInventory(input, (written) =>
    Promise.all(
      fresh.map(async (proxy) => {
        const ssh = await runSsh(written.sshConfig, `proxy.${proxy.id}`, 'sudo -n true', {
          signal: run.signal,
        });
        checks[proxy.id] =
          ssh.exitCode === 0
            ? { ok: true }
            : {
                ok: false,
                detail:
                  ssh.exitCode === 255
                    ? classifySshFailure(ssh.stderr, proxy).detail
                    : `sudo -n true failed: ${ssh.stderr.trim().slice(0, 300)}`,
              };
        run.log.write(
          'stdout',
          `outpost: cloudroot on proxy ${proxy.id}: ${checks[proxy.id]?.ok ? 'logs in, sudo needs no password' : (checks[proxy.id]?.detail ?? '')}`,
        );
      }),
    ),
  );
  return checks;
}
