import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awaitSshBanner } from '../../../src/ssh/await-ssh-banner.ts';
import { freePort } from '../../support/free-port.ts';

// Real sockets on loopback: an sshd-like server, one that accepts and says nothing, and a closed port.
const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
let banner: number;
let silent: number;

async function listen(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

beforeAll(async () => {
  banner = await listen((socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'));
  silent = await listen(() => undefined);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
});

describe('awaitSshBanner', () => {
  it('sees an sshd by its banner', async () => {
    expect(await awaitSshBanner('127.0.0.1', banner, { timeoutMs: 3000 })).toEqual({
      ok: true,
      banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2',
    });
  });

  it('gives up on a port that accepts but never speaks SSH, within its time, naming the address', async () => {
    const started = Date.now();
    const check = await awaitSshBanner('127.0.0.1', silent, { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(check).toEqual({
      ok: false,
      reason: 'timeout',
      detail: `timed out — no SSH banner from 127.0.0.1:${silent} within 0.3 s`,
    });
  });

  it('says refused for a closed port', async () => {
    const closed = await freePort();
    expect(await awaitSshBanner('127.0.0.1', closed, { timeoutMs: 3000 })).toEqual({
      ok: false,
      reason: 'refused',
      detail: `connection refused — 127.0.0.1:${closed}`,
    });
  });

  it('stops at once when the job is canceled', async () => {
    const controller = new AbortController();
    const pending = awaitSshBanner('127.0.0.1', silent, { timeoutMs: 30_000, signal: controller.signal });
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, detail: 'canceled' });
  });
});
