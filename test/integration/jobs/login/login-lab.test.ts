import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { up, type Lab, type LabVm } from '../../../lab/lab.ts';
import { freePort } from '../../../support/free-port.ts';
import { startRedis, type TestRedis } from '../../../support/redis.ts';
import { recordTestSecret } from '../../../support/test-evidence.ts';
import type { Host } from '../../../../src/domain/host.ts';
import type { PreparedProxyLine } from '../../../../src/jobs/login/prepare-proxy-job.ts';
import type { ProbedHost } from '../../../../src/jobs/login/probe-hosts.ts';
import {
  api,
  processesMentioning,
  readSse,
  startOutpost,
  waitForEnd,
  type OutpostProcess,
} from '../../http/start-outpost.ts';

// One lab for the file: a VPC (a proxy and two VMs) and one VM reached directly, like two clouds.
const ROOT = path.resolve(import.meta.dirname, '../../../..');
const PROJECT = 'login';
let lab: Lab;
let redis: TestRedis;
let outpost: OutpostProcess;
let varDir: string;
let userKey: string;
let keyPassphrase: string;
let passphraseDir: string | undefined;
let proxy: LabVm;
let vm1: LabVm;
let vm2: LabVm;
let direct: LabVm;

type Json = Record<string, unknown>;
/** A job as GET /v1/jobs/:id shows it, with the result lines of the login jobs. */
interface JobView {
  id: string;
  status: string;
  reason?: string;
  result: Record<string, ProbedHost & PreparedProxyLine>;
}
type Entry = { seq: number; type: string; data: string };

beforeAll(async () => {
  varDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-login-'));
  // The account's key is encrypted: its passphrase goes with the job, and the run unlocks a copy.
  keyPassphrase = `key-passphrase-${randomBytes(6).toString('hex')}`;
  await recordTestSecret(keyPassphrase);
  // Outside varDir: varDir is kept as evidence for the secrets scan, which must not find it there.
  passphraseDir = await mkdtemp(path.join(os.tmpdir(), 'outpost-login-passphrase-'));
  await writeFile(`${passphraseDir}/user.passphrase`, `${keyPassphrase}\n`, { mode: 0o600 });
  await execa('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    keyPassphrase,
    '-C',
    'debian@outpost-test',
    '-f',
    `${varDir}/user`,
  ]);
  userKey = await readFile(`${varDir}/user`, 'utf8');
  const userPublicKey = (await readFile(`${varDir}/user.pub`, 'utf8')).trim();
  [lab, redis] = await Promise.all([
    up({
      slot: Number(process.env.OUTPOST_LAB_SLOT ?? 0),
      vpcs: 1,
      vmsPerVpc: 2,
      directVms: 1,
      authorizedKeys: [userPublicKey],
    }),
    startRedis(),
  ]);
  [proxy, vm1, vm2, direct] = [lab.proxies()[0]!, lab.targets()[0]!, lab.targets()[1]!, lab.directs()[0]!];
  outpost = await startOutpost({
    redisUrl: redis.url,
    varDir,
    roles: ['api', 'worker'],
    name: 'serve',
    // No InfluxDB in this suite: point at a closed loopback port instead of starting one.
    env: { OUTPOST_INFLUX_URL: `http://127.0.0.1:${await freePort()}` },
  });
  const post = async (url: string, body: unknown) => {
    const answer = await api(outpost.url, 'POST', url, body);
    if (answer.status !== 201) throw new Error(`${url}: ${JSON.stringify(answer.body)}`);
  };
  await post('/v1/projects', { id: PROJECT });
  await post('/v1/proxies', {
    id: proxy.name,
    project: PROJECT,
    publicAddress: proxy.publicAddress,
    vpcAddress: proxy.vpcAddress,
    networks: [proxy.vpcCidr],
  });
  for (const vm of [vm1, vm2]) {
    await post('/v1/hosts', { id: vm.name, project: PROJECT, address: vm.vpcAddress, network: vm.vpcCidr });
  }
  await post('/v1/hosts', { id: direct.name, project: PROJECT, address: direct.publicAddress });
}, 180_000);

