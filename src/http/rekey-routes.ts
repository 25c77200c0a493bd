import { z } from 'zod';
import { FINGERPRINT_PATTERN } from '../domain/ssh-key-line.ts';
import { AppError } from '../errors.ts';
import { idSchema } from './job-input.ts';
import { hostNamed, proxyNamed } from './locate.ts';
import type { RegistryPort } from './registry-port.ts';
import { defineRoute, type Route } from './route.ts';

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
const rekeyBody = z.preprocess(
  (body) => (isEmpty(body) ? undefined : body),
  z
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
    .optional(),
);
const idParams = z.object({ id: idSchema });

/**
 * `POST /v1/hosts/:id/rekey` and `POST /v1/proxies/:id/rekey`: accept a new SSH host key on purpose (a
 * rebuilt VM). Reads the key the VM presents now through its reach, pins it and answers its fingerprint
 * and the one it replaced; `{"fingerprint": "SHA256:..."}` pins only a key with that fingerprint (409
 * otherwise); `{"forget": true}` only unpins, so the next probe or enrollment records the key it meets.
 */
export function rekeyRoutes(registry: RegistryPort | undefined, rekey: RekeyHostKey | undefined): Route[] {
  const forgetPort = (): ForgetPort => {
    const port = registry as Partial<ForgetPort> | undefined;
    if (!port || typeof port.updateHost !== 'function' || typeof port.updateProxy !== 'function')
      throw new AppError('not_implemented', 'the registry is not available on this server', { status: 501 });
    return port as ForgetPort;
  };
  return (['host', 'proxy'] as const).map((kind) =>
    defineRoute({
      name: kind === 'host' ? 'rekeyHost' : 'rekeyProxy',
      method: 'post',
      path: kind === 'host' ? '/v1/hosts/:id/rekey' : '/v1/proxies/:id/rekey',
      tag: 'registry',
      summary: `Read a ${kind}’s new SSH host key through its reach and pin it`,
      description:
        'For a rebuilt VM. An empty body pins the key the VM presents now; `fingerprint` (as `ssh-keygen -lf` prints it, got on the VM) pins it only if it matches, else 409 and nothing is pinned; `forget: true` only unpins, so the next probe or enrollment records the key it meets.',
      access: {
        role: 'admin',
        scope: (kind === 'host' ? hostNamed : proxyNamed)(
          (i: { params: { id: string } }) => i.params.id,
          `the project of the ${kind} \`id\``,
        ),
      },
      params: idParams,
      body: rekeyBody,
      ok: {
        status: 200,
        description: `The key pinned: kind, id, hostKey, fingerprint, previous (the one it replaced), changed, via; with \`forget\`, the ${kind} without a pinned key.`,
      },
      errors: [409, 501, 502],
      action: `${kind}.rekey`,
      async handle({ res, params, body }) {
        if (body?.forget) {
          const port = forgetPort();
          const patch = { hostKey: null };
          res.json(
            await (kind === 'host' ? port.updateHost(params.id, patch) : port.updateProxy(params.id, patch)),
          );
          return;
        }
        if (!rekey)
          throw new AppError('not_implemented', 'this server cannot reach VMs to read their host keys', {
            status: 501,
          });
        res.json(await rekey(kind, params.id, body?.fingerprint ? { expected: body.fingerprint } : {}));
      },
    }),
  );
}

function isEmpty(body: unknown): boolean {
  return body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0);
}
