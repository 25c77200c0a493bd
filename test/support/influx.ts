import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { startEmbeddedInfluxd } from '../../src/metrics/start-embedded-influxd.ts';

export interface TestInflux {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  dir: string;
  /** Runs InfluxQL and returns the rows of every series, each with its measurement `name` and tags. */
  query(influxql: string, db?: string): Promise<InfluxRow[]>;
  stop(): Promise<void>;
}

export type InfluxRow = Record<string, unknown> & { name: string };

/**
 * A private Debian `influxd` (InfluxDB 1.x, v1 HTTP API) with data in a temp directory and the
 * `telegraf` database created. `bindAddress` defaults to loopback; tests that need a lab VM to reach it
 * directly bind it to the lab's control-plane address.
 */
export async function startInflux(options: { bindAddress?: string } = {}): Promise<TestInflux> {
  const bindAddress = options.bindAddress ?? '127.0.0.1';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-influx-'));
  const port = await freePort(bindAddress);
  const server = await startEmbeddedInfluxd({ dir, bindAddress, port, rpcPort: await freePort() });
  const url = server.url;
  const post = async (q: string) => {
    const response = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q }) });
    if (!response.ok) throw new Error(`influx ${q}: ${response.status} ${await response.text()}`);
  };
  await post('CREATE DATABASE telegraf');
  return {
    url,
    port,
    dir,
    async query(influxql, db = 'telegraf') {
      const response = await fetch(`${url}/query?${new URLSearchParams({ db, q: influxql }).toString()}`);
      const body = (await response.json()) as {
        results?: {
          error?: string;
          series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
        }[];
      };
      const rows: InfluxRow[] = [];
      for (const result of body.results ?? []) {
        if (result.error !== undefined) throw new Error(`influx query ${influxql}: ${result.error}`);
        for (const series of result.series ?? []) {
          for (const values of series.values) {
            rows.push({
              name: series.name,
              ...series.tags,
              ...Object.fromEntries(series.columns.map((column, i) => [column, values[i]])),
            });
          }
        }
      }
      return rows;
    },
    async stop() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
