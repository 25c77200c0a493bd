import { describe, expect, it } from 'vitest';
import { listRegistryEvents } from '../../../src/events/registry-events.ts';

const host = (state: string, reason?: string) => ({
  id: 'web-1',
  project: 'shop',
  agent: { state, ...(reason ? { reason } : {}) },
});

describe('listRegistryEvents', () => {
  it('publishes a host event with the host as it now is, in its project', () => {
    expect(listRegistryEvents({ kind: 'host', action: 'created', id: 'web-1', after: host('none') })).toEqual(
      [{ type: 'host', project: 'shop', data: { action: 'created', id: 'web-1', host: host('none') } }],
    );
  });

  it('adds an agent event when an update changes the agent state, with the reason', () => {
    const events = listRegistryEvents({
      kind: 'host',
      action: 'updated',
      id: 'web-1',
      before: host('deployed'),
      after: host('not-reporting', 'no metrics within 60 s'),
    });
    expect(events.map((event) => event.type)).toEqual(['host', 'agent']);
    expect(events[1]).toEqual({
      type: 'agent',
      project: 'shop',
      data: { host: 'web-1', from: 'deployed', to: 'not-reporting', reason: 'no metrics within 60 s' },
    });
  });

  it("carries the watch's time and cause when a host goes silent", () => {
    const silent = {
      ...host('silent', 'proxy edge unreachable: connection refused'),
      agent: {
        state: 'silent',
        reason: 'proxy edge unreachable: connection refused',
        since: '2026-11-26T10:00:00.000Z',
        cause: 'proxy-unreachable',
        uplink: 'proxy',
      },
    };
    const [, agent] = listRegistryEvents({
      kind: 'host',
      action: 'updated',
      id: 'web-1',
      before: host('reporting'),
      after: silent,
    });
    expect(agent).toEqual({
      type: 'agent',
      project: 'shop',
      data: {
        host: 'web-1',
        from: 'reporting',
        to: 'silent',
        reason: 'proxy edge unreachable: connection refused',
        uplink: 'proxy',
        since: '2026-11-26T10:00:00.000Z',
        cause: 'proxy-unreachable',
      },
    });
  });

  it('publishes no agent event when the state stays, and none for a delete', () => {
    const same = listRegistryEvents({
      kind: 'host',
      action: 'updated',
      id: 'web-1',
      before: host('reporting'),
      after: host('reporting'),
    });
    expect(same.map((event) => event.type)).toEqual(['host']);
    const gone = listRegistryEvents({
      kind: 'host',
      action: 'deleted',
      id: 'web-1',
      before: host('reporting'),
    });
    expect(gone).toEqual([{ type: 'host', project: 'shop', data: { action: 'deleted', id: 'web-1' } }]);
  });

  it('files a project event under the project itself', () => {
    const [event] = listRegistryEvents({
      kind: 'project',
      action: 'deleted',
      id: 'shop',
      before: { id: 'shop' },
    });
    expect(event).toMatchObject({ type: 'project', project: 'shop' });
  });
});
