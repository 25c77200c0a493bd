/**
 * The API contract (issue 10): `/v1/openapi.json` lists every route the app mounts, each with its
 * inputs, errors and the role it needs, and Redocly's validator (from devDependencies, run offline)
 * accepts it. The app is built in-process with every optional part present; no store is ever called.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Express } from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type ApiDeps } from '../../../src/http/create-app.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');

interface Operation {
  operationId: string;
  'x-outpost-role': string;
  'x-outpost-scope': string;
  description: string;
  security?: unknown[];
  parameters?: { name: string; in: string; required: boolean; schema: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, unknown>;
}
type Document = { paths: Record<string, Record<string, Operation>> } & Record<string, unknown>;

let app: Express;
let server: ReturnType<Express['listen']>;
let document: Document;
let dir: string;

beforeAll(async () => {
  // Only the shape of the app matters here: every optional part present, none of them called.
  const unused = {} as never;
  const deps: ApiDeps = {
    token: 'openapi-test-token-0123456789abcdef',
    tokens: unused,
    logger: pino({ level: 'silent' }),
    metrics: unused,
    queue: unused,
    store: unused,
    logs: unused,
    registry: unused,
    sessions: unused,
    events: unused,
    audit: unused,
  };
  app = createApp(deps);
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}/v1/openapi.json`);
  expect(response.status).toBe(200);
  document = (await response.json()) as Document;
  dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-openapi-'));
});

afterAll(async () => {
  server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `get /v1/hosts/:id` for every route express has mounted. */
function mountedRoutes(express: Express): string[] {
  const stack = (express as unknown as { router: { stack: { route?: { path: string; methods: object } }[] } })
    .router.stack;
  return stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods)
          .filter((method) => method !== '_all')
          .map((method) => `${method} ${layer.route?.path ?? ''}`)
      : [],
  );
}

const operations = (): [string, string, Operation][] =>
  Object.entries(document.paths).flatMap(([route, methods]) =>
    Object.entries(methods).map(([method, operation]): [string, string, Operation] => [
      method,
      route,
      operation,
    ]),
  );

describe('GET /v1/openapi.json', () => {
  it('is OpenAPI 3.1 and describes exactly the routes the app mounts', () => {
    expect(document.openapi).toBe('3.1.0');
    const described = operations().map(
      ([method, route]) => `${method} ${route.replace(/\{(\w+)\}/g, ':$1')}`,
    );
    const mounted = mountedRoutes(app);
    expect(mounted.length).toBeGreaterThan(30);
    expect([...described].sort()).toEqual([...mounted].sort());
  });

  it('gives every route its role, scope, inputs and errors', () => {
    for (const [method, route, operation] of operations()) {
      const label = `${method} ${route}`;
      const open = operation.security !== undefined && operation.security.length === 0;
      expect(['none', 'viewer', 'operator', 'admin'], label).toContain(operation['x-outpost-role']);
      expect(operation.description, label).toMatch(open ? /Open to anyone\./ : /Role: \w+.*Scope: /s);
      if (!open)
        expect(Object.keys(operation.responses), label).toEqual(expect.arrayContaining(['401', '403']));
      if (operation['x-outpost-scope'].startsWith('project:'))
        expect(Object.keys(operation.responses), label).toContain('404');
      for (const name of [...route.matchAll(/\{(\w+)\}/g)].map((match) => match[1]))
        expect(
          operation.parameters?.find((p) => p.name === name && p.in === 'path'),
          `${label} ${name}`,
        ).toMatchObject({
          required: true,
          schema: { type: 'string' },
        });
      if (operation.requestBody) expect(Object.keys(operation.responses), label).toContain('400');
    }
    // Inputs come from the routes' zod schemas: the job body names every kind, the token body its roles.
    const job = document.paths['/v1/jobs']?.post?.requestBody?.content['application/json']?.schema;
    expect(JSON.stringify(job)).toContain('"run-playbook"');
    expect(job).toMatchObject({ type: 'object', required: ['kind'], additionalProperties: false });
    const token = document.paths['/v1/tokens']?.post?.requestBody?.content['application/json']?.schema;
    expect(token).toMatchObject({ properties: { role: { enum: ['viewer', 'operator', 'admin'] } } });
    expect(document.paths['/v1/tokens']?.post?.['x-outpost-role']).toBe('admin');
    expect(document.paths['/metrics']?.get?.['x-outpost-scope']).toMatch(/^service/);
  });

  it('is accepted by Redocly’s validator', async () => {
    const file = path.join(dir, 'openapi.json');
    await writeFile(file, JSON.stringify(document, null, 2));
    const run = await execa(
      path.join(ROOT, 'node_modules/.bin/redocly'),
      ['lint', file, '--format', 'stylish'],
      {
        cwd: dir,
        reject: false,
        all: true,
        // Offline: no telemetry, no update check.
        env: { REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      },
    );
    expect(run.all).toContain('Woohoo! Your API description is valid.');
    expect(run.all).not.toMatch(/\d+ warnings?/);
    expect(run.exitCode, run.all).toBe(0);
  });
});
