import path from 'node:path';
import { selectProxy } from '../domain/select-proxy.ts';
import { buildWatchPayload } from '../jobs/agent/build-watch-payload.ts';
import { createHealer } from '../jobs/agent/create-healer.ts';
import { createOpenAlerts } from '../jobs/agent/create-open-alerts.ts';
import { createSilenceChecks } from '../jobs/agent/create-silence-checks.ts';
import { postWebhook, webhookTarget } from '../jobs/agent/post-webhook.ts';
import { watchAgents } from '../jobs/agent/watch-agents.ts';
import { withScratchInventory } from '../jobs/runtime/with-scratch-inventory.ts';
import { startWatchQueue } from '../queue/watch-queue.ts';
import type { RoleContext } from './role-context.ts';

// A silent host whose VM answered: a redeploy may bring its agent back.
const HEALABLE = new Set(['agent-not-running', 'unknown']);

/**
 * The agent watch, on worker nodes with InfluxDB: every `watch.intervalSeconds`, one watch run (see
 * watchAgents) over every project; transitions go to the event stream (through the registry), to the
 * webhook when one is configured, and silent hosts of heal projects are redeployed.
 */
export async function startWatch({ config, core, side, logger, stack }: RoleContext): Promise<void> {
  const settings = config.watch;
  const agent = side.agent;
  if (settings.intervalSeconds === 0 || !agent) {
    logger.info(
      agent ? 'agent watch off (OUTPOST_WATCH_INTERVAL_SECONDS=0)' : 'agent watch off: no InfluxDB',
    );
    return;
  }
  const healer = createHealer({
    redis: core.redis,
    keyPrefix: config.redisPrefix,
    healAfterMs: settings.healSeconds * 1000,
    submit: async (project, hosts) =>
      (await core.queue.submit({ kind: 'deploy-agent', project, hosts })).job.id,
  });
  const alerts = createOpenAlerts(core.redis, config.redisPrefix);
  const heals = (project: string): boolean =>
    settings.healProjects === '*' || settings.healProjects.includes(project);

  const runWatch = async (): Promise<unknown[]> => {
    const found = await watchAgents({
      registry: core.registry,
      metrics: agent.metrics,
      alerts,
      silentAfterMs: settings.silentSeconds * 1000,
      withChecks: async (project, hosts, proxies, work) =>
        withScratchInventory(
          {
            dir: path.join(config.varDir, 'watch', project),
            project,
            hosts,
            proxies,
            keys: { project: await core.keys.projectPrivateKey(project) },
          },
          (written) =>
            work(
              createSilenceChecks({
                metrics: agent.metrics,
                redis: core.redis,
                keyPrefix: config.redisPrefix,
                sshConfig: written.sshConfig,
                proxyOf: (host) => selectProxy(host, proxies),
              }),
            ),
        ),
    });
    for (const [project, transitions] of found) {
      for (const t of transitions)
        logger.info({ host: t.host, project, from: t.from, to: t.to, cause: t.cause }, 'agent state changed');
      await healer.forget(transitions.filter((t) => t.to !== 'silent').map((t) => t.host));
    }
    await healSilent();
    return [...found].map(([project, transitions]) => buildWatchPayload(project, transitions));
  };

  /** Redeploys the silent hosts of heal projects whose VM answered (now or when they went silent). */
  const healSilent = async (): Promise<void> => {
    for (const project of await core.registry.listProjects()) {
      if (!heals(project.id)) continue;
      const silent = (await core.registry.listHosts({ project: project.id })).filter(
        (host) => host.agent.state === 'silent' && HEALABLE.has(host.agent.cause ?? ''),
      );
      const healed = await healer
        .heal(
          project.id,
          silent.map((host) => host.id),
        )
        .catch((error: unknown) => {
          logger.error({ err: error, project: project.id }, 'heal not submitted');
          return { hosts: [] as string[], job: undefined };
        });
      if (healed.hosts.length > 0)
        logger.info({ project: project.id, hosts: healed.hosts, job: healed.job }, 'silent hosts redeployed');
    }
  };

  const url = settings.webhookUrl;
  const watch = await startWatchQueue({
    redis: core.redis,
    prefix: config.redisPrefix,
    intervalMs: settings.intervalSeconds * 1000,
    logger,
    runWatch,
    ...(url ? { deliver: (payload: unknown) => postWebhook(url, payload) } : {}),
  });
  stack.push('agent watch', () => watch.close());
  if (url) logger.info({ webhook: webhookTarget(url) }, 'watch transitions are POSTed to the webhook');
}
