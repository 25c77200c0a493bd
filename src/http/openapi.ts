import { z } from 'zod';
import type { Answer, Route } from './route.ts';

/** An OpenAPI 3.1 document, as plain JSON. */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, unknown>> };

type JsonSchema = Record<string, unknown>;

/** The version of the API contract: routes under /v1. */
const API_VERSION = '1.0.0';

const ERROR_TITLES: Record<number, string> = {
  400: 'The input is not valid: the problem names the field and the value.',
  401: 'No valid token or session.',
  403: 'The token’s role is too weak, or its scope does not allow it (a state change from another site too).',
  404: 'It does not exist, or it belongs to a project the token is not for (the two look the same).',
  409: 'It conflicts with what exists (a duplicate, a job already ended, a project not empty).',
  415: 'The body is not `application/json`.',
  501: 'This server does not have what the route needs (no registry).',
  502: 'A VM or proxy the request needs could not be reached (its host key not read).',
  503: 'A service behind the API is unavailable (InfluxDB).',
};

/**
 * The OpenAPI 3.1 document of `routes`, generated from their declarations: the same zod schemas that
 * validate each request describe its inputs (JSON Schema 2020-12, OpenAPI 3.1's own dialect), and each
 * route's access says the role and scope it needs (also as `x-outpost-role` and `x-outpost-scope`).
 */
export function buildOpenApi(routes: readonly Route[]): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = { Problem: PROBLEM_SCHEMA };
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Set<string>();
  for (const route of routes) {
    tags.add(route.tag);
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] = {
      ...paths[path],
      [route.method]: describeOperation(route, (schema, name) => lift(schema, name, schemas)),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Outpost API',
      version: API_VERSION,
      description:
        'Telegraf on every VM of every cloud, through SSH proxy nodes, proven in InfluxDB. Every route but the public ones needs a bearer token (or the console’s session cookie) with a role (viewer < operator < admin) and a scope (`*` or one project): a project token gets 404 for another project’s objects, exactly as for objects that do not exist, and 403 when its role is too weak.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'This Outpost server.' }],
    security: [{ bearer: [] }, { session: [] }],
    tags: [...tags].sort().map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? name })),
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An Outpost token (`outpost token create`).' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'outpost_session',
          description: 'The console’s session; state changes also carry `X-CSRF-Token`.',
        },
      },
      schemas,
      responses: Object.fromEntries(
        Object.entries(ERROR_TITLES).map(([status, description]) => [
          `Problem${status}`,
          {
            description,
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        ]),
      ),
    },
  };
}

const TAG_DESCRIPTIONS: Record<string, string> = {
  jobs: 'Jobs: submit, watch, cancel.',
  registry: 'Projects, proxies, hosts and their inventories.',
  console: 'What the web console reads: events, charts, tunnels.',
  tokens: 'Scoped tokens with roles.',
  audit: 'Who did what, when.',
  session: 'The web console’s sign-in.',
  service: 'Health, metrics and this document.',
};

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'An RFC 9457 problem document.',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    field: { type: 'string', description: 'The input field that was refused.' },
  },
  required: ['type', 'title', 'status', 'detail', 'code'],
};

