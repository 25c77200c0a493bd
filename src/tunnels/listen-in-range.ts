import type net from 'node:net';
import { AppError, ValidationError, quote } from '../errors.ts';

/** An inclusive range of TCP ports. */
export interface PortRange {
  min: number;
  max: number;
}

/**
 * Binds `server` to the first port of `range` the OS accepts, starting at a random offset so that
 * restarts do not all race for the lowest port. Binding is the check: no gap between "free" and "taken".
 */
export async function listenInRange(
  server: net.Server,
  host: string,
  range: PortRange,
  random: () => number = Math.random,
): Promise<number> {
  for (const port of listPortCandidates(range, random)) {
    if (await tryListen(server, host, port)) return port;
  }
  throw new AppError('no_free_port', `no free port on ${host} in ${range.min}-${range.max}`, {
    details: { host, ...range },
  });
}

/** Every port of the range once, rotated to start at a random position. */
export function listPortCandidates(range: PortRange, random: () => number = Math.random): number[] {
  const { min, max } = range;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
    throw new ValidationError('portRange', `expected 1 <= min <= max <= 65535, got ${quote(range)}`);
  }
  const size = max - min + 1;
  const start = Math.floor(random() * size);
  return Array.from({ length: size }, (_, i) => min + ((start + i) % size));
}

function tryListen(server: net.Server, host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}
