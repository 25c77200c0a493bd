import type { HostSummary } from '../../ansible/summarize-run.ts';
import { ValidationError, quote } from '../../errors.ts';
import { readKnownHosts } from '../../inventory/read-known-hosts.ts';
import { writeInventory, type WrittenInventory } from '../../inventory/write-inventory.ts';
import { enrollTargets, takeCredentials } from './enroll-targets.ts';
import type { JobDeps } from '../runtime/job-deps.ts';
import type { JobOutcome, JobRun } from '../runtime/job-run.ts';
import { requireLoginDeps } from './login-deps.ts';
import { pinRecordedKeys } from './pin-recorded-keys.ts';
import { resolveLoginTargets } from './resolve-login-targets.ts';
import { runTargetedPlaybook } from '../runtime/run-targeted-playbook.ts';
import { selfTestProxy, type ProxySelfTest } from './self-test-proxy.ts';
import { preparedInventory } from '../runtime/prepared-inventory.ts';
import { withScratchInventory } from '../runtime/with-scratch-inventory.ts';
import type { Registry } from '../../registry/registry.ts';

/** One proxy's line of a prepare-proxy job's result. */
export type PreparedProxyLine = HostSummary & {
  /** The enrollment, when credentials came with the job. */
  enroll?: HostSummary & { pinned?: string };
  selfTest?: ProxySelfTest;
};

/**
 * `prepare-proxy`: for the proxies named in `hosts` (or the selector's proxy, or every proxy of the
 * project): enrolls them first when credentials come with the job (like `enroll`: password or key,
 * first-contact key pinning), runs playbooks/prepare-proxy.yml (roles/ssh_proxy_node) as cloudroot,
 * then self-tests each: a remote forward on its VPC address must carry an HTTP request made on the proxy.
 */
export async function prepareProxyJob(deps: JobDeps, run: JobRun): Promise<JobOutcome> {
  const login = requireLoginDeps(deps, 'prepare-proxy');
  const targets = await resolveLoginTargets(login.registry, run.job, 'proxies');
  if (targets.hosts.length > 0) {
    throw new ValidationError(
      'hosts',
      `prepare-proxy is for proxies; ${quote(targets.hosts[0]?.id)} is a host`,
    );
  }
  const result: Record<string, PreparedProxyLine> = {};
  let ready = targets.proxies;
  const credentials =
    run.credentials?.password || run.credentials?.privateKey ? takeCredentials(run) : undefined;
  if (credentials) {
    const enrollment = await enrollTargets(login, run, targets, credentials);
    for (const proxy of targets.proxies) {
      const line = enrollment.lines[proxy.id];
      result[proxy.id] = { ...empty(), ...line, ...(line ? { enroll: line } : {}) };
    }
    if (enrollment.outcome.status === 'canceled' || enrollment.outcome.status === 'timeout') {
      return { ...enrollment.outcome, result };
    }
    ready = targets.proxies.filter((proxy) => enrollment.enrolled.has(proxy.id));
  }

  const projectKey = await login.keys.projectPrivateKey(targets.project);
  let written: WrittenInventory | undefined;
  const play =
    ready.length === 0
      ? undefined
      : await runTargetedPlaybook(deps, run, {
          playbook: 'prepare-proxy.yml',
          targets: ready.map((proxy) => proxy.id),
          prepareInventory: async (dir) => {
            written = await writeInventory({
              dir,
              project: targets.project,
              hosts: [],
              proxies: await login.registry.listProxies({ project: targets.project }),
              keys: { project: projectKey },
              // A proxy set up by the enrollment script is met here for the first time.
              hostKeyPolicy: 'accept-new',
            });
            return preparedInventory(written, [written.projectKey]);
          },
        });
  if (written) {
    const aliases = new Set(ready.map((proxy) => `proxy.${proxy.id}`));
    await pinRecordedKeys(login.registry, await readKnownHosts(written.knownHosts), run.log, aliases);
  }
  if (play && (play.status === 'canceled' || play.status === 'timeout')) {
    return { ...play, result: { ...result, ...play.result } };
  }

  for (const proxy of ready) {
    const summary = play?.result?.[proxy.id] ?? empty();
    const prepared = summary.failed === 0 && summary.unreachable === 0 && summary.ok > 0;
    const line: PreparedProxyLine = {
      ...summary,
      ...(result[proxy.id]?.enroll ? { enroll: result[proxy.id]?.enroll } : {}),
    };
    if (prepared && written) {
      // Write the inventory again: its known_hosts now holds the key pinned by this run.
      const fresh = await login.registry.getProxy(proxy.id);
      const input = {
        dir: `${written.dir}/self-test`,
        project: targets.project,
        hosts: [],
        proxies: [fresh],
        keys: { project: projectKey },
      };
      line.selfTest = await withScratchInventory(input, (check) =>
        selfTestProxy(fresh, { privateKey: projectKey, sshConfig: check.sshConfig, signal: run.signal }),
      );
      await recordSelfTest(login.registry, proxy.id, line.selfTest);
      run.log.write(
        'stdout',
        `outpost: self-test of proxy ${proxy.id}: ${line.selfTest.ok ? `a remote forward on ${line.selfTest.bindAddress ?? ''}:${line.selfTest.port ?? ''} carried a request from the proxy (${line.selfTest.ms ?? 0} ms)` : `FAILED — ${line.selfTest.detail ?? ''}`}`,
      );
    }
    result[proxy.id] = line;
  }
  const bad = targets.proxies
    .filter((proxy) => result[proxy.id]?.selfTest?.ok !== true)
    .map((proxy) => proxy.id);
  return {
    status: bad.length === 0 ? 'successful' : 'failed',
    ...(bad.length > 0
      ? { reason: `not ready to carry uplinks: ${bad.join(', ')} (see each proxy's result)` }
      : {}),
    result,
    ...(play?.command ? { command: play.command } : {}),
    ...(play?.rc !== undefined ? { rc: play.rc } : {}),
  };
}

/** Keeps the self-test on the proxy: `proxy list` shows it, and a deploy tells a never-prepared proxy. */
async function recordSelfTest(registry: Registry, id: string, test: ProxySelfTest): Promise<void> {
  await registry.updateProxy(id, {
    selfTest: {
      at: new Date().toISOString(),
      ...test,
      ...(test.detail ? { detail: test.detail.replace(/\s+/g, ' ').slice(0, 500) } : {}),
    },
  });
}

function empty(): HostSummary {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
}
