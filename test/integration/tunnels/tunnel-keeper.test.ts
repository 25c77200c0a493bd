import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TunnelKeeper } from '../../../src/tunnels/tunnel-keeper.ts';
import { HostKeyChangedError } from '../../../src/domain/host-key-changed-error.ts';
import { fingerprint } from '../../../src/domain/ssh-key-line.ts';
import type { TunnelProxy } from '../../../src/tunnels/tunnel-types.ts';
import { up, type Lab, type LabVm } from '../../lab/lab.ts';
import { startInflux, type TestInflux } from '../../support/influx.ts';
import {
  addCloudroot,
  countOwnSockets,
  httpStatusFromVm,
  makeKeypair,
  prepareProxySshd,
  readBanner,
  sshdPids,
  timeUntil,
  tunnelProxyOf,
} from './prepare-tunnel-lab.ts';

const run = promisify(execFile);
const slot = Number(process.env.OUTPOST_LAB_SLOT ?? 0);
// The keeper's defaults: keepalive every 5 s, 3 unanswered -> dead within 5 x (3 + 1) = 20 s.
const KEEPALIVE_WINDOW_MS = 20_000;

let lab: Lab;
let influx: TestInflux;
let dir: string;
let keys: Awaited<ReturnType<typeof makeKeypair>>;
let proxyVm: LabVm;
let target: LabVm;
let proxy: TunnelProxy;
let keeper: TunnelKeeper;
let local: { host: string; port: number };
let remote: { bindAddress: string; port: number };
const logLines: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-tunnels-'));
  keys = await makeKeypair(dir);
  [lab, influx] = await Promise.all([up({ slot, vpcs: 1, vmsPerVpc: 1 }), startInflux()]);
  proxyVm = lab.proxies()[0] as LabVm;
  target = lab.targets('vpc1')[0] as LabVm;
  await Promise.all([addCloudroot(lab, proxyVm, keys.publicKey), addCloudroot(lab, target, keys.publicKey)]);
  await prepareProxySshd(lab, proxyVm);
  proxy = tunnelProxyOf(proxyVm);
  const log = (level: string) => (obj: object, msg: string) =>
    logLines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  keeper = new TunnelKeeper({
    privateKey: keys.privateKey,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    healthCheckIntervalMs: 2000,
  });
});

afterAll(async () => {
  await keeper?.close();
  await influx?.stop();
  await lab?.down();
  if (dir) await rm(dir, { recursive: true, force: true });
  // The log must never carry the private key.
  expect(logLines.join('\n')).not.toContain('PRIVATE KEY');
});

/** Both forwards carry real traffic end to end right now. */
async function bothWork(): Promise<boolean> {
  const banner = await readBanner(local.host, local.port, 1500).catch(() => '');
  if (!banner.startsWith('SSH-2.0-')) return false;
  return (
    (await httpStatusFromVm(lab, target, `http://${remote.bindAddress}:${remote.port}/ping`, 1)) === '204'
  );
}

function proxyState(): string | undefined {
  return keeper.status().find((s) => s.proxy === proxy.id)?.state;
}

