import { InfluxDB, flux, type QueryApi } from '@influxdata/influxdb-client';
import {
  SERIES_SPECS,
  toChartValue,
  nameSeries,
  type Series,
  type SeriesSpec,
  type SeriesWindow,
} from './host-series.ts';
import { AppError } from '../errors.ts';
import { fetchWithin, type FetchedText } from '../fetch-within.ts';
import {
  CONFIG_TAG,
  isoTime,
  HEARTBEAT_MEASUREMENT,
  type Heartbeat,
  type HostPoint,
  type MetricsBackend,
} from './metrics-backend.ts';

/** Options of {@link InfluxV2Backend}. */
export interface InfluxV2Options {
  url: string;
  org: string;
  bucket: string;
  token: string;
  /** Per-request timeout in ms. Default 5000. */
  timeoutMs?: number;
}

interface FluxRow {
  _time: string;
  _measurement: string;
  _field: string;
  _value: unknown;
  [tag: string]: unknown;
}

/** InfluxDB 2.x (and Cloud) through `@influxdata/influxdb-client` and Flux. */
export class InfluxV2Backend implements MetricsBackend {
  readonly kind = 'influxdb_v2' as const;
  readonly url: string;
  readonly #options: InfluxV2Options;
  readonly #queries: QueryApi;

  constructor(options: InfluxV2Options) {
    this.url = options.url.replace(/\/+$/, '');
    this.#options = options;
    const client = new InfluxDB({ url: this.url, token: options.token, timeout: options.timeoutMs ?? 5_000 });
    this.#queries = client.getQueryApi(options.org);
  }

  async ping(): Promise<void> {
    const response = await this.#fetch('/ping');
    if (response.status !== 204)
      throw new AppError(
        'metrics_unavailable',
        `InfluxDB at ${this.url} answered /ping with ${response.status}, expected 204`,
      );
  }

