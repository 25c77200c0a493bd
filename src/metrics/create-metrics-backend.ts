import { InfluxV1Backend } from './influx-v1-backend.ts';
import { InfluxV2Backend } from './influx-v2-backend.ts';
import type { MetricsBackend } from './metrics-backend.ts';

/** The store settings of `Config.influx` (v1 database with optional credentials, or v2 org/bucket/token). */
export type InfluxStore =
  | { version: 1; database: string; username?: string; password?: string }
  | { version: 2; org: string; bucket: string; token: string };

/** The v1 or v2 backend for `url` and `store`. */
export function createMetricsBackend(url: string, store: InfluxStore): MetricsBackend {
  if (store.version === 2)
    return new InfluxV2Backend({ url, org: store.org, bucket: store.bucket, token: store.token });
  return new InfluxV1Backend({
    url,
    database: store.database,
    ...(store.username !== undefined ? { username: store.username, password: store.password ?? '' } : {}),
  });
}
