import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSlot, down, up, type Lab } from './lab.ts';
import { planLab, slotPrefixes } from './plan.ts';
import { listNetns } from './teardown.ts';

const slot = defaultSlot();
let lab: Lab;
let work: string;
let publicKey: string;

/** What the lab leaves on the host: its namespaces, its host links and its VM processes. */
async function footprint() {
  const prefix = slotPrefixes(slot);
  const { stdout: links } = await execa('ip', ['-o', 'link', 'show']);
  return {
    netns: (await listNetns()).filter((name) => name.startsWith(prefix.netns)),
    links: links.split('\n').filter((line) => new RegExp(`^\\d+: ${prefix.link}`).test(line)),
    // This lab's VMs (other slots' labs may be running beside it); a zombie holds nothing and counts as gone.
    vmProcesses: (lab?.vms ?? []).filter((vm) => isRunning(vm.pid)).map((vm) => vm.name),
    overlayMounts: (await readFile('/proc/self/mountinfo', 'utf8'))
      .split('\n')
      .filter((line) => line.includes('outpost-lab')),
  };
}

function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'outpost-lab-test-'));
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lab-test', '-f', path.join(work, 'id')]);
  publicKey = (await readFile(path.join(work, 'id.pub'), 'utf8')).trim();
  lab = await up({ slot, vpcs: 2, vmsPerVpc: 2, directVms: 1, redhatSim: 1, authorizedKeys: [publicKey] });
});

afterAll(async () => {
  await lab?.down();
  await rm(work, { recursive: true, force: true });
});

describe('the lab network', () => {
  it('gives each VM only documentation-range addresses', () => {
    const documentation = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+$/;
    for (const vm of lab.vms) expect(vm.address).toMatch(documentation);
    expect(lab.controlAddress).toMatch(documentation);
  });

  it('lets a proxy reach the control plane but not a target VM', async () => {
    const server = net.createServer((socket) => socket.end('hello from the control plane\n'));
    await new Promise<void>((resolve) => server.listen(0, lab.controlAddress, resolve));
    const port = (server.address() as net.AddressInfo).port;
    const dial = `python3 -c "import socket; s=socket.create_connection(('${lab.controlAddress}', ${port}), timeout=2); print(s.recv(100).decode().strip())"`;
    try {
      expect(await lab.sh('vpc1-proxy', dial)).toContain('hello from the control plane');
      const fromTarget = await lab.exec('vpc1-vm1', dial);
      expect(fromTarget.exitCode).not.toBe(0);
      expect(fromTarget.stderr).toMatch(/unreachable|timed out/i);
    } finally {
      server.close();
    }
  });

  it('keeps VPCs apart: a target cannot reach another VPC or the proxy public segment', async () => {
    const other = lab.targets('vpc2')[0]!;
    const proxyPublic = lab.vm('vpc1-proxy').publicAddress!;
    for (const address of [other.vpcAddress!, proxyPublic]) {
      const result = await lab.exec(
        'vpc1-vm1',
        `python3 -c "import socket; socket.create_connection(('${address}', 22), timeout=2)"`,
      );
      expect(result.exitCode, `vpc1-vm1 -> ${address}`).not.toBe(0);
    }
    // Inside its own VPC it reaches the proxy's sshd.
    const banner = await lab.sh(
      'vpc1-vm1',
      `python3 -c "import socket; print(socket.create_connection(('${lab.vm('vpc1-proxy').vpcAddress}', 22), timeout=2).recv(64).decode())"`,
    );
    expect(banner).toMatch(/^SSH-2\.0-OpenSSH/);
  });
});