  async ensureStore(): Promise<void> {
    const { org, bucket } = this.#options;
    const existing = await this.#json<{ buckets?: unknown[] }>(
      `/api/v2/buckets?${new URLSearchParams({ org, name: bucket }).toString()}`,
    );
    if ((existing.buckets ?? []).length > 0) return;
    const orgs = await this.#json<{ orgs?: { id: string }[] }>(
      `/api/v2/orgs?${new URLSearchParams({ org }).toString()}`,
    );
    const orgID = orgs.orgs?.[0]?.id;
    if (orgID === undefined)
      throw new AppError(
        'metrics_store_missing',
        `InfluxDB at ${this.url} has no organization ${JSON.stringify(org)}`,
      );
    await this.#json('/api/v2/buckets', {
      method: 'POST',
      body: JSON.stringify({ orgID, name: bucket, retentionRules: [] }),
    });
  }

  async firstSeen(host: string, since: Date, config?: string): Promise<string | undefined> {
    const query =
      config === undefined
        ? flux`from(bucket: ${this.#options.bucket})
  |> range(start: ${since})
  |> filter(fn: (r) => r.host == ${host} and r._measurement =~ /^agent_/)
  |> first()`
        : flux`from(bucket: ${this.#options.bucket})
  |> range(start: ${since})
  |> filter(fn: (r) => r.host == ${host} and r._measurement =~ /^agent_/ and r.outpost_config == ${config})
  |> first()`;
    return (await this.#rows(query.toString())).map((row) => row._time).sort()[0];
  }

  async latestPoints(host: string, since: Date): Promise<HostPoint[]> {
    const query = flux`from(bucket: ${this.#options.bucket})
  |> range(start: ${since})
  |> filter(fn: (r) => r.host == ${host} and r._measurement =~ /^agent_/)
  |> last()`;
    const rows = await this.#rows(query.toString());
    const byMeasurement = new Map<string, HostPoint>();
    for (const row of rows) {
      const point = byMeasurement.get(row._measurement) ?? {
        measurement: row._measurement,
        time: row._time,
        fields: {},
        tags: tagsOf(row),
      };
      point.fields[row._field] = row._value;
      if (row._time > point.time) point.time = row._time;
      byMeasurement.set(row._measurement, point);
    }
    return [...byMeasurement.values()];
  }

  async lastSeenByHost(since: Date): Promise<Map<string, string>> {
    return new Map([...(await this.heartbeats(since))].map(([host, beat]) => [host, beat.time]));
  }

  async heartbeats(since: Date, project?: string): Promise<Map<string, Heartbeat>> {
    const query =
      project === undefined
        ? flux`from(bucket: ${this.#options.bucket})
  |> range(start: ${since})
  |> filter(fn: (r) => r._measurement == ${HEARTBEAT_MEASUREMENT})
  |> group(columns: ["host"])
  |> last()`
        : flux`from(bucket: ${this.#options.bucket})
  |> range(start: ${since})
  |> filter(fn: (r) => r._measurement == ${HEARTBEAT_MEASUREMENT} and r.project == ${project})
  |> group(columns: ["host"])
  |> last()`;
    const beats = new Map<string, Heartbeat>();
    for (const row of await this.#rows(query.toString())) {
      const host = row.host;
      if (typeof host !== 'string' || (beats.get(host)?.time ?? '') >= row._time) continue;
      const config = row[CONFIG_TAG];
      beats.set(host, {
        time: row._time,
        ...(typeof config === 'string' && config !== '' ? { config } : {}),
      });
    }
    return beats;
  }

  async hostSeries(host: string, window: SeriesWindow): Promise<Series[]> {
    const start = new Date(Date.now() - window.seconds * 1000);
    // A duration literal from our own whole number of seconds.
    const every = `${Math.max(1, Math.trunc(window.stepSeconds))}s`;
    const perSpec = await Promise.all(
      SERIES_SPECS.map(async (spec) => {
        const rows = await this.#rows(seriesQuery(this.#options.bucket, spec, host, start, every));
        const lines = new Map<string, Series>();
        for (const row of rows) {
          if (row._measurement !== spec.measurement) continue;
          const value = toChartValue(spec, row._value);
          if (value === undefined) continue;
          const by = spec.by === undefined ? undefined : String(row[spec.by]);
          const name = nameSeries(spec, row._field, by);
          const line = lines.get(name) ?? { metric: spec.metric, name, unit: spec.unit, points: [] };
          line.points.push([Date.parse(row._time), value]);
          lines.set(name, line);
        }
        return [...lines.values()];
      }),
    );
    return perSpec.flat();
  }

  async #rows(query: string): Promise<FluxRow[]> {
    try {
      // Times as toISOString writes them, so that they sort and compare as instants (see isoTime).
      const rows = await this.#queries.collectRows<FluxRow>(query);
      for (const row of rows) row._time = isoTime(row._time) ?? row._time;
      return rows;
    } catch (cause) {
      throw new AppError(
        'metrics_query_failed',
        `InfluxDB at ${this.url} refused a query: ${(cause as Error).message}`,
        { cause },
      );
    }
  }

  async #json<T>(pathAndQuery: string, init: Omit<RequestInit, 'signal'> = {}): Promise<T> {
    const response = await this.#fetch(pathAndQuery, init);
    if (!response.ok) {
      throw new AppError(
        'metrics_query_failed',
        `InfluxDB at ${this.url} answered ${pathAndQuery.split('?')[0]} with ${response.status}`,
      );
    }
    try {
      return JSON.parse(response.text) as T;
    } catch {
      throw new AppError(
        'metrics_query_failed',
        `InfluxDB at ${this.url} answered ${pathAndQuery.split('?')[0]} with a body that is not JSON`,
      );
    }
  }

  async #fetch(pathAndQuery: string, init: Omit<RequestInit, 'signal'> = {}): Promise<FetchedText> {
    const headers = { authorization: `Token ${this.#options.token}`, 'content-type': 'application/json' };
    try {
      return await fetchWithin(
        `${this.url}${pathAndQuery}`,
        { ...init, headers },
        this.#options.timeoutMs ?? 5_000,
      );
    } catch (cause) {
      throw new AppError(
        'metrics_unavailable',
        `InfluxDB at ${this.url} did not answer: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
}

/** The Flux query of one chart: means per window (or their non-negative per-second rate) of the host's points. */
function seriesQuery(bucket: string, spec: SeriesSpec, host: string, start: Date, every: string): string {
  const fields = spec.fields.map((field) => flux`r._field == ${field}`.toString()).join(' or ');
  const tags = [
    ...Object.entries(spec.where ?? {}).map(([tag, value]) => flux`r[${tag}] == ${value}`.toString()),
    ...Object.entries(spec.exclude ?? {}).map(([tag, value]) => flux`r[${tag}] != ${value}`.toString()),
  ];
  const filter = [
    flux`r._measurement == ${spec.measurement}`.toString(),
    flux`r.host == ${host}`.toString(),
    `(${fields})`,
    ...tags,
  ];
  return [
    flux`from(bucket: ${bucket})`.toString(),
    flux`  |> range(start: ${start})`.toString(),
    `  |> filter(fn: (r) => ${filter.join(' and ')})`,
    `  |> aggregateWindow(every: ${every}, fn: mean, createEmpty: false)`,
    ...(spec.rate ? ['  |> derivative(unit: 1s, nonNegative: true)'] : []),
  ].join('\n');
}

function tagsOf(row: FluxRow): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(row)) {
    // InfluxDB has no empty tag values: an empty cell is a tag this series lacks.
    if (
      !key.startsWith('_') &&
      key !== 'result' &&
      key !== 'table' &&
      typeof value === 'string' &&
      value !== ''
    )
      tags[key] = value;
  }
  return tags;
}
