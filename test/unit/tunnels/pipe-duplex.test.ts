import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pipeDuplex } from '../../../src/tunnels/pipe-duplex.ts';

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

/** A relay like a forward: each accepted socket is piped to a fresh connection to `target`. */
async function relay(targetPort: number) {
  let open = 0;
  const server = net.createServer({ allowHalfOpen: true }, (inbound) => {
    const outbound = net.connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    open += 1;
    pipeDuplex(inbound, outbound, () => {
      open -= 1;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, open: () => open };
}

async function listen(handler: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

describe('pipeDuplex', () => {
  it('carries a request whose sender half-closes, and the full answer back, then frees both sides', async () => {
    // The target reads until the client's end, then answers with the byte count and closes.
    const target = await listen((socket) => {
      let size = 0;
      socket.on('data', (d: Buffer) => (size += d.length));
      socket.on('end', () => socket.end(`got ${size} bytes;${'x'.repeat(200_000)}`));
    });
    const { port, open } = await relay(target);
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const answer = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      client.on('data', (d: Buffer) => chunks.push(d));
      client.on('end', () => resolve(Buffer.concat(chunks).toString()));
      client.end('y'.repeat(100_000));
    });
    client.destroy();
    expect(answer.startsWith('got 100000 bytes;')).toBe(true);
    expect(answer.length).toBe('got 100000 bytes;'.length + 200_000);
    await until(() => open() === 0);
    expect(open()).toBe(0);
  });

  it('destroys the other side when one side resets', async () => {
    let targetSocket: net.Socket | undefined;
    const target = await listen((socket) => {
      targetSocket = socket;
      socket.on('error', () => {});
    });
    const { port, open } = await relay(target);
    const client = net.connect({ port, host: '127.0.0.1' });
    client.on('error', () => {});
    await until(() => targetSocket !== undefined);
    const closed = new Promise((resolve) => targetSocket?.once('end', resolve));
    client.resetAndDestroy();
    await closed;
    await until(() => open() === 0);
    expect(open()).toBe(0);
  });
});
