import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { ownChild } from './own-child.ts';

/** A redis-server owned by `outpost serve`. */
export interface EmbeddedRedis {
  /** ioredis connection options: the unix socket. */
  socketPath: string;
  /** Whether this process started it (false: one left running by an earlier serve was reused). */
  started: boolean;
  /** Shuts it down (AOF flushed) if this process started it. */
  stop(): Promise<void>;
}

/**
 * Starts `redis-server` with data and AOF under `<varDir>/redis`, listening only on a unix socket there
 * (mode 0700 dir), so nothing on the network can reach it. Reuses one that already answers.
 */
export async function startEmbeddedRedis(varDir: string, timeoutMs = 10_000): Promise<EmbeddedRedis> {
  const dir = path.join(varDir, 'redis');
  const socketPath = path.join(dir, 'redis.sock');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (await ping(socketPath)) return { socketPath, started: false, stop: () => Promise.resolve() };
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
  // Not ended with this process: a later `serve` reuses a redis-server that is still running.
  const stop = ownChild(child, { endWithParent: false });
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(socketPath))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`embedded redis-server did not start; see ${path.join(dir, 'redis.log')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { socketPath, started: true, stop };
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
