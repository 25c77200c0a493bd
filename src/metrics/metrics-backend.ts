import type { Series, SeriesWindow } from './host-series.ts';

/** One point of a host's agent metrics as read back from InfluxDB. */
export interface HostPoint {
  measurement: string;
  /** ISO-8601 time of the point. */
  time: string;
  fields: Record<string, unknown>;
  tags: Record<string, string>;
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
  /** Time of the earliest `agent_*` point of `host` at or after `since`; undefined when there is none. */
  firstSeen(host: string, since: Date): Promise<string | undefined>;
  /** Latest point of every `agent_*` measurement of `host` since `since`; empty when it has not reported. */
  latestPoints(host: string, since: Date): Promise<HostPoint[]>;
  /** Time of the newest point of each reporting host since `since`. */
  lastSeenByHost(since: Date): Promise<Map<string, string>>;
  /** The chart lines of `host` (see SERIES_SPECS) over the last `window`, averaged per step. */
  hostSeries(host: string, window: SeriesWindow): Promise<Series[]>;
}

/** Measurement every Telegraf agent deployed by Outpost writes (the `system` input with the `agent_` prefix). */
export const HEARTBEAT_MEASUREMENT = 'agent_system';