describe('tunnel keeper against lab sshd', () => {
  it('carries SSH and ansible-playbook to a VPC VM through a local forward', async () => {
    local = await keeper.ensureLocalForward(proxy, {
      targetHost: target.vpcAddress as string,
      targetPort: 22,
      probe: { kind: 'banner' },
    });
    expect(local.host).toBe('127.0.0.1');
    expect(local.port).toBeGreaterThanOrEqual(40000);
    expect(
      await keeper.ensureLocalForward(proxy, { targetHost: target.vpcAddress as string, targetPort: 22 }),
    ).toEqual(local);
    expect(await readBanner(local.host, local.port)).toMatch(/^SSH-2\.0-OpenSSH/);

    const knownHosts = path.join(dir, 'known_hosts');
    await writeFile(knownHosts, `[127.0.0.1]:${local.port} ${target.hostKey}\n`);
    await writeFile(
      path.join(dir, 'hosts.ini'),
      `vm ansible_host=127.0.0.1 ansible_port=${local.port} ansible_user=cloudroot ansible_ssh_private_key_file=${keys.keyFile} ` +
        `ansible_python_interpreter=/usr/bin/python3 ansible_ssh_common_args='-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes'\n`,
    );
    await writeFile(
      path.join(dir, 'play.yml'),
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.command: hostname\n      register: h\n      changed_when: false\n    - ansible.builtin.debug:\n        msg: "vm is {{ h.stdout }}"\n`,
    );
    const { stdout } = await run('ansible-playbook', ['-i', 'hosts.ini', 'play.yml'], { cwd: dir });
    const hostname = (await lab.sh(target, 'hostname')).trim();
    expect(stdout).toContain(`"msg": "vm is ${hostname}"`);
    expect(stdout).toMatch(/vm\s+: ok=2\s+changed=0\s+unreachable=0\s+failed=0/);
    const [status] = await keeper.checkAll(proxy.id);
    expect(status?.forwards[0]).toMatchObject({ kind: 'local', state: 'up', lastCheck: { ok: true } });
    expect(status?.forwards[0]?.lastSeen).toBeDefined();
  });

  it("carries a VPC VM's HTTP request to InfluxDB through a remote forward on the proxy's VPC address", async () => {
    remote = await keeper.ensureRemoteForward(proxy, {
      targetHost: '127.0.0.1',
      targetPort: influx.port,
      probe: { kind: 'http', path: '/ping' },
    });
    expect(remote.bindAddress).toBe(proxyVm.vpcAddress);
    expect(remote.port).toBeGreaterThan(0);
    expect(await httpStatusFromVm(lab, target, `http://${remote.bindAddress}:${remote.port}/ping`)).toBe(
      '204',
    );
    const [status] = await keeper.checkAll(proxy.id);
    const forward = status?.forwards.find((f) => f.kind === 'remote');
    expect(forward).toMatchObject({ state: 'up', port: remote.port, lastCheck: { ok: true } });
  });

  it('refuses a proxy whose host key is not the pinned one, names it, and does not retry', async () => {
    const other = lab.targets('vpc1')[0] as LabVm;
    const impostor = { ...proxy, id: 'impostor', hostKey: other.hostKey };
    const started = Date.now();
    const error = await keeper
      .ensureLocalForward(impostor, { targetHost: '198.51.100.2', targetPort: 22 })
      .catch((e: unknown) => e);
    // The same error, advice and status as a probe or a play that meets a changed key.
    expect(error).toBeInstanceOf(HostKeyChangedError);
    expect((error as HostKeyChangedError).status).toBe(409);
    expect((error as Error).message).toContain(
      'proxy "impostor": its SSH host key changed since it was pinned',
    );
    expect((error as Error).message).toContain(`presented ${fingerprint(proxyVm.hostKey)}`);
    expect((error as Error).message).toContain('outpost proxy rekey impostor');
    expect(Date.now() - started).toBeLessThan(5000);
    // Nothing left behind: no connection, no listener, no retries.
    expect(keeper.status().map((s) => s.proxy)).toEqual([proxy.id]);
  });

  it('survives the death of the proxy sshd: back within 10 s of sshd coming back, no leaked sockets', async () => {
    await new Promise((resolve) => setTimeout(resolve, 5000)); // let idle HTTP keep-alive sockets of the test itself close
    const before = await countOwnSockets();
    const pids = await sshdPids(lab, proxyVm);
    expect(pids.length).toBeGreaterThanOrEqual(2); // the listener and our session
    const killedAt = Date.now();
    await lab.sh(proxyVm, `kill ${pids.join(' ')}`);
    const noticedMs = await timeUntil(
      'keeper notices',
      () => Promise.resolve(proxyState() !== 'ready'),
      KEEPALIVE_WINDOW_MS,
      50,
    );
    expect(await bothWork()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await lab.sh(proxyVm, '/usr/sbin/sshd');
    const backMs = await timeUntil('both forwards work again', bothWork, 10_000, 250);
    console.log(
      `sshd drill: noticed after ${noticedMs} ms (of ${Date.now() - killedAt} ms), forwards back ${backMs} ms after sshd restart`,
    );
    expect(noticedMs).toBeLessThan(KEEPALIVE_WINDOW_MS);
    expect(backMs).toBeLessThan(10_000);
    await expectSameSockets(before);
  });

  it('survives a 30 s cut of the proxy link: noticed within the keepalive window, back within 10 s', async () => {
    const before = await countOwnSockets();
    const veth = `ol${slot}p0`;
    await run('ip', ['link', 'set', veth, 'down']);
    let backMs = -1;
    let noticedMs = -1;
    try {
      const cutAt = Date.now();
      noticedMs = await timeUntil(
        'keeper notices the cut',
        () => Promise.resolve(proxyState() !== 'ready'),
        KEEPALIVE_WINDOW_MS + 2000,
        100,
      );
      const status = keeper.status().find((s) => s.proxy === proxy.id);
      expect(status?.forwards.every((f) => f.state !== 'up')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - cutAt))));
    } finally {
      await run('ip', ['link', 'set', veth, 'up']);
    }
    backMs = await timeUntil('both forwards work again', bothWork, 10_000, 250);
    console.log(
      `link drill: noticed after ${noticedMs} ms, forwards back ${backMs} ms after the link came back`,
    );
    // Timers on a loaded 2-core machine fire late by a little; the window itself is 20 s.
    expect(noticedMs).toBeLessThanOrEqual(KEEPALIVE_WINDOW_MS + 1500);
    expect(backMs).toBeLessThan(10_000);
    await expectSameSockets(before);
  });

  it('leaves no socket or listener behind when it closes', async () => {
    const tunnelPorts = [`:${local.port} `, `${proxy.publicAddress}:22 `];
    const ours = async () =>
      (await countOwnSockets()).filter((s) => tunnelPorts.some((p) => `${s} `.includes(p)));
    expect((await ours()).length).toBeGreaterThanOrEqual(2);
    await keeper.close();
    expect(await ours()).toEqual([]);
    expect(keeper.status()).toEqual([]);
  });
});

