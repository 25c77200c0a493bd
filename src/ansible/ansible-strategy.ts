import { existsSync } from 'node:fs';

/** Strategy plugins Outpost can run its plays with: Ansible's own, or ansible-mitogen's (Debian `ansible-mitogen`). */
export const ANSIBLE_STRATEGIES = ['linear', 'free', 'mitogen_linear', 'mitogen_free'] as const;
export type AnsibleStrategyName = (typeof ANSIBLE_STRATEGIES)[number];

/** A strategy and, for mitogen's, the directory of its plugins. */
export interface AnsibleStrategy {
  name: AnsibleStrategyName;
  pluginDir?: string;
}

// Where Debian's python3 (and pip for the system Python) put ansible_mitogen.
const MITOGEN_DIRS = [
  '/usr/lib/python3/dist-packages/ansible_mitogen/plugins/strategy',
  '/usr/local/lib/python3/dist-packages/ansible_mitogen/plugins/strategy',
];

/** Finds the plugins of `name`; undefined for a mitogen strategy whose package is not installed. */
export function resolveStrategy(name: AnsibleStrategyName, dirs = MITOGEN_DIRS): AnsibleStrategy | undefined {
  if (!name.startsWith('mitogen')) return { name };
  const pluginDir = dirs.find((dir) => existsSync(`${dir}/${name}.py`));
  return pluginDir === undefined ? undefined : { name, pluginDir };
}

/** The environment that makes ansible-playbook run with `strategy`. */
export function strategyEnv(strategy: AnsibleStrategy): Record<string, string> {
  return {
    ANSIBLE_STRATEGY: strategy.name,
    ...(strategy.pluginDir ? { ANSIBLE_STRATEGY_PLUGINS: strategy.pluginDir } : {}),
  };
}
