import { readFile, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import path from 'node:path';
import { AppError } from '../errors.ts';
import { answerClientErrors } from '../http/answer-client-errors.ts';
import { createApp } from '../http/create-app.ts';
import { SessionStore } from '../http/session-store.ts';
import { rekeyHostKey } from '../jobs/login/rekey-host-key.ts';
import { readTunnelStatus } from '../tunnels/read-tunnel-status.ts';
import { inventoryPaths } from '../inventory/inventory-paths.ts';
import { renderProjectInventory, writeProjectInventory } from '../registry/write-project-inventory.ts';
import { ensureApiToken } from '../secrets/ensure-api-token.ts';
import { renderEnrollScript } from '../secrets/render-enroll-script.ts';
import type { RoleContext } from './role-context.ts';

/** How long requests still in flight at stop may take to finish before their connections are cut. */
const IN_FLIGHT_GRACE_MS = 1000;

/**
 * The api role: the HTTP API on config.httpHost:httpPort. At stop it stops listening, ends every live
 * log stream at once (clients resume by Last-Event-ID) and lets requests in flight finish.
 * `announceToken` is told about a token generated now (main.ts shows it on a terminal, never in the log).
 */
export async function startApi(
  { config, core, side, metrics, logger, stack }: RoleContext,
  announceToken: (token: string, file: string) => void,
): Promise<string> {
  const { token, created, file } = await ensureApiToken(config.varDir, config.apiToken);
  if (created) announceToken(token, file);
  const closing = new AbortController();
  const app = createApp({
    token,
    tokens: core.tokens,
    audit: core.audit,
    logger,
    metrics,
    queue: core.queue,
    store: core.store,
    logs: core.logs,
    heartbeatMs: config.sseHeartbeatMs,
    closing: closing.signal,
    registry: core.registry,
    rekey: (kind, id, options) => rekeyHostKey(core, kind, id, options),
    allowLocal: config.allowLocalRuns,
    views: {
      inventoryYaml: async (project) => {
        const dir = path.join(config.rootDir, 'inventories', project);
        // A project's inventory holds its own key only; the admin key is never written outside a run dir.
        await rm(inventoryPaths(dir).adminKey, { force: true });
        const written = await writeProjectInventory(core, project, dir);
        return readFile(written.hostsFile, 'utf8');
      },
      inventoryFiles: (project, dir) => renderProjectInventory(core, project, dir),
      ...(side.lastSeen ? { lastSeen: side.lastSeen } : {}),
      enrollScript: async (project) => {
        const found = await core.registry.getProject(project);
        return renderEnrollScript({
          project,
          adminKey: found.publicKeys.admin,
          projectKey: found.publicKeys.project,
        });
      },
    },
    healthy: async () => (await core.redis.ping()) === 'PONG',
    sessions: new SessionStore(core.redis, config.redisPrefix, config.sessionTtlSeconds),
    events: core.events,
    consoleDir: path.join(config.rootDir, 'dist', 'web'),
    consoleViews: {
      ...(side.agent ? { hostSeries: side.agent.metrics.hostSeries.bind(side.agent.metrics) } : {}),
      tunnelStatus: (proxy) => readTunnelStatus(core.redis, config.redisPrefix, proxy),
    },
  });
  const server = createServer(app);
  answerClientErrors(server);
  await new Promise<void>((resolve, reject) => {
    const refuse = (cause: NodeJS.ErrnoException): void =>
      reject(
        new AppError(
          'listen_failed',
          `cannot listen on ${config.httpHost}:${config.httpPort}: ${cause.code === 'EADDRINUSE' ? 'the address is in use' : cause.message}`,
          {
            cause,
          },
        ),
      );
    server.once('error', refuse);
    server.listen(config.httpPort, config.httpHost, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  // Responses in flight, so the stop knows when every connection is idle and can be closed at once.
  const inFlight = new Set<ServerResponse>();
  let drained: (() => void) | undefined;
  server.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (inFlight.size === 0) drained?.();
    });
  });
  stack.push('api', async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    closing.abort();
    if (inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const cut = setTimeout(resolve, IN_FLIGHT_GRACE_MS);
        drained = () => {
          clearTimeout(cut);
          resolve();
        };
      });
    }
    // Keep-alive connections of ended streams are idle now; anything still busy after the grace is cut.
    server.closeIdleConnections();
    server.closeAllConnections();
    await closed;
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.httpPort;
  const url = `http://${config.httpHost.includes(':') ? `[${config.httpHost}]` : config.httpHost}:${port}`;
  logger.info({ url }, 'api listening');
  return url;
}
