import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Lab, LabVm } from '../../lab/lab.ts';

/** The repository root, where ansible.cfg lives. */
export const repoRoot = path.resolve(import.meta.dirname, '../../..');

/** Per-host counts of a PLAY RECAP line. */
export interface RecapCounts {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

/** What one ansible-playbook run left behind. */
export interface PlaybookRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Raw fd-3 output of the outpost_events callback. */
  eventText: string;
  events: Record<string, unknown>[];
  recap: Record<string, RecapCounts>;
}

/** Files a test writes for plain ansible-playbook: keys, known_hosts, ssh_config and the inventory. */
export interface AnsibleLabFiles {
  dir: string;
  inventory: string;
  /** Outpost's admin and project keys: the keys cloudroot accepts. */
  adminKey: string;
  adminPublicKey: string;
  projectPublicKey: string;
  /** A key of the lab's default user, for the "enroll with a key account" case. */
  userKey: string;
  userPublicKey: string;
  /** Writes JSON extra vars to a 0600 file in the run dir and returns `@path` for `--extra-vars`. */
  vars(name: string, values: Record<string, unknown>): Promise<string>;
  /** Sets inventory variables of one host (merged over what it has), so one play can vary them per host. */
  setHostVars(host: string, values: Record<string, unknown>): Promise<void>;
  /** Removes the run dir (keys, vars with passwords, control sockets). */
  remove(): Promise<void>;
}

