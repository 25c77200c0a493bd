import { Router } from 'express';
import { z } from 'zod';
import type { Host } from '../domain/host.ts';
import type { Proxy } from '../domain/proxy.ts';
import { describeProxyOverlaps } from '../domain/proxy-overlaps.ts';
import { AppError } from '../errors.ts';
import type { RenderedInventory } from '../inventory/render-inventory.ts';
import type { LastSeen } from '../metrics/cache-last-seen.ts';
import { idSchema } from './job-input.ts';
import { selectorNetworkSchema } from './job-input-guards.ts';
import { parseInput } from './parse-input.ts';
import type { RegistryPort } from './registry-port.ts';
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

/** `/v1/projects`, `/v1/proxies`, `/v1/hosts`, `/v1/inventories/:project`: create, list, show, delete. */
export function registryRoutes(registry: RegistryPort | undefined, views: ProjectViews = {}): Router {
  const router = Router();
  const need = (): RegistryPort => {
    if (!registry)
      throw new AppError('not_implemented', 'the registry is not available on this server', { status: 501 });
    return registry;
  };
  const id = (raw: unknown): string => parseInput(idSchema, raw, 'id');

  router.post('/projects', async (req, res) => {
    res.status(201).json(await need().createProject(req.body as unknown));
  });
  router.get('/projects', async (req, res) => {
    parseInput(z.object({}).strict(), req.query, 'query');
    res.json(await need().listProjects());
  });
  router.get('/projects/:id', async (req, res) => {
    res.json(await need().getProject(id(req.params.id)));
  });
  router.delete('/projects/:id', async (req, res) => {
    await need().deleteProject(id(req.params.id));
    res.status(204).end();
  });
  router.get('/projects/:id/enroll-script', async (req, res) => {
    const project = id(req.params.id);
    await need().getProject(project);
    if (!views.enrollScript)
      throw new AppError('not_implemented', 'enroll scripts are not available yet', { status: 501 });
    res.type('text/x-shellscript').send(await views.enrollScript(project));
  });
  router.get('/inventories/:project', async (req, res) => {
    const project = parseInput(idSchema, req.params.project, 'project');
    await need().getProject(project);
    if (!views.inventoryYaml)
      throw new AppError('not_implemented', 'inventories are not available yet', { status: 501 });
    res.type('application/yaml').send(await views.inventoryYaml(project));
  });
  router.get('/inventories/:project/files', async (req, res) => {
    const project = parseInput(idSchema, req.params.project, 'project');
    const { dir } = parseInput(filesQuery, req.query, 'query');
    await need().getProject(project);
    if (!views.inventoryFiles)
      throw new AppError('not_implemented', 'inventories are not available yet', { status: 501 });
    res.json(await views.inventoryFiles(project, dir));
  });

  router.post('/proxies', async (req, res) => {
    const proxy = (await need().createProxy(req.body as unknown)) as Proxy;
    const [proxies, hosts] = await Promise.all([
      need().listProxies({ project: proxy.project }),
      need().listHosts({ project: proxy.project }),
    ]);
    const warnings = describeProxyOverlaps(proxy, proxies as Proxy[], hosts as Host[]);
    res.status(201).json(warnings.length > 0 ? { ...proxy, warnings } : proxy);
  });
  router.get('/proxies', async (req, res) => {
    const filter = parseInput(projectQuery, req.query, 'query');
    res.json(await need().listProxies(filter));
  });
  router.get('/proxies/:id', async (req, res) => {
    res.json(await need().getProxy(id(req.params.id)));
  });
  router.delete('/proxies/:id', async (req, res) => {
    await need().deleteProxy(id(req.params.id));
    res.status(204).end();
  });

  router.post('/hosts', async (req, res) => {
    res.status(201).json(await need().createHost(req.body as unknown));
  });
  router.get('/hosts', async (req, res) => {
    const filter = parseInput(hostQuery, req.query, 'query');
    const hosts = await need().listHosts(filter);
    res.json(views.lastSeen ? withMetricsStatus(hosts, await views.lastSeen()) : hosts);
  });
  router.get('/hosts/:id', async (req, res) => {
    const host = await need().getHost(id(req.params.id));
    res.json(views.lastSeen ? withMetricsStatus([host], await views.lastSeen())[0] : host);
  });
  router.delete('/hosts/:id', async (req, res) => {
    await need().deleteHost(id(req.params.id));
    res.status(204).end();
  });
  return router;
}
