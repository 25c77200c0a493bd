import { AppError } from '../errors.ts';
import { fetchWithin, type FetchedText } from '../fetch-within.ts';
import {
  SERIES_SPECS,
  toChartValue,
  nameSeries,
  type Series,
  type SeriesSpec,
  type SeriesWindow,
} from './host-series.ts';
import {
  CONFIG_TAG,
  isoTime,
  HEARTBEAT_MEASUREMENT,
  type Heartbeat,
  type HostPoint,
  type MetricsBackend,
} from './metrics-backend.ts';

/** Options of {@link InfluxV1Backend}. */
export interface InfluxV1Options {
  /** Base URL of the v1 HTTP API, e.g. `http://127.0.0.1:8086`. */
  url: string;
  /** Database the agents write to. Default `telegraf`. */
  database?: string;
  username?: string;
  password?: string;
  /** Per-request timeout in ms. Default 5000. */
  timeoutMs?: number;
}

interface QueryResponse {
  results?: {
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
  }[];
  error?: string;
}

/** InfluxDB 1.x through its HTTP API and InfluxQL (tested against Debian's `influxd`). */
export class InfluxV1Backend implements MetricsBackend {
  readonly kind = 'influxdb' as const;
  readonly url: string;
  readonly database: string;
  readonly #auth: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: InfluxV1Options) {
    this.url = options.url.replace(/\/+$/, '');
    this.database = options.database ?? 'telegraf';
    this.#auth =
      options.username === undefined
        ? undefined
        : `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
  }

  async ping(): Promise<void> {
    const response = await this.#fetch('/ping', {});
    if (response.status !== 204)
      throw new AppError(
        'metrics_unavailable',
        `InfluxDB at ${this.url} answered /ping with ${response.status}, expected 204`,
      );
  }

  async ensureStore(): Promise<void> {
    // CREATE DATABASE is idempotent in InfluxDB 1.x.
    await this.#query(`CREATE DATABASE ${identifier(this.database)}`, 'POST');
  }

  async firstSeen(host: string, since: Date, config?: string): Promise<string | undefined> {
    const tagged = config === undefined ? '' : ` AND ${identifier(CONFIG_TAG)} = ${stringLiteral(config)}`;
    const body = await this.#query(
      `SELECT * FROM /^agent_/ WHERE "host" = ${stringLiteral(host)}${tagged} AND time >= ${since.getTime()}ms ORDER BY time ASC LIMIT 1`,
    );
    const times = (body.results?.[0]?.series ?? []).map((series) => isoTime(series.values[0]?.[0]));
    return times.filter((time) => time !== undefined).sort()[0];
  }

  async latestPoints(host: string, since: Date): Promise<HostPoint[]> {
    const body = await this.#query(
      `SELECT * FROM /^agent_/ WHERE "host" = ${stringLiteral(host)} AND time >= ${since.getTime()}ms GROUP BY * ORDER BY time DESC LIMIT 1`,
    );
    const points: HostPoint[] = [];
    for (const series of body.results?.[0]?.series ?? []) {
      const row = series.values[0];
      if (row === undefined) continue;
      const fields = Object.fromEntries(series.columns.map((column, i) => [column, row[i]]));
      const { time: raw, ...rest } = fields;
      const time = isoTime(raw);
      if (time === undefined) continue;
      points.push({ measurement: series.name, time, fields: rest, tags: series.tags ?? {} });
    }
    return points;
  }

  async lastSeenByHost(since: Date): Promise<Map<string, string>> {
    return new Map([...(await this.heartbeats(since))].map(([host, beat]) => [host, beat.time]));
  }

  async heartbeats(since: Date, project?: string): Promise<Map<string, Heartbeat>> {
    const ofProject = project === undefined ? '' : ` AND "project" = ${stringLiteral(project)}`;
    // A raw query, not last(*): with several selectors InfluxQL answers the range's start as the time;
    // tags not grouped by come back as columns.
    const body = await this.#query(
      `SELECT * FROM ${identifier(HEARTBEAT_MEASUREMENT)} WHERE time >= ${since.getTime()}ms${ofProject} GROUP BY "host" ORDER BY time DESC LIMIT 1`,
    );
    const beats = new Map<string, Heartbeat>();
    for (const series of body.results?.[0]?.series ?? []) {
      const host = series.tags?.host;
      const row = series.values[0];
      const time = isoTime(row?.[series.columns.indexOf('time')]);
      const config = row?.[series.columns.indexOf(CONFIG_TAG)];
      if (host === undefined || time === undefined) continue;
      beats.set(host, { time, ...(typeof config === 'string' && config !== '' ? { config } : {}) });
    }
    return beats;
  }

  async hostSeries(host: string, window: SeriesWindow): Promise<Series[]> {
    // One request, one statement per chart; results come back in statement order.
    const statements = SERIES_SPECS.map((spec) => seriesStatement(spec, host, window));
    const body = await this.#query(statements.join('; '), 'GET', { epoch: 'ms' });
    const lines: Series[] = [];
    SERIES_SPECS.forEach((spec, i) => {
      for (const series of body.results?.[i]?.series ?? []) {
        const by = spec.by === undefined ? undefined : series.tags?.[spec.by];
        for (const field of spec.fields) {
          const column = series.columns.indexOf(field);
          const points: [number, number][] = [];
          for (const row of series.values) {
            const value = toChartValue(spec, row[column]);
            if (value !== undefined) points.push([Number(row[0]), value]);
          }
          lines.push({ metric: spec.metric, name: nameSeries(spec, field, by), unit: spec.unit, points });
        }
      }
    });
    return lines;
  }

  async #query(
    q: string,
    method: 'GET' | 'POST' = 'GET',
    extra: Record<string, string> = {},
  ): Promise<QueryResponse> {
    const params = new URLSearchParams({ db: this.database, q, ...extra });
    const response =
      method === 'GET'
        ? await this.#fetch(`/query?${params.toString()}`, {})
        : await this.#fetch('/query', { method: 'POST', body: params });
    const body = parseJson(response.text) as QueryResponse;
    const error = body.error ?? body.results?.find((result) => result.error !== undefined)?.error;
    if (!response.ok || error !== undefined) {
      throw new AppError(
        'metrics_query_failed',
        `InfluxDB at ${this.url} refused a query (${response.status}): ${error ?? 'no detail'}`,
      );
    }
    return body;
  }

  async #fetch(pathAndQuery: string, init: Omit<RequestInit, 'signal'>): Promise<FetchedText> {
    const headers: Record<string, string> = this.#auth === undefined ? {} : { authorization: this.#auth };
    try {
      return await fetchWithin(`${this.url}${pathAndQuery}`, { ...init, headers }, this.#timeoutMs);
    } catch (cause) {
      throw new AppError(
        'metrics_unavailable',
        `InfluxDB at ${this.url} did not answer: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
}

