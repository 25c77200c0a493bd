import type { Host } from '../../domain/host.ts';
import type { Proxy } from '../../domain/proxy.ts';
import { selectProxy } from '../../domain/select-proxy.ts';
import type { AgentDeps } from './agent-deps.ts';
import { agentHostVars, commonAgentVars } from './agent-vars.ts';
import { configIdOf, digestPackageSource, digestRoleFiles } from './config-id.ts';
import type { AgentProbe } from './probe-agents.ts';
import { uplinkForwardOf } from './uplink-forward.ts';

/** What a deploy wants on one host: where its Telegraf writes, and the id of that configuration. */
export interface WantedAgent {
  host: Host;
  uplink: 'direct' | 'proxy';
  /** The output URL in the host's Telegraf configuration. */
  url: string;
  /** The proxy whose uplink carries the host's points (uplink `proxy`). */
  proxy?: Proxy;
  /** The host's own role variables (host_vars), without the configuration id. */
  vars: Record<string, unknown>;
  /** {@link configIdOf} this host's inputs: the tag its points must carry. */
  configId: string;
}

/** Why a host cannot get an agent from this deploy. */
export interface Unplannable {
  reason: string;
}

/** Decides each host's uplink and configuration for one job. */
export interface AgentPlanner {
  /** The proxy serving `host`, if any. */
  proxyOf(host: Host): Proxy | undefined;
  /** The wanted agent for `host` from what its probe found (direct uplink when the VM reaches InfluxDB). */
  plan(host: Host, probe: Extract<AgentProbe, { reachable: true }>): WantedAgent | Unplannable;
  /** Role variables common to every host (extra vars) and those holding secrets (a 0600 file). */
  common: { vars: Record<string, unknown>; secretVars: Record<string, unknown> };
}

/**
 * A planner for one job: digests the role's files and the package source once, then computes each
 * host's configuration id from them, its own variables, the common ones and the job's extra vars, in the
 * precedence the play gives them (extra vars over host vars).
 */
export async function createAgentPlanner(input: {
  agent: AgentDeps;
  rootDir: string;
  proxies: Proxy[];
  /** The job's own extra vars (options.extraVars). */
  extraVars: Record<string, unknown>;
  /** Key of the digest of the output's credentials in configuration ids. */
  secretKey: Buffer;
  /** The Telegraf version to install (upgrade or downgrade to); default: what the package source has. */
  telegrafVersion?: string;
}): Promise<AgentPlanner> {
  const { agent, proxies } = input;
  const { settings } = agent;
  const [roleDigest, packageDigest] = await Promise.all([
    digestRoleFiles(input.rootDir),
    digestPackageSource(settings),
  ]);
  const common = commonAgentVars(agent);
  if (input.telegrafVersion) common.vars.telegraf_version = input.telegrafVersion;
  const output = agent.influx.version === 2 ? 'influxdb_v2' : 'influxdb';
  const proxyOf = (host: Host): Proxy | undefined => selectProxy(host, proxies);
  return {
    common,
    proxyOf,
    plan(host, probe) {
      const proxy = proxyOf(host);
      let uplink: { uplink: 'direct' | 'proxy'; url: string; proxy?: Proxy };
      if (probe.direct === true && settings.influxAgentUrl) {
        uplink = { uplink: 'direct', url: settings.influxAgentUrl };
      } else if (proxy) {
        const forward = uplinkForwardOf(proxy, agent.influxUrl, settings.uplinkPort);
        uplink = { uplink: 'proxy', url: forward.agentUrl, proxy };
      } else {
        const indirect = settings.influxAgentUrl
          ? `it does not reach InfluxDB at ${settings.influxAgentUrl} (GET /ping from the VM)`
          : 'no agent-facing InfluxDB URL is configured (OUTPOST_INFLUX_AGENT_URL)';
        return { reason: `${indirect}; no proxy serves ${host.address}, so it has no uplink either` };
      }
      const vars = agentHostVars(host, uplink.url, output);
      const configId = configIdOf({
        roleDigest,
        packageDigest,
        vars: { ...vars, ...common.vars, ...input.extraVars },
        secretVars: common.secretVars,
        secretKey: input.secretKey,
      });
      return { host, ...uplink, vars, configId };
    },
  };
}
