import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchWithin } from '../../src/fetch-within.ts';
import { InfluxV1Backend } from '../../src/metrics/influx-v1-backend.ts';

// A real HTTP server on loopback: /stall sends its headers and half a body, then nothing, for ever;
// /ok answers at once.
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/ok')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[{}]}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"results":[');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('fetchWithin on a real HTTP server', () => {
  it('reads a whole answer', async () => {
    expect(await fetchWithin(`${base}/ok`, {}, 2000)).toEqual({
      status: 200,
      ok: true,
      text: '{"results":[{}]}',
    });
  });

  it('gives up on an answer whose body stops coming, within its time, naming it', async () => {
    await expect(fetchWithin(`${base}/stall`, {}, 300)).rejects.toThrow(/no complete answer within 300 ms/);
  });

  it('lets an InfluxDB query that stalls mid-body fail (so a deploy proof polls again) instead of hanging', async () => {
    const backend = new InfluxV1Backend({ url: `${base}/stall`, timeoutMs: 300 });
    await expect(backend.firstSeen('vm-1', new Date())).rejects.toThrow(
      /InfluxDB at http:\/\/127\.0\.0\.1:\d+\/stall did not answer: no complete answer within 300 ms/,
    );
  });
});
