import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { AgentDeps } from './jobs/agent/agent-deps.ts';
import { listWantedUplinks } from './jobs/agent/list-wanted-uplinks.ts';
import { cacheLastSeen, type LastSeen } from './metrics/cache-last-seen.ts';
import { createMetricsBackend } from './metrics/create-metrics-backend.ts';
import { ensureEmbeddedInfluxd, type EmbeddedInflux } from './metrics/ensure-embedded-influxd.ts';
import type { Registry } from './registry/registry.ts';
import type { KeyStore } from './secrets/key-store.ts';
import { readTunnelStatus } from './tunnels/index.ts';
import { runProjectTunnels, type ProjectTunnels } from './tunnels/run-project-tunnels.ts';

/** The monitoring side of `outpost serve`: InfluxDB, the deploy's agent deps, the tunnels role. */
export interface AgentServices {
  /** For deploy-agent and remove-agent; undefined when no InfluxDB is configured or can be started. */
  agent: AgentDeps | undefined;
  /** Last time each host's metrics were seen (cached 5 s); undefined without InfluxDB. */
  lastSeen: (() => Promise<LastSeen>) | undefined;
  /** Uplink forwards up across every tunnel node (read from Redis). */
  tunnelsUp(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Connects (or starts an embedded `influxd` under `var/influxdb` when OUTPOST_INFLUX_URL is unset),
 * creates the database/bucket when missing, and with the `tunnels` role runs one tunnel node per
 * project fed from the registry: the uplink forwards of proxies whose hosts are monitored through them.
 */
export async function startAgentServices(options: {
  config: Config;
  redis: Redis;
  keyPrefix: string;
  registry: Registry;
  keys: KeyStore;
  logger: Logger;
  tunnels: boolean;
}): Promise<AgentServices> {
  const { config, redis, keyPrefix, registry, logger } = options;
  let embedded: EmbeddedInflux | undefined;
  let influxUrl = config.influxUrl;
  if (!influxUrl) {
    // Without InfluxDB the rest of Outpost still works: deploys then fail saying why.
    embedded = await ensureEmbeddedInfluxd({
      dir: path.join(config.varDir, 'influxdb'),
      bindAddress: config.agent.influxBind,
      port: config.agent.influxPort,
      rpcPort: config.agent.influxRpcPort,
    }).catch((error: Error) => {
      logger.error({ error: error.message }, 'embedded influxd did not start');
      return undefined;
    });
    if (embedded) logger.info({ url: embedded.url, started: embedded.started }, 'embedded influxd');
    else
      logger.warn(
        'no InfluxDB: OUTPOST_INFLUX_URL is unset and influxd is not installed; deploys cannot verify',
      );
    influxUrl = embedded?.url;
  }
  let agent: AgentDeps | undefined;
  if (influxUrl) {
    const metrics = createMetricsBackend(influxUrl, config.influx);
    await metrics
      .ensureStore()
      .catch((error: Error) =>
        logger.warn({ error: error.message }, 'InfluxDB store not ensured yet; each deploy tries again'),
      );
    agent = { registry, redis, keyPrefix, metrics, influxUrl, influx: config.influx, settings: config.agent };
    logger.info(
      {
        influx: influxUrl,
        agentUrl: config.agent.influxAgentUrl ?? null,
        uplinkPort: config.agent.uplinkPort,
      },
      'agent deploys: InfluxDB configured',
    );
  }

  let tunnels: ProjectTunnels | undefined;
  if (options.tunnels && agent) {
    const deps = agent;
    tunnels = runProjectTunnels({
      redis,
      keyPrefix,
      logger,
      listProjects: async () => (await registry.listProjects()).map((p) => p.id),
      listWanted: (project) => listWantedUplinks(deps, project),
      privateKey: (project) => options.keys.projectPrivateKey(project),
    });
    logger.info('tunnels role: holding uplink forwards for monitored hosts behind proxies');
  } else if (options.tunnels) {
    logger.warn('tunnels role: no InfluxDB to forward uplinks to; no tunnels are held');
  }

  return {
    agent,
    lastSeen: agent ? cacheLastSeen(agent.metrics) : undefined,
    async tunnelsUp() {
      const proxies = await registry.listProxies();
      const statuses = await Promise.all(proxies.map((p) => readTunnelStatus(redis, keyPrefix, p.id)));
      return statuses.reduce(
        (sum, status) => sum + (status?.forwards.filter((f) => f.state === 'up').length ?? 0),
        0,
      );
    },
    async stop() {
      await tunnels?.stop();
      await embedded?.stop();
    },
  };
}
