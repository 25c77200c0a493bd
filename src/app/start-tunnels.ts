import { listWantedUplinks } from '../jobs/agent/list-wanted-uplinks.ts';
import { runProjectTunnels } from '../tunnels/run-project-tunnels.ts';
import type { RoleContext } from './role-context.ts';

/**
 * The tunnels role: one tunnel node per project fed from the registry, holding the uplink forwards of
 * proxies whose hosts are monitored through them. Holds nothing without InfluxDB to forward to.
 */
export function startTunnels({ config, core, side, logger, stack }: RoleContext): void {
  const agent = side.agent;
  if (!agent) {
    logger.warn('tunnels role: no InfluxDB to forward uplinks to; no tunnels are held');
    return;
  }
  const tunnels = runProjectTunnels({
    redis: core.redis,
    keyPrefix: config.redisPrefix,
    logger,
    listProjects: async () => (await core.registry.listProjects()).map((p) => p.id),
    listWanted: (project) => listWantedUplinks(agent, project),
    privateKey: (project) => core.keys.projectPrivateKey(project),
  });
  stack.push('tunnels', () => tunnels.stop());
  logger.info('tunnels role: holding uplink forwards for monitored hosts behind proxies');
}
