import { describe, expect, it } from 'vitest';
import { selectProxy, tiedProxies } from '../../../src/domain/select-proxy.ts';
import { describeProxyOverlaps } from '../../../src/domain/proxy-overlaps.ts';
import { host } from '../inventory/fixtures.ts';
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

  it('finds the proxies a host matches equally, unless it names one', () => {
    const twin = proxy('twin', ['198.51.100.0/26']);
    const host = { project: 'acme', address: '198.51.100.5' };
    expect(tiedProxies(host, [wide, twin, narrow]).map((p) => p.id)).toEqual(['narrow', 'twin']);
    expect(tiedProxies({ ...host, proxy: 'twin' }, [wide, twin, narrow])).toEqual([]);
    // The wider network loses to the narrow ones: no tie there, and none with one narrow proxy.
    expect(tiedProxies({ project: 'acme', address: '198.51.100.100' }, [wide, twin, narrow])).toEqual([]);
    expect(tiedProxies(host, [wide, narrow])).toEqual([]);
  });
});

describe('describeProxyOverlaps', () => {
  it('warns of a network another proxy serves, and of the hosts that now match both', () => {
    const narrow = proxy('narrow', ['198.51.100.0/26']);
    const twin = proxy('twin', ['198.51.100.0/26', '192.0.2.0/24']);
    const hosts = [
      host('a', '198.51.100.5'),
      host('b', '198.51.100.6', { proxy: 'narrow' }),
      host('c', '192.0.2.9'),
    ];
    expect(describeProxyOverlaps(twin, [narrow, twin], hosts)).toEqual([
      'proxy "twin" serves 198.51.100.0/26 like proxy "narrow": hosts in 198.51.100.0/26 must name their proxy (--proxy), or jobs for them are refused',
      '1 existing host(s) now match more than one proxy equally and will be refused until they name one: a',
    ]);
  });

  it('says nothing of a nested network, or of another project', () => {
    const narrow = proxy('narrow', ['198.51.100.0/26']);
    const elsewhere = proxy('elsewhere', ['198.51.100.0/24'], 'other');
    expect(
      describeProxyOverlaps(
        proxy('wide', ['198.51.100.0/24']),
        [narrow, elsewhere],
        [host('a', '198.51.100.5')],
      ),
    ).toEqual([]);
  });
});
