import { describe, expect, it } from 'vitest';
import { judgeFastPath } from '../../../../src/jobs/agent/check-fast-path.ts';
import type { WantedAgent } from '../../../../src/jobs/agent/plan-agents.ts';
import type { AgentProbe } from '../../../../src/jobs/agent/probe-agents.ts';
import type { Heartbeat } from '../../../../src/metrics/metrics-backend.ts';

type Reached = Extract<AgentProbe, { reachable: true }>;

const CONF = '/etc/telegraf/telegraf.conf';
const wanted = { configId: 'abc', host: { id: 'vm1' } } as unknown as WantedAgent;
const STAMP = { config_id: 'abc', telegraf_version: 'Telegraf 1.30.0', files: { [CONF]: 'f'.repeat(64) } };
const right: Reached = {
  reachable: true,
  stamp: STAMP,
  files: { [CONF]: 'f'.repeat(64) },
  version: 'Telegraf 1.30.0',
  running: true,
};
const since = new Date('2026-01-01T00:00:00Z');
const beat: Heartbeat = { time: '2026-01-01T00:00:30Z', config: 'abc' };

describe('judgeFastPath', () => {
  it('finds a host right when stamp, file, version, service and a fresh point of this configuration agree', () => {
    expect(judgeFastPath(wanted, right, beat, since)).toEqual({ lastPointAt: beat.time });
  });

  it('sends a host through the play with the first thing that differs, restarting only a silent running agent', () => {
    const cases: Array<[Partial<Reached>, Heartbeat | undefined, RegExp, boolean]> = [
      [{ stamp: undefined }, beat, /no deploy stamp/, false],
      [
        { stamp: { ...STAMP, config_id: 'old' } },
        beat,
        /the configuration changed: the last play applied old, this deploy wants abc/,
        false,
      ],
      [{ files: { [CONF]: 'e'.repeat(64) } }, beat, /telegraf\.conf is not what the last play wrote/, false],
      [{ files: {} }, beat, /telegraf\.conf is missing/, false],
      [{ version: 'Telegraf 1.29.0' }, beat, /Telegraf is "Telegraf 1.29.0"/, false],
      [{ running: false }, beat, /not running/, false],
      [{}, undefined, /points stopped/, true],
      [{}, { time: beat.time, config: 'old' }, /carries configuration old, not abc/, true],
      [{}, { time: beat.time }, /carries configuration \(none\)/, true],
    ];
    for (const [change, point, reason, restart] of cases) {
      const verdict = judgeFastPath(wanted, { ...right, ...change }, point, since);
      expect(verdict).toMatchObject({ restart });
      expect('reason' in verdict && verdict.reason).toMatch(reason);
    }
  });
});
