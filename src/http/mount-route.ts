import type { Express, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { readPrincipal } from './authenticate.ts';
import { authorize, checkRole } from './authorize.ts';
import { parseInput } from './parse-input.ts';
import { seesProject, type Principal } from './principal.ts';
import type { Lookups, Route, RouteContext, RouteInput } from './route.ts';
import type { TokenResolver } from './token-resolver.ts';

/** What the guard of every route uses. */
export interface GuardDeps {
  lookups: Lookups;
  /** Long-lived streams ask it again twice a second and end once their token is gone. */
  resolveToken: TokenResolver;
}

/** What the audit trail learns about a request from its route (read by auditRequests). */
export interface RequestAudit {
  action: string;
  objects: string[];
  project?: string | undefined;
}

const noQuery = z.object({}).strict();
const REVOCATION_CHECK_MS = 500;

/** Registers `route` on `app`: inputs parsed, role and scope enforced, then its handler. */
export function mountRoute(app: Express, route: Route, deps: GuardDeps, before: RequestHandler[] = []): void {
  app[route.method](route.path, ...before, async (req: Request, res: Response) => {
    const audit: RequestAudit = { action: route.action ?? `${route.method} ${route.path}`, objects: [] };
    res.locals.audit = audit;
    const principal = route.access.public ? undefined : readPrincipal(res);
    if (principal) checkRole(route.access, principal);
    const input = parseRequest(route, req);
    const decision = principal
      ? await authorize(route.access, principal, input, deps.lookups, (owned) =>
          audit.objects.push(...owned.map((object) => `${object.kind}:${object.id}`)),
        )
      : { project: undefined, owned: [] };
    audit.project = decision.project;
    if (route.stream && principal) endOnRevocation(res, principal, deps.resolveToken);
    const context: RouteContext<unknown, unknown, unknown> = {
      ...input,
      req,
      res,
      get principal() {
        return readPrincipal(res);
      },
      project: decision.project,
      sees: (project) => (principal ? seesProject(principal, project) : false),
      audit: (...objects) => audit.objects.push(...objects),
    };
    await route.handle(context as Parameters<Route['handle']>[0]);
  });
}

/** Parses path parameters (each under its own name), the query and the body, by the route's schemas. */
function parseRequest(route: Route, req: Request): RouteInput {
  const params: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(route.params?.shape ?? {}))
    params[name] = parseInput(schema as z.ZodType, req.params[name], name);
  const query = parseInput(route.query ?? noQuery, req.query, 'query');
  const body = route.body ? parseInput(route.body, req.body, 'body') : undefined;
  return { params, query, body };
}

/** Ends a live stream within a second of its token's revocation or expiry (the service token never ends). */
function endOnRevocation(res: Response, principal: Principal, resolver: TokenResolver): void {
  if (principal.tokenId === 'service') return;
  const timer = setInterval(() => {
    resolver.byId(principal.tokenId).then(
      (still) => {
        if (!still) res.destroy();
      },
      () => undefined,
    );
  }, REVOCATION_CHECK_MS);
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
