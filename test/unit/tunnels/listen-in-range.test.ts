import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenInRange, listPortCandidates } from '../../../src/tunnels/listen-in-range.ts';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function occupy(port: number): Promise<void> {
  const server = net.createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(port, '127.0.0.1', resolve),
  );
}

async function freeRange(size: number): Promise<{ min: number; max: number }> {
  // Find `size` consecutive ports nobody uses right now, in a high range.
  for (let min = 47000 + Math.floor(Math.random() * 1000); min < 60000; min += size) {
    const probes = await Promise.all(
      Array.from({ length: size }, (_, i) => {
        const s = net.createServer();
        return new Promise<boolean>((resolve) =>
          s
            .once('error', () => resolve(false))
            .listen(min + i, '127.0.0.1', () => s.close(() => resolve(true))),
        );
      }),
    );
    if (probes.every(Boolean)) return { min, max: min + size - 1 };
  }
  throw new Error('no free range');
}

describe('listPortCandidates', () => {
  it('lists every port of the range once, starting at a random position', () => {
    expect(listPortCandidates({ min: 10, max: 14 }, () => 0.5)).toEqual([12, 13, 14, 10, 11]);
    expect(listPortCandidates({ min: 10, max: 14 }, () => 0)).toEqual([10, 11, 12, 13, 14]);
  });

  it('refuses a range that is not one, quoting it', () => {
    expect(() => listPortCandidates({ min: 20, max: 10 })).toThrow(/portRange: .*"min":20/);
    expect(() => listPortCandidates({ min: 0, max: 10 })).toThrow(/portRange/);
  });
});

describe('listenInRange', () => {
  it('skips ports another process holds and binds a free one of the range', async () => {
    const range = await freeRange(3);
    await occupy(range.min);
    await occupy(range.min + 1);
    const server = net.createServer();
    servers.push(server);
    const port = await listenInRange(server, '127.0.0.1', range, () => 0);
    expect(port).toBe(range.min + 2);
    expect((server.address() as net.AddressInfo).port).toBe(range.min + 2);
  });

  it('fails with no_free_port naming the range when every port is taken', async () => {
    const range = await freeRange(2);
    await occupy(range.min);
    await occupy(range.max);
    const server = net.createServer();
    await expect(listenInRange(server, '127.0.0.1', range)).rejects.toMatchObject({
      code: 'no_free_port',
      message: `no free port on 127.0.0.1 in ${range.min}-${range.max}`,
    });
    expect(server.listening).toBe(false);
  });
});
