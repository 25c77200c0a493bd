import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { AgentDeps } from '../jobs/agent/agent-deps.ts';
import { cacheLastSeen, type LastSeen } from '../metrics/cache-last-seen.ts';
import { createMetricsBackend } from '../metrics/create-metrics-backend.ts';
import { ensureEmbeddedInfluxd } from '../metrics/ensure-embedded-influxd.ts';
import type { Core } from './open-core.ts';
import type { ShutdownStack } from './shutdown-stack.ts';

/** The monitoring side every role shares: InfluxDB and the deploy's agent deps. */
export interface AgentSide {
  /** For deploy-agent, remove-agent and the tunnels; undefined when no InfluxDB is configured or can be started. */
  agent: AgentDeps | undefined;
  /** Last time each host's metrics were seen (cached 5 s); undefined without InfluxDB. */
  lastSeen: (() => Promise<LastSeen>) | undefined;
}

/**
 * Connects to InfluxDB (or starts an embedded `influxd` under `var/influxdb` when OUTPOST_INFLUX_URL is
 * unset) and creates the database/bucket when missing. Without InfluxDB the rest of Outpost still works:
 * deploys then fail saying why.
 */
export async function startAgentSide(
  config: Config,
  core: Core,
  logger: Logger,
  stack: ShutdownStack,
): Promise<AgentSide> {
  let influxUrl = config.influxUrl;
  if (!influxUrl) {
    const embedded = await ensureEmbeddedInfluxd({
      dir: path.join(config.varDir, 'influxdb'),
      bindAddress: config.agent.influxBind,
      port: config.agent.influxPort,
      rpcPort: config.agent.influxRpcPort,
    }).catch((error: Error) => {
      logger.error({ error: error.message }, 'embedded influxd did not start');
      return undefined;
    });
    if (embedded) {
      stack.push('embedded influxd', () => embedded.stop());
      logger.info({ url: embedded.url, origin: embedded.origin, pid: embedded.pid }, 'embedded influxd');
    } else {
      logger.warn(
        'no InfluxDB: OUTPOST_INFLUX_URL is unset and influxd is not installed; deploys cannot verify',
      );
    }
    influxUrl = embedded?.url;
  }
  if (!influxUrl) return { agent: undefined, lastSeen: undefined };
  const metrics = createMetricsBackend(influxUrl, config.influx);
  await metrics
    .ensureStore()
    .catch((error: Error) =>
      logger.warn({ error: error.message }, 'InfluxDB store not ensured yet; each deploy tries again'),
    );
  const agent: AgentDeps = {
    registry: core.registry,
    redis: core.redis,
    keyPrefix: config.redisPrefix,
    metrics,
    influxUrl,
    influx: config.influx,
    settings: config.agent,
  };
  logger.info(
    { influx: influxUrl, agentUrl: config.agent.influxAgentUrl ?? null, uplinkPort: config.agent.uplinkPort },
    'agent deploys: InfluxDB configured',
  );
  return { agent, lastSeen: cacheLastSeen(agent.metrics) };
}