describe('each VM', () => {
  it('has its own users: a user made on one VM exists nowhere else', async () => {
    await lab.sh('vpc1-vm1', 'useradd -M only-on-vm1');
    expect(await lab.sh('vpc1-vm1', 'id -u only-on-vm1')).toMatch(/^\d+/);
    for (const name of ['vpc1-vm2', 'vpc1-proxy', 'direct1']) {
      expect((await lab.exec(name, 'id only-on-vm1')).exitCode, name).not.toBe(0);
    }
    await expect(promisify(execFile)('id', ['only-on-vm1'])).rejects.toThrow();
  });

  it('resolves its own name and has no resolver outside the lab, like a cloud image', async () => {
    expect(await lab.sh('vpc1-vm2', 'getent hosts vpc1-vm2')).toMatch(/^127\.0\.1\.1\s+vpc1-vm2/);
    expect((await lab.exec('vpc1-vm2', 'sudo true')).stderr).not.toContain('unable to resolve host');
    expect(await lab.sh('vpc1-vm2', 'cat /etc/resolv.conf')).toBe('');
  });

  it('has its own files, processes and host name', async () => {
    await lab.sh('vpc2-vm1', 'echo mine > /etc/only-here');
    expect((await lab.exec('vpc2-vm2', 'cat /etc/only-here')).exitCode).not.toBe(0);
    expect(await lab.sh('vpc2-vm1', 'hostname')).toBe('vpc2-vm1\n');
    // PID 1 is the VM's init; the host's processes are invisible.
    expect(await lab.sh('vpc2-vm1', 'cat /proc/1/comm')).toBe('tini\n');
  });

  it('has a host key of its own', () => {
    const keys = new Set(lab.vms.map((vm) => vm.hostKey));
    expect(keys.size).toBe(lab.vms.length);
    for (const key of keys) expect(key).toMatch(/^ssh-ed25519 AAAA/);
  });

  it('has a default login user with a password whose sudo asks for it, like a cloud image', async () => {
    const vm = lab.vm('direct1');
    const sudo = (password: string) =>
      execa(
        'sshpass',
        [
          '-e',
          'ssh',
          '-o',
          'StrictHostKeyChecking=no',
          '-o',
          'UserKnownHostsFile=/dev/null',
          '-o',
          'PubkeyAuthentication=no',
          `${lab.user}@${vm.address}`,
          `echo ${password} | sudo -S -p '' id -un`,
        ],
        {
          env: { SSHPASS: lab.password },
          reject: false,
        },
      );
    const right = await sudo(lab.password);
    expect(right.stdout.trim()).toBe('root');
    const wrong = await sudo('not-the-password');
    expect(wrong.exitCode).not.toBe(0);
  });
});

describe('a redhat-sim VM (a SIMULATION of a RHEL 9 clone over Debian files)', () => {
  const vm = 'vpc1-rh1';

  it('says it is a RHEL 9 clone where Ansible looks, and has no Debian release file or apt', async () => {
    expect(lab.vm(vm).osFamily).toBe('redhat-sim');
    expect(
      await lab.sh(vm, 'cat /etc/redhat-release; grep -E "^(ID|VERSION_ID|PLATFORM_ID)=" /etc/os-release'),
    ).toBe('Rocky Linux release 9.4 (Blue Onyx)\nID="rocky"\nVERSION_ID="9.4"\nPLATFORM_ID="platform:el9"\n');
    expect(
      (await lab.exec(vm, 'ls /etc/debian_version; command -v apt-get apt dpkg dpkg-query')).stdout,
    ).toBe('');
    // The Debian VMs beside it are untouched.
    expect(await lab.sh('vpc1-vm1', 'command -v apt-get; cat /etc/debian_version')).toMatch(
      /^\/usr\/bin\/apt-get\n\d+/,
    );
  });

  it('has rpm and dnf with their own database: a RHEL 9 base, $releasever 9, and only the lab repository', async () => {
    expect(
      await lab.sh(vm, "rpm -qa --qf '%{NAME} '; rpm -q --whatprovides 'system-release(releasever)'"),
    ).toBe('outpost-lab-sim-base outpost-lab-sim-base-9.4-1.noarch\n');
    const dnf = `import dnf, dnf.rpm
b = dnf.Base(); b.conf.read(); b.read_all_repos()
print(dnf.rpm.detect_releasever('/'), b.conf.gpgcheck, b.conf.skip_if_unavailable)
for r in b.repos.iter_enabled(): print(r.id, r.baseurl[0], r.gpgcheck)`;
    expect(await lab.sh(vm, 'python3 -', { input: dnf })).toBe(
      `9 True False\noutpost-lab-baseos http://${lab.controlAddress}/el9/baseos/${os.machine()}/ True\n`,
    );
  });

  it('runs sshd as the sshd service, and its image user is in wheel as RHEL sudoers wants', async () => {
    expect(await lab.sh(vm, 'service sshd status')).toMatch(/^sshd \(pid \d+\) is running/);
    expect((await lab.exec(vm, 'ls /etc/init.d/ssh')).exitCode).not.toBe(0);
    expect(await lab.sh(vm, `id -nG ${lab.user}; grep -E '^(%wheel|#includedir)' /etc/sudoers`)).toBe(
      `${lab.user} wheel\n%wheel\tALL=(ALL)\tALL\n#includedir /etc/sudoers.d\n`,
    );
  });
});

