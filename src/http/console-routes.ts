import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { SERIES_RANGES, type Series, type SeriesWindow } from '../metrics/host-series.ts';
import { idSchema } from './job-input.ts';
import { parseInput } from './parse-input.ts';
import type { RegistryPort } from './registry-port.ts';

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
export function consoleRoutes(registry: RegistryPort | undefined, views: ConsoleViews): Router {
  const router = Router();
  router.get('/hosts/:id/series', async (req, res) => {
    const id = parseInput(idSchema, req.params.id, 'id');
    const { range } = parseInput(seriesQuery, req.query, 'query');
    await registry?.getHost(id);
    if (!views.hostSeries)
      throw new AppError('metrics_unavailable', 'no InfluxDB is configured on this server', { status: 503 });
    const window = SERIES_RANGES[range];
    const to = Date.now();
    res.json({
      host: id,
      range,
      stepSeconds: window.stepSeconds,
      from: new Date(to - window.seconds * 1000).toISOString(),
      to: new Date(to).toISOString(),
      series: await views.hostSeries(id, window),
    });
  });
  router.get('/tunnels', async (_req, res) => {
    const proxies = (await registry?.listProxies()) ?? [];
    const ids = proxies.map((proxy) => (proxy as { id: string }).id);
    const statuses = await Promise.all(
      ids.map((id) => (views.tunnelStatus ? views.tunnelStatus(id) : Promise.resolve(undefined))),
    );
    res.json(ids.map((proxy, i) => ({ proxy, status: statuses[i] ?? null })));
  });
  return router;
}
