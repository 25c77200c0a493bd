import path from 'node:path';
import type { Host, Reach, WayResult } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import { readKnownHosts } from '../../inventory/read-known-hosts.ts';
import type { LocalForward } from '../../inventory/resolve-routes.ts';
import { localForwardId } from '../../tunnels/forward-id.ts';
import type { TunnelKeeper } from '../../tunnels/index.ts';
import { awaitSshBanner, type BannerCheck } from '../../ssh/await-ssh-banner.ts';
import { classifySshFailure, oneLine } from '../../ssh/classify-ssh-failure.ts';
import { mapLimit } from '../runtime/map-limit.ts';
import { runSsh } from '../../ssh/run-ssh.ts';
import { withScratchInventory } from '../runtime/with-scratch-inventory.ts';

/** The ways a probe tries, in order of preference: the first that works becomes the host's reach. */
export const WAYS: readonly Reach[] = ['direct', 'jump', 'forward'];

/** Seconds each way may take to connect, unless the job says otherwise: short, since all ways run at once. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 3;

/** The second chance of a host no way reached because ways timed out (a loaded proxy or VM): its slow ways again. */
const RETRY_CONNECT_TIMEOUT_SECONDS = 15;

/** What the tries of one host found. */
export interface HostWays {
  ways: Partial<Record<Reach, WayResult>>;
  /** The first way that worked. */
  reach?: Reach;
  /** Host keys (by alias: `<host>`, `proxy.<id>`) recorded by the way that worked, at first contact. */
  recorded: Map<string, string>;
  /** The local forward used by the `forward` way, when it worked. */
  forward?: LocalForward;
  /** With `check: 'become'`: whether `sudo -n true` worked as cloudroot through the way chosen. */
  become?: WayResult;
}

/** Input of {@link tryReachWays}. */
export interface TryReachInput {
  /** Scratch directory (inside the run dir): one inventory per way. */
  dir: string;
  project: string;
  hosts: Host[];
  proxies: Proxy[];
  /** The project's private key: every try logs in as cloudroot with it. */
  projectKey: string;
  /** This node's tunnel keeper; without it the `forward` way is "not available on this node". */
  tunnels?: TunnelKeeper | undefined;
  /** Per way and round. Default {@link DEFAULT_CONNECT_TIMEOUT_SECONDS}. */
  connectTimeoutSeconds?: number;
  /** `login` runs `true` as cloudroot; `become` runs `sudo -n true`, proving passwordless sudo too. Default `login`. */
  check?: 'login' | 'become';
  signal?: AbortSignal;
  /** Gets `[proxyId, forwardId]` of every forward the tries opened (the caller releases them when done). */
  opened?: Array<[string, string]>;
  /** Direct ways' banner checks started earlier ({@link checkBanners}), e.g. while the enrollment played. */
  banners?: Map<string, Promise<BannerCheck>>;
}

/**
 * Starts the direct way's first step for `hosts` now: an SSH banner check per host, which needs no login,
 * so a job can run it while something else goes on (the enroll play) instead of waiting for it afterwards.
 */
