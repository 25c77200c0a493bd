import type { Proxy } from '../../domain/proxy.ts';
import type { AgentDeps } from './agent-deps.ts';
import { claimUplink } from './uplink-claims.ts';
import { uplinkForwardOf } from './uplink-forward.ts';
import { waitForUplink } from './wait-for-uplink.ts';

/**
 * Claims the uplink forward of each of `proxies` for the tunnel nodes (pushing each id to `claimed` at
 * once, so the caller releases even what a failure left) and waits until a node holds each up.
 * @returns why each proxy whose uplink stayed down is down, by proxy id.
 */
export async function holdUplinks(
  agent: Pick<AgentDeps, 'redis' | 'keyPrefix' | 'influxUrl' | 'settings'>,
  input: {
    jobId: string;
    proxies: Proxy[];
    /** How long a claim lives: a crashed job's claim expires. */
    claimMs: number;
    claimed: string[];
    signal: AbortSignal;
    say: (line: string) => void;
  },
): Promise<Map<string, string>> {
  const down = new Map<string, string>();
  for (const proxy of input.proxies) {
    await claimUplink(agent.redis, agent.keyPrefix, proxy, input.jobId, input.claimMs);
    input.claimed.push(proxy.id);
  }
  await Promise.all(
    input.proxies.map(async (proxy) => {
      const forward = uplinkForwardOf(proxy, agent.influxUrl, agent.settings.uplinkPort);
      input.say(`waiting for the uplink of proxy ${proxy.id}: ${forward.agentUrl} -> ${agent.influxUrl}`);
      const verdict = await waitForUplink(agent.redis, agent.keyPrefix, proxy, forward, {
        timeoutMs: agent.settings.uplinkWaitSeconds * 1000,
        signal: input.signal,
      });
      if (verdict.up) input.say(`uplink of proxy ${proxy.id} is up`);
      else {
        input.say(verdict.reason);
        down.set(proxy.id, verdict.reason);
      }
    }),
  );
  return down;
}
