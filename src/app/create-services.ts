import { pino, type Logger } from 'pino';
import type { Config } from '../config.ts';
import { ServiceMetrics } from '../http/service-metrics.ts';
import { readTunnelStatus } from '../tunnels/index.ts';
import { openCore } from './open-core.ts';
import { ShutdownStack } from './shutdown-stack.ts';
import { startAgentSide } from './start-agent-side.ts';
import { startApi } from './start-api.ts';
import { startTunnels } from './start-tunnels.ts';
import { startWatch } from './start-watch.ts';
import { startWorker } from './start-worker.ts';
import type { JobWorker } from '../queue/job-worker.ts';

/** What one `outpost serve` process runs. */
export type Role = 'api' | 'worker' | 'tunnels';

/** Options of {@link createServices}. */
export interface ServicesOptions {
  roles: readonly Role[];
  /** Default: pino on stdout at config.logLevel. */
  logger?: Logger;
  /** Told once about an API token generated at this start. Default: nothing is shown (it is in the file). */
  announceToken?: (token: string, file: string) => void;
}

/** The running service, started and stopped as one. */
export interface Services {
  /**
   * Starts the shared core (Redis, InfluxDB), then tunnels, api, worker. When a step fails, stops what
   * had started and rejects with the reason.
   */
  start(): Promise<void>;
  /**
   * Stops in the reverse order: the worker first (it takes no new job and lets running ones finish within
   * config.shutdownGraceSeconds, then stops them: re-queued when safe to re-run, else failed), then the
   * API (live streams end; it answers until then), tunnels (uplinks stay up while jobs finish), InfluxDB
   * and Redis. Safe to call twice.
   */
  stop(): Promise<void>;
  /** Ends the worker's grace period of a `stop()` at once (an impatient second signal). */
  endGrace(): void;
  /** The API's base URL once started with the api role (its port when config.httpPort is 0). */
  readonly url: string | undefined;
  readonly logger: Logger;
}

/** The composition root of `outpost serve` for one config; main.ts owns signals and the process. */
export function createServices(config: Config, options: ServicesOptions): Services {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { roles: options.roles.join(',') } });
  const stack = new ShutdownStack();
  let url: string | undefined;
  let started: Promise<void> | undefined;
  let worker: JobWorker | undefined;

  async function startAll(): Promise<void> {
    const core = await openCore(config, logger, stack);
    const side = await startAgentSide(config, core, logger, stack);
    const metrics = new ServiceMetrics({
      jobsByStatus: () => core.store.countByStatus(),
      queueDepth: () => core.queue.depth(),
      tunnelsUp: async () => {
        const proxies = await core.registry.listProxies();
        const statuses = await Promise.all(
          proxies.map((p) => readTunnelStatus(core.redis, config.redisPrefix, p.id)),
        );
        return statuses.reduce(
          (sum, status) => sum + (status?.forwards.filter((f) => f.state === 'up').length ?? 0),
          0,
        );
      },
    });
    const context = { config, core, side, metrics, logger, stack };
    if (options.roles.includes('tunnels')) startTunnels(context);
    if (options.roles.includes('api')) url = await startApi(context, options.announceToken ?? (() => {}));
    if (options.roles.includes('worker')) {
      worker = await startWorker(context);
      await startWatch(context);
    }
  }

  return {
    get url() {
      return url;
    },
    logger,
    start() {
      started ??= startAll().catch(async (error: unknown) => {
        logger.error({ err: error }, 'start failed; stopping what had started');
        await stack.unwind(logger);
        throw error;
      });
      return started;
    },
    async stop() {
      await started?.catch(() => undefined);
      await stack.unwind(logger);
      logger.info('stopped');
    },
    endGrace() {
      worker?.endGrace();
    },
  };
}
