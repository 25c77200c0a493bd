import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { EventStore } from '../events/event-store.ts';
import { authenticate } from './authenticate.ts';
import { consoleRoutes, type ConsoleViews } from './console-routes.ts';
import { eventRoutes } from './event-routes.ts';
import { jobRoutes, type JobRouteDeps } from './job-routes.ts';
import { notFoundHandler, problemHandler } from './problem.ts';
import { rekeyRoutes, type RekeyHostKey } from './rekey-routes.ts';
import { registryRoutes, type ProjectViews } from './registry-routes.ts';
import { requireJsonBody } from './require-json-body.ts';
import { resolveServiceToken, type TokenResolver } from './resolve-service-token.ts';
import { serveConsole } from './serve-console.ts';
import type { ServiceMetrics } from './service-metrics.ts';
import { sessionRoutes, signInRoute, whoAmIRoute } from './session-routes.ts';
import type { SessionStore } from './session-store.ts';

/** What the HTTP API is built from. */
export interface ApiDeps extends JobRouteDeps {
  /** The service token; every route but /healthz, the console's files and sign-in requires a credential. */
  token: string;
  /** Resolves bearer tokens to principals. Default: only `token`, as the admin of every project. */
  resolveToken?: TokenResolver;
  logger: Logger;
  metrics: ServiceMetrics;
  /** Reads and pins a VM's new host key (`outpost host|proxy rekey`); absent: only `forget` works. */
  rekey?: RekeyHostKey;
  views?: ProjectViews;
  /** Console sessions; without them only bearer tokens authenticate. */
  sessions?: SessionStore;
  /** The event stream behind `GET /v1/events`. */
  events?: EventStore;
  /** The built console (Vite's output) served at `/`. */
  consoleDir?: string;
  consoleViews?: ConsoleViews;
  /** express.json limit. Default `1mb`. */
  bodyLimit?: string;
  /** Readiness of the connections behind the API (Redis). */
  healthy?: () => Promise<boolean>;
}

/** The Express app: /healthz, the console's files and sign-in open; everything else needs a token or session. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const resolveToken = deps.resolveToken ?? resolveServiceToken(deps.token);

  app.get('/healthz', async (_req, res) => {
    const ok = (await deps.healthy?.().catch(() => false)) ?? true;
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable' });
  });
  if (deps.consoleDir) app.use(serveConsole(deps.consoleDir));

  const json = express.json({ limit: deps.bodyLimit ?? '1mb', strict: true });
  if (deps.sessions) {
    app.post('/v1/session', json, signInRoute(resolveToken, deps.sessions));
    app.get('/v1/session', whoAmIRoute(deps.sessions));
  }
  app.use(authenticate({ resolveToken, ...(deps.sessions ? { sessions: deps.sessions } : {}) }));
  app.use(requireJsonBody);
  app.use(json);
  app.get('/metrics', async (_req, res) => {
    res.type('text/plain; version=0.0.4').send(await deps.metrics.render());
  });
  if (deps.sessions) app.use('/v1', sessionRoutes(deps.sessions));
  if (deps.events)
    app.use('/v1', eventRoutes(deps.events, deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}));
  app.use('/v1', jobRoutes(deps));
  app.use('/v1', consoleRoutes(deps.registry, deps.consoleViews ?? {}));
  app.use('/v1', registryRoutes(deps.registry, deps.views));
  app.use('/v1', rekeyRoutes(deps.registry, deps.rekey));
  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}