/** Generates the keys a lab test needs (before `up`, so the user key can be authorized in the lab). */
export async function makeKeys(): Promise<{
  dir: string;
  adminKey: string;
  adminPublicKey: string;
  projectPublicKey: string;
  userKey: string;
  userPublicKey: string;
}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-ansible-'));
  const keygen = async (name: string) => {
    const file = path.join(dir, name);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@outpost-test`, '-f', file]);
    return { file, pub: (await readFile(`${file}.pub`, 'utf8')).trim() };
  };
  const admin = await keygen('admin');
  const project = await keygen('project');
  const user = await keygen('user');
  return {
    dir,
    adminKey: admin.file,
    adminPublicKey: admin.pub,
    projectPublicKey: project.pub,
    userKey: user.file,
    userPublicKey: user.pub,
  };
}

/**
 * Writes known_hosts (the VMs' own host keys), an ssh_config that jumps to VPC addresses through the
 * VPC's proxy as cloudroot with the admin key (one password prompt at most: the target's), and a YAML
 * inventory with every VM by name.
 */
export async function writeAnsibleLab(
  lab: Lab,
  keys: Awaited<ReturnType<typeof makeKeys>>,
): Promise<AnsibleLabFiles> {
  const { dir } = keys;
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, lab.vms.map((vm) => `${vm.address} ${vm.hostKey}\n`).join(''));
  const sshConfig = path.join(dir, 'ssh_config');
  const blocks: string[] = [];
  for (const proxy of lab.proxies()) {
    blocks.push(
      `Host ${proxy.name}`,
      `  HostName ${proxy.publicAddress ?? ''}`,
      '  User cloudroot',
      `  IdentityFile ${keys.adminKey}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${knownHosts}`,
      '  StrictHostKeyChecking yes',
    );
    for (const target of lab.targets(proxy.vpc)) {
      blocks.push(`Host ${target.address}`, `  ProxyJump ${proxy.name}`);
    }
  }
  blocks.push('Host *', `  UserKnownHostsFile ${knownHosts}`, '  StrictHostKeyChecking yes', '');
  await writeFile(sshConfig, blocks.join('\n'));
  const hosts: Record<string, Record<string, unknown>> = Object.fromEntries(
    lab.vms.map((vm: LabVm) => [vm.name, { ansible_host: vm.address }]),
  );
  const inventory = path.join(dir, 'hosts.json');
  const writeInventory = () =>
    writeFile(
      inventory,
      JSON.stringify({ all: { hosts, vars: { ansible_ssh_common_args: `-F ${sshConfig}` } } }, null, 2),
      { mode: 0o600 },
    );
  await writeInventory();
  return {
    ...keys,
    inventory,
    async vars(name, values) {
      const file = path.join(dir, `${name}.vars.json`);
      await writeFile(file, JSON.stringify(values), { mode: 0o600 });
      return `@${file}`;
    },
    async setHostVars(host, values) {
      hosts[host] = { ...hosts[host], ...values };
      await writeInventory();
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `--extra-vars` files for the ways a play logs in to the lab's VMs. */
export interface LoginVars {
  /** The image user with its password (sudo asks it too); cloudroot gets the admin and project keys. */
  byPassword: string;
  /** The image user with its own key (sudo asks the password); cloudroot gets the admin and project keys. */
  byKey: string;
  /** cloudroot with the admin key; probe.yml writes facts into the run dir. */
  asCloudroot: string;
}

/** Writes the {@link LoginVars} files of a lab (the user key must be authorized in `up`). */
export async function writeLoginVars(lab: Lab, files: AnsibleLabFiles): Promise<LoginVars> {
  const cloudrootKeys = { cloudroot_authorized_keys: [files.adminPublicKey, files.projectPublicKey] };
  const image = { ansible_user: lab.user, ansible_become_password: lab.password };
  return {
    byPassword: await files.vars('by-password', {
      ...cloudrootKeys,
      ...image,
      ansible_password: lab.password,
    }),
    byKey: await files.vars('by-key', {
      ...cloudrootKeys,
      ...image,
      ansible_ssh_private_key_file: files.userKey,
    }),
    asCloudroot: await files.vars('as-cloudroot', {
      ansible_user: 'cloudroot',
      ansible_ssh_private_key_file: files.adminKey,
      outpost_facts_dir: files.dir,
    }),
  };
}

/** Runs ansible-playbook from the repo root with the repo's ansible.cfg and the event callback on fd 3. */
export async function runPlaybook(
  files: AnsibleLabFiles,
  playbook: string,
  options: { limit?: string; extraVars?: string[]; check?: boolean } = {},
): Promise<PlaybookRun> {
  const args = ['-i', files.inventory, `playbooks/${playbook}`];
  if (options.limit !== undefined) args.push('--limit', options.limit);
  for (const extra of options.extraVars ?? []) args.push('--extra-vars', extra);
  if (options.check === true) args.push('--check');
  const result = await execa('ansible-playbook', args, {
    cwd: repoRoot,
    env: {
      ...process.env,
      ANSIBLE_CONFIG: path.join(repoRoot, 'ansible.cfg'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(files.dir, 'cp'),
      OUTPOST_EVENT_FD: '3',
    },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    reject: false,
    timeout: 240_000,
  });
  const eventText = String(result.stdio[3] ?? '');
  const events = eventText
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    exitCode: result.exitCode ?? -1,
    stdout: result.stdout,
    stderr: result.stderr,
    eventText,
    events,
    recap: parseRecap(result.stdout),
  };
}

/** Reads the PLAY RECAP lines of ansible-playbook's default output. */
export function parseRecap(stdout: string): Record<string, RecapCounts> {
  const recap: Record<string, RecapCounts> = {};
  const start = stdout.lastIndexOf('PLAY RECAP');
  if (start < 0) return recap;
  for (const line of stdout.slice(start).split('\n').slice(1)) {
    const match = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (match === null) continue;
    const counts = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]),
    ) as unknown as RecapCounts;
    recap[match[1] ?? ''] = counts;
  }
  return recap;
}

/** The facts a play recorded for Outpost (playbooks/tasks/record-facts.yml): `stats.outpost_facts` of its recap event. */
export function readRecordedFacts(run: PlaybookRun): Record<string, Record<string, string>> {
  const recap = run.events.find((event) => event.event === 'recap') as
    { stats?: { outpost_facts?: Record<string, Record<string, string>> } } | undefined;
  return recap?.stats?.outpost_facts ?? {};
}

/** Sum of `changed` over every host of a recap. */
export function totalChanged(run: PlaybookRun): number {
  return Object.values(run.recap).reduce((sum, counts) => sum + counts.changed, 0);
}

/** A short description of a failed run for assertion messages. */
export function explain(run: PlaybookRun): string {
  // Failures first: the output's tail may have scrolled past them.
  const failures = run.events
    .filter(
      (event) => event.event === 'host_result' && ['failed', 'unreachable'].includes(String(event.status)),
    )
    .map((event) => `${String(event.host)} ${String(event.task)}: ${String(event.msg)}`);
  return `exit ${run.exitCode}\n${failures.join('\n')}\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`;
}

/** Runs a command as `cloudroot` over SSH with the admin key (BatchMode: no password can be used). */
export async function sshAsCloudroot(
  files: AnsibleLabFiles,
  vm: LabVm,
  command: string,
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const result = await execa(
    'ssh',
    [
      '-F',
      path.join(files.dir, 'ssh_config'),
      '-o',
      'BatchMode=yes',
      '-o',
      `ControlPath=none`,
      '-i',
      files.adminKey,
      '-o',
      'IdentitiesOnly=yes',
      '-l',
      'cloudroot',
      vm.address,
      command,
    ],
    { reject: false, timeout: 60_000 },
  );
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}
