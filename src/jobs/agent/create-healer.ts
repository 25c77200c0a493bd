import type { RedisClient } from '../../redis-client.ts';

/** Options of {@link createHealer}. */
export interface HealerOptions {
  redis: RedisClient;
  keyPrefix: string;
  /** Least time between two redeploys of a host; doubled after each one that did not bring it back (up to 32 times). */
  healAfterMs: number;
  /** Submits one deploy-agent job for `hosts` of `project`; resolves to its id. */
  submit(project: string, hosts: string[]): Promise<string>;
  now?: () => number;
}

/** Redeploys silent hosts, each at most once per backoff period; forgets a host once it reports again. */
export interface Healer {
  /** Submits a deploy for those of `hosts` whose backoff allows it; resolves to them and the job id. */
  heal(project: string, hosts: string[]): Promise<{ hosts: string[]; job?: string }>;
  /** Resets the backoff of hosts that report again (their last redeploy still counts for the hour). */
  forget(hosts: string[]): Promise<void>;
}

interface HealRecord {
  /** Epoch ms of the last redeploy. */
  at: number;
  /** Redeploys since the host last reported. */
  tries: number;
}

/** A {@link Healer} keeping each host's last redeploy in Redis, so every node's watch sees it. */
export function createHealer(options: HealerOptions): Healer {
  const key = (host: string): string => `${options.keyPrefix}watch:heal:${host}`;
  return {
    async heal(project, hosts) {
      if (hosts.length === 0) return { hosts: [] };
      const now = options.now?.() ?? Date.now();
      const records = await options.redis.mget(hosts.map(key));
      const due = hosts.filter((_host, i) => {
        const record = parse(records[i]);
        return (
          !record || now >= record.at + options.healAfterMs * 2 ** Math.min(Math.max(record.tries - 1, 0), 5)
        );
      });
      if (due.length === 0) return { hosts: [] };
      const job = await options.submit(project, due);
      const pipeline = options.redis.pipeline();
      due.forEach((host) => {
        const tries = (parse(records[hosts.indexOf(host)])?.tries ?? 0) + 1;
        pipeline.set(key(host), JSON.stringify({ at: now, tries }), 'PX', 7 * 86_400_000);
      });
      await pipeline.exec();
      return { hosts: due, job };
    },
    async forget(hosts) {
      if (hosts.length === 0) return;
      const records = await options.redis.mget(hosts.map(key));
      const pipeline = options.redis.pipeline();
      hosts.forEach((host, i) => {
        const record = parse(records[i]);
        if (record)
          pipeline.set(key(host), JSON.stringify({ at: record.at, tries: 0 }), 'PX', 7 * 86_400_000);
      });
      await pipeline.exec();
    },
  };
}

function parse(text: string | null | undefined): HealRecord | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<HealRecord>;
    return typeof value.at === 'number' && typeof value.tries === 'number'
      ? { at: value.at, tries: value.tries }
      : undefined;
  } catch {
    return undefined;
  }
}
