import { z } from 'zod';
import { AppError } from '../errors.ts';
import { SERIES_RANGES, type Series, type SeriesWindow } from '../metrics/host-series.ts';
import { idSchema } from './job-input.ts';
import { hostNamed } from './locate.ts';
import type { RegistryPort } from './registry-port.ts';
import { defineRoute, type Route } from './route.ts';

/** Reads the console needs beyond the registry, given by the composition root. */
export interface ConsoleViews {
  /** A host's chart lines from InfluxDB; undefined when no InfluxDB is configured. */
  hostSeries?(host: string, window: SeriesWindow): Promise<Series[]>;
  /** What the node holding a proxy's tunnels last published; undefined when nobody holds them. */
  tunnelStatus?(proxy: string): Promise<unknown>;
}

const seriesQuery = z
  .object({ range: z.enum(Object.keys(SERIES_RANGES) as [keyof typeof SERIES_RANGES]).default('1h') })
  .strict();

/** `GET /v1/hosts/:id/series` (a host's charts, read from InfluxDB here) and `GET /v1/tunnels`. */
export function consoleRoutes(registry: RegistryPort | undefined, views: ConsoleViews): Route[] {
  return [
    defineRoute({
      name: 'getHostSeries',
      method: 'get',
      path: '/v1/hosts/:id/series',
      tag: 'console',
      summary: 'A host’s agent metrics for charts',
      access: {
        role: 'viewer',
        scope: hostNamed((i: { params: { id: string } }) => i.params.id, 'the project of the host `id`'),
      },
      params: z.object({ id: idSchema }),
      query: seriesQuery,
      ok: { status: 200, description: 'Lines of CPU, memory, load, disk and network, one step apart.' },
      errors: [503],
      async handle({ res, params, query }) {
        await registry?.getHost(params.id);
        if (!views.hostSeries)
          throw new AppError('metrics_unavailable', 'no InfluxDB is configured on this server', {
            status: 503,
          });
        const window = SERIES_RANGES[query.range];
        const to = Date.now();
        res.json({
          host: params.id,
          range: query.range,
          stepSeconds: window.stepSeconds,
          from: new Date(to - window.seconds * 1000).toISOString(),
          to: new Date(to).toISOString(),
          series: await views.hostSeries(params.id, window),
        });
      },
    }),
    defineRoute({
      name: 'listTunnels',
      method: 'get',
      path: '/v1/tunnels',
      tag: 'console',
      summary: 'The tunnels of each proxy',
      description: 'A project token sees its project’s proxies only.',
      access: { role: 'viewer', scope: 'own' },
      ok: { status: 200, description: 'Per proxy: what the node holding its tunnels last published.' },
      async handle({ res, sees }) {
        const proxies = ((await registry?.listProxies()) ?? []) as { id: string; project: string }[];
        const ids = proxies.filter((proxy) => sees(proxy.project)).map((proxy) => proxy.id);
        const statuses = await Promise.all(
          ids.map((id) => (views.tunnelStatus ? views.tunnelStatus(id) : Promise.resolve(undefined))),
        );
        res.json(ids.map((proxy, i) => ({ proxy, status: statuses[i] ?? null })));
      },
    }),
  ];
}
