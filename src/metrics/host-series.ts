/** The time windows the console's host charts offer. */
export const SERIES_RANGES = {
  '15m': { seconds: 900, stepSeconds: 10 },
  '1h': { seconds: 3600, stepSeconds: 10 },
  '24h': { seconds: 86_400, stepSeconds: 90 },
} as const;
export type SeriesRange = keyof typeof SERIES_RANGES;

/** One time window of a query: how far back, and the width of each averaged point (<= 1,000 points). */
export interface SeriesWindow {
  seconds: number;
  stepSeconds: number;
}

/** What a chart draws. */
export type SeriesMetric = 'cpu' | 'mem' | 'load' | 'disk' | 'net';

/** One line of a chart: `[epoch ms, value]` points, oldest first. */
export interface Series {
  metric: SeriesMetric;
  /** `used`, `load1`, a mount path (`/`), `eth0 in`... */
  name: string;
  unit: '%' | '' | 'B/s';
  points: [number, number][];
}

/** How one metric is read from Telegraf's `agent_*` measurements; both backends build their query from it. */
export interface SeriesSpec {
  metric: SeriesMetric;
  measurement: string;
  fields: readonly string[];
  unit: Series['unit'];
  /** Tags a point must have. */
  where?: Record<string, string>;
  /** Tag values a point must not have. */
  exclude?: Record<string, string>;
  /** One line per value of this tag. */
  by?: string;
  /** Counters: per-second rate of the mean (non-negative). */
  rate?: boolean;
  /** The chart shows 100 minus the field (CPU used from usage_idle). */
  invert?: boolean;
}

/** The charts of a host page. */
export const SERIES_SPECS: readonly SeriesSpec[] = [
  {
    metric: 'cpu',
    measurement: 'agent_cpu',
    fields: ['usage_idle'],
    unit: '%',
    where: { cpu: 'cpu-total' },
    invert: true,
  },
  { metric: 'mem', measurement: 'agent_mem', fields: ['used_percent'], unit: '%' },
  { metric: 'load', measurement: 'agent_system', fields: ['load1', 'load5', 'load15'], unit: '' },
  { metric: 'disk', measurement: 'agent_disk', fields: ['used_percent'], unit: '%', by: 'path' },
  {
    metric: 'net',
    measurement: 'agent_net',
    fields: ['bytes_recv', 'bytes_sent'],
    unit: 'B/s',
    by: 'interface',
    exclude: { interface: 'lo' },
    rate: true,
  },
];

const FIELD_LABELS: Record<string, string> = {
  usage_idle: 'used',
  used_percent: 'used',
  bytes_recv: 'in',
  bytes_sent: 'out',
};

/** The series name of `field` (of the line for tag value `by`, if any). */
export function nameSeries(spec: SeriesSpec, field: string, by: string | undefined): string {
  const label = FIELD_LABELS[field] ?? field;
  if (by === undefined) return label;
  return spec.fields.length > 1 ? `${by} ${label}` : by;
}

/** A point's value as charted: a finite number (CPU inverted to "used"), or undefined to drop it. */
export function toChartValue(spec: SeriesSpec, value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return spec.invert ? Math.max(0, 100 - value) : value;
}
