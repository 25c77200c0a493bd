import { groupName } from './aliases.ts';
import type { InventoryModel } from './build-inventory-model.ts';

/** Ansible's inventory-script JSON (`--list`): groups, `project_<id>` groups with the project vars, `_meta.hostvars`. */
export interface ScriptInventory {
  _meta: { hostvars: Record<string, Record<string, string | number>> };
  [group: string]: unknown;
}

/** Merges several projects' models into one `--list` answer. */
export function buildScriptInventory(
  models: Array<{ project: string; model: InventoryModel }>,
): ScriptInventory {
  const result: ScriptInventory = { _meta: { hostvars: {} } };
  const groups: Record<string, Set<string>> = {};
  const projectGroups: string[] = [];
  for (const { project, model } of models) {
    const projectGroup = groupName('project', project);
    projectGroups.push(projectGroup);
    result[projectGroup] = { hosts: Object.keys(model.hostvars), vars: model.vars };
    Object.assign(result._meta.hostvars, model.hostvars);
    for (const [group, hosts] of Object.entries(model.groups)) {
      const members = (groups[group] ??= new Set());
      hosts.forEach((host) => members.add(host));
    }
  }
  for (const [group, members] of Object.entries(groups)) result[group] = { hosts: [...members] };
  result.all = { children: [...projectGroups, ...Object.keys(groups)] };
  return result;
}
