import express, { type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { EventStore } from '../events/event-store.ts';
import { auditRequests } from './audit-requests.ts';
import { auditRoutes } from './audit-routes.ts';
import { authenticate } from './authenticate.ts';
import { consoleRoutes, type ConsoleViews } from './console-routes.ts';
import { createLookups } from './create-lookups.ts';
import { eventRoutes } from './event-routes.ts';
import { jobRoutes, type JobRouteDeps } from './job-routes.ts';
import { mountRoute } from './mount-route.ts';
import { buildOpenApi, type OpenApiDocument } from './openapi.ts';
import { notFoundHandler, problemHandler } from './problem.ts';
import { rekeyRoutes, type RekeyHostKey } from './rekey-routes.ts';
import { registryRoutes, type ProjectViews } from './registry-routes.ts';
import { requireJsonBody } from './require-json-body.ts';
import type { Route } from './route.ts';
import { serveConsole } from './serve-console.ts';
import type { ServiceMetrics } from './service-metrics.ts';
import { serviceRoutes } from './service-routes.ts';
import { sessionRoutes } from './session-routes.ts';
import type { SessionStore } from './session-store.ts';
import { createTokenResolver, type TokenResolver } from './token-resolver.ts';
import { tokenRoutes, type TokenPort } from './token-routes.ts';

/** What the HTTP API is built from. */
export interface ApiDeps extends JobRouteDeps {
  /** The service token: `*`, admin. Every route but /healthz, the document, the console's files and sign-in needs a credential. */
  token: string;
  /** Scoped tokens (`outpost token create`); without them only the service token works. */
  tokens?: TokenPort;
  /** Resolves bearer tokens and sessions' tokens to principals. Default: the service token, then `tokens`. */
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
  /** The audit trail: every state-changing or refused request is recorded there; `GET /v1/audit` reads it. */
  audit?: EventStore;
  /** The built console (Vite's output) served at `/`. */
  consoleDir?: string;
  consoleViews?: ConsoleViews;
  /** express.json limit. Default `1mb`. */
  bodyLimit?: string;
  /** Readiness of the connections behind the API (Redis). */
  healthy?: () => Promise<boolean>;
}

/** Every route of the API for `deps`, as declared: what createApp mounts and the OpenAPI document describes. */
export function listRoutes(deps: ApiDeps, openApi: () => OpenApiDocument = () => ({ paths: {} })): Route[] {
  const resolveToken = deps.resolveToken ?? createTokenResolver(deps.token, deps.tokens);
  const streams = {
    ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
    ...(deps.closing ? { closing: deps.closing } : {}),
  };
  const tokens = deps.tokens;
  return [
    ...serviceRoutes({ metrics: deps.metrics, openApi, ...(deps.healthy ? { healthy: deps.healthy } : {}) }),
    ...(deps.sessions ? sessionRoutes(resolveToken, deps.sessions) : []),
    ...(deps.events ? eventRoutes(deps.events, streams) : []),
    ...(deps.audit ? auditRoutes(deps.audit, streams) : []),
    ...(tokens ? tokenRoutes(tokens) : []),
    ...jobRoutes(deps),
    ...consoleRoutes(deps.registry, deps.consoleViews ?? {}),
    ...registryRoutes(deps.registry, deps.views, {
      ...(tokens ? { onProjectDeleted: (project: string) => tokens.revokeScope(project) } : {}),
    }),
    ...rekeyRoutes(deps.registry, deps.rekey),
  ];
}

/**
 * The Express app: every route of {@link listRoutes}, open ones first, then authentication, then the
 * rest, each guarded by its declared role and scope; the audit trail sees every request.
 */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const resolveToken = deps.resolveToken ?? createTokenResolver(deps.token, deps.tokens);
  // The document describes the routes it is served among: built once they are all listed.
  const built: { document?: OpenApiDocument } = {};
  const routes = listRoutes({ ...deps, resolveToken }, () => built.document ?? { paths: {} });
  built.document = buildOpenApi(routes);
  const guard = {
    lookups: createLookups({
      jobs: deps.store,
      ...(deps.registry ? { registry: deps.registry } : {}),
      ...(deps.tokens ? { tokens: deps.tokens } : {}),
    }),
    resolveToken,
  };
  const json: RequestHandler = express.json({ limit: deps.bodyLimit ?? '1mb', strict: true });

  if (deps.audit) app.use(auditRequests(deps.audit, deps.logger));
  for (const route of routes.filter((r) => r.access.public))
    mountRoute(app, route, guard, route.body ? [json] : []);
  if (deps.consoleDir) app.use(serveConsole(deps.consoleDir));
  app.use(authenticate({ resolveToken, ...(deps.sessions ? { sessions: deps.sessions } : {}) }));
  app.use(requireJsonBody);
  app.use(json);
  for (const route of routes.filter((r) => !r.access.public)) mountRoute(app, route, guard);
  app.use(notFoundHandler);
  app.use(problemHandler(deps.logger));
  return app;
}
