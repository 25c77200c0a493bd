import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Commands a Redis server ran, as MONITOR shows them (name first, lowercased). */
export interface CommandRecorder {
  /** Stops recording once every command sent before the call was seen; resolves with them. */
  stop(): Promise<string[][]>;
}

/** Records every command the server of `redis` runs from now on (MONITOR on a connection of its own). */
export async function recordCommands(redis: Redis): Promise<CommandRecorder> {
  const monitor = await redis.monitor();
  const seen: string[][] = [];
  let marker = '';
  let onMarker = (): void => {};
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (marker && args[0]?.toLowerCase() === 'echo' && args[1] === marker) return onMarker();
    seen.push([(args[0] ?? '').toLowerCase(), ...args.slice(1)]);
  });
  return {
    async stop() {
      marker = `recorder-${randomBytes(4).toString('hex')}`;
      const reached = new Promise<void>((resolve) => (onMarker = resolve));
      await redis.echo(marker);
      await reached;
      monitor.disconnect();
      return seen;
    },
  };
}