function describeOperation(
  route: Route,
  convert: (schema: z.ZodType, name: string) => JsonSchema,
): Record<string, unknown> {
  const access = route.access;
  const role = access.public ? 'none' : access.role;
  const scope = access.public
    ? 'public'
    : access.scope === 'service'
      ? 'service: a `*` token only'
      : access.scope === 'own'
        ? 'any: a project token sees its project only'
        : `project: ${access.scope.describe}`;
  const needs = access.public
    ? 'Open to anyone.'
    : `Role: ${role}${access.roleOf ? ` (${access.roleOf.describe})` : ''}. Scope: ${scope}.`;
  const parameters = [
    ...Object.entries(route.params?.shape ?? {}).map(([name, schema]) =>
      parameter(
        name,
        'path',
        schema as z.ZodType,
        true,
        convert(schema as z.ZodType, `${route.name}_${name}`),
      ),
    ),
    ...Object.entries(objectShape(route.query)).map(([name, schema]) =>
      parameter(
        name,
        'query',
        schema,
        accepts(schema, undefined) === false,
        convert(schema, `${route.name}_${name}`),
      ),
    ),
    ...(route.headers ?? []).map((header) => ({
      name: header.name,
      in: 'header',
      required: false,
      description: header.description,
      schema: convert(header.schema, `${route.name}_${header.name.replace(/-/g, '')}`),
    })),
  ];
  // 400 for any route: even one without inputs refuses a query parameter it does not know.
  const errors = new Set<number>([...(route.errors ?? []), 400]);
  if (!access.public) errors.add(401).add(403);
  // A body of another media type is refused after authentication (require-json-body.ts).
  if (!access.public && route.body) errors.add(415);
  if (!access.public && typeof access.scope === 'object') errors.add(404);
  return {
    operationId: route.name,
    summary: route.summary,
    description: [route.description, needs].filter(Boolean).join('\n\n'),
    tags: [route.tag],
    'x-outpost-role': role,
    ...(!access.public && access.roleOf ? { 'x-outpost-role-note': access.roleOf.describe } : {}),
    'x-outpost-scope': scope,
    ...(access.public ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: accepts(route.body, undefined) === false,
            content: { 'application/json': { schema: convert(route.body, `${route.name}_body`) } },
          },
        }
      : {}),
    responses: {
      ...answers(Array.isArray(route.ok) ? route.ok : [route.ok], convert, route.name),
      ...Object.fromEntries(
        [...errors]
          .sort()
          .map((status) => [String(status), { $ref: `#/components/responses/Problem${status}` }]),
      ),
    },
  };
}

function parameter(
  name: string,
  where: string,
  schema: z.ZodType,
  required: boolean,
  json: JsonSchema,
): Record<string, unknown> {
  return {
    name,
    in: where,
    required,
    ...(schema.description ? { description: schema.description } : {}),
    schema: json,
  };
}

function answers(
  list: Answer[],
  convert: (schema: z.ZodType, name: string) => JsonSchema,
  name: string,
): Record<string, unknown> {
  const byStatus: Record<string, { description: string; content?: Record<string, unknown> }> = {};
  for (const answer of list) {
    const entry = (byStatus[String(answer.status)] ??= { description: answer.description });
    if (entry.description !== answer.description) entry.description += ` Or: ${answer.description}`;
    if (answer.status === 204) continue;
    const type = answer.type ?? 'application/json';
    const schema = answer.schema
      ? convert(answer.schema, `${name}_${answer.status}`)
      : type === 'application/json'
        ? {}
        : { type: 'string' };
    entry.content = { ...entry.content, [type]: { schema } };
  }
  return byStatus;
}

/** JSON Schema of a zod schema as the client sends it; nested definitions move to components.schemas. */
function lift(schema: z.ZodType, name: string, components: Record<string, JsonSchema>): JsonSchema {
  const {
    $schema: _dialect,
    $defs,
    ...json
  } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema & {
    $defs?: Record<string, JsonSchema>;
  };
  if (!$defs) return json;
  const rename = (key: string): string => `${name}_${key}`.replace(/[^A-Za-z0-9._-]/g, '_');
  const fix = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(fix);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [
        key,
        key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/')
          ? `#/components/schemas/${rename(value.slice('#/$defs/'.length))}`
          : fix(value),
      ]),
    );
  };
  for (const [key, def] of Object.entries($defs)) components[rename(key)] = fix(def) as JsonSchema;
  return fix(json) as JsonSchema;
}

function objectShape(schema: z.ZodType | undefined): Record<string, z.ZodType> {
  return schema instanceof z.ZodObject ? schema.shape : {};
}

function accepts(schema: z.ZodType, value: unknown): boolean {
  return schema.safeParse(value).success;
}
