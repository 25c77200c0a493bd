import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { jobRoutes, type JobRouteDeps } from './job-routes.ts';
import { notFoundHandler, problemHandler } from './problem.ts';
import type { RegistryPort } from './registry-port.ts';
import { rekeyRoutes, type RekeyHostKey } from './rekey-routes.ts';
import { registryRoutes, type ProjectViews } from './registry-routes.ts';
import { requireToken } from './require-token.ts';
import type { ServiceMetrics } from './service-metrics.ts';

/** What the HTTP API is built from. */
export interface ApiDeps extends JobRouteDeps {
  /** The bearer token every route but /healthz requires. */
  token: string;
  logger: Logger;
  metrics: ServiceMetrics;
  registry?: RegistryPort;
  /** Reads and pins a VM's new host key (`outpost host|proxy rekey`); absent: only `forget` works. */
  rekey?: RekeyHostKey;
  views?: ProjectViews;
  /** express.json limit. Default `1mb`. */
  bodyLimit?: string;
  /** Readiness of the connections behind the API (Redis). */
  healthy?: () => Promise<boolean>;
}

/** The Express app of the API: /healthz open, everything else behind the bearer token. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.get('/healthz', async (_req, res) => {
    const ok = (await deps.healthy?.().catch(() => false)) ?? true;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable' });
  });

  app.use(requireToken(deps.token));
  app.use(express.json({ limit: deps.bodyLimit ?? '1mb', strict: true }));
  app.get('/metrics', async (_req, res) => {
    res.type('text/plain; version=0.0.4').send(await deps.metrics.render());
  });
  app.use('/v1', jobRoutes(deps));
  app.use('/v1', registryRoutes(deps.registry, deps.views));
  app.use('/v1', rekeyRoutes(deps.registry, deps.rekey));
  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}
