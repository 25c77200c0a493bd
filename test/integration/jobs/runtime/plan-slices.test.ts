import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSlices } from '../../../../src/jobs/runtime/plan-slices.ts';
import type { JobRecord } from '../../../../src/queue/job-record.ts';
import { Registry } from '../../../../src/registry/registry.ts';
import { KeyStore } from '../../../../src/secrets/key-store.ts';
import { startRedis, type TestRedis } from '../../../support/redis.ts';

// A project with two VPCs behind their proxies (three hosts each) and two hosts reached directly.
describe('planSlices on a real registry', () => {
  let server: TestRedis;
  let redis: Redis;
  let registry: Registry;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
    const prefix = `t${randomBytes(4).toString('hex')}:`;
    registry = new Registry(redis, prefix, { keys: new KeyStore(redis, randomBytes(32), prefix) });
    await registry.createProject({ id: 'shop' });
    for (const [i, block] of ['198.51.100.0', '198.51.100.64'].entries()) {
      const base = block.slice(0, block.lastIndexOf('.') + 1);
      const first = Number(block.slice(block.lastIndexOf('.') + 1));
      await registry.createProxy({
        id: `vpc${i + 1}-proxy`,
        project: 'shop',
        publicAddress: `203.0.113.${10 + i}`,
        vpcAddress: `${base}${first + 1}`,
        networks: [`${block}/26`],
      });
      for (let j = 0; j < 3; j += 1)
        await registry.createHost({
          id: `vpc${i + 1}-vm${j + 1}`,
          project: 'shop',
          address: `${base}${first + 2 + j}`,
        });
    }
    for (let k = 0; k < 2; k += 1)
      await registry.createHost({ id: `direct${k + 1}`, project: 'shop', address: `203.0.113.${20 + k}` });
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  const job = (more: Partial<JobRecord>): JobRecord => ({
    id: 'job-x',
    kind: 'deploy-agent',
    project: 'shop',
    status: 'running',
    createdAt: new Date().toISOString(),
    ...more,
  });

  it('slices per proxy, then per slice size, direct hosts last', async () => {
    const plan = await planSlices(registry, job({ options: { sliceSize: 2 } }));
    expect(plan).toEqual({
      total: 8,
      batches: [
        [
          { proxy: 'vpc1-proxy', hosts: ['vpc1-vm1', 'vpc1-vm2'] },
          { proxy: 'vpc1-proxy', hosts: ['vpc1-vm3'] },
          { proxy: 'vpc2-proxy', hosts: ['vpc2-vm1', 'vpc2-vm2'] },
          { proxy: 'vpc2-proxy', hosts: ['vpc2-vm3'] },
          { hosts: ['direct1', 'direct2'] },
        ],
      ],
    });
  });

  it('cuts rolling batches first (1 host, then half of 8), then slices each', async () => {
    const plan = await planSlices(registry, job({ options: { serial: [1, '50%'], sliceSize: 50 } }));
    expect(plan?.batches).toEqual([
      [{ proxy: 'vpc1-proxy', hosts: ['vpc1-vm1'] }],
      [
        { proxy: 'vpc1-proxy', hosts: ['vpc1-vm2', 'vpc1-vm3'] },
        { proxy: 'vpc2-proxy', hosts: ['vpc2-vm1', 'vpc2-vm2'] },
      ],
      [{ proxy: 'vpc2-proxy', hosts: ['vpc2-vm3'] }, { hosts: ['direct1', 'direct2'] }],
    ]);
  });

  it('runs whole: one proxy and direct hosts within the slice size, a limit, another kind, or a slice', async () => {
    const oneProxy = ['vpc1-vm1', 'vpc1-vm2', 'direct1'];
    expect(await planSlices(registry, job({ hosts: oneProxy }))).toBeUndefined();
    expect(await planSlices(registry, job({ options: { limit: 'vpc1-*' } }))).toBeUndefined();
    expect(await planSlices(registry, job({ kind: 'run-playbook' }))).toBeUndefined();
    expect(await planSlices(registry, job({ parent: 'job-y' }))).toBeUndefined();
    // More hosts than a slice, even behind one proxy, are sliced.
    expect(
      (await planSlices(registry, job({ hosts: oneProxy, options: { sliceSize: 1 } })))?.batches[0],
    ).toHaveLength(3);
  });
});
