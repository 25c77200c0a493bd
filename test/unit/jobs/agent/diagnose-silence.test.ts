import { describe, expect, it } from 'vitest';
import type { Host } from '../../../../src/domain/host.ts';
import type { Proxy } from '../../../../src/domain/proxy.ts';
import {
  diagnoseSilence,
  type SilenceChecks,
  type VmCheck,
} from '../../../../src/jobs/agent/diagnose-silence.ts';

const proxy = { id: 'edge', publicAddress: '203.0.113.2', sshPort: 22 } as Proxy;
const behind = { id: 'vm1', project: 'p', agent: { state: 'reporting', uplink: 'proxy' } } as Host;
const direct = { id: 'vm2', project: 'p', agent: { state: 'reporting', uplink: 'direct' } } as Host;

/** Checks that fail where told, recording which were asked, in order. */
function checks(failing: {
  influx?: string;
  tunnel?: string;
  proxy?: string;
  vm?: VmCheck;
}): SilenceChecks & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    influxDown: () => (asked.push('influx'), Promise.resolve(failing.influx)),
    tunnelDown: (p) => (asked.push(`tunnel ${p.id}`), Promise.resolve(failing.tunnel)),
    proxyUnreachable: (p) => (asked.push(`proxy ${p.id}`), Promise.resolve(failing.proxy)),
    checkVm: (h) => (
      asked.push(`vm ${h.id}`),
      Promise.resolve(failing.vm ?? { reachable: true, running: true })
    ),
  };
}

describe('diagnoseSilence', () => {
  it('stops at the first failing check, in the order InfluxDB, tunnel, proxy, VM, agent', async () => {
    const everything = {
      influx: 'connection refused',
      tunnel: 'its connection is backoff',
      proxy: 'connection refused — 203.0.113.2:22',
      vm: { reachable: false, detail: 'timed out' } as VmCheck,
    };
    const influx = checks(everything);
    expect(await diagnoseSilence(behind, proxy, influx)).toEqual({
      cause: 'influx-down',
      reason: 'InfluxDB down: connection refused',
    });
    expect(influx.asked).toEqual(['influx']);

    const tunnel = checks({ ...everything, influx: undefined });
    expect(await diagnoseSilence(behind, proxy, tunnel)).toEqual({
      cause: 'tunnel-down',
      reason: 'uplink tunnel of proxy edge down: its connection is backoff',
    });
    expect(tunnel.asked).toEqual(['influx', 'tunnel edge']);

    const unreachable = checks({ ...everything, influx: undefined, tunnel: undefined });
    expect(await diagnoseSilence(behind, proxy, unreachable)).toEqual({
      cause: 'proxy-unreachable',
      reason: 'proxy edge unreachable: connection refused — 203.0.113.2:22',
    });
    expect(unreachable.asked).toEqual(['influx', 'tunnel edge', 'proxy edge']);

    const vm = checks({ vm: { reachable: false, detail: 'through proxy "edge": timed out' } });
    expect(await diagnoseSilence(behind, proxy, vm)).toEqual({
      cause: 'vm-unreachable',
      reason: 'VM unreachable: through proxy "edge": timed out',
    });
    expect(vm.asked).toEqual(['influx', 'tunnel edge', 'proxy edge', 'vm vm1']);

    const stopped = checks({ vm: { reachable: true, running: false } });
    const diagnosis = await diagnoseSilence(behind, proxy, stopped);
    expect(diagnosis.cause).toBe('agent-not-running');
    expect(diagnosis.reason).toMatch(/^agent not running/);
  });

  it('says unknown, with the newest point, when the VM answers and the agent runs', async () => {
    expect(await diagnoseSilence(behind, proxy, checks({}), '2026-11-26T10:00:00.000Z')).toEqual({
      cause: 'unknown',
      reason:
        'unknown: the VM answers and the telegraf service runs, but no point since 2026-11-26T10:00:00.000Z',
    });
  });

  it('skips the tunnel of a host writing directly, and both proxy checks of a host without a proxy', async () => {
    const viaProxy = checks({ tunnel: 'down' });
    expect((await diagnoseSilence(direct, proxy, viaProxy)).cause).toBe('unknown');
    expect(viaProxy.asked).toEqual(['influx', 'proxy edge', 'vm vm2']);

    const alone = checks({ tunnel: 'down', proxy: 'refused', vm: { reachable: false, detail: 'no route' } });
    expect(await diagnoseSilence(direct, undefined, alone)).toEqual({
      cause: 'vm-unreachable',
      reason: 'VM unreachable: no route',
    });
    expect(alone.asked).toEqual(['influx', 'vm vm2']);
  });
});
