import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSlot, up, type Lab } from '../../lab/lab.ts';
import {
  explain,
  makeKeys,
  readRecordedFacts,
  runPlaybook,
  sshAsCloudroot,
  totalChanged,
  writeAnsibleLab,
  writeLoginVars,
  type AnsibleLabFiles,
} from './ansible-lab.ts';

// One lab for the file: a proxy and two VMs behind it, like a VPC in a cloud.
let lab: Lab;
let files: AnsibleLabFiles;
let byPassword: string;
let byKey: string;

beforeAll(async () => {
  const keys = await makeKeys();
  lab = await up({ slot: defaultSlot(), vpcs: 1, vmsPerVpc: 2, authorizedKeys: [keys.userPublicKey] });
  files = await writeAnsibleLab(lab, keys);
  // The account the user gives once: the image's default user, by password or by key; sudo asks the password.
  ({ byPassword, byKey } = await writeLoginVars(lab, files));
});

afterAll(async () => {
  await lab?.down();
  await files?.remove();
});

describe('playbooks/enroll.yml', () => {
  it('enrolls the proxy with a password account: cloudroot logs in by key and sudo needs no password', async () => {
    const proxy = lab.proxies()[0]!;
    const run = await runPlaybook(files, 'enroll.yml', { limit: proxy.name, extraVars: [byPassword] });
    expect(run.exitCode, explain(run)).toBe(0);
    expect(run.recap[proxy.name]?.changed).toBeGreaterThan(0);

    const login = await sshAsCloudroot(
      files,
      proxy,
      'sudo -n id -u && stat -c %a.%U ~/.ssh ~/.ssh/authorized_keys',
    );
    expect(login.exitCode, login.stderr).toBe(0);
    expect(login.stdout.split('\n')).toEqual(['0', '700.cloudroot', '600.cloudroot']);
    // No password reaches the event stream or the output.
    expect(run.eventText).not.toContain(lab.password);
    expect(run.stdout).not.toContain(lab.password);
  });

  it('reports in --check mode what it would do on a VM behind the proxy, without doing it', async () => {
    const vm = lab.targets()[0]!;
    const run = await runPlaybook(files, 'enroll.yml', {
      limit: vm.name,
      extraVars: [byPassword],
      check: true,
    });
    expect(run.exitCode, explain(run)).toBe(0);
    expect(run.recap[vm.name]?.changed).toBeGreaterThan(0);
    expect((await lab.exec(vm, 'id cloudroot')).exitCode).not.toBe(0);
    expect((await lab.exec(vm, 'ls /etc/sudoers.d')).stdout).not.toContain('outpost-cloudroot');
  });

  it('enrolls VMs behind the proxy with a password account and with a key account', async () => {
    const [vm1, vm2] = lab.targets();
    const [byPasswordRun, byKeyRun] = await Promise.all([
      runPlaybook(files, 'enroll.yml', { limit: vm1!.name, extraVars: [byPassword] }),
      runPlaybook(files, 'enroll.yml', { limit: vm2!.name, extraVars: [byKey] }),
    ]);
    expect(byPasswordRun.exitCode, explain(byPasswordRun)).toBe(0);
    expect(byKeyRun.exitCode, explain(byKeyRun)).toBe(0);
    // The facts the role read as root come with the recap: Outpost needs no probe play after enrolling.
    expect(readRecordedFacts(byPasswordRun)[vm1!.name]).toMatchObject({
      os: expect.stringMatching(/^Debian \d+/) as unknown,
      interpreter: '/usr/bin/python3',
    });
    expect(Object.keys(readRecordedFacts(byKeyRun))).toEqual([vm2!.name]);
    for (const vm of [vm1!, vm2!]) {
      const login = await sshAsCloudroot(files, vm, 'sudo -n id -un');
      expect(login.exitCode, `${vm.name}: ${login.stderr}`).toBe(0);
      expect(login.stdout).toBe('root');
      // Key-only: the account has no usable password.
      expect(await lab.sh(vm, 'getent shadow cloudroot | cut -d: -f2')).toBe('*\n');
      expect(
        await lab.sh(
          vm,
          'visudo -cf /etc/sudoers.d/outpost-cloudroot >/dev/null && cat /etc/sudoers.d/outpost-cloudroot',
        ),
      ).toContain('cloudroot ALL=(ALL:ALL) NOPASSWD: ALL');
    }
  });

  it('changes nothing on a second run, and keeps keys someone else added', async () => {
    const vm = lab.targets()[1]!;
    await lab.sh(
      vm,
      `echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyAddedByTheCustomer0000000000000 them' >> ~cloudroot/.ssh/authorized_keys`,
    );
    const run = await runPlaybook(files, 'enroll.yml', { extraVars: [byPassword] });
    expect(run.exitCode, explain(run)).toBe(0);
    expect(Object.keys(run.recap).sort()).toEqual(lab.vms.map((vm) => vm.name).sort());
    expect(totalChanged(run), explain(run)).toBe(0);
    const authorized = await lab.sh(vm, 'cat ~cloudroot/.ssh/authorized_keys');
    expect(authorized).toContain('them');
    expect(authorized.split('\n').filter((line) => line.includes('admin@outpost-test'))).toHaveLength(1);
  });

  it('probes as cloudroot in one module run per host and records the facts Outpost keeps, with the recap', async () => {
    const { asCloudroot } = await writeLoginVars(lab, files);
    const run = await runPlaybook(files, 'probe.yml', { extraVars: [asCloudroot] });
    expect(run.exitCode, explain(run)).toBe(0);
    const facts = readRecordedFacts(run);
    expect(Object.keys(facts).sort()).toEqual(lab.vms.map((vm) => vm.name).sort());
    for (const vm of lab.vms) {
      expect(facts[vm.name]?.os).toMatch(/^Debian \d+/);
      expect(facts[vm.name]?.family).toBe('Debian');
      expect(facts[vm.name]?.arch).toBe((await lab.sh(vm, 'uname -m')).trim());
      expect(facts[vm.name]?.python).toMatch(/^3\.\d+\.\d+$/);
      expect(facts[vm.name]?.interpreter).toBe('/usr/bin/python3');
      // One task reaches the host (interpreter discovery aside): the facts, read as root; the others run on
      // the controller (the check of become, the facts recorded once for the play).
      const controllerSide = ['ansible.builtin.assert', 'ansible.builtin.set_stats'];
      const remote = run.events.filter(
        (event) =>
          event.event === 'host_result' &&
          event.host === vm.name &&
          !controllerSide.includes(String(event.action)),
      );
      expect(remote.map((event) => event.action)).toEqual(['ansible.builtin.setup']);
    }
    // The success message of the become check says what was found, per host, in the output.
    expect(run.stdout).toMatch(/"msg": "os=Debian \d+[\d.]* arch=\S+ python=3\.\d+\.\d+"/);
  });

  it('refuses a public key that is not one, naming the entry, before touching the VM', async () => {
    const vm = lab.targets()[0]!;
    const bad = await files.vars('bad-key', {
      ansible_user: lab.user,
      ansible_password: lab.password,
      ansible_become_password: lab.password,
      cloudroot_authorized_keys: ['ssh-ed25519 AAAAC3Nz\nrm -rf /'],
    });
    const run = await runPlaybook(files, 'enroll.yml', { limit: vm.name, extraVars: [bad] });
    expect(run.exitCode).not.toBe(0);
    const failure = run.events.find((event) => event.event === 'host_result' && event.status === 'failed');
    expect(failure?.msg).toMatch(/^Entry 0 of cloudroot_authorized_keys is not an OpenSSH public key line/);
  });

  it('removes cloudroot with cloudroot_state absent, logged in as the default user', async () => {
    const vm = lab.targets()[0]!;
    const remove = await files.vars('remove', {
      ansible_user: lab.user,
      ansible_password: lab.password,
      ansible_become_password: lab.password,
      cloudroot_state: 'absent',
    });
    const run = await runPlaybook(files, 'enroll.yml', { limit: vm.name, extraVars: [remove] });
    expect(run.exitCode, explain(run)).toBe(0);
    expect((await lab.exec(vm, 'id cloudroot')).exitCode).not.toBe(0);
    expect(await lab.sh(vm, 'ls /etc/sudoers.d /home')).not.toMatch(/outpost-cloudroot|cloudroot/);
    expect((await sshAsCloudroot(files, vm, 'true')).exitCode).not.toBe(0);
  });
});
