/** Folder of Outpost's own plays (enroll, probe, prepare-proxy, deploy-agent...), relative to the repository root. */
export const OUTPOST_PLAYBOOK_DIR = 'playbooks';

// Extra vars beat inventory vars: a connection variable would choose the host, user, key or ssh options.
const CONNECTION = /^_*ansible_/i;
// Ansible's special variables: extra vars beat the host's own names (a probe's facts file is named after
// inventory_hostname), and the rest are Ansible's to set.
const MAGIC = new Set([
  'group_names',
  'groups',
  'hostvars',
  'inventory_dir',
  'inventory_file',
  'inventory_hostname',
  'inventory_hostname_short',
  'omit',
  'play_hosts',
  'playbook_dir',
  'role_name',
  'role_names',
  'role_path',
]);
// Set by Outpost on every run (outpost_job_id) or by its orchestrators (outpost_facts_dir...).
const OUTPOST = /^_*outpost_/i;
// Variables of the roles and plays Outpost runs: public `<role>_*`, private `_<role>_*`, registered `__<role>_*`.
const ROLES = /^_*(cloudroot|telegraf|ssh_proxy_node|probe)_/i;

/**
 * Why a job's own extra var `name` is refused, or undefined when it is free. Every kind refuses
 * `ansible_*` (connection), Ansible's special variables (inventory_hostname, group_names...) and
 * `outpost_*` names; the variables of Outpost's roles are refused too unless the job runs a playbook
 * of its own (a run-playbook job outside {@link OUTPOST_PLAYBOOK_DIR}).
 * `playbook` is the job's playbook relative to the repository root.
 */
export function explainReservedExtraVar(
  kind: string,
  playbook: string | undefined,
  name: string,
): string | undefined {
  if (CONNECTION.test(name))
    return 'reserved: ansible_* variables choose the connection (host, port, user, key, ssh options), which Outpost sets';
  if (MAGIC.has(name.toLowerCase()))
    return "reserved: Ansible's special variables (inventory_hostname, group_names, hostvars...) name the host and its groups";
  if (OUTPOST.test(name)) return 'reserved: outpost_* variables are set by Outpost';
  const ownPlaybook =
    kind === 'run-playbook' && playbook !== undefined && !playbook.startsWith(`${OUTPOST_PLAYBOOK_DIR}/`);
  if (!ownPlaybook && ROLES.test(name))
    return `reserved: Outpost sets the variables of its roles (cloudroot_*, telegraf_*, ssh_proxy_node_*, probe_*) for a ${kind === 'run-playbook' ? `run of ${playbook ?? 'its playbooks'}` : `${kind} job`}`;
  return undefined;
}
