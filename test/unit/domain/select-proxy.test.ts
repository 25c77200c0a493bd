import { describe, expect, it } from 'vitest';
import { selectProxy } from '../../../src/domain/select-proxy.ts';
import type { Proxy } from '../../../src/domain/proxy.ts';

const proxy = (id: string, networks: string[], project = 'acme'): Proxy => ({
  id,
  project,
  publicAddress: '203.0.113.10',
  sshPort: 22,
  vpcAddress: '198.51.100.1',
  networks,
  user: 'cloudroot',
});

describe('selectProxy', () => {
  const wide = proxy('wide', ['198.51.100.0/24']);
  const narrow = proxy('narrow', ['198.51.100.0/26']);
  const other = proxy('other', ['198.51.100.0/28'], 'elsewhere');

  it('picks the most specific network of the same project', () => {
    expect(selectProxy({ project: 'acme', address: '198.51.100.5' }, [wide, narrow, other])?.id).toBe(
      'narrow',
    );
    expect(selectProxy({ project: 'acme', address: '198.51.100.100' }, [wide, narrow])?.id).toBe('wide');
  });

  it('lets an explicit proxy win over network matching', () => {
    expect(selectProxy({ project: 'acme', address: '198.51.100.5', proxy: 'wide' }, [wide, narrow])?.id).toBe(
      'wide',
    );
  });

  it('finds no proxy for an address no network covers (reached directly)', () => {
    expect(selectProxy({ project: 'acme', address: '203.0.113.7' }, [wide, narrow])).toBeUndefined();
  });

  it('matches a host name by its network CIDR', () => {
    expect(
      selectProxy({ project: 'acme', address: 'db.internal', network: '198.51.100.0/26' }, [wide, narrow])
        ?.id,
    ).toBe('narrow');
  });
});
