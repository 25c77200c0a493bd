import { describe, expect, it } from 'vitest';
import { buildWatchPayload } from '../../../../src/jobs/agent/build-watch-payload.ts';
import type { AgentTransition } from '../../../../src/jobs/agent/watch-agents.ts';

const silent: AgentTransition = {
  host: 'vm1',
  project: 'acme',
  proxy: 'edge',
  from: 'reporting',
  to: 'silent',
  at: '2026-11-26T10:01:00.000Z',
  lastSeen: '2026-11-26T10:00:00.000Z',
  cause: 'agent-not-running',
  reason: 'agent not running: the telegraf service is stopped',
};
const back: AgentTransition = {
  host: 'vm1',
  project: 'acme',
  proxy: 'edge',
  from: 'silent',
  to: 'reporting',
  at: '2026-11-26T10:05:00.000Z',
  lastSeen: '2026-11-26T10:04:58.000Z',
  silentSince: '2026-11-26T10:01:00.000Z',
};

describe('buildWatchPayload', () => {
  it('is an Alertmanager webhook message (version 4) with a text for chat tools', () => {
    const payload = buildWatchPayload('acme', [silent]);
    expect(payload).toEqual({
      version: '4',
      groupKey: '{}:{project="acme"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'outpost',
      groupLabels: { alertname: 'OutpostAgentSilent', project: 'acme' },
      commonLabels: {
        alertname: 'OutpostAgentSilent',
        severity: 'warning',
        project: 'acme',
        host: 'vm1',
        proxy: 'edge',
      },
      commonAnnotations: {
        summary: 'agent on vm1 is silent',
        description: 'agent not running: the telegraf service is stopped',
        cause: 'agent-not-running',
        lastSeen: '2026-11-26T10:00:00.000Z',
      },
      externalURL: '',
      alerts: [
        {
          status: 'firing',
          labels: payload.commonLabels,
          annotations: payload.commonAnnotations,
          startsAt: '2026-11-26T10:01:00.000Z',
          endsAt: '0001-01-01T00:00:00Z',
          generatorURL: '',
          fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) as string,
        },
      ],
      text: 'Outpost, project acme:\n- vm1: agent silent since 2026-11-26T10:01:00.000Z: agent not running: the telegraf service is stopped',
    });
  });

  it('resolves with the labels and fingerprint it fired with, from when it went silent to now', () => {
    const [fired] = buildWatchPayload('acme', [silent]).alerts;
    const resolved = buildWatchPayload('acme', [back]);
    expect(resolved.status).toBe('resolved');
    expect(resolved.alerts[0]).toMatchObject({
      status: 'resolved',
      labels: fired?.labels,
      fingerprint: fired?.fingerprint,
      startsAt: '2026-11-26T10:01:00.000Z',
      endsAt: '2026-11-26T10:05:00.000Z',
    });
    expect(resolved.text).toContain('- vm1: agent reporting again at 2026-11-26T10:05:00.000Z');
  });

  it('fires when any alert of a run fires, and keeps only the labels every alert shares', () => {
    const other = {
      ...silent,
      host: 'vm2',
      cause: 'tunnel-down' as const,
      reason: 'uplink tunnel of proxy edge down',
    };
    const payload = buildWatchPayload('acme', [back, other]);
    expect(payload.status).toBe('firing');
    expect(payload.alerts.map((alert) => [alert.labels.host, alert.status])).toEqual([
      ['vm1', 'resolved'],
      ['vm2', 'firing'],
    ]);
    expect(payload.commonLabels).toEqual({
      alertname: 'OutpostAgentSilent',
      severity: 'warning',
      project: 'acme',
      proxy: 'edge',
    });
    expect(payload.alerts[0]?.fingerprint).not.toBe(payload.alerts[1]?.fingerprint);
  });
});
