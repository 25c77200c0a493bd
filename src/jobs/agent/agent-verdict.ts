import type { HostSummary } from '../../ansible/summarize-run.ts';
import type { HostAgent } from '../../domain/host.ts';
import { isoTime as parseIsoTime } from '../../metrics/metrics-backend.ts';
import type { JobOutcome } from '../runtime/job-run.ts';
import type { ObservedState } from './observe-agents.ts';
import type { WantedAgent } from './plan-agents.ts';

/** What a deploy did on one host. */
export type DeployStep = 'unchanged (fast path)' | 'applied' | 'failed' | 'not deployed' | 'canceled';

/** A host's agent after a deploy, as recorded in the registry and in the job's result. */
export interface AgentVerdict {
  /** What the host's points show: this deploy's configuration, an older one, or none. */
  state: ObservedState;
  /** What this deploy did there. */
  deploy: DeployStep;
  /** Why the host went through the play (what the fast path found). */
  playedBecause?: string;
  uplink?: 'direct' | 'proxy';
  /** The output URL written into the host's Telegraf configuration. */
  url?: string;
  /** The configuration id this deploy wanted (tag `outpost_config`). */
  config?: string;
  /** The configuration id the host's newest point carries, when one was seen. */
  seenConfig?: string;
  /** Time of the host's first point of this configuration since the play began (applied). */
  firstPointAt?: string;
  /** Time of the host's newest point (fast path, or an agent a failed deploy left running). */
  lastPointAt?: string;
  /** What went wrong, or what was checked. */
  reason?: string;
  /** The Telegraf version installed after this deploy, as its play or probe read it. */
  version?: string;
}

/** Where the wanted agent writes: its uplink, URL and configuration id. */
export function whereOf(wanted: WantedAgent): Pick<AgentVerdict, 'uplink' | 'url' | 'config'> {
  return { uplink: wanted.uplink, url: wanted.url, config: wanted.configId };
}

/** The registry's record of the verdict: state, uplink, last seen, the configuration its points carry, why. */
export function toHostAgent(verdict: AgentVerdict): HostAgent {
  const seen = verdict.firstPointAt ?? verdict.lastPointAt;
  return {
    state: verdict.state,
    ...(verdict.uplink ? { uplink: verdict.uplink } : {}),
    ...(seen ? { lastSeen: seen } : {}),
    // A tag is whatever an agent wrote: only an id of ours is kept.
    ...(verdict.seenConfig && /^[0-9a-f]{1,64}$/.test(verdict.seenConfig)
      ? { config: verdict.seenConfig }
      : {}),
    ...(verdict.reason ? { reason: verdict.reason.slice(0, 500) } : {}),
    ...(verdict.version ? { version: verdict.version } : {}),
  };
}

/** The job's outcome: successful only when every host runs this deploy's configuration and reports. */
export function deployOutcome(verdicts: Map<string, AgentVerdict>, play: JobOutcome | undefined): JobOutcome {
  const result: Record<string, HostSummary & { agent: AgentVerdict }> = {};
  for (const [id, verdict] of verdicts) {
    const summary = play?.result?.[id] ?? { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
    result[id] = { ...summary, agent: verdict };
  }
  const done = (v: AgentVerdict): boolean =>
    v.state === 'reporting' && (v.deploy === 'applied' || v.deploy === 'unchanged (fast path)');
  const undone = [...verdicts].filter(([, v]) => !done(v));
  const base = {
    result,
    ...(play?.command ? { command: play.command } : {}),
    ...(play?.rc !== undefined ? { rc: play.rc } : {}),
  };
  if (play && (play.status === 'canceled' || play.status === 'timeout'))
    return { ...base, status: play.status, ...(play.reason ? { reason: play.reason } : {}) };
  if (verdicts.size === 0) return { ...base, status: 'failed', reason: 'no host was selected by the job' };
  if (undone.length === 0) return { ...base, status: 'successful' };
  const list = undone.map(([id, v]) => `${id} (${v.reason ?? v.state})`).join('; ');
  return { ...base, status: 'failed', reason: `not deployed and reporting: ${list}`.slice(0, 2000) };
}

/**
 * A metrics time as the registry keeps it (milliseconds, three digits); one that does not parse as is. The
 * backends already answer this form; any MetricsBackend (a test's fake too) may not.
 */
export function isoTime(time: string): string {
  return parseIsoTime(time) ?? time;
}
