import type { Host } from '../../domain/host.ts';
import type { Heartbeat, MetricsBackend } from '../../metrics/metrics-backend.ts';
import type { AgentPlanner, WantedAgent } from './plan-agents.ts';
import { AGENT_FILES, type AgentProbe } from './probe-agents.ts';

/** A host the fast path found already right: its stamp, files, version, service and points all agree. */
export interface FastPathRight {
  wanted: WantedAgent;
  /** Time of its newest point, which carries the wanted configuration id. */
  lastPointAt: string;
}

/** A host the play must handle, and why. */
export interface FastPathMiss {
  wanted: WantedAgent;
  /** What the fast path found, for a person. */
  reason: string;
  /** The agent runs but sends no points of this configuration: the play restarts it. */
  restart: boolean;
}

/** A host no play can help now: unreachable, or without an uplink. */
export interface FastPathBlocked {
  reason: string;
  unreachable: boolean;
}

/** The fast path's answer for a set of hosts: each is right, needs the play, or is blocked. */
export interface FastPathResult {
  right: Map<string, FastPathRight>;
  needsPlay: Map<string, FastPathMiss>;
  blocked: Map<string, FastPathBlocked>;
  /** First line of `telegraf --version` on each reachable host that has Telegraf, before any play. */
  versions: Map<string, string>;
}

/** What {@link checkFastPath} needs: one SSH command per host, the planner, InfluxDB. */
export interface FastPathDeps {
  probe(hosts: Host[]): Promise<Map<string, AgentProbe>>;
  planner: AgentPlanner;
  metrics: Pick<MetricsBackend, 'heartbeats'>;
  /** A newest point younger than this proves the agent reports. */
  freshMs: number;
}

/**
 * Sorts `hosts` for a deploy without running Ansible: one SSH command per host (the stamp the last play
 * wrote, the configuration's checksum now, Telegraf's version, the service, the way to InfluxDB) and one
 * InfluxDB query (each host's newest point and its configuration id). With `full`, every reachable
 * host needs the play. A function of the hosts alone, so a slice of a big job can call it for its share.
 */
export async function checkFastPath(
  deps: FastPathDeps,
  hosts: Host[],
  options: { full?: boolean; now?: () => number } = {},
): Promise<FastPathResult> {
  const now = options.now ?? Date.now;
  const freshSince = new Date(now() - deps.freshMs);
  const [probes, beats] = await Promise.all([
    deps.probe(hosts),
    options.full
      ? Promise.resolve(new Map<string, Heartbeat>())
      : deps.metrics.heartbeats(freshSince).catch((error: Error) => error),
  ]);
  const result: FastPathResult = {
    right: new Map(),
    needsPlay: new Map(),
    blocked: new Map(),
    versions: new Map(),
  };
  for (const host of hosts) {
    const probe = probes.get(host.id);
    if (!probe || !probe.reachable) {
      const through = deps.planner.proxyOf(host);
      result.blocked.set(host.id, {
        unreachable: true,
        reason: `${host.id} is unreachable${through ? ` through proxy ${through.id}` : ''}: ${probe?.detail ?? 'not probed'}`,
      });
      continue;
    }
    if (probe.version) result.versions.set(host.id, probe.version);
    const wanted = deps.planner.plan(host, probe);
    if (!('configId' in wanted)) {
      result.blocked.set(host.id, { unreachable: false, reason: wanted.reason });
      continue;
    }
    if (options.full) {
      result.needsPlay.set(host.id, { wanted, reason: 'the play was asked for (--full)', restart: false });
      continue;
    }
    const verdict =
      beats instanceof Error
        ? { reason: `InfluxDB could not be asked for its points: ${beats.message}`, restart: false }
        : judgeFastPath(wanted, probe, beats.get(host.id), freshSince);
    if ('lastPointAt' in verdict) result.right.set(host.id, { wanted, lastPointAt: verdict.lastPointAt });
    else result.needsPlay.set(host.id, { wanted, ...verdict });
  }
  return result;
}

/**
 * Whether one host is already as this deploy wants it, or the first reason it is not: the stamp of the
 * last play names this configuration id; the configuration file is the one that play wrote (not edited
 * since); Telegraf is the version it left; the service runs; its newest point is fresh and carries
 * this configuration id.
 */
export function judgeFastPath(
  wanted: WantedAgent,
  probe: Extract<AgentProbe, { reachable: true }>,
  beat: Heartbeat | undefined,
  freshSince: Date,
): { lastPointAt: string } | { reason: string; restart: boolean } {
  const miss = (reason: string, restart = false) => ({ reason, restart });
  const { stamp } = probe;
  if (!stamp) return miss('no deploy stamp: no play of Outpost finished here yet');
  if (stamp.config_id !== wanted.configId)
    return miss(
      `the configuration changed: the last play applied ${stamp.config_id || '(none)'}, this deploy wants ${wanted.configId} (role files, variables, package source or uplink)`,
    );
  const written = stamp.files[AGENT_FILES.config];
  const now = probe.files[AGENT_FILES.config];
  if (written === undefined || now !== written)
    return miss(
      now === undefined
        ? `${AGENT_FILES.config} is missing`
        : `${AGENT_FILES.config} is not what the last play wrote (edited since?)`,
    );
  if (probe.version !== stamp.telegraf_version)
    return miss(
      `Telegraf is ${probe.version ? JSON.stringify(probe.version) : 'missing'}, the last play left ${JSON.stringify(stamp.telegraf_version)}`,
    );
  if (!probe.running) return miss('the Telegraf service is not running');
  if (!beat)
    return miss(`no point since ${freshSince.toISOString()}: the agent runs but its points stopped`, true);
  if (beat.config !== wanted.configId)
    return miss(
      `its newest point (${beat.time}) carries configuration ${beat.config ?? '(none)'}, not ${wanted.configId}`,
      true,
    );
  return { lastPointAt: beat.time };
}
