import type { Series, SeriesWindow } from './host-series.ts';

/** One point of a host's agent metrics as read back from InfluxDB. */
export interface HostPoint {
  measurement: string;
  /** ISO-8601 time of the point. */
  time: string;
  fields: Record<string, unknown>;
  tags: Record<string, string>;
}

/** A host's newest heartbeat point: when, and the configuration id it carries (tag `outpost_config`). */
export interface Heartbeat {
  /** ISO-8601 time of the point. */
  time: string;
  /** Value of the point's `outpost_config` tag; undefined for an agent configured without one. */
  config?: string;
}

/**
 * What Outpost needs of a metrics store: is it there, make sure the database/bucket exists, and
 * when did each host last report. Implemented for InfluxDB's v1 (InfluxQL) and v2 (Flux) APIs.
 */
export interface MetricsBackend {
  readonly kind: 'influxdb' | 'influxdb_v2';
  readonly url: string;
  /** Resolves when the server answers `/ping`; rejects with an error naming the URL otherwise. */
  ping(): Promise<void>;
  /** Creates the database (v1) or bucket (v2) when it is missing. */
  ensureStore(): Promise<void>;
  /**
   * Time of the earliest `agent_*` point of `host` at or after `since` (carrying `config` as its
   * `outpost_config` tag, when given); undefined when there is none.
   */
  firstSeen(host: string, since: Date, config?: string): Promise<string | undefined>;
  /** Latest point of every `agent_*` measurement of `host` since `since`; empty when it has not reported. */
  latestPoints(host: string, since: Date): Promise<HostPoint[]>;
  /** Time of the newest point of each reporting host since `since`. */
  lastSeenByHost(since: Date): Promise<Map<string, string>>;
  /**
   * The newest heartbeat (`agent_system`) point of each host since `since`, with its configuration id;
   * with `project`, only of hosts whose points carry that `project` tag (still one query).
   */
  heartbeats(since: Date, project?: string): Promise<Map<string, Heartbeat>>;
  /** The chart lines of `host` (see SERIES_SPECS) over the last `window`, averaged per step. */
  hostSeries(host: string, window: SeriesWindow): Promise<Series[]>;
}

/** Measurement every Telegraf agent deployed by Outpost writes (the `system` input with the `agent_` prefix). */
export const HEARTBEAT_MEASUREMENT = 'agent_system';

/** Global tag carrying the id of the configuration a point's agent runs (role telegraf's telegraf_config_id). */
export const CONFIG_TAG = 'outpost_config';

/**
 * A time InfluxDB answered, as `Date.prototype.toISOString()` writes it (milliseconds, three digits).
 * InfluxDB drops the fraction's trailing zeros (`…21.35Z`, `…21Z`), and such strings neither compare
 * as instants nor sort as text ('…21.35Z' sorts after '…21.351Z'); every time a backend answers goes
 * through here. Undefined for a value that is not a parsable time.
 */
export function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
