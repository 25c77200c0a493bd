import { AppError } from '../../errors.ts';
import type { AgentDeps } from './agent-deps.ts';
import type { JobDeps } from '../runtime/job-deps.ts';

/** The agent part of `deps`; fails the job with a clear reason on a worker without InfluxDB settings. */
export function requireAgentDeps(deps: JobDeps): AgentDeps {
  if (!deps.agent)
    throw new AppError(
      'metrics_unavailable',
      'this worker has no InfluxDB: set OUTPOST_INFLUX_URL, or install influxd so `outpost serve` starts one',
    );
  return deps.agent;
}
