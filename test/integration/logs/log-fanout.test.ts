import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamEntries } from '../../../src/http/stream-entries.ts';
import type { LogEntry } from '../../../src/logs/log-entry.ts';
import { LogFanout } from '../../../src/logs/log-fanout.ts';
import { LogStore } from '../../../src/logs/log-store.ts';
import { createLogWriter } from '../../../src/logs/log-writer.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';

let redis: TestRedis;
let client: Redis;
let logs: LogStore;
let jobCounter = 0;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  logs = new LogStore(client, { prefix: 'fanout-test:' });
});

afterAll(async () => {
  await client?.quit();
  await redis?.stop();
});

const newJob = (): string => `job-${++jobCounter}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `count` stdout lines `line N` (N from 1), then the end entry, paced in bursts. */
async function writeLog(jobId: string, count: number, burst = 200): Promise<void> {
  const writer = createLogWriter(logs, jobId);
  for (let i = 1; i <= count; i++) {
    writer.write('stdout', `line ${i}`);
    if (i % burst === 0) await sleep(2);
  }
  writer.write('end', JSON.stringify({ status: 'successful' }));
  await writer.flush();
}

async function collect(fanout: LogFanout, jobId: string, afterSeq: number, slowMs = 0): Promise<LogEntry[]> {
  const seen: LogEntry[] = [];
  for await (const batch of fanout.follow(jobId, afterSeq)) {
    seen.push(...batch.entries);
    if (slowMs > 0) await sleep(slowMs);
  }
  return seen;
}

function expectSequence(entries: LogEntry[], from: number, to: number): void {
  expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: to - from + 1 }, (_, i) => from + i));
  expect(entries.at(-1)?.type).toBe('end');
}

describe('LogFanout on a real Redis', () => {
  it('gives every one of 30 followers every entry in order, through one shared reader', async () => {
    const fanout = new LogFanout(logs);
    const jobId = newJob();
    await logs.append(jobId, 'status', '{"status":"running"}');
    const followers = Array.from({ length: 30 }, () => collect(fanout, jobId, 0));
    await sleep(50);
    expect(fanout.feedCount).toBe(1);
    await writeLog(jobId, 5000);
    const results = await Promise.all(followers);
    for (const seen of results) {
      expectSequence(seen, 1, 5002);
      expect(seen[1]?.data).toBe('line 1');
      expect(seen[5000]?.data).toBe('line 5000');
    }
    expect(fanout.feedCount).toBe(0);
  });

  it('lets a slow follower fall behind and still receive everything, without slowing the others', async () => {
    const fanout = new LogFanout(logs, { batchSize: 50 });
    const jobId = newJob();
    const fast = collect(fanout, jobId, 0);
    const slow = collect(fanout, jobId, 0, 20);
    await sleep(50);
    const started = Date.now();
    await writeLog(jobId, 3000, 100);
    const fastSeen = await fast;
    const fastMs = Date.now() - started;
    const slowSeen = await slow;
    expectSequence(fastSeen, 1, 3001);
    expectSequence(slowSeen, 1, 3001);
    // The slow one needs >= 60 batches x 20 ms; the fast one is not held back by it.
    expect(Date.now() - started).toBeGreaterThan(fastMs);
  });

  it('resumes at Last-Event-ID k with exactly k+1 to the end, mid-way through a live log and after it ended', async () => {
    const fanout = new LogFanout(logs);
    const jobId = newJob();
    const writer = createLogWriter(logs, jobId);
    for (let i = 1; i <= 700; i++) writer.write('stdout', `line ${i}`);
    await writer.flush();
    const live = collect(fanout, jobId, 0);
    const midway = collect(fanout, jobId, 345);
    await sleep(50);
    for (let i = 701; i <= 1400; i++) writer.write('stdout', `line ${i}`);
    writer.write('end', '{}');
    await writer.flush();
    expectSequence(await live, 1, 1401);
    const mid = await midway;
    expectSequence(mid, 346, 1401);
    expect(mid[0]?.data).toBe('line 346');
    const after = await collect(fanout, jobId, 999);
    expectSequence(after, 1000, 1401);
    expect(await collect(fanout, jobId, 1401)).toEqual([]);
  });

  it('serves a paused SSE client everything in order once it resumes reading', async () => {
    const fanout = new LogFanout(logs, { batchSize: 64 });
    const jobId = newJob();
    const app = express();
    app.get('/events', (req, res) => {
      void streamEntries(logs, fanout, jobId, res, {
        format: 'sse',
        afterSeq: Number(req.get('last-event-id') ?? 0),
        follow: true,
      });
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const open = (lastEventId?: string) =>
        new Promise<http.IncomingMessage>((resolve, reject) => {
          http
            .get(
              {
                host: '127.0.0.1',
                port,
                path: '/events',
                headers: lastEventId ? { 'Last-Event-ID': lastEventId } : {},
              },
              resolve,
            )
            .on('error', reject);
        });
      const readIds = async (res: http.IncomingMessage): Promise<number[]> => {
        let text = '';
        res.setEncoding('utf8');
        for await (const chunk of res) text += chunk as string;
        return [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      };
      const paused = await open();
      paused.pause();
      const reading = readIds(await open());
      const resumed = readIds(await open('1500'));
      await sleep(50);
      // ~4 KiB lines: 8 MiB, far more than the paused socket's buffers hold.
      const writer = createLogWriter(logs, jobId);
      const pad = 'x'.repeat(4000);
      for (let i = 1; i <= 2000; i++) writer.write('stdout', `line ${i} ${pad}`);
      writer.write('end', '{}');
      await writer.flush();
      const others = await reading;
      expect(others).toEqual(Array.from({ length: 2001 }, (_, i) => i + 1));
      expect(await resumed).toEqual(Array.from({ length: 501 }, (_, i) => i + 1501));
      await sleep(200);
      const pausedIds = readIds(paused);
      paused.resume();
      expect(await pausedIds).toEqual(Array.from({ length: 2001 }, (_, i) => i + 1));
    } finally {
      server.close();
    }
  });
});
