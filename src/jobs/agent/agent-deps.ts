import type { RedisClient } from '../../redis-client.ts';
import type { AgentSettings } from '../../config.ts';
import type { InfluxStore } from '../../metrics/create-metrics-backend.ts';
import type { MetricsBackend } from '../../metrics/metrics-backend.ts';
import type { Registry } from '../../registry/registry.ts';

/** What deploy-agent and remove-agent need beyond the common JobDeps; given by main.ts (or a test). */
export interface AgentDeps {
  registry: Registry;
  /** Redis of the registry: uplink claims and the tunnel status published by tunnel nodes. */
  redis: RedisClient;
  /** Prefix of every Redis key, e.g. `outpost:`. */
  keyPrefix: string;
  /** Where first metrics are looked for. */
  metrics: MetricsBackend;
  /** InfluxDB as this machine reaches it: the target of every uplink forward. */
  influxUrl: string;
  /** The store the agents write to (database, or org/bucket/token) and its credentials. */
  influx: InfluxStore;
  settings: AgentSettings;
}
