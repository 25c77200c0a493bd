import { Router } from 'express';
import { z } from 'zod';
import { AppError } from '../errors.ts';
import { idSchema } from './job-input.ts';
import { parseInput } from './parse-input.ts';
import type { RegistryPort } from './registry-port.ts';

/** The registry calls rekey needs: unpin with `hostKey: null`. */
interface RekeyPort {
  updateHost(id: string, patch: unknown): Promise<unknown>;
  updateProxy(id: string, patch: unknown): Promise<unknown>;
}

// Nothing to send: an empty body or `{}`; anything else is refused by name.
const rekeyBody = z.object({}).strict().optional();

/**
 * `POST /v1/hosts/:id/rekey` and `POST /v1/proxies/:id/rekey`: forget the pinned SSH host key on
 * purpose (a rebuilt VM), so the next probe or enrollment records the key the VM presents then.
 * Answers the entity without its key.
 */
export function rekeyRoutes(registry: RegistryPort | undefined): Router {
  const router = Router();
  const need = (): RekeyPort => {
    const port = registry as Partial<RekeyPort> | undefined;
    if (!port || typeof port.updateHost !== 'function' || typeof port.updateProxy !== 'function')
      throw new AppError('not_implemented', 'the registry is not available on this server', { status: 501 });
    return port as RekeyPort;
  };
  for (const [plural, update] of [
    ['hosts', (id: string) => need().updateHost(id, { hostKey: null })],
    ['proxies', (id: string) => need().updateProxy(id, { hostKey: null })],
  ] as const) {
    router.post(`/${plural}/:id/rekey`, async (req, res) => {
      const id = parseInput(idSchema, req.params.id, 'id');
      parseInput(rekeyBody, isEmpty(req.body) ? undefined : req.body, 'body');
      parseInput(z.object({}).strict(), req.query, 'query');
      res.json(await update(id));
    });
  }
  return router;
}

function isEmpty(body: unknown): boolean {
  return body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0);
}
