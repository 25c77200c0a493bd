import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogStore } from '../../../src/logs/log-store.ts';
import { createLogWriter } from '../../../src/logs/log-writer.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';

let redis: TestRedis;
let client: Redis;
let logs: LogStore;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  logs = new LogStore(client, { prefix: 'writer-test:' });
});

afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

describe('createLogWriter on a real Redis', () => {
  it('stores 20,000 entries in call order with consecutive sequence numbers, interleaved with direct appends', async () => {
    const writer = createLogWriter(logs, 'job-order', { maxBatch: 100 });
    for (let i = 1; i <= 10_000; i++) writer.write('stdout', `a ${i}`);
    await writer.flush();
    const direct = await logs.append('job-order', 'status', '{"status":"x"}');
    expect(direct).toBe(10_001);
    for (let i = 1; i <= 10_000; i++) writer.write('event', `b ${i}`);
    await writer.flush();
    const all = [];
    for (let last = 0; ;) {
      const batch = await logs.read('job-order', last, 5000);
      if (batch.length === 0) break;
      all.push(...batch);
      last = batch.at(-1)?.seq ?? last;
    }
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 20_001 }, (_, i) => i + 1));
    expect(all[0]?.data).toBe('a 1');
    expect(all[9_999]?.data).toBe('a 10000');
    expect(all[10_000]?.type).toBe('status');
    expect(all[20_000]?.data).toBe('b 10000');
    expect(await logs.lastSeq('job-order')).toBe(20_001);
  });

  it('asks producers to wait above its queue limit and lets them go once Redis caught up', async () => {
    const writer = createLogWriter(logs, 'job-pressure', { maxBatch: 10, highWaterMark: 100 });
    for (let i = 0; i < 99; i++) writer.write('stdout', `x ${i}`);
    expect(writer.ready?.()).toBeUndefined();
    for (let i = 0; i < 200; i++) writer.write('stdout', `y ${i}`);
    const wait = writer.ready?.();
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    await writer.flush();
    expect(await logs.lastSeq('job-pressure')).toBe(299);
  });

  it('expires a log once its end entry is stored in a batch', async () => {
    const writer = createLogWriter(logs, 'job-end');
    writer.write('stdout', 'only line');
    writer.write('end', '{}');
    await writer.flush();
    const ttl = await client.ttl('writer-test:log:job-end');
    expect(ttl).toBeGreaterThan(0);
    expect(await logs.tail('job-end')).toEqual({ seq: 2, ended: true });
  });
});
