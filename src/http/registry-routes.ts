import { z } from 'zod';
import { hostInputSchema, type Host } from '../domain/host.ts';
import { projectInputSchema } from '../domain/project.ts';
import { proxyInputSchema, type Proxy } from '../domain/proxy.ts';
import { describeProxyOverlaps } from '../domain/proxy-overlaps.ts';
import { AppError } from '../errors.ts';
import type { RenderedInventory } from '../inventory/render-inventory.ts';
import type { LastSeen } from '../metrics/cache-last-seen.ts';
import { idSchema } from './job-input.ts';
import { selectorNetworkSchema } from './job-input-guards.ts';
import { hostNamed, projectNamed, proxyNamed } from './locate.ts';
import type { RegistryPort } from './registry-port.ts';
import { defineRoute, type Locator, type Owned, type Route } from './route.ts';
import { withMetricsStatus } from './with-metrics-status.ts';

/** Extra read-only views of a project, given by main.ts when the reach part provides them. */
export interface ProjectViews {
  /** The generated inventory YAML of a project. */
  inventoryYaml?(project: string): Promise<string>;
  /** A project's inventory files rendered for `dir` on the client's machine (nothing written here). */
  inventoryFiles?(project: string, dir: string): Promise<RenderedInventory>;
  /** The enroll script a user runs on a VM. */
  enrollScript?(project: string): Promise<string>;
  /** When each host's metrics were last seen in InfluxDB (a live query, cached briefly). */
  lastSeen?(): Promise<LastSeen>;
}

const projectQuery = z.object({ project: idSchema.optional() }).strict();
// The directory is checked again (safe characters, absolute) when the paths are built.
const filesQuery = z
  .object({ dir: z.string().min(1).max(400).startsWith('/', 'expected an absolute path') })
  .strict();
const hostQuery = z
  .object({
    project: idSchema.optional(),
    proxy: idSchema.optional(),
    network: selectorNetworkSchema.optional(),
  })
  .strict();
const idParams = z.object({ id: idSchema });
const projectParams = z.object({ project: idSchema });

type ById = { params: { id: string } };
const projectById = projectNamed<ById>((i) => i.params.id, 'the project `id`');
const projectByParam = projectNamed<{ params: { project: string } }>(
  (i) => i.params.project,
  'the project `project`',
);
const hostById = hostNamed<ById>((i) => i.params.id, 'the project of the host `id`');
const proxyById = proxyNamed<ById>((i) => i.params.id, 'the project of the proxy `id`');
const bodyProject = projectNamed<{ body: { project: string } }>(
  (i) => i.body.project,
  'the body’s `project`',
);
/** A new host's project, and its explicit proxy, which must be of the same project. */
const newHost: Locator<{ body: z.output<typeof hostInputSchema> }> = {
  describe: 'the body’s `project` (and its `proxy`, when named)',
  async locate({ body }, lookups) {
    const owned: Owned[] = [{ kind: 'project', id: body.project, project: body.project }];
    if (body.proxy)
      owned.push({ kind: 'proxy', id: body.proxy, project: (await lookups.proxy(body.proxy))?.project });
    return owned;
  },
};

/** Hooks of the registry routes. */
export interface RegistryHooks {
  /** A project was deleted: its tokens are revoked (a project made again later must not inherit them). */
  onProjectDeleted?(project: string): Promise<unknown>;
}