describe('ansible-playbook through the proxy', () => {
  it('reaches every target VM by ProxyJump, and the direct VM, with host keys checked', async () => {
    const key = path.join(work, 'id');
    const knownHosts = lab.vms.map((vm) => `${vm.address} ${vm.hostKey}`).join('\n') + '\n';
    await writeFile(path.join(work, 'known_hosts'), knownHosts);
    const sshConfig = [
      `Host *`,
      `  User ${lab.user}`,
      `  IdentityFile ${key}`,
      `  IdentitiesOnly yes`,
      `  StrictHostKeyChecking yes`,
      `  UserKnownHostsFile ${path.join(work, 'known_hosts')}`,
      `  BatchMode yes`,
      ...lab.proxies().map((proxy) => `Host ${proxy.vpc}-jump\n  HostName ${proxy.publicAddress}`),
      ...lab.targets().map((vm) => `Host ${vm.vpcAddress}\n  ProxyJump ${vm.vpc}-jump`),
    ].join('\n');
    await writeFile(path.join(work, 'ssh_config'), sshConfig + '\n');
    await writeFile(path.join(work, 'ansible.cfg'), '[defaults]\nhost_key_checking = True\n');
    // No persistent master connection: each run checks host keys afresh and no ssh outlives the test.
    const ansibleEnv = {
      ANSIBLE_CONFIG: path.join(work, 'ansible.cfg'),
      ANSIBLE_SSH_ARGS: '-o ControlMaster=no',
      ANSIBLE_NOCOLOR: '1',
    };
    const hosts = [...lab.targets(), ...lab.directs()];
    const inventory = hosts.map((vm) => `${vm.name} ansible_host=${vm.address}`).join('\n');
    await writeFile(
      path.join(work, 'hosts.ini'),
      `[all]\n${inventory}\n[all:vars]\nansible_ssh_common_args=-F ${path.join(work, 'ssh_config')}\n`,
    );
    await writeFile(
      path.join(work, 'play.yml'),
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: hostname\n      register: name\n      changed_when: false\n    - ansible.builtin.assert:\n        that: name.stdout == inventory_hostname\n`,
    );
    const run = await execa('ansible-playbook', ['-i', 'hosts.ini', 'play.yml'], {
      cwd: work,
      reject: false,
      env: ansibleEnv,
    });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    for (const vm of hosts)
      expect(run.stdout).toMatch(
        new RegExp(`${vm.name}\\s+: ok=2\\s+changed=0\\s+unreachable=0\\s+failed=0`),
      );

    // A swapped host key is refused.
    await writeFile(
      path.join(work, 'known_hosts'),
      knownHosts.replace(lab.vm('vpc2-vm2').hostKey, lab.vm('vpc2-vm1').hostKey),
    );
    const refused = await execa('ansible-playbook', ['-i', 'hosts.ini', 'play.yml', '--limit', 'vpc2-vm2'], {
      cwd: work,
      reject: false,
      env: ansibleEnv,
    });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stdout).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });
});

describe('teardown', () => {
  it('removes a lab left behind by a killed process, leaving the host as it was', async () => {
    // A slot kept free for this drill: OUTPOST_LAB_SPARE_SLOT, else 7 (6 when the suite itself runs in 7).
    const otherSlot = Number(process.env.OUTPOST_LAB_SPARE_SLOT ?? (slot === 7 ? 6 : 7));
    const otherPrefix = slotPrefixes(otherSlot);
    const before = (await listNetns()).filter((name) => name.startsWith(otherPrefix.netns));
    expect(before).toEqual([]);
    // `lab up` in its own process, which exits and leaves the lab running, as a killed test run would.
    const cwd = path.resolve(import.meta.dirname, '../..');
    const made = await execa(
      'npx',
      ['tsx', 'test/lab/cli.ts', 'up', '--slot', String(otherSlot), '--vms', '1'],
      {
        cwd,
      },
    );
    expect((await listNetns()).filter((name) => name.startsWith(otherPrefix.netns))).toHaveLength(2);
    // It prints each VPC's network (what `--network` takes) and the public segment's.
    const plan = planLab({ slot: otherSlot, vpcs: 1, vmsPerVpc: 1, directVms: 0 });
    expect(made.stdout).toMatch(/^vpc1\s+network 198\.51\.100\.0\/26\s+proxy vpc1-proxy$/m);
    expect(made.stdout).toContain(`network ${plan.publicCidr}`);
    expect(made.stdout).toContain(`control plane ${plan.controlAddress}`);
    // `lab exec` passes its stdin on: `npm run lab -- exec VM sh < script` runs the script in the VM.
    const ran = await execa(
      'npx',
      ['tsx', 'test/lab/cli.ts', 'exec', '--slot', String(otherSlot), 'vpc1-vm1', 'sh'],
      {
        cwd,
        input: 'echo "from stdin on $(hostname)"\nexit 3\n',
        reject: false,
      },
    );
    expect(ran.stdout).toBe('from stdin on vpc1-vm1');
    expect(ran.exitCode).toBe(3);
    await down(otherSlot);
    expect((await listNetns()).filter((name) => name.startsWith(otherPrefix.netns))).toEqual([]);
    const { stdout: links } = await execa('ip', ['-o', 'link', 'show']);
    expect(links).not.toMatch(new RegExp(`^\\d+: ${otherPrefix.link}`, 'm'));
  });

  it('down() leaves no namespace, link, VM process or mount', async () => {
    const before = await footprint();
    expect(before.netns.length).toBe(lab.vms.length);
    expect(before.vmProcesses.length).toBe(lab.vms.length);
    await lab.down();
    const after = await footprint();
    expect(after).toEqual({ netns: [], links: [], vmProcesses: [], overlayMounts: [] });
  });
});
