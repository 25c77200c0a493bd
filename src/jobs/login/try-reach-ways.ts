import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Host, Reach, WayResult } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import { readKnownHosts } from '../../inventory/read-known-hosts.ts';
import type { LocalForward } from '../../inventory/resolve-routes.ts';
import { localForwardId } from '../../tunnels/forward-id.ts';
import type { TunnelKeeper } from '../../tunnels/index.ts';
import { classifySshFailure, oneLine } from '../../ssh/classify-ssh-failure.ts';
import { mapLimit } from '../runtime/map-limit.ts';
import { runSsh } from '../../ssh/run-ssh.ts';
import { withScratchInventory } from '../runtime/with-scratch-inventory.ts';

/** The ways a probe tries, in order of preference: the first that works becomes the host's reach. */
export const WAYS: readonly Reach[] = ['direct', 'jump', 'forward'];

/** What the tries of one host found. */
export interface HostWays {
  ways: Partial<Record<Reach, WayResult>>;
  /** The first way that worked. */
  reach?: Reach;
  /** Host keys (by alias: `<host>`, `proxy.<id>`) recorded by the way that worked, at first contact. */
  recorded: Map<string, string>;
  /** The local forward used by the `forward` way, when it worked. */
  forward?: LocalForward;
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
  connectTimeoutSeconds?: number;
  signal?: AbortSignal;
  /** Gets `[proxyId, forwardId]` of every forward the tries opened (the caller releases them when done). */
  opened?: Array<[string, string]>;
}

/**
 * Tries every way to log in to each host as cloudroot (`ssh ... true`): direct, ProxyJump through
 * its proxy, and a local forward of the tunnel keeper. Unknown host keys are accepted and recorded
 * (first contact); pinned ones are checked. The ways run at once, up to 16 hosts each.
 */
export async function tryReachWays(input: TryReachInput): Promise<Map<string, HostWays>> {
  const found = new Map<string, HostWays>(
    input.hosts.map((host) => [host.id, { ways: {}, recorded: new Map<string, string>() }]),
  );
  const proxyOf = new Map(input.hosts.map((host) => [host.id, selectProxy(host, input.proxies)]));
  const perWay: Array<{ way: Reach; keys: Map<string, string>; ok: Set<string> }> = [];
  try {
    await Promise.all(
      WAYS.map(async (way) => {
        const candidates: Host[] = [];
        const forwards = new Map<string, LocalForward>();
        await mapLimit(input.hosts, 16, async (host) => {
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
          dir: path.join(input.dir, way),
          project: input.project,
          hosts: candidates,
          proxies: input.proxies,
          keys: { project: input.projectKey },
          forwards,
          hostKeyPolicy: 'accept-new' as const,
        };
        const ok = new Set<string>();
        const keys = await withScratchInventory(scratch, async (written) => {
          // Bounded: a probe of hundreds of hosts must not start hundreds of ssh processes at once.
          await mapLimit(candidates, 16, async (host) => {
            const result = found.get(host.id);
            if (!result) return;
            const proxy = way === 'direct' ? undefined : proxyOf.get(host.id);
            const ssh = await runSsh(written.sshConfig, host.id, 'true', {
              connectTimeoutSeconds: input.connectTimeoutSeconds ?? 5,
              ...(input.signal ? { signal: input.signal } : {}),
            });
            if (ssh.exitCode === 0) {
              result.ways[way] = { ok: true };
              ok.add(host.id);
              const forward = forwards.get(host.id);
              if (forward) result.forward = forward;
            } else {
              const failure = classifySshFailure(ssh.stderr, way === 'jump' ? proxy : undefined);
              const where =
                way === 'forward' && proxy ? `local forward through proxy ${JSON.stringify(proxy.id)}: ` : '';
              result.ways[way] = {
                ok: false,
                reason: failure.reason,
                detail: oneLine(where + failure.detail),
              };
            }
          });
          return readKnownHosts(written.knownHosts);
        });
        perWay.push({ way, keys, ok });
      }),
    );
  } finally {
    await Promise.all(
      WAYS.map((way) => rm(path.join(input.dir, way, 'keys'), { recursive: true, force: true })),
    );
  }
  for (const host of input.hosts) {
    const result = found.get(host.id);
    if (!result) continue;
    // Ways in their order of preference, whichever finished first.
    result.ways = Object.fromEntries(
      WAYS.flatMap((way) => (result.ways[way] ? [[way, result.ways[way]]] : [])),
    );
    result.reach = WAYS.find((way) => result.ways[way]?.ok === true);
    const chosen = perWay.find((entry) => entry.way === result.reach);
    if (!chosen) continue;
    const key = chosen.keys.get(host.id);
    if (key) result.recorded.set(host.id, key);
    const proxy = proxyOf.get(host.id);
    const proxyKey = proxy ? chosen.keys.get(`proxy.${proxy.id}`) : undefined;
    if (proxy && proxyKey) result.recorded.set(`proxy.${proxy.id}`, proxyKey);
  }
  return found;
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
