import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainSshFailure } from '../../../src/ssh/explain-ssh-failure.ts';
import { readKnownHosts } from '../../../src/inventory/read-known-hosts.ts';
import { stopControlMasters } from '../../../src/ssh/stop-control-masters.ts';
import { writeInventory, type WrittenInventory } from '../../../src/inventory/write-inventory.ts';
import { Registry } from '../../../src/registry/registry.ts';
import { KeyStore } from '../../../src/secrets/key-store.ts';
import { renderEnrollScript } from '../../../src/secrets/render-enroll-script.ts';
import { up, type Lab } from '../../lab/lab.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import { killProcessesMentioning } from './reach-lab.ts';

const PROJECT = 'enroll';

describe('enrollment script, run as root in lab VMs', () => {
  let lab: Lab;
  let server: TestRedis;
  let redis: Redis;
  let registry: Registry;
  let keys: KeyStore;
  let tmp: string;
  let script: string;

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'outpost-enroll-'));
    server = await startRedis();
    redis = new Redis(server.url);
    keys = new KeyStore(redis, randomBytes(32));
    registry = new Registry(redis, 'outpost:', { keys });
    const project = await registry.createProject({ id: PROJECT });
    script = renderEnrollScript({
      project: PROJECT,
      adminKey: project.publicKeys.admin,
      projectKey: project.publicKeys.project,
    });
    lab = await up({ slot: Number(process.env.OUTPOST_LAB_SLOT ?? 0), vpcs: 1, vmsPerVpc: 1, directVms: 1 });
  });

  afterAll(async () => {
    await killProcessesMentioning(tmp);
    await lab?.down();
    redis?.disconnect();
    await server?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('creates cloudroot and says what it did; a second run changes nothing and says so', async () => {
    for (const vm of lab.vms) {
      const first = await lab.exec(vm, 'sh -s', { input: script });
      expect(first.exitCode, first.stderr).toBe(0);
      expect(first.stdout).toContain('outpost-enroll: created user cloudroot');
      expect(first.stdout).toContain(
        'outpost-enroll: added 2 key(s) to /home/cloudroot/.ssh/authorized_keys',
      );
      expect(first.stdout).toContain(
        'outpost-enroll: installed sudoers rule /etc/sudoers.d/outpost-cloudroot (validated with visudo)',
      );

      const second = await lab.exec(vm, 'sh -s', { input: script });
      expect(second.exitCode, second.stderr).toBe(0);
      expect(second.stdout).toContain('outpost-enroll: user cloudroot exists');
      expect(second.stdout).toContain('outpost-enroll: keys already in /home/cloudroot/.ssh/authorized_keys');
      expect(second.stdout).toContain(
        'outpost-enroll: sudoers rule /etc/sudoers.d/outpost-cloudroot unchanged',
      );
      expect(await lab.sh(vm, 'wc -l < /home/cloudroot/.ssh/authorized_keys; ls -a /etc/sudoers.d')).toMatch(
        /^2\n[^]*outpost-cloudroot/,
      );
      expect(await lab.sh(vm, 'ls -a /etc/sudoers.d')).not.toContain('.outpost.');
      // The rule roles/cloudroot writes: sudo without a tty (Ansible pipelining), without a password.
      expect(await lab.sh(vm, 'cat /etc/sudoers.d/outpost-cloudroot')).toBe(
        'Defaults:cloudroot !requiretty\ncloudroot ALL=(ALL:ALL) NOPASSWD: ALL\n',
      );
    }
  });

  it('refuses to run as a normal user', async () => {
    const vm = lab.directs()[0];
    if (!vm) throw new Error('no direct VM');
    const run = await lab.exec(vm, `su -s /bin/sh ${lab.user} -c 'sh -s'`, { input: script });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('outpost-enroll: error: run me as root');
  });

  it('then cloudroot logs in with the project key and sudo needs no password: directly and through the proxy', async () => {
    for (const vm of lab.proxies()) {
      await registry.createProxy({
        id: vm.name,
        project: PROJECT,
        publicAddress: vm.publicAddress,
        vpcAddress: vm.vpcAddress,
        networks: [vm.vpcCidr],
      });
    }
    for (const vm of [...lab.targets(), ...lab.directs()]) {
      await registry.createHost({ id: vm.name, project: PROJECT, address: vm.address });
    }
    const write = async (hostKeyPolicy: 'strict' | 'accept-new') =>
      writeInventory({
        dir: path.join(tmp, 'inventory'),
        project: PROJECT,
        hosts: await registry.listHosts({ project: PROJECT }),
        proxies: await registry.listProxies({ project: PROJECT }),
        keys: { project: await keys.projectPrivateKey(PROJECT) },
        hostKeyPolicy,
      });
    const login = (written: WrittenInventory, name: string) =>
      execa('ssh', ['-F', written.sshConfig, name, 'id -un; sudo -n id -un; hostname'], {
        reject: false,
        timeout: 60_000,
      });

    // Nothing pinned yet: the strict inventory refuses, and says why.
    const strictFirst = await write('strict');
    const refused = await login(strictFirst, lab.directs()[0]?.name ?? '');
    expect(refused.exitCode).toBe(255);
    expect(explainSshFailure(refused.stderr)?.code).toBe('host_key_unknown');

    // First contact records the keys (proxy through ProxyJump too); Outpost pins what was recorded.
    const first = await write('accept-new');
    for (const vm of [...lab.targets(), ...lab.directs()]) {
      const result = await login(first, vm.name);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toBe(`cloudroot\nroot\n${vm.name}`);
    }
    const recorded = await readKnownHosts(first.knownHosts);
    for (const vm of lab.vms) {
      const alias = vm.kind === 'proxy' ? `proxy.${vm.name}` : vm.name;
      expect(recorded.get(alias), alias).toBe(vm.hostKey.split(' ').slice(0, 2).join(' '));
      await registry.pinHostKey(vm.kind === 'proxy' ? 'proxy' : 'host', vm.name, recorded.get(alias) ?? '');
    }

    // From now on: strict, with the pinned keys.
    await stopControlMasters(
      first.sshConfig,
      lab.proxies().map((vm) => vm.name),
    );
    const pinned = await write('strict');
    expect(await readFile(pinned.sshConfig, 'utf8')).toContain('StrictHostKeyChecking yes');
    for (const vm of [...lab.targets(), ...lab.directs()]) {
      const result = await login(pinned, vm.name);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toBe(`cloudroot\nroot\n${vm.name}`);
    }
  });
});
