import { z } from 'zod';
import { AppError } from '../errors.ts';
import { idSchema } from './job-input.ts';
import { hostNamed, proxyNamed } from './locate.ts';
import type { RegistryPort } from './registry-port.ts';
import { defineRoute, type Route } from './route.ts';

/** The registry calls rekey needs: unpin with `hostKey: null`. */
interface RekeyPort {
  updateHost(id: string, patch: unknown): Promise<unknown>;
  updateProxy(id: string, patch: unknown): Promise<unknown>;
}

// Nothing to send: an empty body or `{}`; anything else is refused by name.
const rekeyBody = z.preprocess(
  (body) => (isEmpty(body) ? undefined : body),
  z.object({}).strict().optional(),
);
const idParams = z.object({ id: idSchema });

/**
 * `POST /v1/hosts/:id/rekey` and `POST /v1/proxies/:id/rekey`: forget the pinned SSH host key on
 * purpose (a rebuilt VM), so the next probe or enrollment records the key the VM presents then.
 * Answers the entity without its key.
 */
export function rekeyRoutes(registry: RegistryPort | undefined): Route[] {
  const need = (): RekeyPort => {
    const port = registry as Partial<RekeyPort> | undefined;
    if (!port || typeof port.updateHost !== 'function' || typeof port.updateProxy !== 'function')
      throw new AppError('not_implemented', 'the registry is not available on this server', { status: 501 });
    return port as RekeyPort;
  };
  return (['host', 'proxy'] as const).map((kind) =>
    defineRoute({
      name: kind === 'host' ? 'rekeyHost' : 'rekeyProxy',
      method: 'post',
      path: kind === 'host' ? '/v1/hosts/:id/rekey' : '/v1/proxies/:id/rekey',
      tag: 'registry',
      summary: `Forget a ${kind}’s pinned SSH host key`,
      description: 'The next probe or enrollment records the key the VM presents then (a rebuilt VM).',
      access: {
        role: 'admin',
        scope: (kind === 'host' ? hostNamed : proxyNamed)(
          (i: { params: { id: string } }) => i.params.id,
          `the project of the ${kind} \`id\``,
        ),
      },
      params: idParams,
      body: rekeyBody,
      ok: { status: 200, description: `The ${kind}, without a pinned key.` },
      errors: [501],
      action: `${kind}.rekey`,
      async handle({ res, params }) {
        const port = need();
        const patch = { hostKey: null };
        res.json(
          await (kind === 'host' ? port.updateHost(params.id, patch) : port.updateProxy(params.id, patch)),
        );
      },
    }),
  );
}

function isEmpty(body: unknown): boolean {
  return body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0);
}