/**
 * After traffic settles, this process holds no TCP socket it did not hold before: every kind of
 * socket (state, local address, peer; ephemeral ports aside) is there at most as often as before,
 * and the tunnel's own listener and proxy connection are there exactly once.
 */
async function expectSameSockets(before: string[]): Promise<void> {
  const shape = (lines: string[]) =>
    lines
      .map((l) => l.split(' '))
      .map(([state, , , localAddr, peer]) =>
        [
          state,
          state === 'LISTEN' ? localAddr : localAddr?.replace(/:\d+$/, ':*'),
          peer?.replace(/^(127\.0\.0\.1):\d+$/, '$1:*'),
        ].join(' '),
      )
      .sort();
  const extra = (after: string[]) => {
    const left = shape(before);
    return shape(after).filter((s) => {
      const i = left.indexOf(s);
      if (i === -1) return true;
      left.splice(i, 1);
      return false;
    });
  };
  let after: string[] = [];
  await timeUntil(
    'sockets settle',
    async () => extra((after = await countOwnSockets())).length === 0,
    8000,
    500,
  ).catch(() => undefined);
  expect(extra(after), `before:\n${before.join('\n')}\nafter:\n${after.join('\n')}`).toEqual([]);
  const tunnel = shape(after).filter(
    (s) => s.includes(`:${local.port} `) || s.endsWith(`${proxy.publicAddress}:22`),
  );
  expect(tunnel).toEqual([
    `ESTAB ${lab.controlAddress}:* ${proxy.publicAddress}:22`,
    `LISTEN 127.0.0.1:${local.port} 0.0.0.0:*`,
  ]);
}