afterAll(async () => {
  await outpost?.stop();
  // ssh control masters of this file's plain ansible-playbook and ssh runs (found by their unique dirs).
  for (const marker of [varDir, path.join(ROOT, 'inventories', PROJECT)]) {
    for (const pid of marker ? await processesMentioning(marker) : []) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }
  await lab?.down();
  await redis?.stop();
  await rm(path.join(ROOT, 'inventories', PROJECT), { recursive: true, force: true });
  if (varDir) await rm(varDir, { recursive: true, force: true });
  if (passphraseDir) await rm(passphraseDir, { recursive: true, force: true });
});

/** Submits a job over HTTP and follows its SSE stream to the end; resolves the final record and entries. */
async function runJob(body: Json): Promise<{ job: JobView; entries: Entry[] }> {
  const submitted = await api<Json>(outpost.url, 'POST', '/v1/jobs', body);
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
  const id = String(submitted.body.id);
  const entries = await readSse(outpost.url, id);
  const job = await waitForEnd(outpost.url, id, 5_000);
  return { job: job as unknown as JobView, entries };
}

const host = async (id: string): Promise<Host> =>
  (await api<Host>(outpost.url, 'GET', `/v1/hosts/${id}`)).body;
const proxyKey = async (id: string): Promise<string | undefined> =>
  (await api<{ hostKey?: string }>(outpost.url, 'GET', `/v1/proxies/${id}`)).body.hostKey;
const keyOf = (vm: LabVm): string => vm.hostKey.split(' ').slice(0, 2).join(' ');
/** OpenSSH's SHA256 fingerprint of a `type base64` key, as ssh-keygen -l prints it. */
const keyFingerprint = (key: string): string =>
  `SHA256:${createHash('sha256')
    .update(Buffer.from(key.split(' ')[1] ?? '', 'base64'))
    .digest('base64')
    .replace(/=+$/, '')}`;
const explain = (job: JobView): string => JSON.stringify({ reason: job.reason, result: job.result }, null, 1);

/** Every file under `dir`, read as text. */
async function readTree(dir: string): Promise<string> {
  const texts: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) texts.push(await readFile(path.join(entry.parentPath, entry.name), 'latin1'));
  }
  return texts.join('\n');
}

/** Asserts a secret is nowhere a user or an attacker could read it after the job. */
async function expectNowhere(secret: string, jobId: string, entries: { data: string }[]): Promise<void> {
  const log = await api<string>(outpost.url, 'GET', `/v1/jobs/${jobId}/log`);
  const record = await api(outpost.url, 'GET', `/v1/jobs/${jobId}`);
  const places: Record<string, string> = {
    'the job log': log.body,
    'the SSE events': JSON.stringify(entries),
    'the job record': JSON.stringify(record.body),
    'the run dir': await readTree(path.join(varDir, 'runs', jobId)),
    'the service log': await readFile(outpost.logFile, 'latin1'),
  };
  await new Promise((resolve) => setTimeout(resolve, 1200)); // appendfsync everysec
  places['the Redis AOF'] = await readTree(redis.dir);
  for (const [place, text] of Object.entries(places)) {
    expect(text.includes(secret), `the secret appears in ${place}`).toBe(false);
  }
  // No private key is left in the run dir, and no ssh of the run is left running.
  expect(places['the run dir']).not.toContain('PRIVATE KEY');
  expect(await processesMentioning(path.join(varDir, 'runs', jobId))).toEqual([]);
}

/** The `outpost` CLI against the test service. */
function outpostCli(args: string[], input?: string) {
  return execa('node', ['bin/outpost.js', ...args], {
    cwd: ROOT,
    reject: false,
    env: { OUTPOST_URL: outpost.url, OUTPOST_API_TOKEN: outpost.token },
    ...(input !== undefined ? { input } : { stdin: 'ignore' as const }),
    timeout: 120_000,
  });
}

