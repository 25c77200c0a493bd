import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { RedisClient } from '../redis-client.ts';
import { localForwardId, remoteForwardId } from './forward-id.ts';
import type { PublishedTunnelStatus } from './read-tunnel-status.ts';
import { HostKeyChangedError } from '../domain/host-key-changed-error.ts';
import { TunnelKeeper, type TunnelKeeperOptions } from './tunnel-keeper.ts';
import { acquireLease, keepLease, releaseLease } from '../lease.ts';
import { tunnelKeys } from './tunnel-lease.ts';
import {
  silentLogger,
  type LocalForwardSpec,
  type RemoteForwardSpec,
  type TunnelProxy,
} from './tunnel-types.ts';

/** The tunnels one proxy should carry. */
export interface WantedTunnels {
  proxy: TunnelProxy;
  local?: LocalForwardSpec[];
  remote?: RemoteForwardSpec[];
}

/** Options of a tunnel node (`outpost serve --role tunnels`); durations in milliseconds. */
export interface TunnelNodeOptions extends TunnelKeeperOptions {
  redis: RedisClient;
  /** Prefix of every Redis key (e.g. `outpost:`). */
  keyPrefix: string;
  /** Every proxy and the forwards it should carry; called every tick (feed it from the registry). */
  listWanted: () => Promise<WantedTunnels[]>;
  /** This node's id in leases and status. Default `<hostname>-<pid>-<random>`. */
  nodeId?: string;
  /** Lease lifetime: a dead holder's proxies are taken over within about this long. Default 15000. */
  leaseTtlMs?: number;
  /**
   * Period of the loop: free leases are tried, a status that changed is published. Default 1000.
   * Unchanged statuses are re-sent to keep them alive every ttl/3; held leases are renewed every ttl/3
   * on a timer of their own, so that a slow pass does not delay them.
   */
  tickMs?: number;
}

/** A running tunnel node. */
export interface TunnelNode {
  readonly nodeId: string;
  readonly keeper: TunnelKeeper;
  /** Proxies whose lease this node holds. */
  held(): string[];
  /** Runs one loop pass now (the loop also runs on its own). */
  tick(): Promise<void>;
  /** Stops the loop, closes every tunnel, releases every lease so another node takes over at once. */
  stop(): Promise<void>;
}

interface Held {
  renewedAt: number;
  proxy: TunnelProxy;
  reconciling?: Promise<void>;
}

/**
 * Runs the tunnel keeper as one node among several on one Redis: each wanted proxy's tunnels are
 * held by exactly one node through a lease (SET NX PX, renewed by compare-and-set on a timer of its own,
 * taken again by its holder when it ran out unclaimed), and taken over by another node when the holder
 * stops renewing. Each holder publishes its proxies' status to Redis.
 */
