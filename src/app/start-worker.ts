import path from 'node:path';
import { runPlaybook } from '../ansible/run-playbook.ts';
import { createExecuteJob } from '../jobs/runtime/create-execute-job.ts';
import { planSlices } from '../jobs/runtime/plan-slices.ts';
import { startJobWorker, type JobWorker } from '../queue/job-worker.ts';
import { auditJobEnd } from './audit-job-end.ts';
import type { RoleContext } from './role-context.ts';

/** The worker role: takes jobs from the queue on its own Redis connection and runs them. */
export async function startWorker({
  config,
  core,
  side,
  metrics,
  logger,
  stack,
}: RoleContext): Promise<JobWorker> {
  const connection = core.connect();
  stack.push('worker redis connection', () => connection.quit().catch(() => connection.disconnect()));
  const runsDir = path.join(config.varDir, 'runs');
  const worker = await startJobWorker({
    redis: connection,
    store: core.store,
    logs: core.logs,
    logger,
    prefix: config.redisPrefix,
    concurrency: config.workerConcurrency,
    runsDir,
    runRetention: { maxAgeDays: config.runsKeepDays, maxCount: config.runsKeepCount },
    sealer: core.sealer,
    heartbeatMs: config.workerHeartbeatMs,
    graceMs: config.shutdownGraceSeconds * 1000,
    execute: createExecuteJob({
      prepareInventory: core.prepareInventory,
      rootDir: config.rootDir,
      runsDir,
      allowLocal: config.allowLocalRuns,
      runPlaybook,
      killGraceMs: config.killGraceMs,
      ansibleStrategy: config.ansibleStrategy,
      registry: core.registry,
      keys: core.keys,
      ...(side.agent ? { agent: side.agent } : {}),
    }),
    planSlices: (job) => planSlices(core.registry, job),
    onJobEnd: (outcome, seconds, jobId) => {
      metrics.observeRun(outcome.status, seconds);
      void auditJobEnd({ audit: core.audit, store: core.store, logger }, jobId, outcome);
    },
  });
  stack.push('worker', () => worker.close());
  logger.info({ worker: worker.id, concurrency: config.workerConcurrency }, 'worker started');
  return worker;
}