/** `ssh` as cloudroot with the project key through the generated inventory of the project. */
async function sshAsCloudroot(vm: LabVm, command: string) {
  const inventory = path.join(varDir, 'check-inventory');
  await rm(inventory, { recursive: true, force: true });
  // `outpost inventory write` fetches the project's inventory over the API (ssh_config, known_hosts, keys).
  const written = await outpostCli(['inventory', 'write', PROJECT, inventory]);
  if (written.exitCode !== 0) throw new Error(`outpost inventory write failed: ${written.stderr}`);
  const config = path.join(inventory, 'ssh_config');
  return execa('ssh', ['-F', config, '-o', 'ControlPath=none', vm.name, command], { reject: false });
}

describe('login jobs in the lab: prepare-proxy, enroll by password and key through the proxy, script + probe', () => {
  it('prepares the proxy with a password account: enrolled, key pinned, sshd ready, self-test carries traffic', async () => {
    const { job, entries } = await runJob({
      kind: 'prepare-proxy',
      hosts: [proxy.name],
      credentials: { user: lab.user, password: lab.password },
    });
    expect(job.status, explain(job)).toBe('successful');
    const line = job.result[proxy.name];
    expect(line?.enroll).toMatchObject({ failed: 0, unreachable: 0, pinned: 'recorded' });
    expect(line?.selfTest).toMatchObject({ ok: true, bindAddress: proxy.vpcAddress });
    expect(line?.selfTest?.port).toBeGreaterThan(0);
    expect(entries.at(-1)).toMatchObject({ type: 'end' });
    expect(entries.map((e) => e.data).join('\n')).toContain(
      `self-test of proxy ${proxy.name}: a remote forward`,
    );
    expect(await proxyKey(proxy.name)).toBe(keyOf(proxy));
    expect(await lab.sh(proxy, 'sshd -T | grep -i ^gatewayports')).toContain('clientspecified');
    // The self-test is kept on the proxy: `proxy list` shows it prepared, a deploy knows it was.
    const recorded = await api<{ selfTest?: Record<string, unknown> }>(
      outpost.url,
      'GET',
      `/v1/proxies/${proxy.name}`,
    );
    expect(recorded.body.selfTest).toMatchObject({ ok: true, bindAddress: proxy.vpcAddress });
    await expectNowhere(lab.password, String(job.id), entries);
  });

  it('enrolls a VM behind the proxy by password: login enrolled, key pinned, cloudroot logs in by key with sudo -n', async () => {
    const { job, entries } = await runJob({
      kind: 'enroll',
      hosts: [vm1.name],
      credentials: { user: lab.user, password: lab.password },
    });
    expect(job.status, explain(job)).toBe('successful');
    expect(entries.at(-1)?.type).toBe('end');
    expect(entries.at(-1)?.data).toContain('successful');
    const record = await host(vm1.name);
    expect(record.login).toMatchObject({ state: 'enrolled', way: 'password' });
    expect(record.hostKey).toBe(keyOf(vm1));
    expect(record.reach).toBe('jump');
    expect(record.facts?.os).toMatch(/^Debian \d+/);
    const login = await sshAsCloudroot(vm1, 'sudo -n true && id -un');
    expect(login.exitCode, login.stderr).toBe(0);
    expect(login.stdout.trim()).toBe('cloudroot');
    await expectNowhere(lab.password, String(job.id), entries);
  });

  it('enrolls a VM behind the proxy by an encrypted private key with the CLI (password on stdin, only for sudo); secrets appear nowhere', async () => {
    const cli = await outpostCli(
      [
        'enroll',
        vm2.name,
        '--user',
        lab.user,
        '--key-file',
        `${varDir}/user`,
        '--key-passphrase-file',
        `${passphraseDir}/user.passphrase`,
        '--password-stdin',
        '--follow',
      ],
      `${lab.password}\n`,
    );
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`${vm2.name}: login enrolled (key), reach jump, direct=`);
    const jobId = /job (job-[a-z0-9-]+)/.exec(cli.stderr)?.[1] ?? '';
    expect((await host(vm2.name)).login).toMatchObject({ state: 'enrolled', way: 'key' });
    const login = await sshAsCloudroot(vm2, 'sudo -n id -u');
    expect(login.exitCode, login.stderr).toBe(0);
    expect(login.stdout.trim()).toBe('0');
    const keyBody = userKey.split('\n')[2] ?? '';
    expect(keyBody.length).toBeGreaterThan(40);
    const entries = await readSse(outpost.url, jobId);
    for (const secret of [keyBody, lab.password, keyPassphrase]) {
      expect(cli.stdout + cli.stderr).not.toContain(secret);
      await expectNowhere(secret, jobId, entries);
    }
  });

  it('records the script way with the CLI: the enrollment script run on the VM, then `outpost probe --enrolled-by script`', async () => {
    const script = await outpostCli(['enroll-script', PROJECT]);
    expect(script.exitCode, script.stderr).toBe(0);
    await lab.sh(direct, 'sh -s', { input: script.stdout });
    const cli = await outpostCli(['probe', direct.name, '--enrolled-by', 'script', '--follow']);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(
      `${direct.name}: login enrolled (script), reach direct, direct=ok, jump=no-proxy, forward=no-proxy`,
    );
    const record = await host(direct.name);
    expect(record.login).toMatchObject({ state: 'enrolled', way: 'script' });
    expect(record.reach).toBe('direct');
    expect(record.hostKey).toBe(keyOf(direct));
    expect(record.probe?.ways.direct).toEqual({ ok: true });
    expect(record.probe?.ways.jump).toMatchObject({ ok: false, reason: 'no-proxy' });
    expect(record.facts?.os).toMatch(/^Debian/);
    expect(record.facts?.family).toBe('Debian');
    expect(record.facts?.python).toMatch(/^3\.\d+\.\d+$/);
    expect(record.facts?.interpreter).toBe('/usr/bin/python3');
    expect(record.facts?.arch).toBe((await lab.sh(direct, 'uname -m')).trim());
  });

  it('probes every way of a VPC VM: direct fails, jump and a local forward through the proxy work', async () => {
    const { job } = await runJob({ kind: 'probe', hosts: [vm1.name] });
    expect(job.status, explain(job)).toBe('successful');
    const record = await host(vm1.name);
    expect(record.probe?.ways.direct?.ok).toBe(false);
    expect(['timeout', 'no-route', 'refused']).toContain(record.probe?.ways.direct?.reason);
    expect(record.probe?.ways.jump).toEqual({ ok: true });
    expect(record.probe?.ways.forward).toEqual({ ok: true });
    expect(record.probe).toMatchObject({ reach: 'jump', hostKey: keyOf(vm1) });
    expect(job.result[vm1.name]?.probe.reach).toBe('jump');
    // The tries and the play leave no ssh behind (control masters to the proxy included).
    expect(await processesMentioning(path.join(varDir, 'runs', job.id))).toEqual([]);
  });

  it('runs a playbook submitted over HTTP against the VMs through the proxy; the SSE stream ends with each host’s result', async () => {
    const { job, entries } = await runJob({
      kind: 'run-playbook',
      playbook: 'test/fixtures/playbooks/ping.yml',
      hosts: [vm1.name, vm2.name],
    });
    expect(job.status, explain(job)).toBe('successful');
    const events = entries
      .filter((e) => e.type === 'event')
      .map((e) => JSON.parse(e.data) as { event: string; hosts?: Record<string, unknown> });
    const recap = events.find((e) => e.event === 'recap');
    // Only the job's hosts: the proxy in the inventory carries the jump but is not a target of the play.
    expect(Object.keys(recap?.hosts ?? {}).sort()).toEqual([vm1.name, vm2.name].sort());
    for (const vm of [vm1, vm2]) {
      expect(recap?.hosts?.[vm.name], vm.name).toMatchObject({ ok: 3, failed: 0, unreachable: 0 });
      expect(job.result[vm.name]).toMatchObject({ ok: 3, failed: 0, unreachable: 0 });
      expect(entries.some((e) => e.data.includes(`hello from ${vm.name}`))).toBe(true);
    }
    expect(entries.at(-1)?.type).toBe('end');
    expect(entries.at(-1)?.data).toContain('successful');
  });

  it('serves the live registry to plain ansible-playbook -i inventories/outpost', async () => {
    const run = await execa(
      'ansible-playbook',
      ['-i', 'inventories/outpost', 'test/fixtures/reach-ping.yml'],
      {
        cwd: ROOT,
        reject: false,
        all: true,
        env: {
          // The dynamic inventory asks the running service, as any client command does.
          OUTPOST_URL: outpost.url,
          OUTPOST_API_TOKEN: outpost.token,
          ANSIBLE_SSH_CONTROL_PATH_DIR: path.join(varDir, 'cp'),
          ANSIBLE_NOCOLOR: '1',
        },
        timeout: 120_000,
      },
    );
    expect(run.exitCode, run.all).toBe(0);
    for (const vm of [proxy, vm1, vm2, direct]) {
      expect(run.stdout).toContain(`"msg": "ANSWER ${vm.name} ${vm.name} cloudroot"`);
    }
  });

  it('refuses a changed host key in every job kind, naming the host and the rekey command, never ssh’s banner', async () => {
    await lab.sh(
      vm2,
      "rm -f /etc/ssh/ssh_host_ed25519_key* && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && kill -HUP $(cat /run/sshd.pid)",
    );
    const refused = await runJob({ kind: 'probe', hosts: [vm2.name] });
    expect(refused.job.status).toBe('failed');
    const ways = (await host(vm2.name)).probe?.ways;
    expect(ways?.jump).toMatchObject({ ok: false, reason: 'host-key-changed' });
    expect(ways?.jump?.detail).toContain(`outpost host rekey ${vm2.name}`);
    expect((await host(vm2.name)).hostKey).toBe(keyOf(vm2));

    // A play of any kind says the same as the probe, as the job's reason and as the host's.
    const said = `host "${vm2.name}": its SSH host key changed since it was pinned`;
    const played = await runJob({
      kind: 'run-playbook',
      playbook: 'test/fixtures/playbooks/ping.yml',
      hosts: [vm2.name],
    });
    const enrolled = await runJob({
      kind: 'enroll',
      hosts: [vm2.name],
      credentials: { user: lab.user, password: lab.password },
    });
    for (const { job } of [played, enrolled]) {
      expect(job.status).toBe('failed');
      expect(job.reason).toContain(said);
      expect(job.reason).toContain(`outpost host rekey ${vm2.name}`);
      expect(job.result[vm2.name]?.firstError?.msg).toContain(said);
      expect(JSON.stringify(job)).not.toMatch(/REMOTE HOST IDENTIFICATION|ssh-keygen -R|@@@/);
    }
    // The host keeps the login it had: the failed re-enrollment is in the job's result line only.
    expect((await host(vm2.name)).login).toMatchObject({ state: 'enrolled', way: 'key' });
    expect(enrolled.job.result[vm2.name]?.login).toMatchObject({ state: 'enrolled' });
  });

  it('`outpost host rekey` reads the new key through the proxy, refuses a wrong fingerprint, pins the right one', async () => {
    const newKey = (await lab.sh(vm2, 'cut -d" " -f1,2 /etc/ssh/ssh_host_ed25519_key.pub')).trim();
    const fingerprint =
      (await lab.sh(vm2, 'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub')).split(' ')[1] ?? '';
    const oldFingerprint = keyFingerprint(keyOf(vm2));
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const wrong = `SHA256:${'A'.repeat(43)}`;

    const refused = await outpostCli(['host', 'rekey', vm2.name, '--fingerprint', wrong]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain(
      `host "${vm2.name}" presents a host key with fingerprint ${fingerprint}, not the ${wrong} you gave: nothing was pinned`,
    );
    expect((await host(vm2.name)).hostKey).toBe(keyOf(vm2));

    const cli = await outpostCli(['host', 'rekey', vm2.name, '--fingerprint', fingerprint]);
    expect(cli.exitCode, cli.stderr).toBe(0);
    expect(cli.stdout.trim()).toBe(
      `host ${vm2.name} presents ssh-ed25519 ${fingerprint} (read through proxy ${proxy.name}), the fingerprint you gave: pinned, replacing ${oldFingerprint}`,
    );
    expect((await host(vm2.name)).hostKey).toBe(newKey);
    const again = await outpostCli(['host', 'rekey', vm2.name]);
    expect(again.stdout).toContain('already the pinned key, nothing changed');

    const { job } = await runJob({ kind: 'probe', hosts: [vm2.name] });
    expect(job.status, explain(job)).toBe('successful');
    expect((await host(vm2.name)).hostKey).toBe(newKey);
  });

  it('names the proxy when it is stopped: the probe fails with "refused" on the jump and the forward', async () => {
    await lab.sh(proxy, 'kill $(cat /run/sshd.pid)');
    try {
      const { job } = await runJob({ kind: 'probe', hosts: [vm1.name] });
      expect(job.status).toBe('failed');
      const record = await host(vm1.name);
      expect(record.probe?.ways.jump).toMatchObject({ ok: false, reason: 'refused' });
      expect(record.probe?.ways.jump?.detail).toContain(`proxy "${proxy.name}" (${proxy.publicAddress}:22)`);
      expect(record.probe?.ways.forward).toMatchObject({ ok: false, reason: 'refused' });
      expect(record.probe?.ways.forward?.detail).toContain(proxy.name);
      expect(record.probe?.reach).toBeUndefined();
      expect(job.result[vm1.name]?.firstError?.msg).toContain(proxy.name);
      // The host stays enrolled: an unreachable proxy says nothing about cloudroot's login.
      expect(record.login.state).toBe('enrolled');
    } finally {
      await lab.sh(proxy, '/usr/sbin/sshd');
    }
  });

  it('records a refused project key as auth failed and the login as failed', async () => {
    await lab.sh(vm2, 'mv /home/cloudroot/.ssh/authorized_keys /root/cloudroot-keys');
    try {
      const { job } = await runJob({ kind: 'probe', hosts: [vm2.name] });
      expect(job.status).toBe('failed');
      const record = await host(vm2.name);
      expect(record.probe?.ways.jump).toMatchObject({ ok: false, reason: 'auth-failed' });
      expect(record.login).toMatchObject({ state: 'failed' });
      expect(record.login.reason).toContain('authentication as cloudroot failed');
    } finally {
      await lab.sh(vm2, 'mv /root/cloudroot-keys /home/cloudroot/.ssh/authorized_keys');
    }
  });

  it('refuses to enroll a VM behind a proxy that is not enrolled, naming the proxy', async () => {
    const rekey = await api<Json>(outpost.url, 'POST', `/v1/proxies/${proxy.name}/rekey`, { forget: true });
    expect(rekey.status).toBe(200);
    expect(rekey.body.hostKey).toBeUndefined();
    const { job } = await runJob({
      kind: 'enroll',
      hosts: [vm1.name],
      credentials: { user: lab.user, password: lab.password },
    });
    expect(job.status).toBe('failed');
    expect(job.reason).toContain(`proxy "${proxy.name}", which is not enrolled yet`);
    // prepare-proxy without credentials logs in as cloudroot and pins the proxy's key again.
    const again = await runJob({ kind: 'prepare-proxy', hosts: [proxy.name] });
    expect(again.job.status, explain(again.job)).toBe('successful');
    expect(await proxyKey(proxy.name)).toBe(keyOf(proxy));
  });

  it('validates the rekey route: token required, unknown fields and bad ids refused as problem+json', async () => {
    const anonymous = await fetch(new URL(`/v1/hosts/${vm1.name}/rekey`, outpost.url), { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const extra = await api<Json>(outpost.url, 'POST', `/v1/hosts/${vm1.name}/rekey`, { force: true });
    expect(extra.status).toBe(400);
    expect(extra.type).toContain('application/problem+json');
    expect(extra.body.field).toBe('body.force');
    const bad = await api<Json>(outpost.url, 'POST', '/v1/hosts/Bad..Id/rekey', {});
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('id');
    const fingerprint = await api<Json>(outpost.url, 'POST', `/v1/hosts/${vm1.name}/rekey`, {
      fingerprint: 'MD5:aa:bb',
    });
    expect(fingerprint.status).toBe(400);
    expect(fingerprint.body.field).toBe('body.fingerprint');
    const missing = await api<Json>(outpost.url, 'POST', '/v1/proxies/nope/rekey', {});
    expect(missing.status).toBe(404);
  });

  it('retries a host lost on the way once by default: its sshd back before the retry, the enrollment succeeds', async () => {
    await lab.sh(direct, 'kill $(cat /run/sshd.pid)');
    let restarted = false;
    try {
      const submitted = await api<Json>(outpost.url, 'POST', '/v1/jobs', {
        kind: 'enroll',
        hosts: [direct.name],
        credentials: { user: lab.user, password: lab.password },
        // The default is under test (one retry); a long pause leaves time to restart sshd on a loaded machine.
        options: { retryDelaySeconds: 20 },
      });
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
      const id = String(submitted.body.id);
      const deadline = Date.now() + 240_000;
      while (
        !(await api<string>(outpost.url, 'GET', `/v1/jobs/${id}/log`)).body.includes(
          'retrying unreachable hosts',
        )
      ) {
        if (Date.now() > deadline) throw new Error('no retry announced');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await lab.sh(direct, '/usr/sbin/sshd');
      restarted = true;
      const job = (await waitForEnd(outpost.url, id, 240_000)) as unknown as JobView;
      expect(job.status, explain(job)).toBe('successful');
      // Proven by this job's own check after the retry, not by the early banner check that found sshd down.
      expect(job.result[direct.name]).toMatchObject({
        failed: 0,
        unreachable: 0,
        login: { state: 'enrolled', way: 'password' },
        probe: { reach: 'direct', ways: { direct: { ok: true } } },
      });
      expect((await host(direct.name)).login).toMatchObject({ state: 'enrolled', way: 'password' });
      const log = (await api<string>(outpost.url, 'GET', `/v1/jobs/${id}/log`)).body;
      expect(log).toContain(`outpost: retrying unreachable hosts ${direct.name} (attempt 2)`);
    } finally {
      if (!restarted) await lab.sh(direct, '/usr/sbin/sshd');
    }
  });

  it('a job stopped by its --timeout records per host the task it reached, and an enrolled host stays enrolled', async () => {
    // sudo that takes a minute: the play hangs at its first task that becomes root.
    await lab.sh(
      vm1,
      'printf \'#!/bin/sh\\nsleep 60\\nexec /usr/bin/sudo "$@"\\n\' > /usr/local/bin/sudo && chmod 755 /usr/local/bin/sudo',
    );
    try {
      // Beside the passphrase, outside varDir (kept as evidence: the secrets scan found it there).
      const passwordFile = path.join(passphraseDir ?? '', 'password');
      await writeFile(passwordFile, lab.password, { mode: 0o600 });
      const cli = await outpostCli([
        'enroll', vm1.name, '--user', lab.user, '--password-file', passwordFile, '--timeout', '25', '--follow',
      ]); // prettier-ignore
      expect(cli.exitCode, cli.stderr).toBe(2);
      const jobId = /job (job-[a-z0-9-]+)/.exec(cli.stderr)?.[1] ?? '';
      const job = (await api<JobView>(outpost.url, 'GET', `/v1/jobs/${jobId}`)).body;
      expect(job.status).toBe('timeout');
      expect(job.reason).toBe(
        "the job's time limit of 25 s ran out (given with the job: options.timeoutSeconds, --timeout)",
      );
      const line = job.result[vm1.name];
      expect(line?.reached).toMatch(/^cloudroot : /);
      expect(line?.firstError).toMatchObject({
        status: 'failed',
        task: 'cloudroot : Look for Python on the host',
      });
      expect(line?.firstError?.msg).toContain(
        "stopped at this task, before the end of the play: the job's time limit of 25 s ran out",
      );
      expect(line?.login).toMatchObject({ state: 'enrolled', way: 'password' });
      expect((await host(vm1.name)).login).toMatchObject({ state: 'enrolled', way: 'password' });
      expect(cli.stdout).toContain(
        'outpost: time limit 25 s (given with the job: options.timeoutSeconds, --timeout)',
      );
    } finally {
      await lab.sh(vm1, 'rm -f /usr/local/bin/sudo');
    }
  });
});
