import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ownChild } from '../embedded/own-child.ts';
import { AppError } from '../errors.ts';

/** Options of {@link startEmbeddedInfluxd}. */
export interface EmbeddedInfluxOptions {
  /** Data, WAL, meta, config and log live here. */
  dir: string;
  /** HTTP bind address. Default 127.0.0.1. */
  bindAddress?: string;
  /** HTTP port. */
  port: number;
  /** Loopback port of influxd's backup/RPC service (it always listens). */
  rpcPort: number;
  /** How long to wait for /ping. Default 20 s. */
  timeoutMs?: number;
}

/** An `influxd` (InfluxDB 1.x) owned by this process. */
export interface EmbeddedInfluxd {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts Debian's `influxd` with everything under `dir`, usage reporting off and its own logs, and
 * resolves once `/ping` answers 204. Used by `outpost serve` when no InfluxDB is configured, and by tests.
 */
export async function startEmbeddedInfluxd(options: EmbeddedInfluxOptions): Promise<EmbeddedInfluxd> {
  const { dir, port, rpcPort } = options;
  const bindAddress = options.bindAddress ?? '127.0.0.1';
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const config = [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = "${path.join(dir, 'meta')}"`,
    '[data]',
    `  dir = "${path.join(dir, 'data')}"`,
    `  wal-dir = "${path.join(dir, 'wal')}"`,
    '  query-log-enabled = false',
    '[http]',
    `  bind-address = "${bindAddress}:${port}"`,
    '  log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '[continuous_queries]',
    '  enabled = false',
  ].join('\n');
  const configFile = path.join(dir, 'influxdb.conf');
  const logFile = path.join(dir, 'influxd.log');
  await writeFile(configFile, config + '\n', { mode: 0o600 });
  const log = openSync(logFile, 'a');
  const child = spawn('influxd', ['-config', configFile], { stdio: ['ignore', log, log] });
  closeSync(log);
  const stop = ownChild(child);
  const url = `http://${bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress}:${port}`;

  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new AppError(
        'embedded_influxd_failed',
        `influxd exited with code ${child.exitCode}; see ${logFile}`,
      );
    const status = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 204) return { url, child, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new AppError(
        'embedded_influxd_failed',
        `influxd did not answer ${url}/ping in time; see ${logFile}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