export function runTunnelNode(options: TunnelNodeOptions): TunnelNode {
  const { redis, listWanted } = options;
  const logger = options.logger ?? silentLogger;
  const nodeId = options.nodeId ?? `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const ttl = options.leaseTtlMs ?? 15_000;
  const tickMs = options.tickMs ?? 1000;
  const keys = tunnelKeys(options.keyPrefix);
  const keeper = new TunnelKeeper({ ...options, logger });
  const held = new Map<string, Held>();
  // Proxies whose pinned key was refused, with that key: not retried until the record's key changes.
  const refusedKeys = new Map<string, { hostKey: string | undefined; message: string; since: string }>();
  // What each key of this node last got, without its time: an unchanged value is only re-sent to keep it alive.
  const published = new Map<string, string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const wakeups = new Map<string, NodeJS.Timeout>();

  const drop = async (proxyId: string, why: string) => {
    const h = held.get(proxyId);
    held.delete(proxyId);
    published.delete(keys.status(proxyId));
    logger.warn({ node: nodeId, proxy: proxyId, why }, 'dropping proxy tunnels');
    await keeper.release(proxyId);
    // A reconcile still running may open forwards after that release: close them when it ends, unless
    // the proxy is held again by then.
    void h?.reconciling?.then(() => (held.has(proxyId) ? undefined : keeper.release(proxyId)));
  };

  // Held leases are renewed here, every ttl/3, apart from the pass: a pass held up by a slow registry
  // read or a busy Redis (a big deploy on a saturated machine) must not let a lease run out under
  // tunnels that work. A lease that ran out all the same is taken again when no other node took it.
  let renewing: Promise<void> | undefined;
  const renewHeld = async (): Promise<void> => {
    await Promise.all(
      [...held].map(async ([proxyId, h]) => {
        const sentAt = Date.now();
        try {
          const kept = await within(keepLease(redis, keys.lease(proxyId), nodeId, ttl), ttl / 3);
          if (held.get(proxyId) !== h) return; // dropped meanwhile
          if (kept.kept === false) return await drop(proxyId, `lease lost to node ${kept.holder}`);
          if (kept.kept === 'retaken')
            logger.warn(
              { node: nodeId, proxy: proxyId, sinceRenewalMs: sentAt - h.renewedAt, leaseTtlMs: ttl },
              'lease ran out before its renewal; taken again, no other node held it',
            );
          h.renewedAt = sentAt;
        } catch (error) {
          // Without Redis we cannot prove we still hold it: give it up before it can expire under us.
          if (held.get(proxyId) === h && Date.now() - h.renewedAt > ttl * 0.8)
            await drop(proxyId, `cannot renew lease: ${(error as Error).message}`);
        }
      }),
    );
  };
  const renewTimer = setInterval(() => {
    if (stopped || renewing) return;
    renewing = renewHeld().finally(() => {
      renewing = undefined;
    });
  }, ttl / 3);

  const reconcile = async (h: Held, wanted: WantedTunnels) => {
    const { proxy } = wanted;
    if (refusedKeys.has(proxy.id) && refusedKeys.get(proxy.id)?.hostKey === proxy.hostKey) return;
    refusedKeys.delete(proxy.id);
    const wantedIds = new Set<string>();
    const results = await Promise.allSettled([
      ...(wanted.local ?? []).map((spec) => {
        wantedIds.add(localForwardId(spec));
        return keeper.ensureLocalForward(proxy, spec);
      }),
      ...(wanted.remote ?? []).map((spec) => {
        wantedIds.add(remoteForwardId(spec.bindAddress ?? proxy.vpcAddress, spec));
        return keeper.ensureRemoteForward(proxy, spec);
      }),
    ]);
    for (const result of results) {
      if (result.status === 'fulfilled') continue;
      const error = result.reason as Error;
      if (error instanceof HostKeyChangedError)
        refusedKeys.set(proxy.id, {
          hostKey: proxy.hostKey,
          message: error.message,
          since: new Date().toISOString(),
        });
      logger.warn({ node: nodeId, proxy: proxy.id, error: error.message }, 'forward not up yet');
    }
    const current = keeper.status().find((s) => s.proxy === proxy.id);
    for (const f of current?.forwards ?? []) if (!wantedIds.has(f.id)) await keeper.release(proxy.id, f.id);
    h.proxy = proxy;
  };

  let refreshedAt = 0;

  const publish = async () => {
    const now = Date.now();
    const at = new Date(now).toISOString();
    const refresh = now - refreshedAt >= ttl / 3;
    const writes = new Map<string, { body: string; value: string; ttlMs: number }>();
    const offer = (key: string, value: object, ttlMs: number): void => {
      const body = JSON.stringify(value);
      if (refresh || published.get(key) !== body)
        writes.set(key, { body, value: JSON.stringify({ ...value, at }), ttlMs });
    };
    offer(keys.node(nodeId), { held: [...held.keys()] }, ttl);
    const statuses = new Map(keeper.status().map((s) => [s.proxy, s]));
    for (const proxyId of held.keys()) {
      const refused = refusedKeys.get(proxyId);
      const status = statuses.get(proxyId);
      // A refused host key leaves nothing in the keeper; publish why, so the operator sees it.
      const current: Omit<PublishedTunnelStatus, 'at'> | undefined = refused
        ? {
            proxy: proxyId,
            state: 'failed',
            since: refused.since,
            attempts: 1,
            connects: 0,
            lastError: refused.message,
            forwards: [],
            node: nodeId,
          }
        : status && { ...status, node: nodeId };
      if (current) offer(keys.status(proxyId), current, ttl * 2);
    }
    for (const key of published.keys()) if (!writes.has(key) && !isLive(key)) published.delete(key);
    if (writes.size === 0) return;
    const pipeline = redis.pipeline();
    for (const [key, write] of writes) pipeline.set(key, write.value, 'PX', write.ttlMs);
    const results = (await pipeline.exec()) ?? [];
    [...writes].forEach(([key, write], i) => {
      if (results[i]?.[0] === null) published.set(key, write.body);
      else published.delete(key);
    });
    if (refresh) refreshedAt = now;
  };
  const isLive = (key: string): boolean =>
    key === keys.node(nodeId) || [...held.keys()].some((proxyId) => keys.status(proxyId) === key);

  const pass = async () => {
    let wanted: WantedTunnels[] | undefined;
    try {
      wanted = await listWanted();
    } catch (error) {
      logger.error(
        { node: nodeId, error: (error as Error).message },
        'cannot list wanted tunnels; keeping current ones',
      );
    }
    const wantedById = new Map(
      (wanted ?? [...held.values()].map((h) => ({ proxy: h.proxy }))).map((w) => [w.proxy.id, w]),
    );
    for (const proxyId of [...held.keys()]) {
      if (!wanted || wantedById.has(proxyId)) continue;
      await drop(proxyId, 'no longer wanted');
      await releaseLease(redis, keys.lease(proxyId), nodeId).catch(() => false);
      await redis.del(keys.status(proxyId)).catch(() => 0);
    }
    for (const [proxyId, w] of wantedById) {
      if (held.has(proxyId)) continue;
      const now = Date.now();
      try {
        if (await within(acquireLease(redis, keys.lease(proxyId), nodeId, ttl), ttl / 3)) {
          held.set(proxyId, { renewedAt: now, proxy: w.proxy });
          logger.info({ node: nodeId, proxy: proxyId }, 'lease acquired; holding proxy tunnels');
        } else {
          // Try again the moment the holder's lease would run out, not up to a tick later.
          const left = await redis.pttl(keys.lease(proxyId));
          if (left > 0 && left < tickMs && !wakeups.has(proxyId)) {
            wakeups.set(
              proxyId,
              setTimeout(() => {
                wakeups.delete(proxyId);
                void tick();
              }, left + 5),
            );
          }
        }
      } catch (error) {
        logger.error(
          { node: nodeId, proxy: proxyId, error: (error as Error).message },
          'cannot acquire lease',
        );
      }
    }
    for (const [proxyId, h] of held) {
      const w = wantedById.get(proxyId);
      if (!w || h.reconciling || stopped) continue;
      h.reconciling = reconcile(h, w).finally(() => {
        h.reconciling = undefined;
      });
    }
    await publish().catch((error: Error) =>
      logger.error({ node: nodeId, error: error.message }, 'cannot publish tunnel status'),
    );
  };

  const tick = async (): Promise<void> => {
    if (stopped) return;
    if (running) {
      // Asked while a pass runs: run one more right after it.
      again = true;
      return running;
    }
    running = pass().finally(() => {
      running = undefined;
      if (again && !stopped) {
        again = false;
        void tick();
      }
    });
    return running;
  };

  const loop = () => {
    timer = setTimeout(() => {
      void tick().finally(() => {
        if (!stopped) loop();
      });
    }, tickMs);
  };
  void tick().finally(loop);
  logger.info({ node: nodeId, leaseTtlMs: ttl }, 'tunnel node started');

  return {
    nodeId,
    keeper,
    held: () => [...held.keys()],
    tick,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(renewTimer);
      await renewing;
      for (const t of wakeups.values()) clearTimeout(t);
      await running;
      await Promise.allSettled([...held.values()].map((h) => h.reconciling ?? Promise.resolve()));
      await keeper.close();
      for (const proxyId of held.keys()) {
        await releaseLease(redis, keys.lease(proxyId), nodeId).catch(() => false);
        await redis.del(keys.status(proxyId)).catch(() => 0);
      }
      await redis.del(keys.node(nodeId)).catch(() => 0);
      held.clear();
      logger.info({ node: nodeId }, 'tunnel node stopped');
    },
  };
}

/** Rejects when `promise` takes longer than `ms` (a Redis that hangs must not stall the lease loop). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
