import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { startProcess, waitUntil, type ServiceProcess } from './service-process.ts';
import { keepEvidence } from './test-evidence.ts';

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  /** Stops the server (it writes its AOF first) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

/** A private `redis-server` on a free loopback port with AOF on, its data in a temp directory. */
export async function startRedis(): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-redis-'));
  const port = await freePort();
  let server: ServiceProcess;
  const launch = async () => {
    server = startProcess(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--daemonize',
        'no',
      ],
      path.join(dir, 'redis.log'),
    );
    await waitUntil(
      `redis-server on port ${port} (log ${dir}/redis.log)`,
      () => pingRedis(port),
      server.child,
    );
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    async restart() {
      await server.stop();
      await launch();
    },
    async stop() {
      await server.stop();
      await keepEvidence(dir, 'redis'); // the AOF, for the secrets scan after the suite
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a redis-server answers PING on this loopback port (false while it starts). */
export function pingRedis(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}
