import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../../src/errors.ts';
import { HostKeyChangedError } from '../../../src/domain/host-key-changed-error.ts';
import { Registry } from '../../../src/registry/registry.ts';
import { writeProjectInventory } from '../../../src/registry/write-project-inventory.ts';
import { KeyStore } from '../../../src/secrets/key-store.ts';
import { generateKeypair } from '../../../src/secrets/generate-keypair.ts';
import { recordCommands } from '../../support/record-commands.ts';
import { startRedis, type TestRedis } from '../../support/redis.ts';

const KEY_A = generateKeypair('a').publicKey;
const KEY_B = generateKeypair('b').publicKey;

describe('Registry on a real Redis', () => {
  let server: TestRedis;
  let redis: Redis;
  let registry: Registry;
  let keys: KeyStore;
  let prefix: string;

  beforeAll(async () => {
    server = await startRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });
  beforeEach(async () => {
    // A unique prefix per test: nothing leaks between tests.
    prefix = `t${randomBytes(4).toString('hex')}:`;
    keys = new KeyStore(redis, randomBytes(32), prefix);
    registry = new Registry(redis, prefix, { keys });
    await registry.createProject({ id: 'acme' });
  });

  const proxy = {
    id: 'edge',
    project: 'acme',
    publicAddress: '203.0.113.10',
    vpcAddress: '198.51.100.1',
    networks: ['198.51.100.0/24'],
  };

  it('creates a project with generated admin and project public keys', async () => {
    const project = await registry.getProject('acme');
    expect(project.publicKeys.admin).toMatch(/^ssh-ed25519 AAAA\S+ outpost-admin$/);
    expect(project.publicKeys.project).toMatch(/^ssh-ed25519 AAAA\S+ outpost-acme$/);
    expect(await keys.projectPrivateKey('acme')).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect((await registry.listProjects()).map((p) => p.id)).toEqual(['acme']);
  });

  it('creates, lists, filters and deletes proxies and hosts', async () => {
    await registry.createProxy(proxy);
    await registry.createHost({
      id: 'vm1',
      project: 'acme',
      address: '198.51.100.5',
      network: '198.51.100.0/24',
    });
    await registry.createHost({ id: 'web', project: 'acme', address: '203.0.113.20', sshPort: 2222 });
    expect((await registry.listHosts({ project: 'acme' })).map((h) => h.id)).toEqual(['vm1', 'web']);
    expect((await registry.listHosts({ network: '198.51.100.0/24' })).map((h) => h.id)).toEqual(['vm1']);
    const web = await registry.getHost('web');
    expect(web).toMatchObject({ sshPort: 2222, login: { state: 'unknown' }, agent: { state: 'none' } });
    expect((await registry.proxyFor(await registry.getHost('vm1')))?.id).toBe('edge');
    expect(await registry.proxyFor(web)).toBeUndefined();
    await expect(registry.deleteProject('acme')).rejects.toThrow(/still has 2 host\(s\) and 1 proxy/);
    await registry.deleteHost('vm1');
    await registry.deleteHost('web');
    await registry.deleteProxy('edge');
    await registry.deleteProject('acme');
    await expect(registry.getProject('acme')).rejects.toBeInstanceOf(NotFoundError);
  });

  it("reads back a proxy's recorded self-test (the field prepare-proxy writes) and clears it with null", async () => {
    await registry.createProxy(proxy);
    const selfTest = {
      at: new Date().toISOString(),
      ok: true,
      bindAddress: '198.51.100.1',
      port: 18086,
      ms: 12,
    };
    await registry.updateProxy('edge', { selfTest });
    expect((await registry.getProxy('edge')).selfTest).toEqual(selfTest);
    expect((await registry.listProxies({ project: 'acme' }))[0]?.selfTest).toEqual(selfTest);
    await registry.updateProxy('edge', { selfTest: null });
    expect((await registry.getProxy('edge')).selfTest).toBeUndefined();
    await registry.deleteProxy('edge');
  });

  it('picks the most specific proxy, and an explicit one wins', async () => {
    await registry.createProxy(proxy);
    await registry.createProxy({ ...proxy, id: 'narrow', networks: ['198.51.100.0/26'] });
    const host = await registry.createHost({ id: 'vm1', project: 'acme', address: '198.51.100.5' });
    expect((await registry.proxyFor(host))?.id).toBe('narrow');
    const pinned = await registry.updateHost('vm1', { proxy: 'edge' });
    expect((await registry.proxyFor(pinned))?.id).toBe('edge');
  });

  it('refuses bad input naming the field, duplicates, and dangling references', async () => {
    await expect(
      registry.createHost({ id: 'vm1', project: 'acme', address: '198.51.100.5 -oProxyCommand=id' }),
    ).rejects.toThrow(/^address: .*"198\.51\.100\.5 -oProxyCommand=id"/);
    await expect(registry.createHost({ id: 'vm1', project: 'nope', address: '192.0.2.1' })).rejects.toThrow(
      /project: no project named "nope"/,
    );
    await expect(
      registry.createHost({ id: 'vm1', project: 'acme', address: '192.0.2.1', proxy: 'ghost' }),
    ).rejects.toThrow(/proxy: no proxy named "ghost"/);
    await expect(
      registry.createHost({ id: 'vm1', project: 'acme', address: '192.0.2.1', network: '198.51.100.0/24' }),
    ).rejects.toThrow(/address: "192.0.2.1" is not inside network "198.51.100.0\/24"/);
    await registry.createHost({ id: 'vm1', project: 'acme', address: '192.0.2.1' });
    await expect(
      registry.createHost({ id: 'vm1', project: 'acme', address: '192.0.2.2' }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(registry.createProxy({ ...proxy, id: 'vm1' })).rejects.toThrow(/share one namespace/);
    await expect(registry.updateHost('vm1', { agent: { state: 'teleported' } })).rejects.toThrow(
      /agent\.state/,
    );
    await expect(registry.createProject({ id: 'acme' })).rejects.toBeInstanceOf(ConflictError);
    await expect(registry.createProject({ id: 'x', extra: 1 })).rejects.toBeInstanceOf(ValidationError);
  });

  it('updates hosts; null clears an optional field', async () => {
    await registry.createHost({ id: 'vm1', project: 'acme', address: '192.0.2.1', hostKey: KEY_A });
    const at = new Date().toISOString();
    const updated = await registry.updateHost('vm1', {
      login: { state: 'enrolled', way: 'script', at },
      hostKey: null,
    });
    expect(updated.login).toEqual({ state: 'enrolled', way: 'script', at });
    expect(updated.hostKey).toBeUndefined();
    expect(await registry.getHost('vm1')).toEqual(updated);
  });

  it('pins a host key at first contact and refuses a different one with the rekey command', async () => {
    await registry.createHost({ id: 'vm1', project: 'acme', address: '192.0.2.1' });
    expect(await registry.pinHostKey('host', 'vm1', KEY_A)).toBe('recorded');
    expect(await registry.pinHostKey('host', 'vm1', KEY_A)).toBe('unchanged');
    const refusal = registry.pinHostKey('host', 'vm1', KEY_B);
    await expect(refusal).rejects.toBeInstanceOf(HostKeyChangedError);
    await expect(refusal).rejects.toThrow(/outpost host rekey vm1/);
    expect((await registry.getHost('vm1')).hostKey).toBe(KEY_A.split(' ').slice(0, 2).join(' '));
    await registry.updateHost('vm1', { hostKey: null }); // what `outpost host rekey` does before a new probe
    expect(await registry.pinHostKey('host', 'vm1', KEY_B)).toBe('recorded');
  });

  it('keeps every private key sealed in Redis', async () => {
    await keys.ensureProjectKey('acme');
    await keys.beginRotation('acme');
    const values: string[] = [];
    for (const key of await redis.keys('*')) {
      if ((await redis.type(key)) === 'string') values.push((await redis.get(key)) ?? '');
    }
    expect(values.length).toBeGreaterThan(0);
    expect(values.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('rotates a project key: the next key becomes current in the key store and the project at once', async () => {
    const { current, next } = await keys.beginRotation('acme');
    expect(next).not.toBe(current);
    expect((await keys.beginRotation('acme')).next).toBe(next);
    const promoted = await registry.promoteProjectKey('acme', await keys.promotion('acme'));
    expect(promoted.publicKeys.project).toBe(next);
    expect((await registry.getProject('acme')).publicKeys.project).toBe(next);
    expect(await keys.projectPublicKey('acme')).toBe(next);
    expect(await keys.projectPrivateKey('acme')).toMatch(/OPENSSH PRIVATE KEY/);
    await expect(keys.nextProjectPrivateKey('acme')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a value tampered with in Redis, naming the entity and field, and never writes it into an inventory', async () => {
    await registry.createProxy(proxy);
    await registry.createHost({ id: 'vm1', project: 'acme', address: '198.51.100.5' });
    const tamper = async (kind: string, id: string, change: Record<string, unknown>): Promise<void> => {
      const key = `${prefix}${kind}:${id}`;
      const stored = JSON.parse((await redis.get(key)) ?? '{}') as Record<string, unknown>;
      await redis.set(key, JSON.stringify({ ...stored, ...change }));
    };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-tampered-'));
    try {
      await tamper('host', 'vm1', { address: '1.2.3.4\n  ProxyCommand touch /tmp/pwned' });
      await expect(registry.getHost('vm1')).rejects.toThrow(
        /^host "vm1" in the registry is invalid: address: expected an IPv4 or IPv6 address or a DNS host name, got "1\.2\.3\.4\\n {2}ProxyCommand touch \/tmp\/pwned"/,
      );
      await expect(registry.listHosts({ project: 'acme' })).rejects.toThrow(
        /^host "vm1" in the registry is invalid: address/,
      );
      await expect(writeProjectInventory({ registry, keys }, 'acme', dir)).rejects.toThrow(/host "vm1"/);
      expect(await readdir(dir)).toEqual([]);

      // A fixed value reads again; a tampered proxy, or an interpreter path with a command in it, is refused too.
      await registry.updateHost('vm1', { address: '198.51.100.5' });
      expect((await registry.getHost('vm1')).address).toBe('198.51.100.5');
      await tamper('host', 'vm1', { facts: { interpreter: '/usr/bin/python3; touch /tmp/pwned' } });
      await expect(registry.getHost('vm1')).rejects.toThrow(
        /^host "vm1" in the registry is invalid: facts\.interpreter/,
      );
      await registry.deleteHost('vm1'); // an operator can still remove what cannot be read
      await tamper('proxy', 'edge', { user: 'cloudroot\nHost *\n  ProxyCommand touch /tmp/pwned' });
      await expect(registry.listProxies()).rejects.toThrow(/^proxy "edge" in the registry is invalid: user/);
      await expect(writeProjectInventory({ registry, keys }, 'acme', dir)).rejects.toThrow(/proxy "edge"/);
      await tamper('project', 'acme', { publicKeys: { admin: 'x', project: 'y' } });
      await expect(registry.getProject('acme')).rejects.toThrow(
        /^project "acme" in the registry is invalid: publicKeys\.admin/,
      );
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("lists a project's hosts and proxies reading that project's entities only", async () => {
    await registry.createProject({ id: 'other' });
    await registry.createProxy(proxy);
    await registry.createProxy({ ...proxy, id: 'far', project: 'other' });
    await registry.createHost({ id: 'vm1', project: 'acme', address: '198.51.100.5' });
    await registry.createHost({ id: 'vm2', project: 'acme', address: '198.51.100.6', proxy: 'edge' });
    for (const id of ['x1', 'x2', 'x3'])
      await registry.createHost({ id, project: 'other', address: '192.0.2.9', network: 'lan' });
    const recorder = await recordCommands(redis);
    expect((await registry.listHosts({ project: 'acme' })).map((h) => h.id)).toEqual(['vm1', 'vm2']);
    expect((await registry.listProxies({ project: 'acme' })).map((p) => p.id)).toEqual(['edge']);
    expect((await registry.listHosts({ proxy: 'edge' })).map((h) => h.id)).toEqual(['vm2']);
    expect((await registry.listHosts({ project: 'other', network: 'lan' })).map((h) => h.id)).toEqual([
      'x1',
      'x2',
      'x3',
    ]);
    const read = (await recorder.stop()).filter(([name]) => name === 'mget' || name === 'get');
    const keysRead = read.flatMap(([, ...keys]) => keys);
    expect(keysRead).toEqual([
      `${prefix}host:vm1`,
      `${prefix}host:vm2`,
      `${prefix}proxy:edge`,
      `${prefix}host:vm2`,
      `${prefix}host:x1`,
      `${prefix}host:x2`,
      `${prefix}host:x3`,
    ]);
  });

  it('moves a host between indexes as its network and proxy change, and drops it on delete', async () => {
    await registry.createProxy(proxy);
    await registry.createHost({ id: 'vm1', project: 'acme', address: '198.51.100.5', network: 'blue' });
    const ids = async (filter: Parameters<Registry['listHosts']>[0]) =>
      (await registry.listHosts(filter)).map((h) => h.id);
    await registry.updateHost('vm1', { network: 'green', proxy: 'edge' });
    expect(await ids({ project: 'acme', network: 'blue' })).toEqual([]);
    expect(await ids({ project: 'acme', network: 'green' })).toEqual(['vm1']);
    expect(await ids({ proxy: 'edge' })).toEqual(['vm1']);
    await expect(registry.deleteProxy('edge')).rejects.toThrow(/explicit proxy of vm1/);
    await registry.updateHost('vm1', { proxy: null, network: null });
    expect(await ids({ proxy: 'edge' })).toEqual([]);
    expect(await ids({ project: 'acme', network: 'green' })).toEqual([]);
    await registry.deleteProxy('edge');
    await registry.deleteHost('vm1');
    expect(await ids({ project: 'acme' })).toEqual([]);
    // Nothing is left behind in Redis but the project, its keys and the change counters.
    const left = (await redis.keys(`${prefix}*`)).filter((key) => !key.includes(':keys:')).sort();
    expect(left).toEqual(
      [
        `${prefix}project-versions`,
        `${prefix}project:acme`,
        `${prefix}projects`,
        `${prefix}registry-version`,
      ].sort(),
    );
  });

  it('reads a registry written before indexes existed once they are built at start', async () => {
    // What the previous code stored: each value, and one set of ids per kind; no index, no marker.
    const legacy = `legacy${randomBytes(4).toString('hex')}:`;
    const old = new Registry(redis, legacy, { keys: new KeyStore(redis, randomBytes(32), legacy) });
    await old.createProject({ id: 'acme' });
    await old.createProxy(proxy);
    await old.createHost({ id: 'vm1', project: 'acme', address: '198.51.100.5', network: 'blue' });
    await old.createHost({ id: 'vm2', project: 'acme', address: '198.51.100.6', proxy: 'edge' });
    for (const key of await redis.keys(`${legacy}*`)) {
      if (!/:(project|proxy|host):[a-z0-9-]+$|:(projects|proxies|hosts)$|:keys:/.test(key))
        await redis.del(key);
    }
    const reopened = new Registry(redis, legacy);
    expect(await reopened.listHosts({ project: 'acme' })).toEqual([]);
    expect(await reopened.ensureIndexes()).toBe(4);
    expect((await reopened.listHosts({ project: 'acme' })).map((h) => h.id)).toEqual(['vm1', 'vm2']);
    expect((await reopened.listHosts({ project: 'acme', network: 'blue' })).map((h) => h.id)).toEqual([
      'vm1',
    ]);
    expect((await reopened.listHosts({ proxy: 'edge' })).map((h) => h.id)).toEqual(['vm2']);
    expect((await reopened.listProxies({ project: 'acme' })).map((p) => p.id)).toEqual(['edge']);
    expect(await reopened.ensureIndexes()).toBe(0);
  });

  it('promotes nothing when the project record cannot take the new key', async () => {
    const { current } = await keys.beginRotation('acme');
    const promotion = await keys.promotion('acme');
    // The project vanished between the job's last step and the promotion: neither half is written.
    for (const key of await redis.keys('*:project:acme')) if (!key.includes(':keys:')) await redis.del(key);
    await expect(registry.promoteProjectKey('acme', promotion)).rejects.toBeInstanceOf(NotFoundError);
    expect(await keys.projectPublicKey('acme')).toBe(current);
    expect(await keys.rotationPending('acme')).toBe(true);
  });
});
