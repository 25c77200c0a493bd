import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { claimEmbeddedServer, type EmbeddedOrigin } from './claim-embedded-server.ts';
import { ownChild } from './own-child.ts';

/** A redis-server in use by `outpost serve`. */
export interface EmbeddedRedis {
  /** ioredis connection options: the unix socket. */
  socketPath: string;
  /** Started now, adopted from a serve that died, or shared with a live one. */
  origin: EmbeddedOrigin;
  pid: number | undefined;
  /** Shuts it down (AOF flushed) unless it is shared. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` with data and AOF under `<varDir>/redis`, listening only on a unix socket there
 * (mode 0700 dir), so nothing on the network can reach it; its pid file `redis-server.pid` lets the next
 * serve adopt it if this one dies without stopping it. Uses one that already answers there instead.
 */
export async function startEmbeddedRedis(varDir: string, timeoutMs = 10_000): Promise<EmbeddedRedis> {
  const dir = path.join(varDir, 'redis');
  const socketPath = path.join(dir, 'redis.sock');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const claimed = await claimEmbeddedServer({
    pidFile: path.join(dir, 'redis-server.pid'),
    answers: () => ping(socketPath),
    start: () => spawnRedis(dir, socketPath, timeoutMs),
  });
  return { socketPath, origin: claimed.origin, pid: claimed.pid, stop: claimed.stop };
}

async function spawnRedis(
  dir: string,
  socketPath: string,
  timeoutMs: number,
): Promise<{ pid: number; stop(): Promise<void> }> {
  await rm(socketPath, { force: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socketPath,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--daemonize',
      'no',
      '--logfile',
      path.join(dir, 'redis.log'),
    ],
    { stdio: 'ignore' },
  );
  const stop = ownChild(child);
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(socketPath))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`embedded redis-server did not start; see ${path.join(dir, 'redis.log')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { pid: child.pid ?? 0, stop };
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath, () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}
