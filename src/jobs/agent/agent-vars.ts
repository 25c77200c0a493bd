import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Host } from '../../domain/host.ts';
import type { AgentDeps } from './agent-deps.ts';

/** Role telegraf variables shared by every host of a deploy: package source and output store. */
export function commonAgentVars(deps: Pick<AgentDeps, 'influx' | 'settings'>): {
  vars: Record<string, unknown>;
  secretVars: Record<string, unknown>;
} {
  const { settings, influx } = deps;
  const vars: Record<string, unknown> = {
    telegraf_install_method: settings.telegrafInstallMethod,
    ...(settings.telegrafPackageDir ? { telegraf_offline_dir: settings.telegrafPackageDir } : {}),
    ...(settings.telegrafPackageUrl ? { telegraf_package_url: settings.telegrafPackageUrl } : {}),
  };
  if (influx.version === 2) {
    return {
      vars: {
        ...vars,
        telegraf_output: 'influxdb_v2',
        telegraf_influxdb_v2_organization: influx.org,
        telegraf_influxdb_v2_bucket: influx.bucket,
      },
      secretVars: { telegraf_influxdb_v2_token: influx.token },
    };
  }
  return {
    vars: { ...vars, telegraf_output: 'influxdb', telegraf_influxdb_database: influx.database },
    secretVars:
      influx.username !== undefined
        ? { telegraf_influxdb_username: influx.username, telegraf_influxdb_password: influx.password ?? '' }
        : {},
  };
}

/**
 * Writes `<runDir>/host_vars/<host>.yml` beside the run's hosts.yml: the output URL this host's
 * Telegraf writes to (direct, or the uplink on its proxy) and its identity tags.
 */
export async function writeAgentHostVars(
  runDir: string,
  host: Host,
  outputUrl: string,
  output: 'influxdb' | 'influxdb_v2',
): Promise<void> {
  const dir = path.join(runDir, 'host_vars');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const vars = {
    [output === 'influxdb' ? 'telegraf_influxdb_urls' : 'telegraf_influxdb_v2_urls']: [outputUrl],
    telegraf_hostname: host.id,
    telegraf_project: host.project,
    telegraf_network: host.network ?? '',
  };
  // JSON is YAML; every value here was validated by the registry or the config.
  await writeFile(path.join(dir, `${host.id}.yml`), `${JSON.stringify(vars, null, 2)}\n`, { mode: 0o600 });
}