export function checkBanners(
  hosts: Host[],
  options: { connectTimeoutSeconds?: number; signal?: AbortSignal },
): Map<string, Promise<BannerCheck>> {
  const timeoutMs = (options.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS) * 1000;
  return new Map(
    hosts.map((host) => [
      host.id,
      awaitSshBanner(host.address, host.sshPort, {
        timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    ]),
  );
}

/** The shared state of one tryReachWays call. */
interface Tries {
  input: TryReachInput;
  found: Map<string, HostWays>;
  proxyOf: Map<string, Proxy | undefined>;
  /** Per way: host keys its known_hosts recorded, and per host what the command said after logging in. */
  keys: Map<Reach, Map<string, string>>;
  becomes: Map<Reach, Map<string, WayResult>>;
}

/**
 * Tries every way to log in to each host as cloudroot: direct, ProxyJump through its proxy, and a local
 * forward of the tunnel keeper, all at once with a short connect timeout; a direct way is first checked
 * for an SSH banner without starting ssh. Hosts no way reached because some timed out get those ways once
 * more with a long timeout. Unknown host keys are accepted and recorded (first contact); pinned ones are
 * checked. The way chosen is the first of {@link WAYS} that worked.
 */
export async function tryReachWays(input: TryReachInput): Promise<Map<string, HostWays>> {
  const tries: Tries = {
    input,
    found: new Map(input.hosts.map((host) => [host.id, { ways: {}, recorded: new Map<string, string>() }])),
    proxyOf: new Map(input.hosts.map((host) => [host.id, selectProxy(host, input.proxies)])),
    keys: new Map(),
    becomes: new Map(),
  };
  const timeout = input.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS;
  // Each way's scratch inventory wipes its keys and stops its masters itself (withScratchInventory).
  await Promise.all(WAYS.map((way) => tryWay(tries, way, input.hosts, timeout, 'first')));
  const slow = input.hosts.filter((host) => {
    const ways = tries.found.get(host.id)?.ways ?? {};
    return !WAYS.some((way) => ways[way]?.ok) && WAYS.some((way) => ways[way]?.reason === 'timeout');
  });
  if (slow.length > 0 && !input.signal?.aborted) {
    await Promise.all(
      WAYS.map((way) =>
        tryWay(
          tries,
          way,
          slow.filter((host) => tries.found.get(host.id)?.ways[way]?.reason === 'timeout'),
          Math.max(timeout, RETRY_CONNECT_TIMEOUT_SECONDS),
          'again',
        ),
      ),
    );
  }
  for (const host of input.hosts) {
    const result = tries.found.get(host.id);
    if (!result) continue;
    // Ways in their order of preference, whichever finished first.
    result.ways = Object.fromEntries(
      WAYS.flatMap((way) => (result.ways[way] ? [[way, result.ways[way]]] : [])),
    );
    result.reach = WAYS.find((way) => result.ways[way]?.ok === true);
    if (!result.reach) continue;
    const become = tries.becomes.get(result.reach)?.get(host.id);
    if (become) result.become = become;
    const keys = tries.keys.get(result.reach);
    const key = keys?.get(host.id);
    if (key) result.recorded.set(host.id, key);
    const proxy = tries.proxyOf.get(host.id);
    const proxyKey = proxy ? keys?.get(`proxy.${proxy.id}`) : undefined;
    if (proxy && proxyKey) result.recorded.set(`proxy.${proxy.id}`, proxyKey);
  }
  return tries.found;
}

/** One way for `hosts`: its own inventory, a login per host (at most 16 ssh at once), results into `tries`. */
async function tryWay(
  tries: Tries,
  way: Reach,
  hosts: Host[],
  timeoutSeconds: number,
  round: 'first' | 'again',
): Promise<void> {
  const { input, found, proxyOf } = tries;
  const candidates: Host[] = [];
  const forwards = new Map<string, LocalForward>();
  await mapLimit(hosts, way === 'forward' ? 16 : 256, async (host) => {
    const result = found.get(host.id);
    const proxy = proxyOf.get(host.id);
    if (!result) return;
    if (way !== 'direct' && !proxy) {
      const network = host.network ? ` (network ${host.network})` : '';
      result.ways[way] = {
        ok: false,
        reason: 'no-proxy',
        detail: `no proxy of project ${JSON.stringify(host.project)} serves ${host.address}${network}`,
      };
      return;
    }
    if (way === 'direct') {
      // No banner, no login: a VPC address the control plane cannot reach costs a socket, not an ssh run.
      const early = round === 'first' ? input.banners?.get(host.id) : undefined;
      const banner = await (early ??
        awaitSshBanner(host.address, host.sshPort, {
          timeoutMs: timeoutSeconds * 1000,
          ...(input.signal ? { signal: input.signal } : {}),
        }));
      if (!banner.ok) {
        result.ways.direct = { ok: false, reason: banner.reason, detail: oneLine(banner.detail) };
        return;
      }
    }
    if (way === 'forward' && proxy) {
      const forward = await openForward(input.tunnels, proxy, host, input.opened);
      if ('ok' in forward) {
        result.ways.forward = forward;
        return;
      }
      forwards.set(host.id, forward);
    }
    candidates.push({ ...host, reach: way });
  });
  if (candidates.length === 0) return;
  const scratch = {
    dir: path.join(input.dir, `${way}-${round}`),
    project: input.project,
    hosts: candidates,
    proxies: input.proxies,
    keys: { project: input.projectKey },
    forwards,
    hostKeyPolicy: 'accept-new' as const,
  };
  const becomes = tries.becomes.get(way) ?? new Map<string, WayResult>();
  tries.becomes.set(way, becomes);
  const recorded = await withScratchInventory(scratch, async (written) => {
    // Bounded: a probe of hundreds of hosts must not start hundreds of ssh processes at once.
    await mapLimit(candidates, 16, async (host) => {
      const result = found.get(host.id);
      if (!result) return;
      const proxy = way === 'direct' ? undefined : proxyOf.get(host.id);
      const command = input.check === 'become' ? 'sudo -n true' : 'true';
      const ssh = await runSsh(written.sshConfig, host.id, command, {
        connectTimeoutSeconds: timeoutSeconds,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      // 255 is ssh's own failure; sudo's own exit code means the login worked.
      if (ssh.exitCode === 0 || (input.check === 'become' && ssh.exitCode !== 255)) {
        result.ways[way] = { ok: true };
        const forward = forwards.get(host.id);
        if (forward) result.forward = forward;
        if (input.check === 'become')
          becomes.set(
            host.id,
            ssh.exitCode === 0
              ? { ok: true }
              : { ok: false, reason: 'error', detail: oneLine(`sudo -n true failed: ${ssh.stderr.trim()}`) },
          );
        return;
      }
      const failure = classifySshFailure(ssh.stderr, way === 'jump' ? proxy : undefined);
      const where =
        way === 'forward' && proxy ? `local forward through proxy ${JSON.stringify(proxy.id)}: ` : '';
      result.ways[way] = { ok: false, reason: failure.reason, detail: oneLine(where + failure.detail) };
    });
    return readKnownHosts(written.knownHosts);
  });
  const keys = tries.keys.get(way) ?? new Map<string, string>();
  for (const [alias, key] of recorded) keys.set(alias, key);
  tries.keys.set(way, keys);
}

/** A local forward to the host's sshd through its proxy, or why there is none. */
async function openForward(
  tunnels: TunnelKeeper | undefined,
  proxy: Proxy,
  host: Host,
  opened: Array<[string, string]> = [],
): Promise<LocalForward | WayResult> {
  if (!tunnels) {
    return {
      ok: false,
      reason: 'not-available',
      detail: 'not available on this node: it runs no tunnel keeper',
    };
  }
  if (!proxy.hostKey) {
    return {
      ok: false,
      reason: 'not-available',
      detail: `proxy ${JSON.stringify(proxy.id)} has no pinned host key yet: enroll or prepare it first`,
    };
  }
  const spec = { targetHost: host.address, targetPort: host.sshPort };
  const id = localForwardId(spec);
  const held = tunnels
    .status()
    .some((status) => status.proxy === proxy.id && status.forwards.some((forward) => forward.id === id));
  try {
    const forward = await tunnels.ensureLocalForward(proxy, spec);
    if (!held) opened.push([proxy.id, id]);
    return forward;
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const failure = classifySshFailure(text);
    return {
      ok: false,
      reason: failure.reason,
      detail: oneLine(`proxy ${JSON.stringify(proxy.id)} (${proxy.publicAddress}:${proxy.sshPort}): ${text}`),
    };
  }
}
