import { z } from 'zod';
import { TOKEN_ID_PATTERN, tokenInputSchema, type TokenInput, type TokenRecord } from '../domain/token.ts';
import { NotFoundError } from '../errors.ts';
import { projectNamed, tokenNamed } from './locate.ts';
import { defineRoute, type Route } from './route.ts';
import type { TokenLookup } from './token-resolver.ts';

/** The token store the API uses (secrets/token-store.ts). */
export interface TokenPort extends TokenLookup {
  create(
    input: TokenInput,
    createdBy: TokenRecord['createdBy'],
  ): Promise<{ token: string; record: TokenRecord }>;
  list(): Promise<TokenRecord[]>;
  revoke(id: string): Promise<boolean>;
  revokeScope(project: string): Promise<unknown>;
}

const tokenParams = z.object({
  id: z.string().regex(TOKEN_ID_PATTERN, 'expected a token id: tok- and 12 hex digits'),
});

/**
 * `/v1/tokens`: create (the token is in that answer only), list (never a secret), revoke (at once, on
 * every node). A project admin manages its project's tokens only; only a `*` admin makes `*` tokens.
 */
export function tokenRoutes(tokens: TokenPort): Route[] {
  return [
    defineRoute({
      name: 'createToken',
      method: 'post',
      path: '/v1/tokens',
      tag: 'tokens',
      summary: 'Create a token',
      description: 'The answer holds the token: it is shown this once and stored only as a hash.',
      access: {
        role: 'admin',
        scope: projectNamed((i: { body: TokenInput }) => i.body.scope, 'the body’s `scope`', 'forbidden'),
      },
      body: tokenInputSchema,
      ok: { status: 201, description: 'The token’s record and, once, the token itself.' },
      action: 'token.create',
      async handle({ res, body, principal, audit }) {
        const { token, record } = await tokens.create(body, {
          tokenId: principal.tokenId,
          name: principal.name,
        });
        audit(`token:${record.id}`);
        res
          .status(201)
          .location(`/v1/tokens/${record.id}`)
          .json({ ...record, token });
      },
    }),
    defineRoute({
      name: 'listTokens',
      method: 'get',
      path: '/v1/tokens',
      tag: 'tokens',
      summary: 'List tokens (never their secrets)',
      description: 'A project admin lists its project’s tokens only. The service token is not listed.',
      access: { role: 'admin', scope: 'own' },
      ok: { status: 200, description: 'Live tokens, oldest first.' },
      async handle({ res, sees }) {
        res.json((await tokens.list()).filter((token) => sees(token.scope)));
      },
    }),
    defineRoute({
      name: 'revokeToken',
      method: 'delete',
      path: '/v1/tokens/:id',
      tag: 'tokens',
      summary: 'Revoke a token',
      description:
        'Refused on every node from the next request on; its console sessions and live streams end.',
      access: {
        role: 'admin',
        scope: tokenNamed((i: { params: { id: string } }) => i.params.id, 'the scope of the token `id`'),
      },
      params: tokenParams,
      ok: { status: 204, description: 'Revoked.' },
      action: 'token.revoke',
      async handle({ res, params }) {
        if (!(await tokens.revoke(params.id))) throw new NotFoundError('token', params.id);
        res.status(204).end();
      },
    }),
  ];
}
