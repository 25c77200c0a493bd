import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { execa } from 'execa';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryCommand } from '../../../src/cli/inventory-command.ts';
import { HostKeyChangedError } from '../../../src/domain/host-key-changed-error.ts';
import { captureHostKey } from '../../../src/inventory/capture-host-key.ts';
import { captureHostKeyThroughProxy } from '../../../src/inventory/capture-host-key-through-proxy.ts';
import { explainSshFailure } from '../../../src/ssh/explain-ssh-failure.ts';
import { inventoryPaths } from '../../../src/inventory/inventory-paths.ts';
import { releaseControlDir } from '../../../src/ssh/release-control-dir.ts';
import { stopControlMasters } from '../../../src/ssh/stop-control-masters.ts';
import { writeInventory, type WrittenInventory } from '../../../src/inventory/write-inventory.ts';
import { Registry } from '../../../src/registry/registry.ts';
import { KeyStore } from '../../../src/secrets/key-store.ts';
import { up, type Lab } from '../../lab/lab.ts';
import { startInProcess } from '../../support/in-process-services.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';
import {
  ROOT,
  createCloudroot,
  parseRecap,
  registerLab,
  runAnsible,
  killProcessesMentioning,
  startLocalForward,
} from './reach-lab.ts';

const PROJECT = 'reach';
const PLAYBOOK = path.join(ROOT, 'test/fixtures/reach-ping.yml');

