import { afterAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startInflux, type TestInflux } from '../../support/influx.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';

const started: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const service of started) await service.stop();
});

describe('test Redis', () => {
  it('keeps what was written across a restart (AOF)', async () => {
    const redis: TestRedis = await startRedis();
    started.push(redis);
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    await client.set('outpost:probe', 'kept');
    await redis.restart();
    expect(await client.get('outpost:probe')).toBe('kept');
    client.disconnect();
  });
});

describe('test InfluxDB', () => {
  let influx: TestInflux;
  it('accepts line protocol and returns it by query, tags included', async () => {
    influx = await startInflux();
    started.push(influx);
    const write = await fetch(`${influx.url}/write?db=telegraf`, {
      method: 'POST',
      body: 'agent_cpu,host=vpc1-vm1 usage_idle=97.5\n',
    });
    expect(write.status).toBe(204);
    const rows = await influx.query('SELECT * FROM agent_cpu');
    expect(rows).toEqual([
      expect.objectContaining({ name: 'agent_cpu', host: 'vpc1-vm1', usage_idle: 97.5 }),
    ]);
  });
  it('stops, leaving no server listening', async () => {
    await influx.stop();
    started.splice(started.indexOf(influx), 1);
    await expect(fetch(`${influx.url}/ping`)).rejects.toThrow();
  });
});
