import { randomBytes } from 'node:crypto';
import os from 'node:os';
import {
  runTunnelNode,
  type TunnelNode,
  type TunnelNodeOptions,
  type WantedTunnels,
} from './run-tunnel-node.ts';
import { silentLogger, type ProxyStatus } from './tunnel-types.ts';

/** Options of {@link runProjectTunnels}; the rest is passed to every project's tunnel node. */
export interface ProjectTunnelsOptions extends Omit<
  TunnelNodeOptions,
  'listWanted' | 'privateKey' | 'nodeId'
> {
  /** Every project id. */
  listProjects: () => Promise<string[]>;
  /** The tunnels one project's proxies should carry. */
  listWanted: (project: string) => Promise<WantedTunnels[]>;
  /** The private key cloudroot accepts on the project's proxies (the project key). Never logged. */
  privateKey: (project: string) => Promise<string>;
  /** Base of the nodes' ids; each project's node is `<base>.<project>`. Default `<hostname>-<pid>-<random>`. */
  nodeId?: string;
  /** Period of the project scan (start, stop, key rotation). Default 2000 ms. */
  refreshMs?: number;
}

/** The tunnel nodes of every project in this process. */
export interface ProjectTunnels {
  /** Status of every proxy this process holds. */
  status(): ProxyStatus[];
  /** Projects with a running node. */
  projects(): string[];
  /** Runs one scan now. */
  refresh(): Promise<void>;
  /** Stops every node (their leases are released so another process takes over at once). */
  stop(): Promise<void>;
}

interface Running {
  node: TunnelNode;
  key: string;
}

/**
 * The `tunnels` role of `outpost serve`: one tunnel node per project that wants tunnels, each
 * logging in to its project's proxies with that project's key (so the keeper never holds a key a
 * proxy of another project accepts). A node starts when its project first wants a tunnel, restarts
 * when the project key is rotated, and stops when the project wants none and holds none.
 */
export function runProjectTunnels(options: ProjectTunnelsOptions): ProjectTunnels {
  const logger = options.logger ?? silentLogger;
  const base = options.nodeId ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const running = new Map<string, Running>();
  let stopped = false;
  let scanning: Promise<void> | undefined;

  const scanProject = async (project: string): Promise<void> => {
    const current = running.get(project);
    const wanted = await options.listWanted(project);
    if (wanted.length === 0) {
      if (current && current.node.held().length === 0) {
        running.delete(project);
        await current.node.stop();
      }
      return;
    }
    const key = await options.privateKey(project);
    if (current?.key === key) return;
    if (current) {
      logger.info({ project }, 'project key changed: restarting its tunnel node');
      running.delete(project);
      await current.node.stop();
    }
    if (stopped) return;
    const node = runTunnelNode({
      ...options,
      logger,
      nodeId: `${base}.${project}`,
      privateKey: key,
      listWanted: () => options.listWanted(project),
    });
    running.set(project, { node, key });
  };

  const scan = async (): Promise<void> => {
    let projects: string[];
    try {
      projects = await options.listProjects();
    } catch (error) {
      logger.error({ error: (error as Error).message }, 'cannot list projects; keeping current tunnel nodes');
      return;
    }
    for (const [project, { node }] of [...running]) {
      if (projects.includes(project)) continue;
      running.delete(project);
      await node.stop();
    }
    for (const project of projects) {
      if (stopped) return;
      await scanProject(project).catch((error: Error) =>
        logger.error({ project, error: error.message }, 'cannot start the tunnel node of a project'),
      );
    }
  };

  const refresh = (): Promise<void> => {
    scanning ??= scan().finally(() => {
      scanning = undefined;
    });
    return scanning;
  };
  const timer = setInterval(() => void refresh(), options.refreshMs ?? 2_000);
  void refresh();

  return {
    status: () => [...running.values()].flatMap(({ node }) => node.keeper.status()),
    projects: () => [...running.keys()],
    refresh,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await scanning;
      await Promise.allSettled([...running.values()].map(({ node }) => node.stop()));
      running.clear();
    },
  };
}
