import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealer } from '../../../../src/jobs/agent/create-healer.ts';
import { createOpenAlerts } from '../../../../src/jobs/agent/create-open-alerts.ts';
import { startRedis, type TestRedis } from '../../../support/redis.ts';

let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const HOUR = 3600_000;

describe('createHealer (real Redis)', () => {
  it('redeploys a host at most once per period, doubling the period after each redeploy that did not help', async () => {
    let now = Date.parse('2026-11-26T10:00:00Z');
    const jobs: string[][] = [];
    const healer = createHealer({
      redis,
      keyPrefix: 'heal-test:',
      healAfterMs: HOUR,
      now: () => now,
      submit: (_project, hosts) => (jobs.push(hosts), Promise.resolve(`job-${jobs.length}`)),
    });
    expect(await healer.heal('acme', ['vm1', 'vm2'])).toEqual({ hosts: ['vm1', 'vm2'], job: 'job-1' });
    now += HOUR - 1000;
    expect(await healer.heal('acme', ['vm1', 'vm2'])).toEqual({ hosts: [] });
    now += 1000;
    expect(await healer.heal('acme', ['vm1'])).toEqual({ hosts: ['vm1'], job: 'job-2' });
    // The second redeploy did not help either: two hours now, one for vm2 (redeployed once).
    now += HOUR;
    expect(await healer.heal('acme', ['vm1', 'vm2'])).toEqual({ hosts: ['vm2'], job: 'job-3' });
    now += HOUR;
    expect((await healer.heal('acme', ['vm1'])).hosts).toEqual(['vm1']);
    expect(jobs).toEqual([['vm1', 'vm2'], ['vm1'], ['vm2'], ['vm1']]);

    // Reporting again resets the doubling, not the hour since the last redeploy.
    await healer.forget(['vm1']);
    now += HOUR / 2;
    expect((await healer.heal('acme', ['vm1'])).hosts).toEqual([]);
    now += HOUR / 2;
    expect((await healer.heal('acme', ['vm1'])).hosts).toEqual(['vm1']);
    // Another node's healer on the same Redis sees the same record.
    const other = createHealer({
      redis,
      keyPrefix: 'heal-test:',
      healAfterMs: HOUR,
      now: () => now,
      submit: () => Promise.reject(new Error('must not submit')),
    });
    expect(await other.heal('acme', ['vm1'])).toEqual({ hosts: [] });
  });
});

describe('createOpenAlerts (real Redis)', () => {
  it('keeps the open alerts of each project apart, until closed', async () => {
    const alerts = createOpenAlerts(redis, 'alerts-test:');
    await alerts.open('acme', 'vm1', '2026-11-26T10:00:00.000Z');
    await alerts.open('acme', 'vm2', '2026-11-26T10:01:00.000Z');
    await alerts.open('bolt', 'vm9', '2026-11-26T10:02:00.000Z');
    await alerts.close('acme', ['vm2', 'absent']);
    await alerts.close('acme', []);
    expect(await alerts.list('acme')).toEqual(new Map([['vm1', '2026-11-26T10:00:00.000Z']]));
    expect([...(await alerts.list('bolt')).keys()]).toEqual(['vm9']);
  });
});