/** The InfluxQL statement of one chart: means per step (or their per-second rate) of the host's points. */
function seriesStatement(spec: SeriesSpec, host: string, window: SeriesWindow): string {
  const columns = spec.fields.map((field) =>
    spec.rate
      ? `non_negative_derivative(mean(${identifier(field)}), 1s) AS ${identifier(field)}`
      : `mean(${identifier(field)}) AS ${identifier(field)}`,
  );
  const where = [
    `"host" = ${stringLiteral(host)}`,
    `time >= now() - ${window.seconds}s`,
    ...Object.entries(spec.where ?? {}).map(([tag, value]) => `${identifier(tag)} = ${stringLiteral(value)}`),
    ...Object.entries(spec.exclude ?? {}).map(
      ([tag, value]) => `${identifier(tag)} != ${stringLiteral(value)}`,
    ),
  ];
  const groupBy = [`time(${window.stepSeconds}s)`, ...(spec.by === undefined ? [] : [identifier(spec.by)])];
  return `SELECT ${columns.join(', ')} FROM ${identifier(spec.measurement)} WHERE ${where.join(' AND ')} GROUP BY ${groupBy.join(', ')} fill(none)`;
}

/** An InfluxQL string literal: single-quoted, with `\` and `'` escaped. */
export function stringLiteral(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** An InfluxQL identifier: double-quoted, with `\` and `"` escaped. */
export function identifier(value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A body as JSON, or an empty object when it is not (an error page, a cut answer). */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}
