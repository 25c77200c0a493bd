import type { AgentDeps } from '../jobs/agent/agent-deps.ts';
import { planWantedUplinks } from '../jobs/agent/list-wanted-uplinks.ts';
import { memoizeByProject } from '../registry/memoize-by-project.ts';
import { RegistryChanges } from '../registry/registry-changes.ts';
import type { KeyStore } from '../secrets/key-store.ts';
import { runProjectTunnels, type ProjectTunnels } from '../tunnels/run-project-tunnels.ts';
import type { TunnelLogger } from '../tunnels/tunnel-types.ts';
import type { RoleContext } from './role-context.ts';

/**
 * The tunnels role: one tunnel node per project fed from the registry, holding the uplink forwards of
 * proxies whose hosts are monitored through them. Holds nothing without InfluxDB to forward to.
 */
export function startTunnels({ core, side, logger, stack }: RoleContext): void {
  const agent = side.agent;
  if (!agent) {
    logger.warn('tunnels role: no InfluxDB to forward uplinks to; no tunnels are held');
    return;
  }
  const tunnels = runRegistryTunnels({ agent, keys: core.keys, logger });
  stack.push('tunnels', () => tunnels.stop());
  logger.info('tunnels role: holding uplink forwards for monitored hosts behind proxies');
}

/**
 * Runs the tunnel nodes of every project as the registry wants them. A project is read again only when
 * its registry version moved (or a claim on one of its proxies ran out), so while nothing changes the
 * nodes cost Redis one GET of the registry version per tick, whatever the size of the fleet.
 */
export function runRegistryTunnels(input: {
  agent: AgentDeps;
  keys: Pick<KeyStore, 'projectPrivateKey'>;
  logger: TunnelLogger;
}): ProjectTunnels {
  const { agent, keys, logger } = input;
  const changes = new RegistryChanges(agent.redis, agent.keyPrefix);
  return runProjectTunnels({
    redis: agent.redis,
    keyPrefix: agent.keyPrefix,
    logger,
    listProjects: async () => [...(await changes.snapshot()).projects.keys()],
    listWanted: memoizeByProject(changes, (project) => planWantedUplinks(agent, project)),
    privateKey: memoizeByProject(changes, async (project) => ({
      value: await keys.projectPrivateKey(project),
    })),
  });
}
