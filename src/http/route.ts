import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Principal, Role } from './principal.ts';

/** The parsed inputs of a request. */
export interface RouteInput<P = unknown, Q = unknown, B = unknown> {
  params: P;
  query: Q;
  body: B;
}

/** An object a request names and the project it belongs to (undefined: none, or it does not exist). */
export interface Owned {
  kind: string;
  id: string;
  project: string | undefined;
}

/** Who owns what: each answers undefined for an object that does not exist. */
export interface Lookups {
  host(id: string): Promise<{ project: string } | undefined>;
  proxy(id: string): Promise<{ project: string } | undefined>;
  job(id: string): Promise<{ project?: string | undefined } | undefined>;
  token(id: string): Promise<{ scope: string } | undefined>;
}

/** How a route finds the project(s) a request touches, so a project-scoped token is held to its own. */
export interface Locator<I> {
  /** For people and the OpenAPI document: where the project is taken from. */
  describe: string;
  /**
   * What a project-scoped token gets for an object of another project: 404, as if it did not exist
   * (default), or 403 for what such a token may never create (another project, a `*` token).
   */
  outside?: 'not_found' | 'forbidden';
  locate(input: I, lookups: Lookups): Promise<Owned[]>;
}

/**
 * What a route needs: nothing (`public`), or a role and a scope rule: `service` (only `*` tokens), `own`
 * (any token; the route shows only what the token's scope sees), or a {@link Locator}.
 */
export type Access<I> =
  | { public: true }
  | {
      public?: false;
      role: Role;
      scope: 'service' | 'own' | Locator<I>;
      /** A stronger role for some inputs (job kinds); `describe` says which, in the OpenAPI document. */
      roleOf?: { describe: string; role(input: I): Role };
    };

/** One successful answer of a route. */
export interface Answer {
  status: number;
  description: string;
  /** Default `application/json`. */
  type?: string;
  schema?: z.ZodType;
}

/** What a handler gets: the parsed inputs, who asks, and what the guard found. */
export interface RouteContext<P, Q, B> extends RouteInput<P, Q, B> {
  req: Request;
  res: Response;
  /** The authenticated principal (a public route has none: reading it there is a 401). */
  readonly principal: Principal;
  /** The project the request is for: a project token's own, else the one every object it names shares. */
  project: string | undefined;
  /** Whether the principal may see what belongs to `project` (lists show only that). */
  sees: (project: string | undefined) => boolean;
  /** Names more objects in the request's audit entry, as `kind:id` (the job or token it created). */
  audit: (...objects: string[]) => void;
}

/**
 * One route of the API, declared once: express registers it, {@link authorize} enforces its access, the
 * OpenAPI document describes it, all from this. Methods (not arrow properties) keep specs assignable to
 * {@link Route} whatever their input types.
 */
export interface RouteSpec<
  P extends z.ZodObject = z.ZodObject,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  /** The OpenAPI operationId. */
  name: string;
  method: 'get' | 'post' | 'delete';
  /** Express path, `:name` for parameters. */
  path: string;
  /** Group in the OpenAPI document. */
  tag: string;
  summary: string;
  description?: string;
  access: Access<RouteInput<z.output<P>, z.output<Q>, z.output<B>>>;
  params?: P;
  /** Default: no query parameter is accepted. */
  query?: Q;
  /** Default: the body is not read. */
  body?: B;
  /** Request headers the handler reads (checked there), for the OpenAPI document. */
  headers?: { name: string; description: string; schema: z.ZodType }[];
  ok: Answer | Answer[];
  /** Problem statuses besides the ones every route of its kind can answer (400, 401, 403, 404). */
  errors?: number[];
  /** The audit trail's name for what it does; every state-changing route has one. */
  action?: string;
  /** A long-lived stream: it ends within a second when its token is revoked. */
  stream?: boolean;
  handle(ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>): Promise<void> | void;
}

/** A route of any input types. */
export type Route = RouteSpec<z.ZodObject, z.ZodType, z.ZodType>;

/** Declares a route; the input types flow from its schemas into its handler. */
export function defineRoute<
  P extends z.ZodObject = z.ZodObject<Record<never, never>>,
  Q extends z.ZodType = z.ZodObject<Record<never, never>>,
  B extends z.ZodType = z.ZodUndefined,
>(spec: RouteSpec<P, Q, B>): Route {
  return spec;
}
