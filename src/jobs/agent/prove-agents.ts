import type { AgentSettings } from '../../config.ts';
import type { MetricsBackend } from '../../metrics/metrics-backend.ts';
import { waitForFirstMetrics } from '../../metrics/wait-for-first-metrics.ts';
import type { JobOutcome } from '../runtime/job-run.ts';
import { isoTime, whereOf, type AgentVerdict, type DeployStep } from './agent-verdict.ts';
import { observeAgents, stateOf } from './observe-agents.ts';
import type { WantedAgent } from './plan-agents.ts';

/** A host this deploy did not finish on: what it wanted there (when known) and what happened. */
export interface UnfinishedHost {
  wanted?: WantedAgent;
  step: DeployStep;
  reason: string;
  /** The uplink decided by an earlier deploy: a host not deployed keeps it (its forward stays wanted). */
  previousUplink?: 'direct' | 'proxy';
}

/** What {@link proveAgents} judges. */
export interface ProofInput {
  /** Hosts the play ran for, with why (the fast path's finding). */
  played: { wanted: WantedAgent; because: string }[];
  play: JobOutcome | undefined;
  playStart: Date;
  /** Hosts the play never ran for (unreachable, no uplink, its uplink down, canceled before). */
  unfinished: Map<string, UnfinishedHost>;
  /** When the job began (epoch ms). */
  startedAt: number;
  settings: Pick<AgentSettings, 'verifySeconds' | 'freshSeconds'>;
  signal: AbortSignal;
}

/**
 * The proof of a deploy, per host: a host the play finished on is `reporting` only once a point carrying
 * this configuration id arrives after the play began. Every other host gets what its points show of
 * the agent it still runs (this configuration, an older one, or none) — without waiting when the job
 * was canceled, else over a whole fresh window, so a failed deploy never calls a live agent dead.
 */
export async function proveAgents(
  metrics: MetricsBackend,
  input: ProofInput,
): Promise<Map<string, AgentVerdict>> {
  const { play, settings } = input;
  const verdicts = new Map<string, AgentVerdict>();
  const unfinished = new Map(input.unfinished);
  const finished = play !== undefined && (play.status === 'successful' || play.status === 'failed');
  await Promise.all(
    input.played.map(async ({ wanted, because }) => {
      const id = wanted.host.id;
      const summary = play?.result?.[id];
      const through = wanted.proxy ? ` (uplink through proxy ${wanted.proxy.id})` : '';
      if (!finished || !summary || summary.failed > 0 || summary.unreachable > 0) {
        const error = summary?.firstError;
        const cut = play?.status === 'canceled' || play?.status === 'timeout';
        const what = cut
          ? `deploy ${play.status === 'timeout' ? 'timed out' : 'canceled'} before it finished here`
          : `deploy ${error ? `${error.status} at "${error.task}": ${error.msg.trim()}` : 'did not run on this host'}`;
        unfinished.set(id, { wanted, step: cut ? 'canceled' : 'failed', reason: `${what}${through}` });
        return;
      }
      const proof = await waitForFirstMetrics(metrics, id, {
        since: input.playStart,
        config: wanted.configId,
        timeoutMs: settings.verifySeconds * 1000,
        intervalMs: 1000,
        signal: input.signal,
      });
      const base = { deploy: 'applied', playedBecause: because, ...whereOf(wanted) } as const;
      if (proof.state === 'reporting') {
        verdicts.set(id, {
          state: 'reporting',
          ...base,
          seenConfig: wanted.configId,
          firstPointAt: isoTime(proof.firstPointAt),
        });
        return;
      }
      const beat = (await observeAgents(metrics, [id], { since: input.playStart })).get(id);
      const old = stateOf(beat, wanted.configId) === 'reporting-old-config';
      verdicts.set(id, {
        state: old ? 'reporting-old-config' : 'not-reporting',
        ...base,
        ...(beat?.config ? { seenConfig: beat.config } : {}),
        ...(beat ? { lastPointAt: isoTime(beat.time) } : {}),
        reason: `${proof.reason}${beat ? `; its points still carry configuration ${beat.config ?? '(none)'}` : ''}; Telegraf writes to ${wanted.url}${wanted.proxy ? ` through the uplink of proxy ${wanted.proxy.id}` : ' (direct uplink)'}`,
      });
    }),
  );

  const aborted = input.signal.aborted;
  const freshMs = settings.freshSeconds * 1000;
  const beats = await observeAgents(metrics, [...unfinished.keys()], {
    since: new Date(aborted ? input.startedAt - freshMs : input.startedAt),
    waitUntil: aborted ? 0 : input.startedAt + freshMs,
    signal: input.signal,
  });
  for (const [id, host] of unfinished) {
    const beat = beats.get(id);
    const state = stateOf(beat, host.wanted?.configId);
    const seen =
      state === 'reporting'
        ? `; the agent still reports with the wanted configuration ${host.wanted?.configId ?? ''}`
        : state === 'reporting-old-config'
          ? `; the agent still reports, with configuration ${beat?.config ?? '(none)'}${host.wanted ? ` (wanted ${host.wanted.configId})` : ''}`
          : '';
    verdicts.set(id, {
      state,
      deploy: host.step,
      ...(host.step !== 'not deployed' && host.wanted
        ? whereOf(host.wanted)
        : host.previousUplink
          ? { uplink: host.previousUplink }
          : {}),
      ...(host.wanted ? { config: host.wanted.configId } : {}),
      ...(beat?.config ? { seenConfig: beat.config } : {}),
      ...(beat ? { lastPointAt: isoTime(beat.time) } : {}),
      reason: `${host.reason}${seen}`,
    });
  }
  return verdicts;
}
