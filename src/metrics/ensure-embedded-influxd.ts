import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startEmbeddedInfluxd } from './start-embedded-influxd.ts';

/** An embedded influxd in use by `outpost serve`. */
export interface EmbeddedInflux {
  url: string;
  /** Whether this process started it (false: one already answered there, e.g. started by an earlier serve). */
  started: boolean;
  stop(): Promise<void>;
}

/**
 * For `outpost serve` without OUTPOST_INFLUX_URL: reuses an influxd that already answers at
 * `bindAddress:port`, else starts Debian's `influxd` with data under `dir`; undefined when `influxd`
 * is not installed.
 */
export async function ensureEmbeddedInfluxd(options: {
  dir: string;
  bindAddress: string;
  port: number;
  rpcPort: number;
}): Promise<EmbeddedInflux | undefined> {
  const host = options.bindAddress.includes(':') ? `[${options.bindAddress}]` : options.bindAddress;
  const url = `http://${host}:${options.port}`;
  const status = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) }).then(
    (response) => response.status,
    () => 0,
  );
  if (status === 204) return { url, started: false, stop: () => Promise.resolve() };
  const installed = await promisify(execFile)('sh', ['-c', 'command -v influxd']).then(
    () => true,
    () => false,
  );
  if (!installed) return undefined;
  const server = await startEmbeddedInfluxd(options);
  return { url: server.url, started: true, stop: () => server.stop() };
}
