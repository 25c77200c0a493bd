import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HostSummary } from '../../ansible/summarize-run.ts';
import { reachOf } from '../../domain/reach-of.ts';
import { AppError, ValidationError } from '../../errors.ts';
import { readKnownHosts } from '../../inventory/read-known-hosts.ts';
import { stopControlMasters } from '../../ssh/stop-control-masters.ts';
import { writeInventory } from '../../inventory/write-inventory.ts';
import { classifySshFailure } from '../../ssh/classify-ssh-failure.ts';
import type { JobCredentials, JobOutcome, JobRun } from '../runtime/job-run.ts';
import { checkPrivateKey } from '../../domain/check-private-key.ts';
import { unlockKeyFile } from '../../secrets/unlock-key-file.ts';
import type { LoginDeps } from './login-deps.ts';
import { pinRecordedKeys } from './pin-recorded-keys.ts';
import { parsePlayFacts, type HostFacts } from './parse-play-facts.ts';
import type { LoginTargets } from './resolve-login-targets.ts';
import { runSsh } from '../../ssh/run-ssh.ts';
import { runTargetedPlaybook } from '../runtime/run-targeted-playbook.ts';
import { preparedInventory } from '../runtime/prepared-inventory.ts';

/** How the credentials given once log in: a password, or a private key (its password, if any, is sudo's). */
export type EnrollWay = 'password' | 'key';

/** What one enrollment run did per target (host or proxy id). */
export interface Enrollment {
  way: EnrollWay;
  outcome: JobOutcome;
  /** Targets the play enrolled without error. */
  enrolled: Set<string>;
  /** Per target: the play's counts (with the first error), and whether its host key was pinned now. */
  lines: Record<string, HostSummary & { pinned?: 'recorded' | 'unchanged' | 'changed' }>;
  /** The facts the play read as root on each target it reached. */
  facts: Map<string, HostFacts>;
}

/**
 * Takes the credentials given with the job and wipes them from the run, so nothing keeps them
 * after this call; refuses a job without a password or a private key.
 */
export function takeCredentials(run: JobRun): JobCredentials & { way: EnrollWay } {
  const given = run.credentials ?? {};
  const taken = { ...given };
  for (const field of ['user', 'password', 'privateKey', 'passphrase'] as const) delete given[field];
  if (!taken.password && !taken.privateKey) {
    throw new ValidationError(
      'credentials',
      'give a password or a private key of an existing account (root or a sudoer) — or run the enrollment script on the VM and then a probe job with options.enrolledBy "script"',
    );
  }
  // Checked at submit already; again here for jobs queued before that check existed. Never quoted back.
  if (taken.privateKey) checkPrivateKey(taken.privateKey, taken.passphrase);
  return { ...taken, way: taken.privateKey ? 'key' : 'password' };
}

/**
 * Runs playbooks/enroll.yml against `targets` with the credentials given once: hosts behind a proxy
 * through ProxyJump as cloudroot (the proxy must be enrolled: refused otherwise, naming it), unknown
 * host keys accepted and pinned afterwards, the credentials only in 0600 files removed at the end.
 */