/** `/v1/projects`, `/v1/proxies`, `/v1/hosts`, `/v1/inventories/:project`: create, list, show, delete. */
export function registryRoutes(
  registry: RegistryPort | undefined,
  views: ProjectViews = {},
  hooks: RegistryHooks = {},
): Route[] {
  const need = (): RegistryPort => {
    if (!registry)
      throw new AppError('not_implemented', 'the registry is not available on this server', { status: 501 });
    return registry;
  };
  const missing = (what: string): AppError =>
    new AppError('not_implemented', `${what} are not available yet`, { status: 501 });
  const project = (entity: unknown): string | undefined => (entity as { project?: string }).project;

  return [
    defineRoute({
      name: 'createProject',
      method: 'post',
      path: '/v1/projects',
      tag: 'registry',
      summary: 'Create a project',
      description: 'A project token may create only its own project (a token made before the project).',
      access: {
        role: 'admin',
        scope: projectNamed((i: { body: { id: string } }) => i.body.id, 'the body’s `id`', 'forbidden'),
      },
      body: projectInputSchema,
      ok: { status: 201, description: 'The project, with its public keys.' },
      errors: [409, 501],
      action: 'project.create',
      async handle({ res, body }) {
        res.status(201).json(await need().createProject(body));
      },
    }),
    defineRoute({
      name: 'listProjects',
      method: 'get',
      path: '/v1/projects',
      tag: 'registry',
      summary: 'List projects',
      description: 'A project token lists its own project only.',
      access: { role: 'viewer', scope: 'own' },
      ok: { status: 200, description: 'Projects.' },
      errors: [501],
      async handle({ res, sees }) {
        res.json((await need().listProjects()).filter((p) => sees((p as { id: string }).id)));
      },
    }),
    defineRoute({
      name: 'getProject',
      method: 'get',
      path: '/v1/projects/:id',
      tag: 'registry',
      summary: 'Show a project',
      access: { role: 'viewer', scope: projectById },
      params: idParams,
      ok: { status: 200, description: 'The project.' },
      errors: [501],
      async handle({ res, params }) {
        res.json(await need().getProject(params.id));
      },
    }),
    defineRoute({
      name: 'deleteProject',
      method: 'delete',
      path: '/v1/projects/:id',
      tag: 'registry',
      summary: 'Delete an empty project',
      description: 'Its tokens are revoked with it.',
      access: { role: 'admin', scope: projectById },
      params: idParams,
      ok: { status: 204, description: 'Deleted.' },
      errors: [409, 501],
      action: 'project.delete',
      async handle({ res, params }) {
        await need().deleteProject(params.id);
        await hooks.onProjectDeleted?.(params.id);
        res.status(204).end();
      },
    }),
    defineRoute({
      name: 'getEnrollScript',
      method: 'get',
      path: '/v1/projects/:id/enroll-script',
      tag: 'registry',
      summary: 'The enrollment script of a project',
      description: 'A shell script to run as root on a VM: it creates `cloudroot` with the project’s keys.',
      access: { role: 'operator', scope: projectById },
      params: idParams,
      ok: { status: 200, description: 'The script.', type: 'text/x-shellscript' },
      errors: [501],
      async handle({ res, params }) {
        await need().getProject(params.id);
        if (!views.enrollScript) throw missing('enroll scripts');
        res.type('text/x-shellscript').send(await views.enrollScript(params.id));
      },
    }),
    defineRoute({
      name: 'getInventory',
      method: 'get',
      path: '/v1/inventories/:project',
      tag: 'registry',
      summary: 'The inventory of a project, as YAML',
      access: { role: 'viewer', scope: projectByParam },
      params: projectParams,
      ok: { status: 200, description: 'hosts.yml of the project.', type: 'application/yaml' },
      errors: [501],
      async handle({ res, params }) {
        await need().getProject(params.project);
        if (!views.inventoryYaml) throw missing('inventories');
        res.type('application/yaml').send(await views.inventoryYaml(params.project));
      },
    }),
    defineRoute({
      name: 'getInventoryFiles',
      method: 'get',
      path: '/v1/inventories/:project/files',
      tag: 'registry',
      summary: 'The inventory files of a project, rendered for a directory',
      description: 'They hold the project’s private key, so they are for admins.',
      access: { role: 'admin', scope: projectByParam },
      params: projectParams,
      query: filesQuery,
      ok: { status: 200, description: 'Directories and files (path, content, mode) to write under `dir`.' },
      errors: [501],
      async handle({ res, params, query }) {
        await need().getProject(params.project);
        if (!views.inventoryFiles) throw missing('inventories');
        res.json(await views.inventoryFiles(params.project, query.dir));
      },
    }),
    defineRoute({
      name: 'createProxy',
      method: 'post',
      path: '/v1/proxies',
      tag: 'registry',
      summary: 'Add a proxy node',
      access: { role: 'admin', scope: bodyProject },
      body: proxyInputSchema,
      ok: { status: 201, description: 'The proxy, with `warnings` when its networks overlap others’.' },
      errors: [409, 501],
      action: 'proxy.create',
      async handle({ res, body, audit }) {
        audit(`proxy:${body.id}`);
        const proxy = (await need().createProxy(body)) as Proxy;
        const [proxies, hosts] = await Promise.all([
          need().listProxies({ project: proxy.project }),
          need().listHosts({ project: proxy.project }),
        ]);
        const warnings = describeProxyOverlaps(proxy, proxies as Proxy[], hosts as Host[]);
        res.status(201).json(warnings.length > 0 ? { ...proxy, warnings } : proxy);
      },
    }),
    defineRoute({
      name: 'listProxies',
      method: 'get',
      path: '/v1/proxies',
      tag: 'registry',
      summary: 'List proxies',
      description: 'A project token lists its project’s proxies only.',
      access: { role: 'viewer', scope: 'own' },
      query: projectQuery,
      ok: { status: 200, description: 'Proxies.' },
      errors: [501],
      async handle({ res, query, project: own, sees }) {
        // A project token's list reads its project's index only, never another project's entities.
        if (!sees(query.project ?? own)) {
          res.json([]);
          return;
        }
        const filter = { ...query, ...(own ? { project: own } : {}) };
        res.json((await need().listProxies(filter)).filter((proxy) => sees(project(proxy))));
      },
    }),
    defineRoute({
      name: 'getProxy',
      method: 'get',
      path: '/v1/proxies/:id',
      tag: 'registry',
      summary: 'Show a proxy',
      access: { role: 'viewer', scope: proxyById },
      params: idParams,
      ok: { status: 200, description: 'The proxy.' },
      errors: [501],
      async handle({ res, params }) {
        res.json(await need().getProxy(params.id));
      },
    }),
    defineRoute({
      name: 'deleteProxy',
      method: 'delete',
      path: '/v1/proxies/:id',
      tag: 'registry',
      summary: 'Delete a proxy',
      access: { role: 'admin', scope: proxyById },
      params: idParams,
      ok: { status: 204, description: 'Deleted.' },
      errors: [409, 501],
      action: 'proxy.delete',
      async handle({ res, params }) {
        await need().deleteProxy(params.id);
        res.status(204).end();
      },
    }),
    defineRoute({
      name: 'createHost',
      method: 'post',
      path: '/v1/hosts',
      tag: 'registry',
      summary: 'Add a host',
      access: { role: 'admin', scope: newHost },
      body: hostInputSchema,
      ok: { status: 201, description: 'The host.' },
      errors: [409, 501],
      action: 'host.create',
      async handle({ res, body, audit }) {
        audit(`host:${body.id}`);
        res.status(201).json(await need().createHost(body));
      },
    }),
    defineRoute({
      name: 'listHosts',
      method: 'get',
      path: '/v1/hosts',
      tag: 'registry',
      summary: 'List hosts, with when their metrics were last seen',
      description: 'A project token lists its project’s hosts only.',
      access: { role: 'viewer', scope: 'own' },
      query: hostQuery,
      ok: { status: 200, description: 'Hosts.' },
      errors: [501],
      async handle({ res, query, project: own, sees }) {
        if (!sees(query.project ?? own)) {
          res.json([]);
          return;
        }
        const filter = { ...query, ...(own ? { project: own } : {}) };
        const hosts = (await need().listHosts(filter)).filter((host) => sees(project(host)));
        res.json(views.lastSeen ? withMetricsStatus(hosts, await views.lastSeen()) : hosts);
      },
    }),
    defineRoute({
      name: 'getHost',
      method: 'get',
      path: '/v1/hosts/:id',
      tag: 'registry',
      summary: 'Show a host',
      access: { role: 'viewer', scope: hostById },
      params: idParams,
      ok: { status: 200, description: 'The host.' },
      errors: [501],
      async handle({ res, params }) {
        const host = await need().getHost(params.id);
        res.json(views.lastSeen ? withMetricsStatus([host], await views.lastSeen())[0] : host);
      },
    }),
    defineRoute({
      name: 'deleteHost',
      method: 'delete',
      path: '/v1/hosts/:id',
      tag: 'registry',
      summary: 'Delete a host',
      access: { role: 'admin', scope: hostById },
      params: idParams,
      ok: { status: 204, description: 'Deleted.' },
      errors: [501],
      action: 'host.delete',
      async handle({ res, params }) {
        await need().deleteHost(params.id);
        res.status(204).end();
      },
    }),
  ];
}
