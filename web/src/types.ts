/**
 * Shapes the API answers with, from the server's own definitions (type-only imports: nothing of the
 * server is bundled but the job vocabularies), plus what the API adds to them.
 */
import type { Host as RegistryHost } from '../../src/domain/host.ts';
import type { MetricsStatus } from '../../src/http/with-metrics-status.ts';

export type { Proxy } from '../../src/domain/proxy.ts';
export type { Project } from '../../src/domain/project.ts';
export type { HostSummary } from '../../src/ansible/summarize-run.ts';
export type { Principal } from '../../src/http/principal.ts';
export type { PublishedTunnelStatus as TunnelStatus } from '../../src/tunnels/read-tunnel-status.ts';
export type { Series as SeriesLine } from '../../src/metrics/host-series.ts';
export type { JobRecord as Job, JobStatus } from '../../src/queue/job-record.ts';
export { FINAL_STATUSES, JOB_KINDS, JOB_STATUSES } from '../../src/queue/job-record.ts';

/** A host as GET /v1/hosts shows it: with when InfluxDB last saw its metrics. */
export type Host = RegistryHost & { metrics?: MetricsStatus };
