import { describe, expect, it } from 'vitest';
import { ForbiddenError, NotFoundError } from '../../../src/errors.ts';
import { authorize, checkRole } from '../../../src/http/authorize.ts';
import { hostNamed, projectNamed } from '../../../src/http/locate.ts';
import type { Principal } from '../../../src/http/principal.ts';
import type { Access, Lookups, RouteInput } from '../../../src/http/route.ts';

type Input = RouteInput<{ id: string }, unknown, unknown>;

const HOSTS: Record<string, string> = { 'a-web': 'acme', 'b-web': 'bolt' };
const lookups: Lookups = {
  host: (id) => Promise.resolve(HOSTS[id] ? { project: HOSTS[id] } : undefined),
  proxy: () => Promise.resolve(undefined),
  job: () => Promise.resolve(undefined),
  token: () => Promise.resolve(undefined),
};
const token = (scope: string, role: Principal['role']): Principal => ({
  tokenId: 'tok-000000000000',
  name: `${scope}-${role}`,
  scope,
  role,
});
const input = (id: string): Input => ({ params: { id }, query: {}, body: undefined });
const byHost: Access<Input> = {
  role: 'viewer',
  scope: hostNamed((i: Input) => i.params.id, 'the host'),
};

describe('authorize', () => {
  it('refuses a role too weak with 403 naming both roles', () => {
    expect(() => checkRole({ role: 'admin', scope: 'own' }, token('acme', 'operator'))).toThrow(
      new ForbiddenError('this needs the admin role; token "acme-operator" is an operator'),
    );
    expect(() => checkRole({ public: true }, token('acme', 'viewer'))).not.toThrow();
  });

  it('answers another project’s object exactly as a missing one: 404 with its id only', async () => {
    const viewer = token('acme', 'viewer');
    await expect(authorize(byHost, viewer, input('b-web'), lookups)).rejects.toEqual(
      new NotFoundError('host', 'b-web'),
    );
    await expect(authorize(byHost, viewer, input('b-nosuch'), lookups)).rejects.toEqual(
      new NotFoundError('host', 'b-nosuch'),
    );
    await expect(authorize(byHost, viewer, input('a-web'), lookups)).resolves.toMatchObject({
      project: 'acme',
    });
  });

  it('lets a * token reach any project and names the project the request is for', async () => {
    await expect(authorize(byHost, token('*', 'viewer'), input('b-web'), lookups)).resolves.toMatchObject({
      project: 'bolt',
      owned: [{ kind: 'host', id: 'b-web', project: 'bolt' }],
    });
  });

  it('refuses service routes to project tokens, and creation in another project with 403', async () => {
    await expect(
      authorize({ role: 'viewer', scope: 'service' }, token('acme', 'admin'), input('x'), lookups),
    ).rejects.toThrow(ForbiddenError);
    const creates: Access<Input> = {
      role: 'admin',
      scope: projectNamed((i: Input) => i.params.id, 'the id', 'forbidden'),
    };
    await expect(authorize(creates, token('acme', 'admin'), input('bolt'), lookups)).rejects.toThrow(
      'token "acme-admin" is for project "acme": it cannot act on project "bolt"',
    );
    await expect(authorize(creates, token('acme', 'admin'), input('acme'), lookups)).resolves.toMatchObject({
      project: 'acme',
    });
  });

  it('holds an `own` route to the token’s project', async () => {
    await expect(
      authorize({ role: 'viewer', scope: 'own' }, token('acme', 'viewer'), input('x'), lookups),
    ).resolves.toEqual({
      project: 'acme',
      owned: [],
    });
    await expect(
      authorize({ role: 'viewer', scope: 'own' }, token('*', 'viewer'), input('x'), lookups),
    ).resolves.toEqual({
      project: undefined,
      owned: [],
    });
  });
});