export async function enrollTargets(
  deps: LoginDeps,
  run: JobRun,
  targets: LoginTargets,
  credentials: JobCredentials & { way: EnrollWay },
): Promise<Enrollment> {
  const { registry, keys } = deps;
  const { project } = targets;
  const proxies = await registry.listProxies({ project });
  const ids = [...targets.proxies.map((proxy) => proxy.id), ...targets.hosts.map((host) => host.id)];
  const jumpProxies = new Set<string>();
  for (const host of targets.hosts) {
    const proxy = await registry.proxyFor(host);
    if (!proxy || reachOf(host, proxy) === 'direct') continue;
    if (!proxy.hostKey || targets.proxies.some((target) => target.id === proxy.id)) {
      throw new AppError(
        'proxy_not_enrolled',
        `host ${JSON.stringify(host.id)} is reached through proxy ${JSON.stringify(proxy.id)}, which is not enrolled yet: enroll it first (a prepare-proxy job for ${proxy.id} with its credentials), then enroll the host`,
        { status: 409, details: { host: host.id, proxy: proxy.id } },
      );
    }
    jumpProxies.add(proxy.id);
  }
  const user = credentials.user ?? 'root';
  const secretVars: Record<string, unknown> = { ansible_user: user };
  const extraVars: Record<string, unknown> = {
    cloudroot_authorized_keys: [await keys.ensureAdminKey(), await keys.ensureProjectKey(project)],
  };
  if (credentials.way === 'password') {
    secretVars.ansible_password = credentials.password;
    // The generated ssh_config is key-only (BatchMode): open password logins for this run's targets only,
    // file transfers included (sftp and scp do not take ssh's extra args).
    const passwordLogin =
      '-o BatchMode=no -o PasswordAuthentication=yes -o KbdInteractiveAuthentication=yes -o PreferredAuthentications=password,keyboard-interactive';
    extraVars.ansible_ssh_extra_args = passwordLogin;
    extraVars.ansible_sftp_extra_args = passwordLogin;
    extraVars.ansible_scp_extra_args = passwordLogin;
  }
  if (user !== 'root' && credentials.password) secretVars.ansible_become_password = credentials.password;

  let knownHosts = '';
  const outcome = await runTargetedPlaybook(deps, run, {
    playbook: 'enroll.yml',
    targets: ids,
    extraVars,
    secretVars,
    prepareInventory: async (dir) => {
      const written = await writeInventory({
        dir,
        project,
        hosts: targets.hosts,
        proxies,
        keys: { project: await keys.projectPrivateKey(project) },
        hostKeyPolicy: 'accept-new',
        // sshpass gives ssh a pty: a ProxyJump would die with it and every task would log in again.
        ...(credentials.way === 'password' ? { jump: 'detached-jump' as const } : {}),
      });
      knownHosts = written.knownHosts;
      const secretFiles = [written.projectKey];
      if (credentials.way === 'key' && credentials.privateKey) {
        const keyFile = path.join(written.keysDir, 'enroll-account');
        const text = credentials.privateKey.replace(/\r\n/g, '\n');
        await writeFile(keyFile, text.endsWith('\n') ? text : `${text}\n`, { mode: 0o600 });
        secretFiles.push(keyFile);
        if (credentials.passphrase) await unlockKeyFile(keyFile, credentials.passphrase);
        secretVars.ansible_ssh_private_key_file = keyFile;
      }
      await checkProxiesLogIn(written.sshConfig, [...jumpProxies], proxies, run.signal);
      return preparedInventory(written, secretFiles);
    },
  });
  for (const field of Object.keys(secretVars)) delete secretVars[field];

  const recorded = knownHosts ? await readKnownHosts(knownHosts) : new Map<string, string>();
  const aliases = new Set([
    ...targets.proxies.map((proxy) => `proxy.${proxy.id}`),
    ...targets.hosts.map((host) => host.id),
  ]);
  const pinned = await pinRecordedKeys(registry, recorded, run.log, aliases);
  const enrolled = new Set<string>();
  const lines: Enrollment['lines'] = {};
  for (const id of ids) {
    const summary = outcome.result?.[id] ?? {
      ok: 0,
      changed: 0,
      failed: 0,
      skipped: 0,
      unreachable: 0,
      firstError: {
        task: 'enroll',
        status: 'failed' as const,
        msg: outcome.reason ?? 'the play did not run',
      },
    };
    const isProxy = targets.proxies.some((proxy) => proxy.id === id);
    const pin = pinned.get(isProxy ? `proxy.${id}` : id);
    if (summary.failed === 0 && summary.unreachable === 0 && summary.ok > 0 && pin !== 'changed')
      enrolled.add(id);
    lines[id] = { ...summary, ...(pin ? { pinned: pin } : {}) };
  }
  // The role read these facts as root anyway: recorded with the recap, they spare the job a probe play.
  return { way: credentials.way, outcome, enrolled, lines, facts: parsePlayFacts(outcome.stats) };
}

/**
 * Refuses the run when cloudroot cannot log in to a proxy its hosts jump through, naming the proxy. The
 * logins run at once and leave each proxy's ControlMaster up for the play's jumps to share (the run
 * stops them when it ends); a refusal stops them at once.
 */
async function checkProxiesLogIn(
  sshConfig: string,
  ids: string[],
  proxies: LoginTargets['proxies'],
  signal: AbortSignal,
): Promise<void> {
  const logins = await Promise.all(
    ids.map(async (id) => ({ id, ssh: await runSsh(sshConfig, `proxy.${id}`, 'true', { signal }) })),
  );
  const refused = logins.find(({ ssh }) => ssh.exitCode !== 0);
  if (!refused) return;
  await stopControlMasters(sshConfig, ids);
  const proxy = proxies.find((candidate) => candidate.id === refused.id);
  const failure = classifySshFailure(refused.ssh.stderr, proxy);
  throw new AppError(
    'proxy_not_enrolled',
    `cannot log in to proxy ${JSON.stringify(refused.id)} as cloudroot (${failure.detail}): enroll or prepare the proxy first, or check it is up`,
    { status: 409, details: { proxy: refused.id } },
  );
}
