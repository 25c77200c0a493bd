import { createHash, createHmac } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AgentSettings } from '../../config.ts';

/** Length in hex digits of a configuration id: 64 bits tell configurations apart well enough. */
const ID_HEX = 16;

/** Files whose content shapes a deployed agent: the telegraf role (but its prose) and the deploy playbook. */
async function listShapingFiles(rootDir: string): Promise<string[]> {
  const role = path.join(rootDir, 'roles', 'telegraf');
  const entries = await readdir(role, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && !entry.name.endsWith('.md'))
    .map((entry) => path.join(entry.parentPath, entry.name));
  return [...files, path.join(rootDir, 'playbooks', 'deploy-agent.yml')].sort();
}

/** sha256 over each file that shapes an agent (path relative to `rootDir` and content): one changed line changes it. */
export async function digestRoleFiles(rootDir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const file of await listShapingFiles(rootDir)) {
    hash.update(`${path.relative(rootDir, file)}\0`);
    hash.update(
      createHash('sha256')
        .update(await readFile(file))
        .digest('hex'),
    );
    hash.update('\n');
  }
  return hash.digest('hex');
}

/**
 * What the package source adds to a configuration: for `offline`, the name, size and time of each
 * telegraf package file in the directory (a new file there may change the version installed); the
 * other methods are fully described by their variables.
 */
export async function digestPackageSource(
  settings: Pick<AgentSettings, 'telegrafInstallMethod' | 'telegrafPackageDir'>,
): Promise<string> {
  if (settings.telegrafInstallMethod !== 'offline' || !settings.telegrafPackageDir) return '';
  const dir = settings.telegrafPackageDir;
  const names = (await readdir(dir).catch(() => [] as string[])).filter((name) => /^telegraf[_-]/.test(name));
  const parts = await Promise.all(
    names.sort().map(async (name) => {
      const info = await stat(path.join(dir, name)).catch(() => undefined);
      return `${name}:${info?.size ?? '?'}:${info?.mtimeMs ?? '?'}`;
    }),
  );
  return parts.join('\n');
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** What one host's configuration id is computed from. */
export interface ConfigInputs {
  /** {@link digestRoleFiles} of the service's repository. */
  roleDigest: string;
  /** {@link digestPackageSource} of the service's settings. */
  packageDigest: string;
  /** The host's effective variables for the role, as the play gets them (host vars under extra vars). */
  vars: Record<string, unknown>;
  /** The output's credentials: they enter only through an HMAC under `secretKey`, so the id reveals nothing of them. */
  secretVars: Record<string, unknown>;
  secretKey: Buffer;
}

/**
 * The id of the configuration a deploy gives one host: deterministic (the same inputs give the same
 * id, so a second deploy changes nothing), and different when a role file, a variable, the package
 * source or a credential differs. Telegraf writes it as the tag `outpost_config` on every point, and the
 * play's stamp records it.
 */
export function configIdOf(inputs: ConfigInputs): string {
  const secrets = createHmac('sha256', inputs.secretKey)
    .update(canonicalJson(inputs.secretVars))
    .digest('hex');
  return createHash('sha256')
    .update(
      canonicalJson({
        role: inputs.roleDigest,
        package: inputs.packageDigest,
        vars: inputs.vars,
        secrets,
      }),
    )
    .digest('hex')
    .slice(0, ID_HEX);
}
