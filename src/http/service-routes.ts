import type { OpenApiDocument } from './openapi.ts';
import { defineRoute, type Route } from './route.ts';
import type { ServiceMetrics } from './service-metrics.ts';

/** `/healthz` and `/v1/openapi.json` (open), `/metrics` (a `*` token: it counts every project's jobs). */
export function serviceRoutes(deps: {
  metrics: ServiceMetrics;
  healthy?: () => Promise<boolean>;
  openApi: () => OpenApiDocument;
}): Route[] {
  return [
    defineRoute({
      name: 'health',
      method: 'get',
      path: '/healthz',
      tag: 'service',
      summary: 'Whether the API and its Redis answer',
      access: { public: true },
      ok: [
        { status: 200, description: '`{"status":"ok"}`' },
        { status: 503, description: '`{"status":"unavailable"}`: Redis does not answer.' },
      ],
      async handle({ res }) {
        const ok = (await deps.healthy?.().catch(() => false)) ?? true;
        res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable' });
      },
    }),
    defineRoute({
      name: 'openApi',
      method: 'get',
      path: '/v1/openapi.json',
      tag: 'service',
      summary: 'This document',
      access: { public: true },
      ok: { status: 200, description: 'The OpenAPI 3.1 document of this API.' },
      handle({ res }) {
        res.json(deps.openApi());
      },
    }),
    defineRoute({
      name: 'metrics',
      method: 'get',
      path: '/metrics',
      tag: 'service',
      summary: 'The service’s own metrics (Prometheus text)',
      access: { role: 'viewer', scope: 'service' },
      ok: {
        status: 200,
        description: 'Jobs by status, queue depth, run durations, tunnels up.',
        type: 'text/plain',
      },
      async handle({ res }) {
        res.type('text/plain; version=0.0.4').send(await deps.metrics.render());
      },
    }),
  ];
}
