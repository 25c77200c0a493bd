import { createHash } from 'node:crypto';
import type { AgentTransition } from './watch-agents.ts';

/** One alert of an Alertmanager webhook message (its `alerts[]` entries). */
export interface WatchAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  /** Alertmanager's zero time while firing. */
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

/**
 * What the watch POSTs: Alertmanager's webhook message (version 4), so receivers built for it take it
 * as is, plus `text`, the one field Slack, Mattermost and most chat webhooks show.
 */
export interface WatchPayload {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  alerts: WatchAlert[];
  text: string;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';
export const SILENT_ALERT = 'OutpostAgentSilent';

/**
 * The webhook message of one project's transitions of a watch run: a `firing` alert per host gone
 * silent, a `resolved` one per host reporting again. An alert's labels are the same when it fires and
 * when it resolves (host, project, proxy), so a receiver pairs them; the reason goes in annotations.
 */
export function buildWatchPayload(
  project: string,
  transitions: readonly AgentTransition[],
  options: { externalURL?: string } = {},
): WatchPayload {
  const alerts = transitions.map((transition): WatchAlert => {
    const labels: Record<string, string> = {
      alertname: SILENT_ALERT,
      severity: 'warning',
      project: transition.project,
      host: transition.host,
      ...(transition.proxy ? { proxy: transition.proxy } : {}),
    };
    const firing = transition.to === 'silent';
    return {
      status: firing ? 'firing' : 'resolved',
      labels,
      annotations: firing
        ? {
            summary: `agent on ${transition.host} is silent`,
            description: transition.reason ?? 'no recent point',
            cause: transition.cause ?? 'unknown',
            ...(transition.lastSeen ? { lastSeen: transition.lastSeen } : {}),
          }
        : {
            summary: `agent on ${transition.host} reports again`,
            description: `${transition.to}${transition.lastSeen ? `, newest point ${transition.lastSeen}` : ''}`,
          },
      startsAt: firing ? transition.at : (transition.silentSince ?? transition.at),
      endsAt: firing ? ZERO_TIME : transition.at,
      generatorURL: options.externalURL ?? '',
      fingerprint: createHash('sha256')
        .update(Object.entries(labels).sort().join('\n'))
        .digest('hex')
        .slice(0, 16),
    };
  });
  return {
    version: '4',
    groupKey: `{}:{project=${JSON.stringify(project)}}`,
    truncatedAlerts: 0,
    status: alerts.some((alert) => alert.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'outpost',
    groupLabels: { alertname: SILENT_ALERT, project },
    commonLabels: common(alerts.map((alert) => alert.labels)),
    commonAnnotations: common(alerts.map((alert) => alert.annotations)),
    externalURL: options.externalURL ?? '',
    alerts,
    text: [
      `Outpost, project ${project}:`,
      ...transitions.map((t) =>
        t.to === 'silent'
          ? `- ${t.host}: agent silent since ${t.at}: ${t.reason ?? 'no recent point'}`
          : `- ${t.host}: agent ${t.to} again at ${t.at}`,
      ),
    ].join('\n'),
  };
}

/** The pairs every record has alike (Alertmanager's commonLabels / commonAnnotations). */
function common(records: Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = records;
  if (!first) return {};
  return Object.fromEntries(
    Object.entries(first).filter(([key, value]) => rest.every((record) => record[key] === value)),
  );
}
