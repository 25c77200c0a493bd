import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookDelivery } from '../../../src/jobs/agent/post-webhook.ts';
import { startWatchQueue, type WatchQueue } from '../../../src/queue/watch-queue.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';

// Two nodes' watch queues on one real Redis, a run every 300 ms, fast retries: BullMQ's scheduler, lock
// and backoff for real; the runs and the deliveries are the test's own functions.
let server: TestRedis;
let redis: Redis;
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('startWatchQueue (real Redis, two nodes)', () => {
  it('runs the watch on schedule, never on two nodes at once, and delivers each message once, retried with backoff', async () => {
    let running = 0;
    let overlapped = false;
    let runs = 0;
    const runWatch = async (): Promise<unknown[]> => {
      running += 1;
      overlapped ||= running > 1;
      runs += 1;
      const run = runs;
      // Longer than the interval: the next scheduled run comes while this one holds the lock.
      await sleep(450);
      running -= 1;
      return run === 1 ? [{ message: 'retry-me' }, { message: 'refused' }] : [];
    };
    const tries = new Map<string, number[]>();
    const deliver = (payload: unknown): Promise<WebhookDelivery> => {
      const message = (payload as { message: string }).message;
      tries.set(message, [...(tries.get(message) ?? []), Date.now()]);
      const count = tries.get(message)?.length ?? 0;
      if (message === 'refused') return Promise.resolve({ ok: false, retry: false, detail: 'answered 404' });
      return Promise.resolve(
        count < 3 ? { ok: false, retry: true, detail: 'answered 503' } : { ok: true, status: 200 },
      );
    };
    const options = {
      redis,
      prefix: 'wq-test:',
      intervalMs: 300,
      logger,
      runWatch,
      deliver,
      deliveryBackoffMs: 200,
    };
    const nodes: WatchQueue[] = [await startWatchQueue(options), await startWatchQueue(options)];
    try {
      await until(
        'four runs and the third try',
        () => runs >= 4 && (tries.get('retry-me')?.length ?? 0) >= 3,
      );
      await sleep(1500);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
    expect(overlapped).toBe(false);
    const retried = tries.get('retry-me') ?? [];
    // Two refusals, then delivered: three tries, no fourth; the waits grow (200 ms, then 400 ms).
    expect(retried).toHaveLength(3);
    const [first = 0, second = 0, third = 0] = retried;
    expect(second - first).toBeGreaterThanOrEqual(180);
    expect(third - second).toBeGreaterThanOrEqual(380);
    // A receiver that refuses for good (4xx) is not asked again.
    expect(tries.get('refused')).toHaveLength(1);
    expect(await redis.get('wq-test:watch:lock')).toBeNull();
  });
});
