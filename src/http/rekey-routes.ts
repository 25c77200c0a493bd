import { Router } from 'express';
import { z } from 'zod';
import { FINGERPRINT_PATTERN } from '../domain/ssh-key-line.ts';
import { AppError } from '../errors.ts';
import { idSchema } from './job-input.ts';
import { parseInput } from './parse-input.ts';
import type { RegistryPort } from './registry-port.ts';

/** The registry calls `forget` needs: unpin with `hostKey: null`. */
interface ForgetPort {
  updateHost(id: string, patch: unknown): Promise<unknown>;
  updateProxy(id: string, patch: unknown): Promise<unknown>;
}

/** Reads the key a host or proxy presents now through its reach and pins it (jobs/login/rekey-host-key.ts). */
export type RekeyHostKey = (
  kind: 'host' | 'proxy',
  id: string,
  options: { expected?: string },
) => Promise<unknown>;

// An empty body (or `{}`) fetches and pins; a fingerprint got out of band must match; `forget` only unpins.
const rekeyBody = z
  .object({
    fingerprint: z
      .string()
      .regex(
        FINGERPRINT_PATTERN,
        'expected a fingerprint as ssh-keygen -lf prints it: SHA256: and 43 characters',
      )
      .optional(),
    forget: z.literal(true).optional(),
  })
  .strict()
  .refine((body) => !(body.forget && body.fingerprint), {
    message: 'forget and fingerprint exclude each other',
    path: ['forget'],
  })
  .optional();

/**
 * `POST /v1/hosts/:id/rekey` and `POST /v1/proxies/:id/rekey`: accept a new SSH host key on purpose (a
 * rebuilt VM). Reads the key the VM presents now through its reach, pins it and answers its fingerprint
 * and the one it replaced; `{"fingerprint": "SHA256:..."}` pins only a key with that fingerprint (409
 * otherwise); `{"forget": true}` only unpins, so the next probe or enrollment records the key it meets.
 */
export function rekeyRoutes(registry: RegistryPort | undefined, rekey: RekeyHostKey | undefined): Router {
  const router = Router();
  const forgetPort = (): ForgetPort => {
    const port = registry as Partial<ForgetPort> | undefined;
    if (!port || typeof port.updateHost !== 'function' || typeof port.updateProxy !== 'function')
      throw new AppError('not_implemented', 'the registry is not available on this server', { status: 501 });
    return port as ForgetPort;
  };
  for (const [plural, kind] of [
    ['hosts', 'host'],
    ['proxies', 'proxy'],
  ] as const) {
    router.post(`/${plural}/:id/rekey`, async (req, res) => {
      const id = parseInput(idSchema, req.params.id, 'id');
      const body = parseInput(rekeyBody, isEmpty(req.body) ? undefined : req.body, 'body');
      parseInput(z.object({}).strict(), req.query, 'query');
      if (body?.forget) {
        const port = forgetPort();
        res.json(
          await (kind === 'host'
            ? port.updateHost(id, { hostKey: null })
            : port.updateProxy(id, { hostKey: null })),
        );
        return;
      }
      if (!rekey)
        throw new AppError('not_implemented', 'this server cannot reach VMs to read their host keys', {
          status: 501,
        });
      res.json(await rekey(kind, id, body?.fingerprint ? { expected: body.fingerprint } : {}));
    });
  }
  return router;
}

function isEmpty(body: unknown): boolean {
  return body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0);
}
