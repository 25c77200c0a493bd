/** The ssh_config alias (and known_hosts name) of a host: its id, whatever its address. */
export function hostAlias(id: string): string {
  return id;
}

/** The ssh_config alias of a proxy: `proxy.<id>` (a dot never occurs in ids, so no clash with hosts). */
export function proxyAlias(id: string): string {
  return `proxy.${id}`;
}

/** An Ansible group name: `<prefix>_<text>` with every character outside [a-z0-9] turned into `_`. */
export function groupName(prefix: string, text: string): string {
  return `${prefix}_${text.toLowerCase().replace(/[^a-z0-9]/g, '_')}`;
}
