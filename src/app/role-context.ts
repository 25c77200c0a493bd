import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { ServiceMetrics } from '../http/service-metrics.ts';
import type { Core } from './open-core.ts';
import type { ShutdownStack } from './shutdown-stack.ts';
import type { AgentSide } from './start-agent-side.ts';

/** What every role is started with: the config, the shared core and agent side, metrics, the log, the stop stack. */
export interface RoleContext {
  config: Config;
  core: Core;
  side: AgentSide;
  metrics: ServiceMetrics;
  logger: Logger;
  /** A started role pushes its stop here. */
  stack: ShutdownStack;
}