describe('generated inventory in the lab: 2 VPCs x 2 VMs behind proxies, 1 direct VM', () => {
  let lab: Lab;
  let server: TestRedis;
  let redis: Redis;
  let registry: Registry;
  let keys: KeyStore;
  let tmp: string;
  let written: WrittenInventory;
  const masterKey = randomBytes(32);

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'outpost-reach-'));
    server = await startRedis();
    redis = new Redis(server.url);
    keys = new KeyStore(redis, masterKey);
    registry = new Registry(redis, 'outpost:', { keys });
    const project = await registry.createProject({ id: PROJECT });
    lab = await up({ slot: Number(process.env.OUTPOST_LAB_SLOT ?? 0), vpcs: 2, vmsPerVpc: 2, directVms: 1 });
    await Promise.all(
      lab.vms.map((vm) => createCloudroot(lab, vm, [project.publicKeys.admin, project.publicKeys.project])),
    );
    await registerLab(registry, lab, PROJECT);
  });

  afterAll(async () => {
    await killProcessesMentioning(tmp);
    // These inventories' paths are too long for sockets: their control dirs are under /tmp, outside tmp.
    for (const dir of ['inventories', 'root/inventories'])
      await releaseControlDir(inventoryPaths(path.join(tmp, dir, PROJECT)));
    await lab?.down();
    redis?.disconnect();
    await server?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('records every host key at first contact: proxies and the direct VM straight, VPC VMs through their proxy', async () => {
    const privateKey = await keys.projectPrivateKey(PROJECT);
    for (const vm of [...lab.proxies(), ...lab.directs()]) {
      const key = await captureHostKey({ host: vm.address, port: vm.port });
      expect(key).toBe(vm.hostKey.split(' ').slice(0, 2).join(' '));
      expect(await registry.pinHostKey(vm.kind === 'proxy' ? 'proxy' : 'host', vm.name, key)).toBe(
        'recorded',
      );
    }
    for (const vm of lab.targets()) {
      const proxy = await registry.proxyFor(await registry.getHost(vm.name));
      if (!proxy?.hostKey) throw new Error(`no pinned proxy for ${vm.name}`);
      const key = await captureHostKeyThroughProxy(
        {
          id: proxy.id,
          host: proxy.publicAddress,
          port: proxy.sshPort,
          username: proxy.user,
          privateKey,
          hostKey: proxy.hostKey,
        },
        { host: vm.address, port: vm.port },
      );
      expect(key).toBe(vm.hostKey.split(' ').slice(0, 2).join(' '));
      await registry.pinHostKey('host', vm.name, key);
    }
  });

  it('lets plain ansible-playbook reach every VM, with nothing of Outpost running', async () => {
    written = await writeInventory({
      dir: path.join(tmp, 'inventories', PROJECT),
      project: PROJECT,
      hosts: await registry.listHosts({ project: PROJECT }),
      proxies: await registry.listProxies({ project: PROJECT }),
      keys: { project: await keys.projectPrivateKey(PROJECT) },
    });
    const run = await runAnsible(written.hostsFile, PLAYBOOK, path.join(tmp, 'cp-first'));
    const recap = parseRecap(run.stdout);
    expect(run.exitCode, run.all).toBe(0);
    expect(Object.keys(recap).sort()).toEqual(lab.vms.map((vm) => vm.name).sort());
    for (const vm of lab.vms) {
      expect(recap[vm.name], vm.name).toMatchObject({ ok: 3, unreachable: 0, failed: 0 });
      // The VM's own hostname, read through sudo, as cloudroot: the answer really came from that VM.
      expect(run.stdout).toContain(`"msg": "ANSWER ${vm.name} ${vm.name} cloudroot"`);
    }
    // One multiplexed connection per proxy carries every host behind it; it can be ended on purpose.
    expect((await readdir(written.controlDir)).length).toBe(lab.proxies().length);
    const proxyIds = lab.proxies().map((vm) => vm.name);
    expect(await stopControlMasters(written.sshConfig, proxyIds)).toBe(2);
    expect(await readdir(written.controlDir)).toEqual([]);
  });

  it('serves the same reach as a dynamic inventory (inventory-script protocol) to ansible-playbook', async () => {
    let printed = '';
    const { services, client } = await startInProcess({
      varDir: path.join(tmp, 'var'),
      roles: ['api'],
      env: { OUTPOST_REDIS_URL: server.url },
      masterKey,
    });
    try {
      await new Command('outpost')
        .exitOverride()
        .addCommand(
          inventoryCommand(() => client, {
            rootDir: path.join(tmp, 'root'),
            write: (text: string) => (printed += text),
          }),
        )
        .parseAsync(['inventory', '--list'], { from: 'user' });
    } finally {
      await services.stop();
    }
    const listing = JSON.parse(printed) as {
      _meta: { hostvars: Record<string, unknown> };
      project_reach: { vars: object };
    };
    expect(Object.keys(listing._meta.hostvars).sort()).toEqual(lab.vms.map((vm) => vm.name).sort());
    expect(listing.project_reach.vars).toMatchObject({
      ansible_ssh_common_args: `-F ${path.join(tmp, 'root/inventories/reach/ssh_config')}`,
    });
    // Ansible runs an executable inventory with --list; this one answers with what `outpost inventory` printed.
    const script = path.join(tmp, 'dynamic-inventory');
    await writeFile(path.join(tmp, 'listing.json'), printed);
    await writeFile(script, `#!/bin/sh\ncat ${path.join(tmp, 'listing.json')}\n`, { mode: 0o755 });
    const run = await runAnsible(script, PLAYBOOK, path.join(tmp, 'cp-dynamic'));
    expect(run.exitCode, run.all).toBe(0);
    const recap = parseRecap(run.stdout);
    for (const vm of lab.vms)
      expect(recap[vm.name], vm.name).toMatchObject({ ok: 3, unreachable: 0, failed: 0 });
  });

  it('reaches a VPC VM through a local forward (reach forward), its key still pinned by name', async () => {
    const target = lab.vm('vpc2-vm1');
    const proxy = await registry.getProxy('vpc2-proxy');
    const forward = await startLocalForward(
      {
        host: proxy.publicAddress,
        port: proxy.sshPort,
        username: proxy.user,
        privateKey: await keys.projectPrivateKey(PROJECT),
      },
      { host: target.address, port: 22 },
    );
    try {
      await registry.updateHost(target.name, { reach: 'forward' });
      const withForward = await writeInventory({
        dir: path.join(tmp, 'run-forward'),
        project: PROJECT,
        hosts: await registry.listHosts({ project: PROJECT }),
        proxies: await registry.listProxies({ project: PROJECT }),
        keys: { project: await keys.projectPrivateKey(PROJECT) },
        forwards: new Map([[target.name, { host: '127.0.0.1', port: forward.port }]]),
      });
      expect(withForward.model.hostvars[target.name]).toMatchObject({
        ansible_host: '127.0.0.1',
        ansible_port: forward.port,
        outpost_reach: 'forward',
      });
      const run = await runAnsible(withForward.hostsFile, PLAYBOOK, path.join(tmp, 'cp-forward'), [
        '--limit',
        target.name,
      ]);
      expect(run.exitCode, run.all).toBe(0);
      expect(parseRecap(run.stdout)[target.name]).toMatchObject({ ok: 3, unreachable: 0, failed: 0 });
      expect(run.stdout).toContain(`"msg": "ANSWER ${target.name} ${target.name} cloudroot"`);
    } finally {
      await registry.updateHost(target.name, { reach: null });
      await forward.close();
    }
  });

  it('refuses a VM whose host key changed, naming it and the command to accept the new key', async () => {
    const victim = lab.vm('vpc1-vm2');
    await lab.sh(
      victim,
      "rm -f /etc/ssh/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && kill -HUP $(cat /run/sshd.pid)",
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const run = await runAnsible(written.hostsFile, PLAYBOOK, path.join(tmp, 'cp-second'));
    const recap = parseRecap(run.stdout);
    expect(run.exitCode).not.toBe(0);
    expect(recap['vpc1-vm2']).toMatchObject({ ok: 0, unreachable: 1 });
    for (const vm of lab.vms.filter((candidate) => candidate.name !== 'vpc1-vm2')) {
      expect(recap[vm.name], vm.name).toMatchObject({ ok: 3, unreachable: 0, failed: 0 });
    }
    expect(run.stdout).toContain('Host key for vpc1-vm2 has changed and you have requested strict checking');
    expect(explainSshFailure(run.stdout)?.message).toMatch(
      /^host "vpc1-vm2": its SSH host key changed since it was pinned.*accept the new key with: outpost host rekey vpc1-vm2$/,
    );

    // Outpost's own first-contact path refuses it too, and keeps the old pin.
    const proxy = await registry.getProxy('vpc1-proxy');
    const presented = await captureHostKeyThroughProxy(
      {
        id: proxy.id,
        host: proxy.publicAddress,
        port: proxy.sshPort,
        username: proxy.user,
        privateKey: await keys.projectPrivateKey(PROJECT),
        hostKey: proxy.hostKey ?? '',
      },
      { host: victim.address, port: 22 },
    );
    await expect(registry.pinHostKey('host', 'vpc1-vm2', presented)).rejects.toBeInstanceOf(
      HostKeyChangedError,
    );
  });

  it('leaves no private key in clear in Redis: not in any value, not in the append-only file', async () => {
    // A line from the middle of the key body: catches a key stored without its armour too.
    const body = (await keys.projectPrivateKey(PROJECT)).split('\n')[2] ?? 'unreachable';
    expect(body.length).toBeGreaterThan(40);
    let scanned = 0;
    for (const key of await redis.keys('*')) {
      const value = (await redis.dumpBuffer(key))?.toString('latin1') ?? '';
      const text = (await redis.type(key)) === 'string' ? ((await redis.get(key)) ?? '') : value;
      scanned++;
      expect(text, key).not.toContain('PRIVATE KEY');
      expect(text, key).not.toContain(body);
    }
    expect(scanned).toBeGreaterThanOrEqual(2 + lab.vms.length);
    const aof = await execa('grep', ['-rl', '-e', 'PRIVATE KEY', '-e', body, server.dir], { reject: false });
    expect(aof.exitCode, aof.stdout).toBe(1);
    expect((await execa('grep', ['-rl', 'outpost:keys:project:reach', server.dir])).stdout).toContain(
      'appendonly',
    );
  });
});
