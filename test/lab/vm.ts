import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import { execa } from 'execa';
import type { PlannedVm } from './plan.ts';
import { renderRedhatSimSetup } from './redhat-sim.ts';

/** Where each VM mounts its private tmpfs (holding the overlay's upper and work dirs) inside its own mount namespace. */
const VM_SCRATCH = '/var/lib/outpost-lab-vm';
const VM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BootOptions {
  user: string;
  password: string;
  authorizedKeys: string[];
  logFile: string;
  /** The simulation's base package (see redhat-sim.ts); needed to boot a `redhat-sim` VM. */
  redhatSimBaseRpm?: string;
  /** The control plane's lab address, where a `redhat-sim` VM's dnf repository is served. */
  controlAddress: string;
}

export interface BootedVm {
  /** Host pid of the VM's PID 1 (tini). */
  pid: number;
  hostKey: string;
}

/**
 * Runs in the VM's fresh mount/pid/uts namespaces (as its PID 1, before chroot): builds the private
 * root — an overlay of `/` whose upper layer lives on a tmpfs only this VM sees — and hands over to tini.
 */
const BOOT = `set -eu
S=${VM_SCRATCH}
mount -t tmpfs -o mode=0755 outpost-lab "$S"
mkdir "$S/upper" "$S/work" "$S/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$S/upper,workdir=$S/work" "$S/root"
mount --rbind /dev "$S/root/dev"
mount -t proc proc "$S/root/proc"
mount --rbind /sys "$S/root/sys"
mount -t tmpfs -o mode=0755 run "$S/root/run"
mount -t tmpfs -o mode=1777 tmp "$S/root/tmp"
hostname "$LAB_VM"
printf '%s\\n' "$LAB_INIT" > "$S/root/etc/outpost-lab-init"
exec chroot "$S/root" /usr/bin/tini -s -- /bin/sh /etc/outpost-lab-init
`;

/** The VM's own start-up, as a fresh cloud image would do it: host key, default user, sshd. */
function initScript(vm: PlannedVm, options: BootOptions): string {
  const keys = options.authorizedKeys.map((key) => shellQuote(key)).join(' ');
  const redhat = vm.osFamily === 'redhat-sim';
  if (redhat && options.redhatSimBaseRpm === undefined) {
    throw new Error(`lab: VM ${vm.name} is redhat-sim but no simulation base package was built`);
  }
  return `set -eu
export PATH=${VM_PATH}
# Like a cloud image: the VM's own name resolves (sudo looks it up), and no resolver outside the lab.
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n127.0.1.1 %s\n' ${shellQuote(vm.name)} > /etc/hosts
: > /etc/resolv.conf
rm -f /etc/ssh/ssh_host_*
ssh-keygen -q -t ed25519 -N '' -C ${shellQuote(`root@${vm.name}`)} -f /etc/ssh/ssh_host_ed25519_key
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\\nPasswordAuthentication yes\\nUseDNS no\\n' > /etc/ssh/sshd_config.d/00-lab-image.conf
${redhat ? renderRedhatSimSetup(shellQuote(options.redhatSimBaseRpm ?? ''), options.controlAddress) : ''}
# The image's admin group: sudo on Debian, wheel on the RedHat family.
useradd -m -s /bin/bash -G ${redhat ? 'wheel' : 'sudo'} ${options.user}
printf '%s:%s\\n' ${options.user} ${shellQuote(options.password)} | chpasswd
install -d -m 700 -o ${options.user} -g ${options.user} /home/${options.user}/.ssh
for key in ${keys}; do printf '%s\\n' "$key" >> /home/${options.user}/.ssh/authorized_keys; done
[ -f /home/${options.user}/.ssh/authorized_keys ] && chown ${options.user}: /home/${options.user}/.ssh/authorized_keys && chmod 600 /home/${options.user}/.ssh/authorized_keys
mkdir -p /run/sshd
${redhat ? '/etc/init.d/sshd start' : '/usr/sbin/sshd'}
touch /run/outpost-lab-ready
exec sleep infinity
`;
}

/** Boots one VM in its (already networked) namespace and resolves once its sshd is up. */
export async function bootVm(vm: PlannedVm, options: BootOptions): Promise<BootedVm> {
  const log = openSync(options.logFile, 'a');
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      vm.netns,
      'unshare',
      '--mount',
      '--propagation',
      'private',
      '--pid',
      '--fork',
      '--uts',
      '/bin/sh',
      '-c',
      BOOT,
    ],
    {
      detached: true,
      stdio: ['ignore', log, log],
      env: { PATH: VM_PATH, LAB_VM: vm.name, LAB_INIT: initScript(vm, options) },
    },
  );
  closeSync(log);
  child.unref();
  const unsharePid = child.pid;
  if (unsharePid === undefined) throw new Error(`lab: could not start VM ${vm.name}`);

  const pid = await waitFor(`VM ${vm.name} PID 1`, () => {
    const children = readOrEmpty(`/proc/${unsharePid}/task/${unsharePid}/children`).trim();
    return children === '' ? undefined : Number(children.split(' ')[0]);
  });
  await waitFor(`sshd in VM ${vm.name} (see ${options.logFile})`, () =>
    existsSync(`/proc/${pid}/root/run/outpost-lab-ready`) ? true : undefined,
  );
  const hostKey = readFileSync(`/proc/${pid}/root/etc/ssh/ssh_host_ed25519_key.pub`, 'utf8')
    .trim()
    .split(' ')
    .slice(0, 2)
    .join(' ');
  return { pid, hostKey };
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs a shell command as root inside the VM whose PID 1 is `pid`: its namespaces, its root, a clean environment. */
export async function execInVm(pid: number, command: string, input?: string): Promise<ExecResult> {
  const result = await execa(
    'nsenter',
    [
      '-t',
      String(pid),
      '-m',
      '-u',
      '-n',
      '-p',
      '-r',
      '-w',
      '--',
      '/usr/bin/env',
      '-i',
      `PATH=${VM_PATH}`,
      'HOME=/root',
      'LANG=C.UTF-8',
      '/bin/sh',
      '-c',
      command,
    ],
    { reject: false, input: input ?? '', stripFinalNewline: false },
  );
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? -1 };
}

/** Single-quotes a value for sh. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`lab: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
