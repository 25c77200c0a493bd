import yaml from 'js-yaml';
import type { InventoryModel } from './build-inventory-model.ts';

/** The `hosts.yml` text of one project's inventory (YAML inventory plugin format), via js-yaml. */
export function buildHostsYaml(model: InventoryModel, header: string): string {
  const children: Record<string, { hosts: Record<string, Record<string, never>> }> = {};
  for (const [group, hosts] of Object.entries(model.groups)) {
    children[group] = { hosts: Object.fromEntries(hosts.map((host) => [host, {}])) };
  }
  const document = { all: { vars: model.vars, hosts: model.hostvars, children } };
  const comment = header
    .split('\n')
    .map((line) => `# ${line}`.trimEnd())
    .join('\n');
  return `${comment}\n${yaml.dump(document, { noRefs: true, lineWidth: -1, sortKeys: false })}`;
}
