import { describe, expect, it } from 'vitest';
import { uplinkForwardOf } from '../../../../src/jobs/agent/uplink-forward.ts';

describe('uplinkForwardOf', () => {
  it('binds the fixed port on the proxy VPC address and carries it to InfluxDB as this machine reaches it', () => {
    const forward = uplinkForwardOf({ vpcAddress: '198.51.100.2' }, 'http://127.0.0.1:8086', 18086);
    expect(forward).toEqual({
      id: 'remote:198.51.100.2:18086',
      bindAddress: '198.51.100.2',
      bindPort: 18086,
      targetHost: '127.0.0.1',
      targetPort: 8086,
      probe: { kind: 'http', path: '/ping' },
      agentUrl: 'http://198.51.100.2:18086',
    });
  });

  it('keeps the scheme and path of the InfluxDB URL and its default port', () => {
    const forward = uplinkForwardOf({ vpcAddress: '198.51.100.66' }, 'https://influx.example/base/', 9000);
    expect(forward).toMatchObject({ targetHost: 'influx.example', targetPort: 443 });
    expect(forward.agentUrl).toBe('https://198.51.100.66:9000/base');
  });
});
