import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { claimEmbeddedServer, type EmbeddedOrigin } from '../embedded/claim-embedded-server.ts';
import { startEmbeddedInfluxd } from './start-embedded-influxd.ts';

/** An embedded influxd in use by `outpost serve`. */
export interface EmbeddedInflux {
  url: string;
  /** Started now, adopted from a serve that died, or shared with a live one (or not Outpost's). */
  origin: EmbeddedOrigin;
  pid: number | undefined;
  /** Stops it unless it is shared. */
  stop(): Promise<void>;
}

/**
 * For `outpost serve` without OUTPOST_INFLUX_URL: adopts the influxd a dead serve left running in `dir`
 * (its pid file `influxd.pid`), uses one that already answers at `bindAddress:port`, else starts
 * Debian's `influxd` with data under `dir`; undefined when `influxd` is not installed.
 */
export async function ensureEmbeddedInfluxd(options: {
  dir: string;
  bindAddress: string;
  port: number;
  rpcPort: number;
}): Promise<EmbeddedInflux | undefined> {
  const host = options.bindAddress.includes(':') ? `[${options.bindAddress}]` : options.bindAddress;
  const url = `http://${host}:${options.port}`;
  const answers = async (): Promise<boolean> =>
    (await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.status,
      () => 0,
    )) === 204;
  const installed = (): Promise<boolean> =>
    promisify(execFile)('sh', ['-c', 'command -v influxd']).then(
      () => true,
      () => false,
    );
  if (!(await answers()) && !(await installed())) return undefined;
  const claimed = await claimEmbeddedServer({
    pidFile: path.join(options.dir, 'influxd.pid'),
    answers,
    start: async () => {
      const server = await startEmbeddedInfluxd(options);
      return { pid: server.child.pid ?? 0, stop: () => server.stop() };
    },
  });
  return { url, origin: claimed.origin, pid: claimed.pid, stop: claimed.stop };
}
